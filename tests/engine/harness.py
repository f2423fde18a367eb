"""Run workflows given as YAML text on the embedded engine, with a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

from dirigent.engine import Instance, Limits
from dirigent.operations.local import LOCAL_NAMESPACE, LocalEngine, open_local_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from dirigent.store.memory import MemoryStore
from dirigent.testing import FakeClock
from dirigent.types import JSON


class Harness:
    def __init__(self, engine: LocalEngine, clock: FakeClock) -> None:
        self.engine = engine
        self.clock = clock
        self.runtime = engine.runtime
        self.store = engine.store

    async def start(self, workflow: str, raw_input: bytes | JSON = b"") -> Instance:
        return await self.runtime.start(LOCAL_NAMESPACE, workflow, raw_input)

    async def run(self, workflow: str, raw_input: bytes | JSON = b"") -> Instance:
        """Run to the end, moving the fake clock on whenever the instance waits for a timer."""
        instance = await self.start(workflow, raw_input)
        return await self.finish(instance.id)

    async def finish(self, instance_id: str, *, real_seconds: float = 20.0) -> Instance:
        """Wait for the end; whenever nothing runs but timers are set, jump to the next timer."""
        waiter = asyncio.ensure_future(self.runtime.wait(instance_id))
        loop = asyncio.get_running_loop()
        give_up = loop.time() + real_seconds
        while not waiter.done():
            if loop.time() > give_up:
                waiter.cancel()
                raise TimeoutError(f"instance {instance_id} did not end")
            await asyncio.wait({waiter}, timeout=0.01)
            due = self.clock.next_due
            if not waiter.done() and due is not None and self.runtime.idle:
                await self.clock.advance(max(timedelta(0), due - self.clock.now()))
        return waiter.result()

    def log(self, instance_id: str) -> list[str]:
        return [e.message for e in self.store.logs(instance_id)]


@asynccontextmanager
async def open_harness(
    *workflows: str,
    services: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    limits: Limits = Limits(),  # noqa: B008
    store: MemoryStore | None = None,
    cancel_grace: float = 2.0,
    clock: FakeClock | None = None,
    sidecar_port: int = 0,
) -> AsyncIterator[Harness]:
    files = WorkflowFiles(LOCAL_NAMESPACE)
    for text in workflows:
        files.add(load_workflow(text))
    clock = clock or FakeClock()
    async with open_local_engine(
        workflows=files,
        services=services,
        secrets=secrets,
        clock=clock,
        limits=limits,
        store=store,
        cancel_grace=cancel_grace,
        sidecar_port=sidecar_port,
    ) as engine:
        yield Harness(engine, clock)
