"""The server's parts put together: store, vault, runtime, metrics, and the function runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from dirigent.engine import Limits
from dirigent.functions.runtimes import open_functions
from dirigent.operations.config import ServerConfig
from dirigent.operations.events import EventIntake, keeping_events
from dirigent.operations.metrics import Metrics
from dirigent.operations.runtime import Runtime
from dirigent.operations.schedules import Scheduler, missed_policy, time_zone
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
    events: EventIntake
    scheduler: Scheduler | None = None

    @property
    def metrics(self) -> Metrics:
        """What this process has seen (`GET /metrics`, per-state workflow metrics): the runtime's."""
        return self.runtime.metrics


@asynccontextmanager
async def open_server(config: ServerConfig) -> AsyncIterator[Server]:
    """Open the store (migrating it), start the function runtime and the engine; stop them all at
    the end (pods included)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(config.database_url)
    try:
        vault = Vault(store, load_key(config.secret_key, config.data_dir))
        workflows = StoreWorkflows(store)
        metrics = Metrics()
        events = EventIntake(store, metrics=metrics)
        time_zone(config.schedule_time_zone)  # a bad setting stops the server before it starts
        missed = missed_policy(config.schedule_missed)
        async with open_functions(store, config.function_settings(), registries=vault) as host:
            runtime = Runtime(
                store=store,
                workflows=workflows,
                functions=host.functions,
                secrets=vault,
                events=events,
                lease=timedelta(seconds=config.lease_seconds),
                metrics=metrics,
                limits=Limits(max_function_time=timedelta(seconds=config.max_function_seconds)),
            )
            await runtime.open()
            try:
                async with (
                    Scheduler(
                        store, runtime.clock, missed=missed, on_started=runtime.notify
                    ) as scheduler,
                    keeping_events(store, runtime.clock, config.event_retention_seconds),
                ):
                    yield Server(config, store, vault, workflows, runtime, events, scheduler)
            finally:
                # SIGTERM: calls in flight may finish within the grace; the rest stays resumable.
                await runtime.drain(config.drain_seconds)
    finally:
        await store.aclose()
