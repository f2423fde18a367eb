"""The server's parts put together: store, vault, runtime, metrics, and the function sidecar."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from dirigent.functions import FunctionCaller, open_sidecar
from dirigent.operations.config import ServerConfig
from dirigent.operations.metrics import Metrics
from dirigent.operations.runtime import Runtime
from dirigent.operations.sources import EventLog, ServiceMap
from dirigent.operations.vault import Vault, load_key
from dirigent.operations.workflows_source import StoreWorkflows
from dirigent.store import open_store
from dirigent.store.base import Store


@dataclass
class Server:
    """What operations need: every API route and CLI command works through one of these."""

    config: ServerConfig
    store: Store
    vault: Vault
    workflows: StoreWorkflows
    runtime: Runtime
    events: EventLog

    @property
    def metrics(self) -> Metrics:
        """What this process has seen (`GET /metrics`, per-state workflow metrics): the runtime's."""
        return self.runtime.metrics


@asynccontextmanager
async def open_server(config: ServerConfig) -> AsyncIterator[Server]:
    """Open the store (migrating it), start the sidecar and the runtime; stop them all at the end."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(config.database_url)
    try:
        vault = Vault(store, load_key(config.secret_key, config.data_dir))
        workflows = StoreWorkflows(store)
        events = EventLog()
        metrics = Metrics()
        async with open_sidecar(store, port=config.sidecar_port) as sidecar:
            caller = FunctionCaller(store, sidecar=sidecar)
            runtime = Runtime(
                store=store,
                workflows=workflows,
                caller=caller,
                resolver=ServiceMap(config.services),
                secrets=vault,
                events=events,
                lease=timedelta(seconds=config.lease_seconds),
                metrics=metrics,
            )
            await runtime.open()
            try:
                yield Server(config, store, vault, workflows, runtime, events)
            finally:
                # SIGTERM: calls in flight may finish within the grace; the rest stays resumable.
                await runtime.drain(config.drain_seconds)
                await caller.aclose()
    finally:
        await store.aclose()
