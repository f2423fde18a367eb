"""Events and schedules in the store: intake in one transaction, waits, listeners, groups, retention,
and schedules fired once by concurrent servers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from dirigent.errors import Conflict, NotFound
from dirigent.store import Commit, Store
from dirigent.store.base import EventDelivery, EventRouting, ScheduleFiring
from dirigent.store.records import (
    EventGroup,
    EventListener,
    EventWait,
    NewInstance,
    Schedule,
    StoredEvent,
)
from tests.store.conftest import OpenTwin
from tests.store.support import LEASE, at, instance, item, started, workflow


def event(
    event_id: str = "e1", type_: str = "order", *, ns: str = "ns", when: float = 0
) -> StoredEvent:
    return StoredEvent(ns, "src", event_id, type_, at(when), b'{"id": "%s"}' % event_id.encode())


def listener(
    wf: str, position: int, type_: str, *, grouped: bool = False, singular: bool = False
) -> EventListener:
    return EventListener("ns", wf, position, type_, grouped, singular, b'{"kind": "x"}')


def wait(instance_id: str, key: str, type_: str = "order", ns: str = "ns") -> EventWait:
    return EventWait(instance_id, key, ns, type_, {"subject": "a*"})


async def with_workflows(store: Store, *ids: str) -> None:
    await store.create_namespace("ns", at(0))
    for wf in ids:
        await store.create_workflow(workflow("ns", wf))


async def test_an_event_is_routed_stored_and_delivered_in_one_go(store: Store) -> None:
    await with_workflows(store, "wf", "starter", "other")
    await started(store, "waiting")
    await store.commit(
        Commit(
            instance("waiting"),
            removed=("start",),
            waits=(wait("waiting", "1:0"), wait("waiting", "1:1", "other-type")),
            release=True,
        ),
        "s1",
    )
    await started(store, "ended", owner="s1")
    await store.commit(Commit(instance("ended"), waits=(wait("ended", "1:0"),)), "s1")
    await store.commit(Commit(instance("ended", status="complete"), release=True), "s1")
    await store.set_event_listeners("ns", "starter", (listener("starter", 0, "order"),))
    await store.set_event_listeners(
        "ns", "other", (listener("other", 0, "else"), listener("other", 1, "order2"))
    )
    seen: list[EventRouting] = []
    new = NewInstance(
        instance("ns/starter/new", workflow="starter"), (item("ns/starter/new", "start"),)
    )

    def route(routing: EventRouting) -> EventDelivery:
        seen.append(routing)
        return EventDelivery(
            inbox=(item("waiting", "event:1:0:src:e1"), item("ended", "event:x")),
            instances=(new,),
            deliveries=2,
        )

    delivery = await store.receive_event(event(), route)
    assert delivery.deliveries == 2
    (routing,) = seen
    # Only the pending instance's wait of this type; only workflows that listen to the type.
    assert routing.waits == (wait("waiting", "1:0"),)
    assert routing.listeners == (listener("starter", 0, "order"),)
    assert routing.groups == ()
    assert routing.busy == frozenset()
    assert (await store.load_instance("ns/starter/new")) is not None
    claims = {
        c.instance.id: [i.key for i in c.due]
        for c in await store.claim("s2", at(1), at(1) + LEASE, 10)
    }
    assert claims == {"waiting": ["event:1:0:src:e1"], "ns/starter/new": ["start"]}
    stored, total = await store.list_events("ns")
    assert total == 1
    assert stored == [replace(event(), deliveries=2)]


async def test_a_duplicate_event_writes_nothing(store: Store) -> None:
    await with_workflows(store, "wf")
    await store.receive_event(event(), lambda r: EventDelivery())
    new = NewInstance(instance("fresh"), (item("fresh", "start"),))
    with pytest.raises(Conflict, match="received already"):
        await store.receive_event(event(when=5), lambda r: EventDelivery(instances=(new,)))
    assert await store.load_instance("fresh") is None
    assert (await store.list_events("ns"))[1] == 1
    # The same id from another source, or in another namespace, is another event.
    await store.receive_event(replace(event(), source="elsewhere"), lambda r: EventDelivery())
    with pytest.raises(NotFound, match="namespace 'nowhere'"):
        await store.receive_event(event(ns="nowhere"), lambda r: EventDelivery())


async def test_waits_are_replaced_by_commits_and_go_when_the_instance_ends(store: Store) -> None:
    await started(store, "i1")
    await store.commit(Commit(instance("i1"), waits=(wait("i1", "1:0"), wait("i1", "1:1"))), "s1")
    assert [w.key for w in await store.list_event_waits("i1")] == ["1:0", "1:1"]
    await store.commit(Commit(instance("i1")), "s1")  # None: unchanged
    assert len(await store.list_event_waits("i1")) == 2
    await store.commit(Commit(instance("i1"), waits=(wait("i1", "2:0"),)), "s1")
    assert await store.list_event_waits("i1") == [wait("i1", "2:0")]
    await store.commit(Commit(instance("i1"), waits=()), "s1")
    assert await store.list_event_waits("i1") == []
    await store.commit(Commit(instance("i1"), waits=(wait("i1", "3:0"),)), "s1")
    await store.commit(Commit(instance("i1", status="failed"), waits=(), release=True), "s1")
    assert await store.list_event_waits("i1") == []


async def test_deleting_a_workflow_or_namespace_removes_its_event_state(store: Store) -> None:
    await with_workflows(store, "wf", "wf2")
    await started(store, "i1")
    await store.commit(Commit(instance("i1"), waits=(wait("i1", "1:0"),)), "s1")
    for wf in ("wf", "wf2"):
        await store.set_event_listeners("ns", wf, (listener(wf, 0, "order", grouped=True),))
        await store.set_schedule("ns", wf, Schedule("ns", wf, "@hourly", "UTC", 0, False, at(60)))
    group = EventGroup("ns", "wf", "g1", "[]", at(0), None, b"{}")
    await store.receive_event(event(), lambda r: EventDelivery(groups=(group,)))
    await store.delete_workflow("ns", "wf")
    assert await store.list_event_waits("i1") == []
    assert await store.list_event_listeners("ns", "wf") == []
    assert await store.list_event_groups("ns", "wf") == []
    assert await store.get_schedule("ns", "wf") is None
    assert await store.get_schedule("ns", "wf2") is not None
    await store.delete_namespace("ns")
    assert await store.list_event_listeners("ns", "wf2") == []
    assert await store.get_schedule("ns", "wf2") is None
    assert await store.list_events("ns") == ([], 0)


async def test_groups_live_with_their_listeners_and_expire(store: Store) -> None:
    await with_workflows(store, "and")
    both = (listener("and", 0, "a", grouped=True), listener("and", 1, "b", grouped=True))
    await store.set_event_listeners("ns", "and", both)
    assert await store.list_event_listeners("ns", "and") == list(both)
    old = EventGroup("ns", "and", "old", "k", at(0), at(10), b'{"0": 1}')
    young = EventGroup("ns", "and", "young", "k", at(5), None, b'{"0": 2}')
    await store.receive_event(event("e1", "a"), lambda r: EventDelivery(groups=(old, young)))
    seen: list[EventRouting] = []

    def route(routing: EventRouting) -> EventDelivery:
        seen.append(routing)
        grown = replace(young, events=b'{"0": 2, "1": 3}')
        return EventDelivery(groups=(grown,))

    # At 20 the old group has expired: it is gone before the router looks.
    await store.receive_event(event("e2", "b", when=20), route)
    assert seen[0].listeners == both
    assert seen[0].groups == (young,)
    assert [g.events for g in await store.list_event_groups("ns", "and")] == [b'{"0": 2, "1": 3}']
    await store.receive_event(
        event("e3", "a", when=21), lambda r: EventDelivery(removed_groups=r.groups)
    )
    assert await store.list_event_groups("ns", "and") == []
    # Changing the listeners drops the groups; delete_expired_groups drops expired ones.
    await store.receive_event(event("e4", "a"), lambda r: EventDelivery(groups=(old,)))
    assert await store.delete_expired_groups(at(9)) == 0
    assert await store.delete_expired_groups(at(10)) == 1
    await store.receive_event(event("e5", "a"), lambda r: EventDelivery(groups=(young,)))
    await store.set_event_listeners("ns", "and", ())
    assert await store.list_event_groups("ns", "and") == []
    assert await store.list_event_listeners("ns", "and") == []


async def test_busy_names_singular_workflows_with_a_pending_instance(store: Store) -> None:
    await with_workflows(store, "solo", "free")
    await store.set_event_listeners("ns", "solo", (listener("solo", 0, "order", singular=True),))
    await store.set_event_listeners("ns", "free", (listener("free", 0, "order"),))
    await store.create_instance(instance("s", workflow="solo"), ())
    await store.create_instance(instance("f", workflow="free"), ())
    seen: list[EventRouting] = []

    def route(routing: EventRouting) -> EventDelivery:
        seen.append(routing)
        return EventDelivery()

    await store.receive_event(event(), route)
    assert seen[0].busy == frozenset({"solo"})


async def test_events_are_listed_newest_first_and_expire(store: Store) -> None:
    await with_workflows(store)
    for n in range(5):
        await store.receive_event(event(f"e{n}", when=n), lambda r: EventDelivery())
    page, total = await store.list_events("ns", offset=1, limit=2)
    assert total == 5
    assert [e.id for e in page] == ["e3", "e2"]
    assert await store.delete_events(at(2)) == 2
    assert [e.id for e in (await store.list_events("ns"))[0]] == ["e4", "e3", "e2"]


def _schedule(wf: str, due: float, *, singular: bool = False) -> Schedule:
    return Schedule("ns", wf, "@every 10s", "UTC", 0, singular, at(due))


async def test_schedules_fire_when_due_and_move_on(store: Store) -> None:
    await with_workflows(store, "a", "b")
    await store.set_schedule("ns", "a", _schedule("a", 10))
    await store.set_schedule("ns", "b", _schedule("b", 30))
    assert await store.next_schedule() == at(10)
    fired: list[tuple[str, bool]] = []

    def fire(schedule: Schedule, busy: bool) -> ScheduleFiring:
        fired.append((schedule.workflow, busy))
        new = instance(f"ns/{schedule.workflow}/tick", workflow=schedule.workflow)
        return ScheduleFiring(NewInstance(new, (item(new.id, "start"),)), at(20))

    assert await store.fire_schedules(at(5), 10, fire) == 0
    assert await store.fire_schedules(at(10), 10, fire) == 1
    assert fired == [("a", False)]
    assert (await store.get_schedule("ns", "a")) == _schedule("a", 20)
    assert await store.load_instance("ns/a/tick") is not None
    # A tick whose instance exists already is not created again; next_run still moves on.
    assert await store.fire_schedules(at(20), 10, fire) == 1
    assert (await store.get_schedule("ns", "a")) == _schedule("a", 20)
    await store.set_schedule("ns", "a", None)
    assert await store.get_schedule("ns", "a") is None
    assert await store.next_schedule() == at(30)


async def test_singular_schedules_learn_they_are_busy(store: Store) -> None:
    await with_workflows(store, "solo")
    await store.set_schedule("ns", "solo", _schedule("solo", 0, singular=True))
    await store.create_instance(instance("running", workflow="solo"), ())
    seen: list[bool] = []

    def fire(schedule: Schedule, busy: bool) -> ScheduleFiring:
        seen.append(busy)
        return ScheduleFiring(None, at(100))

    await store.fire_schedules(at(0), 10, fire)
    assert seen == [True]


async def test_concurrent_servers_fire_each_tick_once(store: Store, open_twin: OpenTwin) -> None:
    await with_workflows(store, *(f"w{n}" for n in range(20)))
    for n in range(20):
        await store.set_schedule("ns", f"w{n}", _schedule(f"w{n}", 0))
    twin = await open_twin()
    fired: list[str] = []

    def fire(schedule: Schedule, busy: bool) -> ScheduleFiring:
        fired.append(schedule.workflow)
        return ScheduleFiring(None, at(60))

    counts = await asyncio.gather(
        *(s.fire_schedules(at(1), 3, fire) for s in (store, twin, store, twin) * 4)
    )
    assert sum(counts) == 20
    assert sorted(fired) == sorted(f"w{n}" for n in range(20))
