"""Action, parallel and foreach states against real function processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dirigent.engine import Status
from dirigent.store.memory import MemoryStore
from tests.engine.harness import open_harness
from tests.fixtures.functions.runner import RunningFunction, free_port, start_function

FUNCTIONS = """
functions:
  - id: greeter
    image: direktiv/greeter:v1
  - id: echo
    type: knative-namespace
    service: echo-service
  - id: fail
    type: reusable
    image: test/fail
  - id: slow
    type: reusable
    image: test/slow
"""


@pytest.fixture
async def functions() -> AsyncIterator[dict[str, RunningFunction]]:
    async with (
        start_function("greeter") as greeter,
        start_function("echo") as echo,
        start_function("fail") as fail,
        start_function("slow") as slow,
    ):
        yield {"greeter": greeter, "echo": echo, "fail": fail, "slow": slow}


def services(running: dict[str, RunningFunction]) -> dict[str, str]:
    # By image for two of them, by service name and by function id for the others: all three ways.
    return {
        "direktiv/greeter:v1": running["greeter"].url,
        "echo-service": running["echo"].url,
        "fail": running["fail"].url,
        "test/slow": running["slow"].url,
    }


def flow(name: str, states: str) -> str:
    return f"id: {name}\n{FUNCTIONS}states:\n{states}"


GREET = flow(
    "greet",
    """
  - id: hello
    type: action
    action:
      function: greeter
      input: 'jq({name: .who})'
    transform: 'jq({said: .return.greeting})'
""",
)


async def test_action_result_is_stored_at_return(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(GREET, services=services(functions)) as h:
        instance = await h.run("greet", {"who": "Ada"})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"said": "Hello, Ada!"}


async def test_action_input_defaults_to_data_and_secrets_stay_out(
    functions: dict[str, RunningFunction],
) -> None:
    text = flow(
        "secret",
        """
  - id: call
    type: action
    action:
      function: echo
      secrets: [token]
