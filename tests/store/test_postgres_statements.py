"""PostgreSQL's statements on asyncpg directly (a step's commit, a new instance, the point reads):
the same errors as through SQLAlchemy, and connections that are lost, cancelled, idle or closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from dirigent.errors import InvalidInput, StoreUnavailable
from dirigent.store import Commit, postgres
from dirigent.store.records import InboxItem, VariableRef
from dirigent.store.sql import SqlStore
from tests.store.support import instance, item, started


@pytest.fixture
async def store(postgres_store_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(postgres_store_url)
    try:
        yield opened
    finally:
        await opened.aclose()


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        database=parsed.database, timeout=5,
    )  # fmt: skip


@asynccontextmanager
async def _row_locked(url: str, instance_id: str) -> AsyncIterator[asyncpg.Connection]:
    """Another connection holding the row of `instance_id` locked until the end (its transaction
    ends with the connection)."""
    connection = await _connect(url)
    try:
        await connection.execute("BEGIN")
        await connection.execute("SELECT FROM instances WHERE id = $1 FOR UPDATE", instance_id)
        yield connection
    finally:
        await connection.close()


async def _lock_waiter(connection: asyncpg.Connection, *, gone: bool = False) -> int | None:
    """The process id of the server's backend whose statement waits for a lock, once there is one
    (with `gone`: None, once there is none)."""
    for _ in range(500):
        pid: int | None = await connection.fetchval(
            "SELECT pid FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if (pid is None) is gone:
            return pid
        await asyncio.sleep(0.01)
    raise AssertionError("the statement waiting for the lock did not come or go")


async def test_a_step_whose_connection_is_lost_while_it_runs_may_have_committed(
    store: SqlStore, postgres_store_url: str
) -> None:
    await started(store, "i1")
    async with _row_locked(postgres_store_url, "i1") as other:
        commit = asyncio.create_task(store.commit(Commit(instance("i1", record=b"lost")), "s1"))
        await other.execute("SELECT pg_terminate_backend($1)", await _lock_waiter(other))
        with pytest.raises(StoreUnavailable, match="terminating connection") as failed:
            await commit
    assert failed.value.may_have_committed is True
    loaded = await store.load_instance("i1")  # on a new connection
    assert loaded is not None
    assert loaded.record == b"{}"  # it had not got the row yet
    await store.commit(Commit(instance("i1", record=b"again")), "s1")
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"again"


async def test_a_cancelled_step_is_cancelled_on_the_server_and_its_connection_serves_on(
    store: SqlStore, postgres_store_url: str
) -> None:
    await started(store, "i1")
    async with _row_locked(postgres_store_url, "i1") as other:
        commit = asyncio.create_task(store.commit(Commit(instance("i1", record=b"never")), "s1"))
        await _lock_waiter(other)
        commit.cancel()
        with pytest.raises(asyncio.CancelledError):
            await commit
        await _lock_waiter(other, gone=True)  # asyncpg cancelled the statement
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"{}"
    await store.commit(Commit(instance("i1", record=b"after")), "s1")
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"after"


async def test_a_naive_time_in_a_new_instance_is_refused_and_nothing_written(
    store: SqlStore,
) -> None:
    naive = InboxItem("i1", "start", b"{}", datetime(2025, 3, 1, 12, 0))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        await store.create_instance(instance("i1"), (item("i1", "a"), naive))
    assert await store.load_instance("i1") is None


async def test_statements_on_an_unreachable_server_are_unavailable_and_not_committed() -> None:
    store = SqlStore(postgres.PostgresDialect().open("postgresql://nobody@127.0.0.1:1/nothing"))
    try:
        with pytest.raises(StoreUnavailable) as refused:
            await store.create_instance(instance("i1"), (item("i1", "start"),))
        assert refused.value.may_have_committed is False
        with pytest.raises(StoreUnavailable):
            await store.load_instance("i1")
        with pytest.raises(StoreUnavailable):
            await store.get_workflow("ns", "wf")
        with pytest.raises(StoreUnavailable):
            await store.get_variable(VariableRef("namespace", "k", "ns"))
    finally:
        await store.aclose()


# Pretending sockets are open makes asyncpg take the connections collected meanwhile for unclosed.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_statement_connections_idle_for_long_are_pinged_before_use(
    store: SqlStore, postgres_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await started(store, "i1")
    await asyncio.gather(*(store.load_instance("i1") for _ in range(3)))  # a few connections
    monkeypatch.setattr(postgres, "PING_AFTER_IDLE", 0.0)
    # Connections whose end went unnoticed (no FIN arrived): only the ping finds them dead.
    monkeypatch.setattr(asyncpg.Connection, "is_closed", lambda self: False)
    other = await _connect(postgres_store_url)
    try:
        await other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await other.close()
    await asyncio.sleep(0.2)
    loaded = await store.load_instance("i1")
    assert loaded is not None
    await store.commit(Commit(instance("i1", record=b"after")), "s1")
    monkeypatch.undo()
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"after"


async def test_a_closed_postgres_store_opens_its_statement_connections_again(
    store: SqlStore,
) -> None:
    await started(store, "i1")
    await store.aclose()
    await store.commit(Commit(instance("i1", record=b"reopened")), "s1")
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"reopened"
