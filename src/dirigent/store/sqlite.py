"""SQLite specifics: one writer at a time, WAL journal, aware timestamps kept as UTC text.

Every write transaction starts with `BEGIN IMMEDIATE`, which takes SQLite's single write lock up front
(waiting up to `busy_timeout`), so a claim's select-then-update cannot interleave with another writer
and two claimers never get the same instance. Reads start a deferred `BEGIN`: in WAL mode they see a
snapshot and never block the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Executable, Select, Table, event
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from dirigent.errors import InvalidInput
from dirigent.store.dialect import Failure

#: Connection settings: WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints
#: only, which stays consistent after a crash of the process (only a power loss may lose the newest
#: commits); writers wait for the lock instead of failing at once; foreign keys are enforced.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


#: Execution option that marks read-only transactions, which start with a deferred BEGIN.
READ_ONLY = "dirigent_read_only"

_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


class SqliteDialect:
    name = "sqlite"
    read_only: dict[str, Any] = {READ_ONLY: True}  # noqa: RUF012 - never changed

    def create_engine(self, url: str) -> AsyncEngine:
        parsed = make_url(url)
        path = parsed.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            raise InvalidInput("SQLite needs a file: sqlite:///path/to/file.db (or use memory://)")
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed.set(drivername="sqlite+aiosqlite"))

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: object) -> None:
            # SQLAlchemy emits BEGIN itself (below), not the sqlite3 module's legacy mode.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Connection) -> None:
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Executable:
        stmt = insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        return query  # BEGIN IMMEDIATE holds the database's only write lock already

    def lock_migrations(self, connection: Connection) -> None:
        """BEGIN IMMEDIATE serialises migrations already."""

    def classify(self, error: BaseException) -> Failure | None:
        if isinstance(error, OSError):
            return Failure.UNAVAILABLE
        if not isinstance(error, sqlite3.Error):
            return None
        name = getattr(error, "sqlite_errorname", "")
        if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
            return Failure.UNIQUE
        if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return Failure.FOREIGN_KEY
        if name.startswith(_UNAVAILABLE):
            return Failure.UNAVAILABLE
        return None
