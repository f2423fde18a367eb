"""Waiting states (consumeEvent, eventXor, eventAnd) on the embedded engine: events reach instances
through the event intake, waits live in the store, timeouts are catchable."""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import cast

from dirigent.engine import EventReceived, Instance, Start, Status, WaitForEvents, advance
from dirigent.events import parse_event
from dirigent.operations.events import EventIntake
from dirigent.operations.local import LOCAL_NAMESPACE
from dirigent.spec import load_workflow
from dirigent.types import JSONObject
from tests.engine.harness import Harness, open_harness

_ids = itertools.count()


def cloudevent(type_: str, data: object = None, **attributes: object) -> JSONObject:
    event: JSONObject = {
        "specversion": "1.0",
        "id": f"e{next(_ids)}",
        "source": "tests",
        "type": type_,
        **attributes,
    }
    if data is not None:
        event["data"] = data
    return event


async def send(h: Harness, event: JSONObject) -> None:
    """Send an event to the embedded engine's namespace, as the API would."""
    await h.engine.events.emit(LOCAL_NAMESPACE, event)
    h.runtime.notify()


def intake(h: Harness) -> EventIntake:
    """The embedded engine's event intake (behind its event log)."""
    return cast(EventIntake, h.engine.events.forward)


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll `check` (bounded): the instance's steps run on the event loop meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.005)


async def waiting(h: Harness, instance: Instance) -> None:
    """Until the instance has committed its waits and given its lease up."""

    async def check() -> bool:
        return bool(await h.store.list_event_waits(instance.id)) and h.runtime.idle

    await until(check)


CONSUME = """
id: consume
states:
  - id: wait
    type: consumeEvent
    timeout: PT1H
    event:
      type: order.paid
      context:
        subject: 'order-jq(.order)'
        Region: 'eu-*'
    transform: 'jq({paid: ."order.paid".amount, from: .cloudevents."order.paid".source})'
"""


async def test_consume_event_waits_in_the_store_and_takes_the_matching_event() -> None:
    async with open_harness(CONSUME) as h:
        instance = await h.start("consume", {"order": 7})
        await waiting(h, instance)
        (wait,) = await h.store.list_event_waits(instance.id)
        # Context templates were evaluated on entry; keys are lower case.
        assert (wait.type, wait.context) == ("order.paid", {"subject": "order-7", "region": "eu-*"})
        # Another subject, a region outside the glob, a missing attribute, another type: ignored.
        await send(h, cloudevent("order.paid", {"amount": 1}, subject="order-8", region="eu-west"))
        await send(h, cloudevent("order.paid", {"amount": 2}, subject="order-7", region="us-east"))
        await send(h, cloudevent("order.paid", {"amount": 3}, subject="order-7"))
        await send(h, cloudevent("order.sent", {"amount": 4}, subject="order-7", region="eu-a"))
        await waiting(h, instance)
        assert (await h.runtime.get(instance.id)).status is Status.PENDING
        await send(h, cloudevent("order.paid", {"amount": 5}, subject="order-7", region="eu-west"))
        final = await h.finish(instance.id)
        assert final.status is Status.COMPLETE
        assert final.output == {"paid": 5, "from": "tests"}
        assert await h.store.list_event_waits(instance.id) == []


async def test_payload_and_context_land_in_the_data() -> None:
    flow = """
id: land
states:
  - id: wait
    type: consumeEvent
    event:
      type: blob
"""
    async with open_harness(flow) as h:
        instance = await h.start("land", {"keep": True})
        await waiting(h, instance)
        event = cloudevent(
            "blob", "plain text", datacontenttype="text/plain", subject="s1", traceparent="00-ab"
        )
        await send(h, event)
        final = await h.finish(instance.id)
        assert final.output["keep"] is True
        # Not JSON: base64 of the data's bytes.
        assert final.output["blob"] == base64.b64encode(b"plain text").decode()
        context = final.output["cloudevents"]["blob"]
        assert context["subject"] == "s1"
        assert context["traceparent"] == "00-ab"
        assert context["source"] == "tests"
        assert context["specversion"] == "1.0"
        assert "data" not in context


async def test_timeout_is_catchable() -> None:
    flow = """
id: impatient
states:
  - id: wait
    type: consumeEvent
    timeout: PT5M
    event:
      type: never
    catch:
      - error: direktiv.cancels.timeout
        transition: gave-up
  - id: gave-up
    type: noop
"""
    async with open_harness(flow) as h:
        instance = await h.start("impatient", {})
        await waiting(h, instance)
        final = await h.finish(instance.id)  # moves the fake clock to the deadline
        assert final.status is Status.COMPLETE
        assert final.output["error"]["code"] == "direktiv.cancels.timeout"
        assert "waiting for events" in final.output["error"]["msg"]
        assert await h.store.list_event_waits(instance.id) == []


async def test_event_xor_takes_the_branch_of_the_first_event() -> None:
    flow = """
id: either
states:
  - id: wait
    type: eventXor
    events:
      - event: {type: approved}
        transition: yes
        transform: 'jq({answer: "yes"})'
      - event: {type: rejected}
        transition: no
        transform: 'jq({answer: "no", why: .rejected.reason})'
  - id: yes
    type: noop
  - id: no
    type: noop
    transform: 'jq(.why += "!")'
"""
    async with open_harness(flow) as h:
        instance = await h.start("either", {})
        await waiting(h, instance)
        assert [w.type for w in await h.store.list_event_waits(instance.id)] == [
            "approved",
            "rejected",
        ]
        await send(h, cloudevent("rejected", {"reason": "late"}))
        final = await h.finish(instance.id)
        assert final.output == {"answer": "no", "why": "late!"}
        assert "entering state 'no' (noop)" in h.log(instance.id)


