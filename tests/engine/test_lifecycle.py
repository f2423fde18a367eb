"""Whole-instance behaviour: timeouts, cancel, subflows, singular, and resuming from a stored record."""

from __future__ import annotations

import asyncio

import pytest

from dirigent.engine import Limits, Status
from dirigent.errors import WorkflowError
from dirigent.operations.local import LOCAL_NAMESPACE
from dirigent.store.memory import MemoryStore
from dirigent.testing import FakeClock
from tests.engine.harness import Harness, open_harness

SLEEPY = """
id: sleepy
timeouts:
  interrupt: PT1H
  kill: PT2H
states:
  - id: nap
    type: delay
    duration: PT3H
    catch:
      - error: direktiv.cancels.timeout
        transition: woken
  - id: woken
    type: delay
    duration: PT3H
"""


async def test_interrupt_is_catchable_and_kill_is_not() -> None:
    async with open_harness(SLEEPY) as h:
        instance = await h.start("sleepy", {})
        await h.clock.advance(3600)
        woken = await h.runtime.get(instance.id)
        assert woken.state == "woken"
        assert woken.data["error"] == {
            "code": "direktiv.cancels.timeout",
            "msg": "the workflow's interrupt timeout passed",
        }
        await h.clock.advance(3600)
        final = await h.finish(instance.id)
        assert final.status is Status.FAILED
        assert final.error == WorkflowError(
            "direktiv.cancels.timeout", "the workflow's kill timeout passed", catchable=False
        )


async def test_default_kill_is_interrupt_plus_five_minutes() -> None:
    flow = """
id: forever
timeouts:
  interrupt: PT10M
states:
  - id: nap
    type: delay
    duration: PT1H
    catch:
      - error: '*'
        transition: again
  - id: again
    type: delay
    duration: PT1H
"""
    async with open_harness(flow) as h:
        instance = await h.start("forever", {})
        await h.clock.advance(600)
        assert (await h.runtime.get(instance.id)).state == "again"
        await h.clock.advance(299)
        assert (await h.runtime.get(instance.id)).status is Status.PENDING
        await h.clock.advance(1)
        final = await h.finish(instance.id)
        assert final.status is Status.FAILED
        assert final.error is not None
        assert final.error.message == "the workflow's kill timeout passed"


async def test_cancel_ends_instance_cancelled() -> None:
    async with open_harness(SLEEPY) as h:
        instance = await h.start("sleepy", {})
        await h.clock.advance(1)
        await h.runtime.cancel(instance.id)
        final = await asyncio.wait_for(h.runtime.wait(instance.id), 5)
        assert final.status is Status.CANCELLED
        assert final.error is not None
        assert final.error.code == "direktiv.cancels.api"
        assert final.error.catchable is False
        # Its timers are gone from the store.
        assert await h.store.next_due(h.runtime.owner, h.clock.now()) is None


PARENT = """
id: parent
functions:
  - id: child-fn
    type: subflow
    workflow: child
states:
  - id: call
    type: action
    action:
      function: child-fn
      input: 'jq({n: .n})'
    transition: shorthand
    catch:
      - error: child.*
        transition: handled
  - id: shorthand
    type: action
    action:
      workflow: child
      input: 'jq({n: (.return.doubled)})'
  - id: handled
    type: noop
"""

CHILD = """
id: child
states:
  - id: check
    type: switch
    conditions:
      - condition: 'jq(.n < 0)'
        transition: fail
    defaultTransform: 'jq({doubled: (.n * 2)})'
  - id: fail
    type: error
    error: child.negative
    message: 'negative: %v'
    args: ['jq(.n)']
"""


async def test_subflow_result_becomes_return() -> None:
    async with open_harness(PARENT, CHILD) as h:
        instance = await h.run("parent", {"n": 3})
        assert instance.status is Status.COMPLETE
        assert instance.output["return"] == {"doubled": 12}


async def test_subflow_failure_is_catchable_in_parent() -> None:
    async with open_harness(PARENT, CHILD) as h:
        instance = await h.run("parent", {"n": -1})
        assert instance.status is Status.COMPLETE
        assert instance.output["error"] == {"code": "child.negative", "msg": "negative: -1"}


async def test_subflow_crash_reaches_parent_as_catchable() -> None:
    crashing_child = """
id: child
functions:
  - id: nowhere
    image: nowhere/to-be-found
states:
  - id: call
    type: action
    action:
      function: nowhere
"""
    async with open_harness(PARENT, crashing_child) as h:
        instance = await h.run("parent", {"n": 1})
        # The child crashed (its function has no address); the parent saw a failure it did not catch.
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.internal.error"
        assert instance.error.catchable is True


