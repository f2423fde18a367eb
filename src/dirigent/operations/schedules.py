"""Schedules: workflows with `start.type: scheduled` start on their cron ticks, exactly once per tick
across every server that shares the database.

A schedule is a row with the time of its next tick (`next_run`). Each server runs a `Scheduler` that
claims due rows (`Store.fire_schedules`: PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite's write lock)
and, in the same transaction, creates the tick's instance and moves `next_run` to the first tick
after now. The instance id names the tick (`<ns>/<wf>/tick-20250301T120000Z`), and an existing id
is never created again, so no tick runs twice, also across restarts.

A tick more than `MISSED_AFTER` (5 s) late was missed: no server ran then. Missed ticks run once, as
one instance for the latest of them, or are skipped (`schedule_missed = "skip"`); a tick less late
(a busy server) runs as itself, and the ticks after it catch up. Cron expressions are evaluated in
the server's `schedule_time_zone` (UTC by default); `@every <n><s|m|h|d>` ticks at the multiples of
its interval since the Unix epoch, in any zone (a Dirigent extension, also the way to tick every
second). Schedules exist only while their workflow is active; pushing, updating and toggling a
workflow updates its schedule at once (`register_schedule`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from dirigent.errors import DirigentError, InvalidInput
from dirigent.operations.clock import Clock, TimerHandle
from dirigent.operations.runtime import new_instance, to_create
from dirigent.spec import WorkflowDefinition
from dirigent.spec.workflow import ScheduledStart
from dirigent.store.base import ScheduleFiring, Store
from dirigent.store.records import Schedule, WorkflowRecord

logger = logging.getLogger("dirigent.schedules")

#: How instances started by a schedule say who started them.
INVOKED_BY_SCHEDULE = "schedule"
_EVERY = re.compile(r"^@every\s+(?P<n>\d+)(?P<unit>[smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Schedules fired per store call.
_BATCH = 100
#: A tick later than this counts as missed (no server ran then); a tick less late runs as itself.
MISSED_AFTER = timedelta(seconds=5)


class Missed(enum.StrEnum):
    """What a server does with ticks missed while no server ran."""

    RUN_ONCE = "run_once"
    SKIP = "skip"


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`UTC`, `Europe/Berlin`); InvalidInput if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"schedule_time_zone: unknown time zone '{name}' (use an IANA name such as UTC or "
            "Europe/Berlin)"
        ) from None


class Ticks:
    """The ticks of a cron expression in a zone, as UTC datetimes."""

    def __init__(self, cron: str, zone: str) -> None:
        self.cron = cron
        self.zone = time_zone(zone)
        every = _EVERY.match(cron)
        self.every = int(every["n"]) * _UNITS[every["unit"]] if every else None
        if self.every == 0:
            raise InvalidInput("cron: @every needs an interval above zero")

    def after(self, when: datetime) -> datetime:
        """The first tick strictly after `when`."""
        if self.every is not None:
            seconds = int(when.timestamp()) // self.every * self.every + self.every
            return datetime.fromtimestamp(seconds, UTC)
        found: datetime = croniter(self.cron, when.astimezone(self.zone)).get_next(datetime)
        return found.astimezone(UTC)

    def latest(self, when: datetime) -> datetime:
        """The last tick at or before `when`."""
        if self.every is not None:
            return datetime.fromtimestamp(int(when.timestamp()) // self.every * self.every, UTC)
        local = when.astimezone(self.zone)
        previous: datetime = croniter(self.cron, local).get_prev(datetime)
        following: datetime = croniter(self.cron, previous).get_next(datetime)
        return (following if following <= local else previous).astimezone(UTC)

    def upcoming(self, first: datetime, count: int) -> list[datetime]:
        """`count` ticks from `first` (a tick) on."""
        found = [first]
        while len(found) < count:
            found.append(self.after(found[-1]))
        return found


def tick_id(namespace: str, workflow: str, tick: datetime) -> str:
    """The id of the instance of one tick: the same on every server."""
    return f"{namespace}/{workflow}/tick-{tick.astimezone(UTC):%Y%m%dT%H%M%SZ}"


async def register_schedule(
    store: Store,
    record: WorkflowRecord,
    definition: WorkflowDefinition | None,
    zone: str,
    now: datetime,
) -> None:
    """Make the store's schedule of a workflow that of its latest revision while it is active,
    none otherwise. An unchanged cron keeps its `next_run` (so a due tick is not lost)."""
    start = definition.workflow.start if definition is not None else None
    if definition is None or not record.active or not isinstance(start, ScheduledStart):
        if await store.get_schedule(record.namespace, record.id) is not None:
            await store.set_schedule(record.namespace, record.id, None)
        return
    current = await store.get_schedule(record.namespace, record.id)
    if current is not None and (current.cron, current.zone) == (start.cron, zone):
        next_run = current.next_run
    else:
        next_run = Ticks(start.cron, zone).after(now)
    await store.set_schedule(
        record.namespace,
        record.id,
        Schedule(
            record.namespace,
            record.id,
            start.cron,
            zone,
            record.revision,
            definition.workflow.singular,
            next_run,
        ),
    )


async def next_runs(store: Store, namespace: str, workflow: str, count: int = 5) -> list[datetime]:
    """The next `count` tick times of the workflow's schedule; none without one."""
    schedule = await store.get_schedule(namespace, workflow)
    if schedule is None:
        return []
    return Ticks(schedule.cron, schedule.zone).upcoming(schedule.next_run, count)


