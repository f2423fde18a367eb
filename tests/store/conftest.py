"""One store suite, three stores: every test taking `store` runs on memory, SQLite and PostgreSQL.

PostgreSQL: the server at `DIRIGENT_TEST_POSTGRES` (default postgresql://postgres@127.0.0.1:5432/test)
hosts a fresh database `dirigent_test_<random>` for the session, dropped at its end; each test starts
from empty tables. Without a reachable server the PostgreSQL variants are skipped, unless CI=true,
where they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from dirigent.store import Store, open_store
from dirigent.store.migrations import migrate
from dirigent.store.schema import metadata

POSTGRES = os.environ.get("DIRIGENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("memory", "sqlite", "postgres")
SQL_BACKENDS = ("sqlite", "postgres")

T = TypeVar("T")

#: Opens another store on the same database (a second server); memory gives the same store.
OpenTwin = Callable[[], Awaitable[Store]]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end outside the test's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(sql: str) -> None:
    url = make_url(POSTGRES)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database, timeout=5,
    )  # fmt: skip
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"dirigent_test_{secrets.token_hex(4)}"
    try:
        _run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = (
            f"PostgreSQL not reachable at {POSTGRES} ({exc}); start it or point "
            "DIRIGENT_TEST_POSTGRES at a server to run the PostgreSQL variants"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        _run(migrate(url))
        yield url
    finally:
        _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty(url: str) -> None:
    engine = create_async_engine(make_url(url).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(delete(table))
    finally:
        await engine.dispose()


async def _url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/db/store.db"
    url: str = request.getfixturevalue("postgres_url")
    await _empty(url)
    return url


@pytest.fixture(params=BACKENDS)
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _url(request.param, request, tmp_path)


@pytest.fixture(params=SQL_BACKENDS)
async def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await _url(request.param, request, tmp_path)


@pytest.fixture
async def postgres_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The session's PostgreSQL database, emptied (for tests of PostgreSQL alone)."""
    return await _url("postgres", request, tmp_path)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
async def open_twin(store: Store, store_url: str) -> AsyncIterator[OpenTwin]:
    twins: list[Store] = []

    async def open_() -> Store:
        if store_url == "memory://":
            return store
        twin = await open_store(store_url)
        twins.append(twin)
        return twin

    try:
        yield open_
    finally:
        for twin in twins:
            await twin.aclose()
