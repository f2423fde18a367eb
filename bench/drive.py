"""Drive a call many times, some at once, and time each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.report import Measure, latencies


@dataclass(frozen=True)
class Driven:
    """Each call's time (µs) and the whole run's (s)."""

    took_us: list[float]
    wall: float

    def measure(self, less_us: float = 0.0) -> Measure:
        """Percentiles of the calls' times less `less_us` each, and calls per second."""
        return latencies(
            [t - less_us for t in self.took_us], per_second=len(self.took_us) / self.wall
        )


async def drive(call: Callable[[], Awaitable[object]], total: int, concurrency: int) -> Driven:
    """`call` `total` times, by `concurrency` workers at once."""
    took: list[float] = []
    remaining = iter(range(total))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            await call()
            took.append((time.perf_counter() - started) * 1e6)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Driven(took, time.perf_counter() - started)