async def test_missing_subflow_is_not_catchable() -> None:
    flow = """
id: lonely
states:
  - id: call
    type: action
    action:
      workflow: nobody
    catch:
      - error: '*'
"""
    async with open_harness(flow) as h:
        instance = await h.run("lonely", {})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.subflow.notExist"


async def test_depth_limit() -> None:
    recursive = """
id: deep
states:
  - id: more
    type: switch
    conditions:
      - condition: 'jq(.level < 10)'
        transition: call
  - id: call
    type: action
    action:
      workflow: deep
      input: 'jq({level: (.level + 1)})'
"""
    async with open_harness(recursive, limits=Limits(max_depth=3)) as h:
        instance = await h.run("deep", {"level": 0})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        # The deepest instance hit the limit (uncatchable there); each parent got it as catchable.
        assert instance.error.code == "direktiv.limits.depth"


async def test_cancelling_parent_cancels_child() -> None:
    parent = """
id: waiter
states:
  - id: call
    type: action
    action:
      workflow: napper
"""
    child = """
id: napper
states:
  - id: nap
    type: delay
    duration: PT1H
"""
    async with open_harness(parent, child) as h:
        instance = await h.start("waiter", {})
        await h.clock.advance(1)
        children = [i for i in await pending(h) if i != instance.id]
        assert len(children) == 1
        assert children[0].startswith("local/napper/")
        await h.runtime.cancel(instance.id)
        final = await asyncio.wait_for(h.runtime.wait(instance.id), 5)
        child_final = await asyncio.wait_for(h.runtime.wait(children[0]), 5)
        assert final.status is Status.CANCELLED
        assert child_final.status is Status.CANCELLED
        assert child_final.error is not None
        assert child_final.error.code == "direktiv.cancels.parent"


async def test_async_subflow_does_not_wait() -> None:
    flow = """
id: fire
states:
  - id: call
    type: action
    async: true
    action:
      workflow: napper
    transform: 'jq(.went_on = true)'
"""
    child = """
id: napper
states:
  - id: nap
    type: delay
    duration: PT1H
"""
    async with open_harness(flow, child) as h:
        instance = await h.start("fire", {})
        final = await asyncio.wait_for(h.runtime.wait(instance.id), 5)
        assert final.status is Status.COMPLETE
        assert final.output == {"went_on": True}
        await h.clock.advance(0)
        waiting = await pending(h)
        assert len(waiting) == 1
        assert waiting[0].startswith("local/napper/")


async def test_singular_refuses_second_instance() -> None:
    flow = """
id: solo
singular: true
states:
  - id: nap
    type: delay
    duration: PT1M
"""
    other = """
id: other
states:
  - id: nap
    type: delay
    duration: PT1M
"""
    async with open_harness(flow, other) as h:
        first = await h.start("solo", {})
        await h.clock.advance(0)
        with pytest.raises(WorkflowError) as caught:
            await h.start("solo", {})
        assert caught.value.code == "direktiv.mutex"
        await h.start("other", {})  # singular looks only at its own workflow
        await h.clock.advance(60)
        assert (await h.finish(first.id)).status is Status.COMPLETE
        await h.start("solo", {})  # free again


async def test_instance_resumes_from_its_stored_record() -> None:
    flow = """
id: durable
states:
  - id: one
    type: noop
    transform: 'jq(.steps = ["one"])'
    transition: nap
  - id: nap
    type: delay
    duration: PT5M
    transition: two
  - id: two
    type: noop
    transform: 'jq(.steps += ["two"])'
"""
    store = MemoryStore()
    async with open_harness(flow, store=store) as h:
        instance = await h.start("durable", {})
        await h.clock.advance(1)
        assert (await h.runtime.get(instance.id)).state == "nap"
    # The first engine is gone (as after a crash); only the store remains.
    async with open_harness(flow, store=store, clock=FakeClock(h.clock.now())) as h2:
        await h2.clock.advance(300)
        final = await h2.finish(instance.id)
        assert final.status is Status.COMPLETE
        assert final.output == {"steps": ["one", "two"]}
        assert final.id == instance.id
        assert final.id.startswith(f"{LOCAL_NAMESPACE}/durable/")


async def pending(h: Harness) -> list[str]:
    found, _ = await h.store.list_instances(LOCAL_NAMESPACE, status="pending")
    return [i.id for i in found]