async def test_event_and_waits_for_all_and_keeps_what_arrived() -> None:
    flow = """
id: both
states:
  - id: wait
    type: eventAnd
    timeout: PT1H
    events:
      - event: {type: left}
      - event: {type: right, context: {source: 'tests'}}
"""
    async with open_harness(flow) as h:
        instance = await h.start("both", {})
        await waiting(h, instance)
        await send(h, cloudevent("right", {"r": 1}))
        await send(h, cloudevent("right", {"r": 2}))  # a second one of the same kind: ignored
        await waiting(h, instance)
        partial = await h.runtime.get(instance.id)
        assert partial.status is Status.PENDING
        assert partial.received_events is not None
        assert list(partial.received_events) == ["1"]  # durable in the record
        await send(h, cloudevent("left", {"l": 1}))
        final = await h.finish(instance.id)
        assert final.output["left"] == {"l": 1}
        assert final.output["right"] == {"r": 1}
        assert set(final.output["cloudevents"]) == {"left", "right"}


async def test_generated_event_wakes_another_instance_once() -> None:
    waiter = """
id: waiter
states:
  - id: wait
    type: consumeEvent
    event:
      type: ping
      context: {subject: 'jq(.who)'}
"""
    sender = """
id: sender
states:
  - id: send
    type: generateEvent
    event:
      type: ping
      source: sender
      data: 'jq({n: .n})'
      context: {subject: 'jq(.who)'}
"""
    async with open_harness(waiter, sender) as h:
        first = await h.start("waiter", {"who": "a"})
        other = await h.start("waiter", {"who": "b"})
        await waiting(h, first)
        await waiting(h, other)
        done = await h.run("sender", {"n": 3, "who": "a"})
        assert done.status is Status.COMPLETE
        final = await h.finish(first.id)
        assert final.output["ping"] == {"n": 3}
        assert final.output["cloudevents"]["ping"]["source"] == "sender"
        assert (await h.runtime.get(other.id)).status is Status.PENDING
        # The same event again (same source and id) is a duplicate: it reaches nobody.
        ((_, generated),) = h.engine.events.events
        receipt = await intake(h).receive(
            LOCAL_NAMESPACE, parse_event({**generated, "subject": "b"})
        )
        assert receipt.duplicate
        assert receipt.deliveries == 0


async def test_duplicate_events_are_delivered_once() -> None:
    async with open_harness(CONSUME) as h:
        instance = await h.start("consume", {"order": 1})
        await waiting(h, instance)
        event = cloudevent("order.paid", {"amount": 9}, subject="order-1", region="eu-1")
        first = await intake(h).receive(LOCAL_NAMESPACE, parse_event(event))
        again = await intake(h).receive(LOCAL_NAMESPACE, parse_event(event))
        assert (first.duplicate, first.deliveries) == (False, 1)
        assert (again.duplicate, again.deliveries) == (True, 0)
        h.runtime.notify()
        final = await h.finish(instance.id)
        assert final.output["paid"] == 9
        stored, total = await h.store.list_events(LOCAL_NAMESPACE)
        assert total == 1
        assert stored[0].deliveries == 1


def test_an_event_for_a_past_visit_is_ignored() -> None:
    definition = load_workflow(CONSUME)
    now = datetime(2025, 3, 1, tzinfo=UTC)
    instance = Instance("local/consume/x", "local", "consume", 0, {}, {"order": 1}, now)
    effects = advance(definition, instance, Start(), now)
    (wait_for,) = [e for e in effects if isinstance(e, WaitForEvents)]
    (wait,) = wait_for.waits
    assert wait.key == f"{instance.visit}:0"
    stale = EventReceived(f"{instance.visit - 1}:0", "order.paid", {}, {})
    assert advance(definition, instance, stale, now) == []
    unknown = EventReceived(f"{instance.visit}:5", "order.paid", {}, {})
    assert advance(definition, instance, unknown, now) == []
    taken = advance(
        definition, instance, EventReceived(wait.key, "order.paid", {"amount": 1}, {}), now
    )
    # Leaving the state asks for no waits any more.
    assert WaitForEvents(()) in taken
    assert instance.status is Status.COMPLETE


async def test_many_waiting_instances_hold_no_memory_and_one_event_wakes_one() -> None:
    flow = """
id: many
states:
  - id: wait
    type: consumeEvent
    event:
      type: wake
      context: {subject: 'jq(.k)'}
"""
    async with open_harness(flow) as h:
        started = [await h.start("many", {"k": f"k{n}"}) for n in range(300)]

        async def all_wait() -> bool:
            waits = [await h.store.list_event_waits(i.id) for i in started]
            return all(waits) and h.runtime.idle

        await until(all_wait)
        held, queued, _ = h.runtime.metrics.gauges()
        assert (held, queued) == (0, 0)  # every waiting instance lives in the store only
        await send(h, cloudevent("wake", subject="k123"))
        final = await h.finish(started[123].id)
        assert final.status is Status.COMPLETE
        pending = [(await h.runtime.get(i.id)).status for i in started]
        assert pending.count(Status.PENDING) == 299
