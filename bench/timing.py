"""Timing helpers shared by the benchmarks (`python -m bench`, and the scripts run from this folder)."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def measure(call: Callable[[], object], runs: int, *, unit: float = 1e3) -> tuple[float, float]:
    """p50 and p99 of `runs` timed calls after a warm-up, in `unit` nanoseconds (1e3: µs, 1e6: ms)."""
    for _ in range(max(1, min(runs // 10, 1000))):
        call()
    samples: list[float] = []
    gc.disable()
    try:
        for _ in range(runs):
            start = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - start) / unit)
    finally:
        gc.enable()
    return p50_p99(samples)


def p50_p99(samples: list[float]) -> tuple[float, float]:
    """The 50th and 99th percentiles of `samples` (one sample: that sample twice)."""
    if not samples:
        raise ValueError("no samples: nothing was measured")
    if len(samples) == 1:
        return samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98]
