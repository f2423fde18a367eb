"""The process runtime: images run as local processes, each pod in its own network namespace."""

from __future__ import annotations

import asyncio
import shlex
import sys

import pytest

from dirigent.engine import Status
from tests.fixtures.functions.runner import FUNCTIONS_DIR
from tests.functions.pods import command, needs_namespaces, open_pod_engine

pytestmark = needs_namespaces

GREET = """
id: greet
functions:
- id: greeter
  image: acme/greeter:v1
states:
- id: hello
  type: action
  action:
    function: greeter
    input: 'jq({name: .who})'
"""


async def test_a_mapped_image_runs_in_a_pod_on_its_own_port_8080() -> None:
    async with open_pod_engine(GREET, functions={"acme/greeter": command("greeter")}) as pods:
        instance = await pods.run("greet", {"who": "World"})
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"] == {"greeting": "Hello, World!"}
        assert len(pods.pods("greet", "greeter")) == 1


async def test_pods_of_different_functions_each_have_their_own_localhost() -> None:
    both = """
id: both
functions:
- {id: greeter, image: acme/greeter:v1}
- {id: fragile, image: acme/fragile:v1}
- {id: echo, image: acme/echo:v1}
states:
- id: a
  type: action
  action: {function: greeter, input: {name: A}}
  transform: 'jq({greeting: .return.greeting})'
  transition: b
- id: b
  type: action
  action: {function: fragile}
  transform: 'jq(. + {interfaces: .return.interfaces})'
  transition: c
- id: c
  type: action
  action: {function: echo, input: {x: 1}}
  transform: 'jq(. + {echoed: .return.input})'
"""
    functions = {
        "acme/greeter:v1": command("greeter"),
        "acme/fragile:v1": command("fragile"),
        "acme/echo": command("echo"),
    }
    async with open_pod_engine(both, functions=functions) as pods:
        instance = await pods.run("both")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["greeting"] == "Hello, A!"
        assert instance.output["echoed"] == {"x": 1}
        # A pod has a loopback of its own (and, with pasta, a copy of the host's interfaces).
        assert "lo" in instance.output["interfaces"]


async def test_concurrent_calls_share_pods_up_to_the_maximum() -> None:
    slow = """
id: slow
functions:
- {id: slow, image: acme/slow}
states:
- id: wait
  type: action
  action: {function: slow, input: {seconds: 0.3}}
"""
    async with open_pod_engine(
        slow, functions={"acme/slow": command("slow")}, concurrency=2, max_pods=2
    ) as pods:
        started = [await pods.start("slow") for _ in range(6)]
        ends = await asyncio.gather(*(pods.engine.runtime.wait(i.id) for i in started))
        assert [end.status for end in ends] == [Status.COMPLETE] * 6
        assert len(pods.pods("slow", "slow")) == 2


async def test_function_logs_and_variables_go_through_the_pods_sidecar() -> None:
    logs = """
id: logs
functions:
- {id: logger, image: acme/logger}
- {id: vars, image: acme/vars}
states:
- id: talk
  type: action
  action: {function: logger, input: {late: false}}
  transition: store
- id: store
  type: action
  action:
    function: vars
    input:
      ops:
      - {op: set, scope: workflow, key: greeting, value: hi, content_type: text/plain}
      - {op: get, scope: workflow, key: greeting}
      out: {workflow/result: made in a pod}
"""
    functions = {"acme/logger": command("logger"), "acme/vars": command("vars")}
    async with open_pod_engine(logs, functions=functions) as pods:
        instance = await pods.run("logs")
        assert instance.status is Status.COMPLETE, instance.error
        assert ("via GET", "talk") in pods.log(instance.id)
        assert ("via POST plain/text", "talk") in pods.log(instance.id)
        results = instance.output["return"]["results"]
        assert [r["status"] for r in results] == [200, 200]
        assert results[1]["body"] == "hi"
        made = pods.store.variables()
        assert [v.data for ref, v in made.items() if ref.key == "result"] == [b"made in a pod"]


async def test_a_call_past_its_deadline_is_cancelled_and_a_stuck_pod_replaced() -> None:
    stuck = """
id: stuck
functions:
- {id: fragile, image: acme/fragile}
states:
- id: hang
  type: action
  action: {function: fragile, input: {hang: true}}
  timeout: PT1S
  catch:
  - error: direktiv.cancels.timeout
    transition: again
- id: again
  type: action
  action: {function: fragile}
"""
    async with open_pod_engine(stuck, functions={"acme/fragile": command("fragile")}) as pods:
        first = await pods.run("stuck")
        assert first.status is Status.COMPLETE, first.error
        # While the stuck call was being cancelled, `again` went to a new pod; the stuck pod,
        # which ignored the DELETE past the grace, is killed.
        for _ in range(500):
            if len(pods.pods("stuck", "fragile")) == 1:
                break
            await asyncio.sleep(0.01)
        assert len(pods.pods("stuck", "fragile")) == 1
        second = await pods.run("stuck")
        assert second.status is Status.COMPLETE, (second.error, pods.log(second.id))
        # The same again: the pod that answered `again` got stuck this time, and was replaced.
        assert second.output["return"]["pid"] != first.output["return"]["pid"]


