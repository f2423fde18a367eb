"""Tools for testing workflows: a fake clock to drive timers, and the in-memory store.

clock = FakeClock()
async with open_local_engine(workflows=files, clock=clock) as engine:
    instance = await engine.runtime.start("local", "my-flow", {})
    await clock.advance(timedelta(minutes=5))   # fires the delay state's timer
    final = await engine.runtime.wait(instance.id)
"""

from dirigent.store.memory import MemoryStore
from dirigent.testing.clock import FakeClock

__all__ = ["FakeClock", "MemoryStore"]
