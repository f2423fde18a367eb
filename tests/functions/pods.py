"""Workflows on the embedded engine with the process runtime: functions of tests/fixtures as pods."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from dirigent.engine import Instance
from dirigent.functions.pods.netns import NamespaceUnavailable, NetworkNamespace
from dirigent.functions.pods.pod import Pod
from dirigent.functions.pods.pool import PodPool, PoolSettings
from dirigent.functions.runtimes import FunctionSettings
from dirigent.operations.local import LOCAL_NAMESPACE, LocalEngine, open_local_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from tests.fixtures.functions.runner import FUNCTIONS_DIR


def _namespaces_work() -> str | None:
    try:
        NetworkNamespace.create().close()
    except NamespaceUnavailable as error:
        return error.message
    return None


_MISSING = _namespaces_work()
if _MISSING and os.environ.get("CI") == "true":
    raise RuntimeError(f"the process runtime cannot run under CI: {_MISSING}")

#: Marks tests that need per-pod network namespaces (root); they skip elsewhere, saying why.
needs_namespaces = pytest.mark.skipif(
    _MISSING is not None, reason=f"process runtime unavailable: {_MISSING}"
)


def command(name: str, *args: str) -> str:
    """The command line that runs test function `name` (it listens on 8080, as images do)."""
    return shlex.join([sys.executable, "-u", str(FUNCTIONS_DIR / f"{name}.py"), *args])


class PodEngine:
    def __init__(self, engine: LocalEngine[Any]) -> None:
        self.engine = engine
        self.store = engine.store
        pool = engine.runtime.functions.pods
        assert pool is not None
        self.pool: PodPool = pool

    async def run(self, workflow: str, data: object = None) -> Instance:
        return await self.engine.run(workflow, {} if data is None else data)  # type: ignore[arg-type]

    async def start(self, workflow: str, data: object = None) -> Instance:
        return await self.engine.runtime.start(LOCAL_NAMESPACE, workflow, data or {})  # type: ignore[arg-type]

    def pods(self, workflow: str, function: str) -> list[Pod]:
        prefix = f"{LOCAL_NAMESPACE}/{workflow}/{function}|"
        return [
            pod
            for service in self.pool.services()
            if service.startswith(prefix)
            for pod in self.pool.pods(service)
        ]

    def log(self, instance_id: str) -> list[tuple[str, str | None]]:
        return [(e.message, e.state) for e in self.store.logs(instance_id)]


@asynccontextmanager
async def open_pod_engine(
    *workflows: str,
    functions: dict[str, str],
    max_function_seconds: float = 900.0,
    **pool: Any,
) -> AsyncIterator[PodEngine]:
    files = WorkflowFiles(LOCAL_NAMESPACE)
    for text in workflows:
        files.add(load_workflow(text))
    settings = FunctionSettings(
        functions=functions,
        sidecar_port=0,
        cancel_grace=1.0,
        max_function_seconds=max_function_seconds,
        pool=PoolSettings(**pool),
    )
    async with open_local_engine(workflows=files, functions=settings) as engine:
        yield PodEngine(engine)
