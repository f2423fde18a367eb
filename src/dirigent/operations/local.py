"""The embedded engine: one process, a store (in memory by default), functions reached at URLs.

`dirigent run`, `dirigent.testing` and the benchmarks use it; the server composes the same runtime with
its API in `operations/server.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from dirigent.engine import Instance, Limits
from dirigent.functions import FunctionCaller, open_sidecar
from dirigent.operations.clock import Clock
from dirigent.operations.runtime import Runtime
from dirigent.operations.sources import EventLog, SecretMap, ServiceMap, WorkflowFiles
from dirigent.store.base import Store
from dirigent.store.memory import MemoryStore
from dirigent.types import JSON

#: The namespace of workflows run by the embedded engine.
LOCAL_NAMESPACE = "local"

S = TypeVar("S", bound=Store)


@dataclass
class LocalEngine(Generic[S]):
    runtime: Runtime
    store: S
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
) -> AsyncIterator[LocalEngine[MemoryStore]]:
    """An embedded engine on an in-memory store, with its sidecar; all stops when the block ends."""
    async with open_engine(
        store or MemoryStore(),
        workflows=workflows,
        services=services,
        secrets=secrets,
        clock=clock,
        limits=limits,
        sidecar_port=sidecar_port,
        cancel_grace=cancel_grace,
    ) as engine:
        yield engine


@asynccontextmanager
async def open_engine(
    store: S,
    *,
    workflows: WorkflowFiles | None = None,
    services: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    limits: Limits = Limits(),  # noqa: B008 - immutable
    sidecar_port: int = 8889,
    cancel_grace: float = 10.0,
) -> AsyncIterator[LocalEngine[S]]:
    """An embedded engine on any store (the caller opens and closes it)."""
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
