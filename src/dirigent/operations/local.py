"""The embedded engine: one process, an in-memory store, functions reached at URLs.

`dirigent run` and `dirigent.testing` use it; the server adds a durable store and runtimes later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from dirigent.engine import Instance, Limits
from dirigent.functions import FunctionCaller, open_sidecar
from dirigent.operations.clock import Clock
from dirigent.operations.runtime import Runtime
from dirigent.operations.sources import EventLog, SecretMap, ServiceMap, WorkflowFiles
from dirigent.store.memory import MemoryStore
from dirigent.types import JSON

#: The namespace of workflows run by the embedded engine.
LOCAL_NAMESPACE = "local"


@dataclass
class LocalEngine:
    runtime: Runtime
    store: MemoryStore
    workflows: WorkflowFiles
    events: EventLog
    sidecar_port: int

    async def run(
        self, workflow: str, raw_input: bytes | JSON = b"", *, instance_id: str | None = None
    ) -> Instance:
        """Start an instance of `workflow` and wait for its end."""
        instance = await self.runtime.start(
            LOCAL_NAMESPACE, workflow, raw_input, invoked_by="cli", instance_id=instance_id
        )
        return await self.runtime.wait(instance.id)


@asynccontextmanager
async def open_local_engine(
    *,
    workflows: WorkflowFiles | None = None,
    services: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    store: MemoryStore | None = None,
    clock: Clock | None = None,
    limits: Limits = Limits(),  # noqa: B008 - immutable
    sidecar_port: int = 8889,
    cancel_grace: float = 10.0,
) -> AsyncIterator[LocalEngine]:
    """An embedded engine with its sidecar; everything stops when the block ends."""
    store = store or MemoryStore()
    workflows = workflows or WorkflowFiles(LOCAL_NAMESPACE)
    events = EventLog()
    async with open_sidecar(store, port=sidecar_port) as sidecar:
        caller = FunctionCaller(store, sidecar=sidecar, cancel_grace=cancel_grace)
        runtime = Runtime(
            store=store,
            workflows=workflows,
            caller=caller,
            resolver=ServiceMap(services or {}),
            secrets=SecretMap(secrets or {}),
            events=events,
            clock=clock,
            limits=limits,
        )
        try:
            async with runtime:
                yield LocalEngine(runtime, store, workflows, events, sidecar.port)
        finally:
            await caller.aclose()
