"""Schedules on a fake clock: ticks in a time zone, `@every`, one instance per tick, missed ticks run
once or skipped, singular workflows, and registration as workflows change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dirigent.errors import InvalidInput
from dirigent.operations.schedules import (
    Missed,
    Scheduler,
    Ticks,
    missed_policy,
    next_runs,
    register_schedule,
    tick_id,
)
from dirigent.spec import load_workflow
from dirigent.store import Store, open_store
from dirigent.store.records import WorkflowRecord
from dirigent.testing import FakeClock

T0 = datetime(2025, 1, 15, 12, 0, 0, tzinfo=UTC)

TICKER = """
id: ticker
start:
  type: scheduled
  cron: "@every 10s"
states:
  - id: only
    type: noop
"""


def test_cron_ticks_in_a_time_zone() -> None:
    berlin = Ticks("0 9 * * *", "Europe/Berlin")
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    assert berlin.after(T0) == datetime(2025, 1, 16, 8, 0, tzinfo=UTC)
    assert berlin.after(datetime(2025, 7, 1, tzinfo=UTC)) == datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    assert Ticks("0 9 * * *", "UTC").after(T0) == datetime(2025, 1, 16, 9, 0, tzinfo=UTC)
    hourly = Ticks("@hourly", "UTC")
    assert hourly.after(T0) == T0 + timedelta(hours=1)  # strictly after
    assert hourly.latest(T0) == T0  # at or before
    assert hourly.latest(T0 + timedelta(minutes=59)) == T0
    assert hourly.upcoming(T0, 3) == [T0 + timedelta(hours=h) for h in range(3)]
    assert Ticks("*/15 * * * *", "UTC").after(T0 + timedelta(seconds=1)) == T0 + timedelta(
        minutes=15
    )


def test_every_ticks_on_multiples_of_its_interval() -> None:
    every = Ticks("@every 10s", "Asia/Tokyo")  # the zone does not matter
    assert every.after(T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=10)
    assert every.after(T0) == T0 + timedelta(seconds=10)
    assert every.latest(T0 + timedelta(seconds=19)) == T0 + timedelta(seconds=10)
    assert Ticks("@every 2h", "UTC").after(T0 + timedelta(minutes=1)) == T0 + timedelta(hours=2)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown time zone 'Mars/Olympus'"):
        Ticks("@hourly", "Mars/Olympus")
    with pytest.raises(InvalidInput, match="schedule_missed: 'later'"):
        missed_policy("later")
    assert missed_policy("skip") is Missed.SKIP


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/store.db"
    opened = await open_store(url)
    await opened.create_namespace("ns", T0)
    try:
        yield opened
    finally:
        await opened.aclose()


async def pushed(store: Store, source: str, *, active: bool = True) -> WorkflowRecord:
    definition = load_workflow(source)
    record = await store.create_workflow(
        WorkflowRecord("ns", definition.id, 0, source.encode(), active, "", T0, T0)
    )
    await register_schedule(store, record, definition, "UTC", T0)
    return record


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.005)


async def ticks_of(store: Store) -> list[str]:
    found, _ = await store.list_instances("ns", workflow="ticker", limit=1000)
    return sorted(s.id.rsplit("/", 1)[1] for s in found)


def tick(seconds: int) -> str:
    return tick_id("ns", "ticker", T0 + timedelta(seconds=seconds)).rsplit("/", 1)[1]


async def test_each_tick_starts_one_instance(store: Store) -> None:
    await pushed(store, TICKER)
    assert await next_runs(store, "ns", "ticker", 2) == [
        T0 + timedelta(seconds=10),
        T0 + timedelta(seconds=20),
    ]
    clock = FakeClock(T0)
    async with Scheduler(store, clock) as scheduler:
        for n in range(1, 4):
            await clock.advance(10)
            expected = [tick(10 * k) for k in range(1, n + 1)]

            async def check(expected: list[str] = expected) -> bool:
                return await ticks_of(store) == expected

            await until(check)
        assert scheduler.started == 3
    (summary, *_), _ = await store.list_instances("ns", workflow="ticker")
    assert summary.invoked_by == "schedule"
    assert (await store.get_schedule("ns", "ticker")).next_run == T0 + timedelta(seconds=40)  # type: ignore[union-attr]


async def test_a_little_late_ticks_catch_up_one_by_one(store: Store) -> None:
    await pushed(store, TICKER.replace("@every 10s", "@every 2s"))
    clock = FakeClock(T0 + timedelta(seconds=6.5))  # 2, 4 and 6 are due, none 5 s late
    scheduler = Scheduler(store, clock)
    while await scheduler.fire_due():
        pass
    assert await ticks_of(store) == [tick(2), tick(4), tick(6)]


@pytest.mark.parametrize(("policy", "expected"), [(Missed.RUN_ONCE, [3600]), (Missed.SKIP, [])])
async def test_missed_ticks_run_once_or_are_skipped(
    store: Store, policy: Missed, expected: list[int]
) -> None:
    await pushed(store, TICKER)
    # Every server was down for an hour.
    clock = FakeClock(T0 + timedelta(hours=1, seconds=5))
    scheduler = Scheduler(store, clock, missed=policy)
    assert await scheduler.fire_due() == 1
    assert await ticks_of(store) == [tick(s) for s in expected]
    assert (await store.get_schedule("ns", "ticker")).next_run == T0 + timedelta(seconds=3610)  # type: ignore[union-attr]
    # Then on as usual.
    await clock.advance(5)
    await scheduler.fire_due()
    assert await ticks_of(store) == sorted([tick(s) for s in [*expected, 3610]])


async def test_a_busy_singular_workflow_skips_its_tick(store: Store) -> None:
    await pushed(store, TICKER.replace("id: ticker", "id: ticker\nsingular: true"))
    clock = FakeClock(T0 + timedelta(seconds=10))
    scheduler = Scheduler(store, clock)
    await scheduler.fire_due()  # starts tick 10, which stays pending (nobody runs it here)
    await clock.advance(10)
    await scheduler.fire_due()
    assert await ticks_of(store) == [tick(10)]
    assert scheduler.skipped == 1


async def test_registration_follows_the_workflow(store: Store) -> None:
    record = await pushed(store, TICKER)
    definition = load_workflow(TICKER)
    first = await store.get_schedule("ns", "ticker")
    assert first is not None
    # Unchanged cron: next_run stays (a due tick is not lost by an update).
    later = T0 + timedelta(seconds=35)
    await register_schedule(store, replace(record, revision=1), definition, "UTC", later)
    kept = await store.get_schedule("ns", "ticker")
    assert kept == replace(first, revision=1)
    # Another cron or zone: computed anew.
    hourly = load_workflow(TICKER.replace("@every 10s", "@hourly"))
    await register_schedule(store, record, hourly, "Europe/Berlin", later)
    found = await store.get_schedule("ns", "ticker")
    assert found is not None
    assert (found.cron, found.zone, found.next_run) == (
        "@hourly",
        "Europe/Berlin",
        T0 + timedelta(hours=1),
    )
    # Inactive, or no longer scheduled: no schedule.
    await register_schedule(store, replace(record, active=False), definition, "UTC", later)
    assert await store.get_schedule("ns", "ticker") is None
    assert await next_runs(store, "ns", "ticker") == []
    await register_schedule(store, record, definition, "UTC", later)
    plain = load_workflow("id: ticker\nstates:\n  - id: only\n    type: noop\n")
    await register_schedule(store, record, plain, "UTC", later)
    assert await store.get_schedule("ns", "ticker") is None
