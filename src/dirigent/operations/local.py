"""The embedded engine: one process, a store (in memory by default), functions at URLs or in local pods.

`dirigent run`, `dirigent.testing` and the benchmarks use it; the server composes the same runtime with
its API in `operations/server.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Generic, TypeVar

from dirigent.engine import Instance, Limits
from dirigent.functions.runtimes import FunctionSettings, open_functions
from dirigent.operations.clock import Clock
from dirigent.operations.events import EventIntake
from dirigent.operations.runtime import Runtime
from dirigent.operations.sources import EventLog, SecretMap, WorkflowFiles
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
    functions: FunctionSettings | None = None,
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
        functions=functions,
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
    functions: FunctionSettings | None = None,
    secrets: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    limits: Limits = Limits(),  # noqa: B008 - immutable
    sidecar_port: int = 8889,
    cancel_grace: float = 10.0,
) -> AsyncIterator[LocalEngine[S]]:
    """An embedded engine on any store (the caller opens and closes it).

    Functions run as `functions` says; without it, at the URLs of `services` (a shortcut, with
    `sidecar_port` and `cancel_grace`, for tests and benchmarks whose functions run elsewhere).
    """
    workflows = workflows or WorkflowFiles(LOCAL_NAMESPACE)
    # Events reach waiting instances; nothing registers listeners, so none start a workflow here.
    intake = EventIntake(store, clock=clock)
    events = EventLog(intake)
    if await store.get_namespace(LOCAL_NAMESPACE) is None:
        await store.create_namespace(LOCAL_NAMESPACE, intake.clock.now())
    settings = functions or FunctionSettings(
        services=dict(services or {}), sidecar_port=sidecar_port, cancel_grace=cancel_grace
    )
    async with open_functions(store, settings) as host:
        engine_runtime = Runtime(
            store=store,
            workflows=workflows,
            functions=host.functions,
            secrets=SecretMap(secrets or {}),
            events=events,
            clock=clock,
            limits=replace(
                limits, max_function_time=timedelta(seconds=settings.max_function_seconds)
            ),
        )
        async with engine_runtime:
            yield LocalEngine(engine_runtime, store, workflows, events, host.sidecar.port)
