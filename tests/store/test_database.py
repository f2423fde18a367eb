"""How the SQL stores reach their database: each call in one hop (SQLite: threads of its own; PostgreSQL:
single statements in autocommit), cancellation, connections the server closed, failures in a step."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dirigent.errors import InvalidInput, StoreUnavailable
from dirigent.store import Commit, postgres
from dirigent.store.records import InboxItem, LogEntry, Namespace
from dirigent.store.sql import SqlStore
from dirigent.store.steps import StatementWriter
from tests.store.conftest import POSTGRES
from tests.store.support import T0, at, instance, started


@pytest.fixture
async def sql(sql_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(sql_url)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_a_naive_time_in_a_commit_is_refused_and_nothing_written(sql: SqlStore) -> None:
    await started(sql, "i1")
    naive = InboxItem("i1", "timer", b"{}", datetime(2025, 3, 1, 12, 0))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        await sql.commit(
            Commit(
                instance("i1", record=b"changed"),
                removed=("start",),
                inbox=(naive,),
                logs=(LogEntry("i1", at(1), "never"),),
            ),
            "s1",
        )
    loaded = await sql.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"{}"
    assert await sql.list_logs("i1") == []
    assert await sql.next_due("s1", at(0)) == at(0)  # `start` is still there


async def test_a_failing_step_may_have_committed_where_it_is_one_statement(
    sql: SqlStore, sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await started(sql, "i1")

    def lost(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError(
            "step", {}, ConnectionResetError("connection lost"), connection_invalidated=True
        )

    async def reset(*args: Any, **kwargs: Any) -> list[Any]:
        raise ConnectionResetError("connection lost")

    monkeypatch.setattr(StatementWriter, "step", lost)
    monkeypatch.setattr(asyncpg.Connection, "fetch", reset)  # PostgreSQL: the step's statement
    with pytest.raises(StoreUnavailable) as failed:
        await sql.commit(Commit(instance("i1")), "s1")
    # SQLite fails before COMMIT; PostgreSQL runs the step as one statement in autocommit, so the
    # connection was lost while committing.
    assert failed.value.may_have_committed is sql_url.startswith("postgresql")


# SQLite: threads


async def test_sqlite_reads_run_beside_a_writer_and_a_cancelled_write_is_rolled_back(
    tmp_path: Path,
) -> None:
    store = await SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    await store.create_namespace("before", T0)
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        write = asyncio.create_task(store.create_namespace("ns", T0))
        # Reads do not wait for the lock (WAL; readers have threads of their own).
        async with asyncio.timeout(2):
            assert await store.get_namespace("before") == Namespace("before", T0)
        await asyncio.sleep(0.1)  # the writer thread waits for the lock meanwhile
        assert not write.done()
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        other.execute("ROLLBACK")
        await store.create_namespace("after", T0)  # written after the cancelled write ran
        assert await store.get_namespace("ns") is None
        assert await store.get_namespace("after") == Namespace("after", T0)
    finally:
        other.close()
        await store.aclose()


async def test_a_closed_sqlite_store_opens_again_when_used(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite:///{tmp_path}/store.db")
    await store.aclose()
    await store.create_namespace("ns", T0)
    assert await store.get_namespace("ns") == Namespace("ns", T0)
    await store.aclose()


# PostgreSQL: connections


async def _terminate_connections(url: str) -> None:
    """End every connection to the database at `url` from the server's side (as a restart does)."""
    admin = make_url(POSTGRES)
    connection = await asyncpg.connect(
        host=admin.host, port=admin.port, user=admin.username, password=admin.password,
        database=admin.database, timeout=5,
    )  # fmt: skip
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            make_url(url).database,
        )
    finally:
        await connection.close()


async def test_connections_the_server_closed_are_replaced_before_use(
    postgres_store_url: str,
) -> None:
    store = await SqlStore.open(postgres_store_url)
    try:
        await store.create_namespace("ns", T0)
        await asyncio.gather(*(store.get_namespace("ns") for _ in range(5)))  # a few connections
        await _terminate_connections(postgres_store_url)
        await asyncio.sleep(0.2)  # the closed sockets are noticed
        assert await store.get_namespace("ns") == Namespace("ns", T0)
        await started(store, "i1")
        await store.commit(Commit(instance("i1", record=b"after")), "s1")
        loaded = await store.load_instance("i1")
        assert loaded is not None
        assert loaded.record == b"after"
    finally:
        await store.aclose()


# Pretending sockets are open makes asyncpg take the connections collected meanwhile for unclosed.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_connections_idle_for_long_are_pinged_before_use(
    postgres_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SqlStore.open(postgres_store_url)
    try:
        await store.create_namespace("ns", T0)
        monkeypatch.setattr(postgres, "PING_AFTER_IDLE", 0.0)
        # A connection whose end went unnoticed (no FIN arrived): only the ping finds it dead.
        monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda self: False)
        await _terminate_connections(postgres_store_url)
        await asyncio.sleep(0.2)
        assert await store.get_namespace("ns") == Namespace("ns", T0)
        await store.create_namespace("ns2", T0)
    finally:
        monkeypatch.undo()
        await store.aclose()
