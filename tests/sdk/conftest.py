"""Fixtures: an in-memory store, a sidecar on a free port, the engine's caller, SDK functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from dirigent.functions import FunctionCaller, Sidecar, open_sidecar
from dirigent.store.memory import MemoryStore
from tests.sdk.support import Running, start

#: Short enough to keep tests fast, long enough for a loaded machine.
CANCEL_GRACE = 5.0
LOG_GRACE = 3.0


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def sidecar(store: MemoryStore) -> AsyncIterator[Sidecar]:
    async with open_sidecar(store, port=0) as opened:
        yield opened


@pytest.fixture
async def caller(
    store: MemoryStore, sidecar: Sidecar, tmp_path: Path
) -> AsyncIterator[FunctionCaller]:
    caller = FunctionCaller(
        store,
        sidecar=sidecar,
        temp_root=tmp_path / "calls",
        cancel_grace=CANCEL_GRACE,
        log_grace=LOG_GRACE,
    )
    yield caller
    await caller.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def kitchen(sidecar: Sidecar) -> AsyncIterator[Running]:
    async with start("kitchen", sidecar.port) as running:
        yield running


@pytest.fixture
async def akitchen(sidecar: Sidecar) -> AsyncIterator[Running]:
    async with start("akitchen", sidecar.port) as running:
        yield running


@pytest.fixture
async def greeter(sidecar: Sidecar) -> AsyncIterator[Running]:
    async with start("greeter", sidecar.port) as running:
        yield running
