"""A clock that moves only when told, so tests of timers never sleep for real."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class _Handle:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Time starts at the real current time and moves only by `advance`.

    `advance` fires due callbacks in time order, setting `now()` to each one's time, and lets the event
    loop run between them so that the work they start gets going.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._queue: list[tuple[datetime, int, _Handle]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_at(self, when: datetime, callback: Callable[[], None]) -> _Handle:
        handle = _Handle(callback)
        heapq.heappush(self._queue, (when, next(self._order), handle))
        return handle

    @property
    def next_due(self) -> datetime | None:
        """When the earliest pending callback is due, if any."""
        for when, _, handle in sorted(self._queue):
            if not handle.cancelled:
                return when
        return None

    async def advance(self, delta: timedelta | float) -> None:
        """Move time forward by `delta` (seconds or a timedelta), firing what falls due."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        target = self._now + step
        await _settle()
        while self._queue and self._queue[0][0] <= target:
            when, _, handle = heapq.heappop(self._queue)
            if handle.cancelled:
                continue
            self._now = max(self._now, when)
            handle.callback()
            await _settle()
        self._now = target
        await _settle()


async def _settle(rounds: int = 20) -> None:
    # Several loop iterations: a fired timer wakes an actor, which commits and starts more work.
    for _ in range(rounds):
        await asyncio.sleep(0)
