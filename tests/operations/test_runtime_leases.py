"""The runtime gives back the lease of an instance it claims with nothing to do."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson

from dirigent.engine import Status, TimerFired
from dirigent.engine.triggers import trigger_to_json
from dirigent.store import Commit
from dirigent.store.memory import MemoryStore
from dirigent.store.records import InboxItem
from dirigent.testing import FakeClock
from tests.engine.harness import Harness, open_harness

NAP = """
id: nap
states:
  - id: nap
    type: delay
    duration: PT5M
"""


async def wait_released(h: Harness) -> None:
    """Poll (bounded) until the runtime sleeps with no instance held in memory."""
    async with asyncio.timeout(5):
        while not (h.runtime.idle and h.runtime.metrics.gauges()[0] == 0):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_an_orphan_that_only_waits_for_time_is_not_held() -> None:
    store = MemoryStore()
    async with open_harness(NAP, store=store) as h:
        instance = await h.start("nap", {})
        await wait_released(h)
    # A server took the lease, consumed what was due and died without releasing it: the instance
    # waits only for its timer, with a lease that runs out.
    now = h.clock.now()
    wake = orjson.dumps(trigger_to_json(TimerFired("wake")))
    await store.add_inbox((InboxItem(instance.id, "wake", wake, now),))
    await store.claim("dead", now, now + timedelta(seconds=30), 10)
    stored = await store.load_instance(instance.id)
    assert stored is not None
    await store.commit(Commit(instance=stored, removed=("wake",)), "dead")

    later = FakeClock(now + timedelta(seconds=60))
    async with open_harness(NAP, store=store, clock=later) as h2:
        await wait_released(h2)  # claimed as an orphan, resumed, and let go
        await h2.clock.advance(300)
        final = await h2.finish(instance.id)
        assert final.status is Status.COMPLETE