class Scheduler:
    """Fires the due schedules of the store, on every server; `async with` runs its loop.

    It sleeps until the earliest `next_run` it knows of (on its clock), a `wake()` (a schedule was
    set), or `poll_seconds`, which is how it learns of schedules other servers set.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        missed: Missed = Missed.RUN_ONCE,
        poll_seconds: float = 1.0,
        on_started: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.missed = missed
        self.poll_seconds = poll_seconds
        self.on_started = on_started
        self._wakeup = asyncio.Event()
        self._alarm: TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        #: Ticks this scheduler started and skipped (for logs and tests).
        self.started = 0
        self.skipped = 0

    async def __aenter__(self) -> Scheduler:
        self._task = asyncio.create_task(self._loop(), name="scheduler")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._alarm is not None:
            self._alarm.cancel()

    def wake(self) -> None:
        """Look at the schedules now (one was set or changed)."""
        self._wakeup.set()

    async def fire_due(self) -> int:
        """Fire what is due now; how many schedules fired."""
        fired = 0
        while True:
            count = await self.store.fire_schedules(self.clock.now(), _BATCH, self._fire)
            fired += count
            if count < _BATCH:
                break
        if fired:
            self.on_started()
        return fired

    async def _loop(self) -> None:
        while True:
            self._wakeup.clear()
            fired = 0
            try:
                fired = await self.fire_due()
                due = await self.store.next_schedule()
            except DirigentError as error:
                logger.warning("schedules: %s", error.message)
                due = None
            if fired and due is not None and due <= self.clock.now():
                continue  # a late tick made the next one due already: catch up at once
            if due is not None:
                if self._alarm is not None:
                    self._alarm.cancel()
                self._alarm = self.clock.call_at(due, self._wakeup.set)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wakeup.wait()

    def _fire(self, schedule: Schedule, busy: bool) -> ScheduleFiring:
        """One due schedule (inside the store's transaction): the tick's instance, unless it is
        skipped, and the next tick."""
        now = self.clock.now()
        ticks = Ticks(schedule.cron, schedule.zone)
        missed = now - schedule.next_run > MISSED_AFTER
        if missed:  # no server ran when it was due: the latest tick stands for all that passed
            tick, next_run = ticks.latest(now), ticks.after(now)
        else:  # on time, or a little late (a busy server): this tick, and the next catches up
            tick, next_run = schedule.next_run, ticks.after(schedule.next_run)
        if busy or (missed and self.missed is Missed.SKIP):
            self.skipped += 1
            reason = "its workflow is singular and busy" if busy else "missed"
            logger.info("schedule %s/%s: tick %s skipped: %s", *_names(schedule), tick, reason)
            return ScheduleFiring(None, next_run)
        instance = new_instance(
            schedule.namespace,
            schedule.workflow,
            schedule.revision,
            {},
            now,
            invoked_by=INVOKED_BY_SCHEDULE,
            instance_id=tick_id(schedule.namespace, schedule.workflow, tick),
        )
        self.started += 1
        return ScheduleFiring(to_create(instance), next_run)


def _names(schedule: Schedule) -> tuple[str, str]:
    return schedule.namespace, schedule.workflow


def missed_policy(value: str) -> Missed:
    """The `schedule_missed` setting; InvalidInput for anything but run_once or skip."""
    try:
        return Missed(value)
    except ValueError:
        raise InvalidInput(
            f"schedule_missed: '{value}' is not a policy (use run_once or skip)"
        ) from None
