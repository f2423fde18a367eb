"""Isolated functions on the process runtime: one run per call, talking through files (§7)."""

from __future__ import annotations

from dirigent.engine import Status
from tests.functions.pods import command, needs_namespaces, open_pod_engine

pytestmark = needs_namespaces

JOB = """
id: job
functions:
- id: job
  type: isolated
  image: acme/job:v1
  files:
  - {key: config, scope: workflow}
states:
- id: run
  type: action
  action: {function: job, input: 'jq(.)'}
"""


async def test_an_isolated_run_reads_its_input_and_files_and_writes_output_logs_and_vars() -> None:
    async with open_pod_engine(JOB, functions={"acme/job": command("isolated_job")}) as pods:
        instance = await pods.run("job", {"mode": "ok", "n": 1})
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"] == {"got": {"mode": "ok", "n": 1}, "files": ["config"]}
        assert ("first line", "run") in pods.log(instance.id)
        assert ("second line", "run") in pods.log(instance.id)
        made = [v.data for ref, v in pods.store.variables().items() if ref.key == "made"]
        assert made == [b"by the job"]
        assert pods.pods("job", "job") == []  # no pod: a fresh process per call


async def test_error_json_with_a_code_is_catchable_and_msg_is_read_as_the_message() -> None:
    async with open_pod_engine(JOB, functions={"acme/job": command("isolated_job")}) as pods:
        instance = await pods.run("job", {"mode": "error"})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert (instance.error.code, instance.error.message) == ("job.failed", "it broke")


async def test_error_json_with_only_a_message_crashes() -> None:
    async with open_pod_engine(JOB, functions={"acme/job": command("isolated_job")}) as pods:
        instance = await pods.run("job", {"mode": "crash"})
        assert instance.status is Status.CRASHED
        assert instance.error is not None
        assert instance.error.message == "it crashed"


async def test_exiting_without_done_is_a_crash() -> None:
    async with open_pod_engine(JOB, functions={"acme/job": command("isolated_job")}) as pods:
        instance = await pods.run("job", {"mode": "nodone"})
        assert instance.status is Status.CRASHED
        assert instance.error is not None
        assert "exited with status 4 without creating 'done'" in instance.error.message
        assert ("first line", "run") in pods.log(instance.id)


async def test_a_run_past_its_deadline_is_killed_with_a_timeout() -> None:
    timed = JOB.replace(
        "  action: {function: job, input: 'jq(.)'}",
        "  action: {function: job, input: 'jq(.)'}\n  timeout: PT1S",
    )
    async with open_pod_engine(timed, functions={"acme/job": command("isolated_job")}) as pods:
        instance = await pods.run("job", {"mode": "hang"})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.cancels.timeout"
