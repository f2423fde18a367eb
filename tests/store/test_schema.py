"""The SQL stores: migrations match `schema.py`, timestamps, connection settings, opening, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, RootTransaction, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from dirigent.errors import Internal, InvalidInput, StoreUnavailable
from dirigent.store import MemoryStore, Store, open_store
from dirigent.store.migrations import migrate
from dirigent.store.records import LogEntry, Namespace
from dirigent.store.schema import metadata
from dirigent.store.sql import SqlStore
from tests.store.support import T0, at, instance, item


def _diff(target: MetaData) -> Any:
    def compare(connection: Connection) -> Any:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, target)

    return compare


@pytest.fixture
async def sql(sql_url: str) -> Any:
    opened = await SqlStore.open(sql_url)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_migrations_build_exactly_the_schema(sql: SqlStore) -> None:
    assert await sql._db.read(_diff(metadata)) == []
    # The comparison does see differences: a column more in the code is one.
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["inbox"].append_column(Column("extra_column", Integer()))
    diff = await sql._db.read(_diff(changed))
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "inbox", "extra_column")]


async def test_migrating_again_changes_nothing(sql_url: str) -> None:
    await migrate(sql_url)
    await migrate(sql_url)
    store = await open_store(sql_url)
    try:
        assert await store.list_namespaces() == []
    finally:
        await store.aclose()


async def test_times_come_back_as_aware_utc(sql: SqlStore) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=berlin)
    await sql.create_namespace("ns", local)
    found = await sql.get_namespace("ns")
    assert found == Namespace("ns", datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=UTC))
    assert found is not None
    assert found.created_at.tzinfo == UTC
    await sql.create_instance(instance("i1"), (item("i1", "start"),))
    # Comparisons happen in UTC too: due at 12:00 UTC is due at 13:00 +01:00.
    claims = await sql.claim("s1", T0.astimezone(timezone(timedelta(hours=1))), at(30), 10)
    assert claims[0].due[0].due_at == T0
    assert claims[0].due[0].due_at.tzinfo == UTC
    await sql.append_log(LogEntry("i1", local, "x"))
    assert (await sql.list_logs("i1"))[0].time.tzinfo == UTC


async def test_naive_times_are_refused(sql: SqlStore) -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        await sql.create_namespace("ns", datetime(2025, 1, 1))
    assert await sql.get_namespace("ns") is None


async def test_sqlite_settings(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite:///{tmp_path}/a/b/c.db")
    try:
        assert (tmp_path / "a" / "b" / "c.db").exists()

        def pragmas(connection: Connection) -> dict[str, Any]:
            return {
                name: connection.execute(text(f"PRAGMA {name}")).scalar()
                for name in (
                    "journal_mode",
                    "synchronous",
                    "foreign_keys",
                    "busy_timeout",
                    "wal_autocheckpoint",
                )
            }

        expected = {
            "journal_mode": "wal",
            "synchronous": 1,
            "foreign_keys": 1,
            "busy_timeout": 10000,
            "wal_autocheckpoint": 1000,
        }
        assert await store._db.read(pragmas) == expected
        # The writer's connection never waits for the lock (only its BEGIN in the writer thread
        # does) nor checkpoints in a COMMIT: it runs on the event loop.
        writer = {**expected, "busy_timeout": 0, "wal_autocheckpoint": 0}
        assert await store._db.transaction(pragmas) == writer
    finally:
        await store.aclose()


async def test_open_store_by_url(tmp_path: Path) -> None:
    assert isinstance(await open_store("memory://"), MemoryStore)
    for url in ("mysql://x/y", "sqlite://", "sqlite:///:memory:", "nonsense"):
        with pytest.raises(InvalidInput):
            await open_store(url)


async def test_an_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        await open_store("postgresql://nobody@127.0.0.1:1/nothing")
    assert refused.value.may_have_committed is False
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable) as not_a_file:
        await open_store(f"sqlite:///{tmp_path}/dir.db")
    assert not_a_file.value.may_have_committed is False


async def test_a_failure_while_committing_may_have_committed(
    sql: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_commit(self: RootTransaction) -> None:
        raise OperationalError(
            "COMMIT", {}, ConnectionResetError("connection lost"), connection_invalidated=True
        )

    monkeypatch.setattr(RootTransaction, "commit", broken_commit)
    with pytest.raises(StoreUnavailable) as lost:
        await sql.create_namespace("ns", T0)
    assert lost.value.may_have_committed is True


async def test_a_failure_before_committing_did_not_commit(
    sql: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sql.create_namespace("ns", T0)

    def broken_execute(self: Any, *args: Any, **kwargs: Any) -> None:
        raise OperationalError(
            "UPDATE", {}, ConnectionResetError("connection lost"), connection_invalidated=True
        )

    monkeypatch.setattr(Connection, "execute", broken_execute)
    with pytest.raises(StoreUnavailable) as lost:
        await sql.delete_namespace("ns")
    assert lost.value.may_have_committed is False
    monkeypatch.undo()
    assert await sql.get_namespace("ns") == Namespace("ns", T0)


async def test_other_driver_errors_are_internal(
    sql: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_execute(self: Any, *args: Any, **kwargs: Any) -> None:
        raise ProgrammingError("SELECT", {}, ValueError("no such table"))

    monkeypatch.setattr(Connection, "execute", broken_execute)
    with pytest.raises(Internal, match="no such table"):
        await sql.list_sealed("secret", "ns")


async def test_stores_share_one_database(sql_url: str) -> None:
    first: Store = await open_store(sql_url)
    second: Store = await open_store(sql_url)
    try:
        await first.create_namespace("ns", T0)
        assert await second.get_namespace("ns") == Namespace("ns", T0)
    finally:
        await first.aclose()
        await second.aclose()