async def test_the_platform_limit_stops_a_call_whatever_the_workflow_allows() -> None:
    long = """
id: long
functions:
- {id: slow, image: acme/slow}
states:
- id: wait
  type: action
  action: {function: slow, input: {seconds: 30, obey_cancel: true}}
  timeout: PT1H
"""
    async with open_pod_engine(
        long, functions={"acme/slow": command("slow")}, max_function_seconds=0.5
    ) as pods:
        instance = await pods.run("long")
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.cancels.timeout"


async def test_a_pod_that_dies_is_dropped_and_the_next_call_gets_a_new_one() -> None:
    dying = """
id: dying
functions:
- {id: fragile, image: acme/fragile}
states:
- id: call
  type: action
  action: {function: fragile, input: jq(.)}
"""
    async with open_pod_engine(dying, functions={"acme/fragile": command("fragile")}) as pods:
        first = await pods.run("dying", {"exit": True})
        assert first.status is Status.COMPLETE, first.error
        for _ in range(200):  # the pod's exit is noticed within moments
            if not pods.pods("dying", "fragile"):
                break
            await asyncio.sleep(0.01)
        assert pods.pods("dying", "fragile") == []
        second = await pods.run("dying")
        assert second.status is Status.COMPLETE, second.error
        assert second.output["return"]["pid"] != first.output["return"]["pid"]


async def test_idle_pods_stop_down_to_the_functions_scale() -> None:
    scaled = """
id: scaled
functions:
- {id: zero, image: acme/echo}
- {id: warm, image: acme/echo, scale: 1}
states:
- id: a
  type: action
  action: {function: zero}
  transition: b
- id: b
  type: action
  action: {function: warm}
"""
    async with open_pod_engine(
        scaled, functions={"acme/echo": command("echo")}, idle_seconds=0.05
    ) as pods:
        instance = await pods.run("scaled")
        assert instance.status is Status.COMPLETE, instance.error
        for _ in range(300):
            if not pods.pods("scaled", "zero"):
                break
            await asyncio.sleep(0.01)
        assert pods.pods("scaled", "zero") == []
        assert len(pods.pods("scaled", "warm")) == 1


NEVER = """
id: never
functions:
- {id: mute, image: acme/mute}
states:
- id: call
  type: action
  action: {function: mute}
  catch:
  - error: direktiv.function.failed
"""


async def test_a_pod_that_never_listens_is_an_error_naming_the_function_and_its_output() -> None:
    mute = shlex.join([sys.executable, "-u", "-c", "print('booting'); import time; time.sleep(60)"])
    async with open_pod_engine(NEVER, functions={"acme/mute": mute}, ready_seconds=0.5) as pods:
        instance = await pods.run("never")
        assert instance.status is Status.COMPLETE  # caught
        failure = [m for m, _ in pods.log(instance.id) if "did not listen" in m]
        assert failure, pods.log(instance.id)
        assert "function 'mute' (image acme/mute)" in failure[0]
        assert "booting" in failure[0]


async def test_a_pod_that_exits_at_start_says_so() -> None:
    gone = shlex.join([sys.executable, "-c", "print('no config'); raise SystemExit(2)"])
    async with open_pod_engine(NEVER, functions={"acme/mute": gone}) as pods:
        instance = await pods.run("never")
        failure = [m for m, _ in pods.log(instance.id) if "exited with status 2" in m]
        assert failure, pods.log(instance.id)
        assert "no config" in failure[0]


async def test_an_unmapped_image_crashes_the_instance_with_a_hint() -> None:
    async with open_pod_engine(GREET, functions={}) as pods:
        instance = await pods.run("greet", {"who": "x"})
        assert instance.status is Status.CRASHED
        assert instance.error is not None
        assert "--function acme/greeter:v1=" in instance.error.message


async def test_a_function_folder_runs_its_main_py(tmp_path: pytest.TempPathFactory) -> None:
    folder = tmp_path / "greeter"  # type: ignore[operator]
    folder.mkdir()
    (folder / "main.py").write_text((FUNCTIONS_DIR / "greeter.py").read_text())
    (folder / "_serve.py").write_text((FUNCTIONS_DIR / "_serve.py").read_text())
    async with open_pod_engine(GREET, functions={"acme/greeter": str(folder)}) as pods:
        instance = await pods.run("greet", {"who": "Folder"})
        assert instance.output["return"] == {"greeting": "Hello, Folder!"}
