"""Fixtures: the in-memory store, a sidecar, a caller, and the test functions as processes.

The sidecar takes port 8889 as real images expect; when that port is busy (parallel runs) it
takes any free port, and the functions that use it learn it from `DIRIGENT_SIDECAR_PORT`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from dirigent.errors import Unavailable
from dirigent.functions import FunctionCaller, Sidecar, open_sidecar
from dirigent.store.memory import MemoryStore
from tests.fixtures.functions.runner import RunningFunction, start_function

#: Short enough to keep tests fast, long enough for a loaded machine.
CANCEL_GRACE = 0.5
LOG_GRACE = 3.0


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def sidecar(store: MemoryStore) -> AsyncIterator[Sidecar]:
    async with AsyncExitStack() as stack:
        try:
            opened = await stack.enter_async_context(open_sidecar(store))
        except Unavailable:
            opened = await stack.enter_async_context(open_sidecar(store, port=0))
        yield opened


@pytest.fixture
def temp_root(tmp_path: Path) -> Path:
    return tmp_path / "calls"


@pytest.fixture
async def caller(
    store: MemoryStore, sidecar: Sidecar, temp_root: Path
) -> AsyncIterator[FunctionCaller]:
    caller = FunctionCaller(
        store,
        sidecar=sidecar,
        temp_root=temp_root,
        cancel_grace=CANCEL_GRACE,
        log_grace=LOG_GRACE,
    )
    yield caller
    await caller.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for talking to functions and the sidecar directly."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sidecar_env(sidecar: Sidecar) -> dict[str, str]:
    """The environment telling a function where the sidecar is."""
    return {"DIRIGENT_SIDECAR_PORT": str(sidecar.port)}


@pytest.fixture
async def echo() -> AsyncIterator[RunningFunction]:
    async with start_function("echo") as function:
        yield function


@pytest.fixture
async def greeter() -> AsyncIterator[RunningFunction]:
    async with start_function("greeter") as function:
        yield function


@pytest.fixture
async def fail() -> AsyncIterator[RunningFunction]:
    async with start_function("fail") as function:
        yield function


@pytest.fixture
async def slow() -> AsyncIterator[RunningFunction]:
    async with start_function("slow") as function:
        yield function


@pytest.fixture
async def logger(sidecar_env: dict[str, str]) -> AsyncIterator[RunningFunction]:
    async with start_function("logger", **sidecar_env) as function:
        yield function


@pytest.fixture
async def vars_function(sidecar_env: dict[str, str]) -> AsyncIterator[RunningFunction]:
    async with start_function("vars", **sidecar_env) as function:
        yield function
