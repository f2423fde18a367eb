"""The event intake on memory, SQLite and PostgreSQL with a fake clock: event-started workflows,
`eventsAnd` groups (queueing, correlation, lifespan), singular workflows, and concurrent events."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from dirigent.events import parse_event
from dirigent.operations.events import EventIntake, Receipt, register_listeners
from dirigent.spec import load_workflow
from dirigent.store import Store, open_store
from dirigent.store.records import WorkflowRecord
from dirigent.testing import FakeClock
from tests.postgres import scratch_database

T0 = datetime(2025, 1, 15, 12, 0, 0, tzinfo=UTC)
_ids = itertools.count()

PAIR = """
id: pair
start:
  type: eventsAnd
  correlate: [subject]
  lifespan: PT10M
  events:
    - type: paid
    - type: shipped
      filters: {source: "warehouse-*"}
states:
  - id: only
    type: noop
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with scratch_database("dirigent_intake") as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("postgres")
    opened = await open_store(url)
    if await opened.get_namespace("ns") is not None:
        await opened.delete_namespace("ns")  # the module's PostgreSQL database is shared
    await opened.create_namespace("ns", T0)
    try:
        yield opened
    finally:
        await opened.aclose()


async def pushed(store: Store, source: str) -> None:
    definition = load_workflow(source)
    record = await store.create_workflow(
        WorkflowRecord("ns", definition.id, 0, source.encode(), True, "", T0, T0)
    )
    await register_listeners(store, record, definition)


async def send(
    intake: EventIntake, type_: str, data: object, *, source: str = "shop", **attributes: str
) -> Receipt:
    event = {
        "specversion": "1.0",
        "id": f"i{next(_ids)}",
        "source": source,
        "type": type_,
        "data": data,
        **attributes,
    }
    return await intake.receive("ns", parse_event(event))


async def input_of(store: Store, instance_id: str) -> object:
    found = await store.load_instance(instance_id)
    assert found is not None
    return orjson.loads(found.record)["input"]


async def test_event_and_groups_queue_by_correlation(store: Store) -> None:
    await pushed(store, PAIR)
    clock = FakeClock(T0)
    intake = EventIntake(store, clock=clock)
    assert (await send(intake, "paid", 1, subject="o1")).deliveries == 1
    await clock.advance(1)
    assert (await send(intake, "paid", 2, subject="o1")).deliveries == 1  # a second group
    assert (await send(intake, "paid", 3, subject="o2")).deliveries == 1
    # The filter on source still applies within a group.
    assert (await send(intake, "shipped", 0, subject="o1", source="truck")).deliveries == 0
    first = await send(intake, "shipped", 10, subject="o1", source="warehouse-a")
    (instance_id,) = first.started
    data = await input_of(store, instance_id)
    assert isinstance(data, dict)
    assert (data["paid"], data["shipped"]) == (1, 10)  # the oldest group first
    assert data["cloudevents"]["shipped"]["source"] == "warehouse-a"
    (second,) = (await send(intake, "shipped", 20, subject="o1", source="warehouse-b")).started
    assert (await input_of(store, second))["paid"] == 2  # type: ignore[index]
    groups = await store.list_event_groups("ns", "pair")
    assert [g.correlation for g in groups] == ['["o2"]']


async def test_partial_groups_expire_after_their_lifespan(store: Store) -> None:
    await pushed(store, PAIR)
    clock = FakeClock(T0)
    intake = EventIntake(store, clock=clock)
    await send(intake, "paid", 1, subject="o1")
    await clock.advance(timedelta(minutes=10))
    late = await send(intake, "shipped", 2, subject="o1", source="warehouse-a")
    # The payment's group was dropped; the shipment starts a group of its own.
    assert late.started == ()
    (group,) = await store.list_event_groups("ns", "pair")
    assert list(orjson.loads(group.events)) == ["1"]  # the shipment's position
    (started,) = (await send(intake, "paid", 3, subject="o1")).started
    assert (await input_of(store, started))["paid"] == 3  # type: ignore[index]


async def test_a_busy_singular_workflow_is_not_started_again(store: Store) -> None:
    await pushed(
        store,
        """
id: solo
singular: true
start:
  type: event
  event: {type: go}
states:
  - id: only
    type: noop
""",
    )
    intake = EventIntake(store, clock=FakeClock(T0))
    assert len((await send(intake, "go", 1)).started) == 1
    # Its instance is pending (nothing runs it here): the next event starts nothing.
    assert (await send(intake, "go", 2)).started == ()


async def test_concurrent_events_complete_each_group_once(store: Store) -> None:
    await pushed(store, PAIR)
    intake = EventIntake(store, clock=FakeClock(T0))
    sends = [send(intake, "paid", n, subject="same") for n in range(10)]
    sends += [send(intake, "shipped", n, subject="same", source="warehouse-x") for n in range(10)]
    receipts = await asyncio.gather(*sends)
    started = [i for r in receipts for i in r.started]
    assert len(started) == 10
    assert await store.list_event_groups("ns", "pair") == []
    payments = sorted([(await input_of(store, i))["paid"] for i in started])  # type: ignore[index]
    assert payments == list(range(10))  # every payment in exactly one instance
