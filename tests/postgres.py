"""Scratch PostgreSQL databases for tests: the machine's server, or `DIRIGENT_TEST_POSTGRES`.

Without a reachable server the tests that need one are skipped with a line saying how to enable them,
except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import asyncpg
import pytest
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("DIRIGENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    url = make_url(POSTGRES)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def admin(sql: str) -> None:
    """Run one statement on the server's admin database, outside any running event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(sql)).result()


@contextmanager
def scratch_database(prefix: str = "dirigent_test") -> Iterator[str]:
    """A new empty database, dropped afterwards; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        message = (
            f"PostgreSQL not reachable at {POSTGRES} ({exc}); start it or point "
            "DIRIGENT_TEST_POSTGRES at a server to run the PostgreSQL tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