""",
    )
    async with open_harness(text, services=services(functions), secrets={"token": "s3cr3t"}) as h:
        instance = await h.run("secret", {"a": 1})
        assert instance.status is Status.COMPLETE
        seen = instance.output["return"]
        assert seen["input"] == {"a": 1, "secrets": {"token": "s3cr3t"}}
        assert "secrets" not in {k for k in instance.output if k != "return"}
        assert "s3cr3t" not in " ".join(h.log(instance.id))
        stored = await h.store.load_instance(instance.id)
        assert stored is not None
        assert b"s3cr3t" in stored.record  # only inside .return, which the function echoed back
        assert seen["headers"]["content-type"] == "application/json"


async def test_missing_secret_is_not_catchable(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "nosecret",
        """
  - id: call
    type: action
    action:
      function: echo
      secrets: [absent]
    catch:
      - error: '*'
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("nosecret", {})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.secrets.notFound"


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("code", Status.FAILED, "fail.code"),
        ("message-only", Status.CRASHED, "direktiv.internal.error"),
        ("status500", Status.FAILED, "direktiv.function.failed"),
    ],
)
async def test_function_error_styles(
    functions: dict[str, RunningFunction], mode: str, status: Status, code: str
) -> None:
    text = flow(
        "styles",
        """
  - id: call
    type: action
    action:
      function: fail
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("styles", {"mode": mode})
        assert instance.status is status
        assert instance.error is not None
        assert (
            instance.error.code.startswith(code) if mode == "code" else instance.error.code == code
        )


RETRY = flow(
    "retry",
    """
  - id: call
    type: action
    action:
      function: fail
      retries:
        max_attempts: 2
        delay: PT10S
        multiplier: 3
        codes: ['fail\\..*']
""",
)


async def test_retries_then_retries_exceeded(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(RETRY, services=services(functions)) as h:
        started = h.clock.now()
        instance = await h.run("retry", {"mode": "code", "message": "nope"})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.retries.exceeded"
        assert instance.error.message == "retries exceeded (2); last error: fail.code: nope"
        retries = [m for m in h.log(instance.id) if m.startswith("retrying")]
        assert retries == [
            "retrying action 0 after fail.code (retry 1 of 2, in 10s)",
            "retrying action 0 after fail.code (retry 2 of 2, in 30s)",
        ]
        # 10 s, then 10 × 3 s: the retry timers ran on the fake clock.
        assert (h.clock.now() - started).total_seconds() >= 40


async def test_retries_skip_codes_that_do_not_match(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(RETRY, services=services(functions)) as h:
        instance = await h.run("retry", {"mode": "code", "code": "other.code", "message": "m"})
        assert instance.error is not None
        assert instance.error.code == "other.code"
        assert not [m for m in h.log(instance.id) if m.startswith("retrying")]


PARALLEL = flow(
    "par",
    """
  - id: both
    type: parallel
    mode: MODE
    actions:
      - function: greeter
        input: 'jq({name: .a})'
      - function: fail
        input: 'jq(.second)'
      - function: echo
        input: 'jq({n: 3})'
""",
)


async def test_parallel_and_collects_results_in_order(
    functions: dict[str, RunningFunction],
) -> None:
    async with open_harness(PARALLEL.replace("MODE", "and"), services=services(functions)) as h:
        instance = await h.run("par", {"a": "A", "second": {"mode": "empty"}})
        assert instance.status is Status.COMPLETE
        first, second, third = instance.output["return"]
        assert first == {"greeting": "Hello, A!"}
        assert second == ""
        assert third["input"] == {"n": 3}


async def test_parallel_and_fails_on_first_error(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(PARALLEL.replace("MODE", "and"), services=services(functions)) as h:
        instance = await h.run("par", {"a": "A", "second": {"mode": "code", "message": "x"}})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "fail.code"


async def test_parallel_or_first_success_wins(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "race",
        """
  - id: race
    type: parallel
    mode: or
    actions:
      - function: slow
        input: {seconds: 30, obey_cancel: true}
      - function: greeter
        input: {name: quick}
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("race", {})
        assert instance.status is Status.COMPLETE
        assert instance.output["return"] == [None, {"greeting": "Hello, quick!"}]
        # The losing call was cancelled with a DELETE carrying its action id.
        await functions["slow"].wait_for_output("CANCELLED")


async def test_parallel_or_all_failed(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "allfail",
        """
  - id: race
    type: parallel
    mode: or
    actions:
      - function: fail
        input: {mode: code, code: a.one, message: first}
      - function: fail
        input: {mode: status500}
    catch:
      - error: direktiv.parallel.allFailed
        transition: handled
  - id: handled
    type: noop
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("allfail", {})
        assert instance.status is Status.COMPLETE
        error = instance.output["error"]
        assert error["code"] == "direktiv.parallel.allFailed"
        assert "a.one: first" in error["msg"]
        assert "direktiv.function.failed" in error["msg"]


FOREACH = flow(
    "each",
    """
  - id: all
    type: foreach
    array: 'jq(.people[] | {who: .})'
    action:
      function: greeter
      input: 'jq({name: .who})'
    transform: 'jq({greetings: [.return[].greeting]})'
""",
)


async def test_foreach_results_in_element_order(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(FOREACH, services=services(functions)) as h:
        people = [f"p{i}" for i in range(12)]
        instance = await h.run("each", {"people": people})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"greetings": [f"Hello, {p}!" for p in people]}


async def test_foreach_empty_array_completes_at_once(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(FOREACH, services=services(functions)) as h:
        instance = await h.run("each", {"people": []})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"greetings": []}


async def test_foreach_elements_must_be_objects(functions: dict[str, RunningFunction]) -> None:
    text = FOREACH.replace("jq(.people[] | {who: .})", "jq(.people)")
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("each", {"people": ["a"]})
        assert instance.error is not None
        assert instance.error.code == "direktiv.jq.notObject"


async def test_async_action_transitions_at_once(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "fire",
        """
  - id: fire
    type: action
    async: true
    action:
      function: slow
      input: {seconds: 0.2}
    transition: next
  - id: next
    type: noop
    transform: 'jq(.went_on = true)'
""",
    )
    async with open_harness(text, services=services(functions)) as h:
        instance = await h.run("fire", {"x": 1})
        assert instance.output == {"x": 1, "went_on": True}
        # The call really happens (Dirigent: async actions run; they never did in 2021).
        await functions["slow"].wait_for_output("STARTED")


async def test_state_timeout_cancels_the_call(functions: dict[str, RunningFunction]) -> None:
    text = flow(
        "late",
        """
  - id: wait
    type: action
    timeout: PT5S
    action:
      function: slow
      input: {seconds: 30}
    catch:
      - error: direktiv.cancels.timeout
        transition: gave-up
  - id: gave-up
    type: noop
""",
    )
    async with open_harness(text, services=services(functions), cancel_grace=0.3) as h:
        instance = await h.start("late", {})
        started = await functions["slow"].wait_for_output("STARTED")
        action_id = started.split()[1]
        await h.clock.advance(5)
        final = await h.finish(instance.id)
        assert final.status is Status.COMPLETE
        assert final.output["error"] == {
            "code": "direktiv.cancels.timeout",
            "msg": "state 'wait' timed out after 5s",
        }
        await functions["slow"].wait_for_output(f"CANCELLED {action_id}")


async def test_function_logs_reach_the_instance_log() -> None:
    text = """
id: logs
functions:
  - id: logger
    image: test/logger
states:
  - id: talk
    type: action
    action:
      function: logger
      input: {late_delay: 0.1}
"""
    port = free_port()
    async with (
        start_function("logger", DIRIGENT_SIDECAR_PORT=str(port)) as logger,
        open_harness(text, services={"logger": logger.url}, sidecar_port=port) as h,
    ):
        instance = await h.run("logs", {})
        assert instance.status is Status.COMPLETE
        assert instance.output["return"]["statuses"] == [200, 200, 200, 200]
        await logger.wait_for_output("LATE 200")
        entries = [e for e in h.store.logs(instance.id) if e.action_id]
        messages = [e.message for e in entries]
        assert messages[:4] == [
            "via GET",
            "via POST plain/text",
            '{"msg": "via POST json"}',
            "via POST bare",
        ]
        assert messages[4] == "late line"
        assert {e.state for e in entries} == {"talk"}
        assert len({e.action_id for e in entries}) == 1


async def test_function_variables_and_files() -> None:
    text = """
id: files
functions:
  - id: vars
    image: test/vars
    files:
      - key: config
        scope: workflow
        as: config.json
states:
  - id: seed
    type: setter
    variables:
      - key: config
        scope: workflow
        value: {debug: true}
    transition: use
  - id: use
    type: action
    action:
      function: vars
      input:
        ops:
          - {op: set, scope: instance, key: fromvar, value: '"hi"', content_type: application/json}
          - {op: get, scope: workflow, key: config}
        out:
          namespace/report: 'done'
    transition: read
  - id: read
    type: getter
    variables:
      - key: fromvar
      - key: report
        scope: namespace
"""
    port = free_port()
    async with (
        start_function("vars", DIRIGENT_SIDECAR_PORT=str(port)) as fn,
        open_harness(text, services={"vars": fn.url}, sidecar_port=port) as h,
    ):
        instance = await h.run("files", {})
        assert instance.status is Status.COMPLETE, instance.error
        answer = instance.output["return"]
        assert answer["files"] == {"config.json": '{"debug":true}'}
        assert [r["status"] for r in answer["results"]] == [200, 200]
        assert answer["results"][1]["body"] == '{"debug":true}'
        assert instance.output["var"]["fromvar"] == "hi"
        assert instance.output["var"]["report"] == "ZG9uZQ=="  # "done", not JSON, so base64


async def test_unreachable_function_is_catchable_failure(
    functions: dict[str, RunningFunction],
) -> None:
    text = flow("gone", "  - id: call\n    type: action\n    action:\n      function: echo\n")
    async with open_harness(text, services={"echo": "http://127.0.0.1:9/"}) as h:
        instance = await h.run("gone", {})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.function.failed"
        assert instance.error.catchable


async def test_concurrent_instances_do_not_mix(functions: dict[str, RunningFunction]) -> None:
    async with open_harness(GREET, services=services(functions)) as h:
        started = [await h.start("greet", {"who": f"n{i}"}) for i in range(20)]
        finals = await asyncio.gather(*(h.finish(i.id) for i in started))
        assert [f.output for f in finals] == [{"said": f"Hello, n{i}!"} for i in range(20)]


async def test_call_in_flight_is_made_again_after_a_restart(
    functions: dict[str, RunningFunction],
) -> None:
    text = flow(
        "restart",
        """
  - id: call
    type: action
    action:
      function: slow
      input: {seconds: 0.3}
""",
    )
    store = MemoryStore()
    async with open_harness(text, services=services(functions), store=store) as h:
        instance = await h.start("restart", {})
        first = (await functions["slow"].wait_for_output("STARTED")).split()[1]
    # The engine stopped while the call was in flight (as in a crash); a new one resumes from the store.
    async with open_harness(text, services=services(functions), store=store) as h2:
        final = await h2.finish(instance.id)
        assert final.status is Status.COMPLETE
        assert final.output["return"] == {"slept": 0.3, "cancelled": False}
    started = [line.split()[1] for line in functions["slow"].output() if line.startswith("STARTED")]
    assert len(started) == 2
    assert started[0] == first
    assert started[1] != first  # at least once, under a new action id
