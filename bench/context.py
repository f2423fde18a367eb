"""What every figure gets: the run's options, the database kind, the echo function, and helpers to
time instances of the embedded engine."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from bench.databases import Kind, fresh_database
from bench.processes import Echo
from dirigent.engine import Instance
from dirigent.operations.local import LOCAL_NAMESPACE, LocalEngine, open_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from dirigent.store import Store, open_store
from dirigent.types import JSON


class BenchError(RuntimeError):
    """A benchmark could not measure what it should (an instance failed, a process died...)."""


@dataclass(frozen=True)
class Context:
    quick: bool
    kind: Kind
    echo: Echo

    def scale(self, full: int, quick: int) -> int:
        """`full` normally, `quick` under `--quick`."""
        return quick if self.quick else full

    def database(self) -> AbstractAsyncContextManager[str]:
        """A fresh database of this run's kind (its URL)."""
        return fresh_database(self.kind)

    @property
    def services(self) -> dict[str, str]:
        return {"bench/echo": self.echo.url}


@asynccontextmanager
async def open_embedded(
    url: str, sources: Sequence[str], services: Mapping[str, str]
) -> AsyncIterator[LocalEngine[Store]]:
    """The embedded engine on the store at `url`, with the workflows of `sources` (YAML)."""
    files = WorkflowFiles(LOCAL_NAMESPACE)
    for source in sources:
        files.add(load_workflow(source))
    store = await open_store(url)
    try:
        async with open_engine(store, workflows=files, services=services, sidecar_port=0) as engine:
            yield engine
    finally:
        await store.aclose()


async def run_instance(engine: LocalEngine[Store], workflow: str, data: JSON) -> Instance:
    """One instance of `workflow` to its end; `BenchError` if it failed."""
    instance = await engine.run(workflow, data)
    if instance.error is not None:
        raise BenchError(f"{workflow} failed: {instance.error.code}: {instance.error.message}")
    return instance


async def time_instances(
    engine: LocalEngine[Store], workflow: str, runs: int, data: JSON
) -> list[float]:
    """Seconds each of `runs` instances of `workflow` took, one after the other."""
    took: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await run_instance(engine, workflow, data)
        took.append(time.perf_counter() - started)
    return took
