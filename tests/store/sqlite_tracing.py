"""A SQLite store whose writer's connection is traced: which statements it ran, and on which thread."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from dirigent.store.database import Database
from dirigent.store.dialect import dialect_for
from dirigent.store.migrations import migrate
from dirigent.store.sql import SqlStore


@dataclass
class Traced:
    """A SQLite store, its database and file, and the statements its writer's connection ran, each
    with whether it ran on the loop's thread."""

    store: SqlStore
    db: Database
    path: Path
    statements: list[tuple[str, bool]]
    #: Set when the writer thread sends BEGIN IMMEDIATE (after it was tried on the loop).
    waiting: threading.Event

    def threads(self) -> set[bool]:
        """Whether the statements traced ran on the loop's thread (True), in another (False)."""
        return {on_loop for _, on_loop in self.statements}

    def runs(self, sql: str) -> list[bool]:
        """For each time `sql` ran, whether it ran on the loop's thread."""
        return [on_loop for traced, on_loop in self.statements if traced == sql]

    @contextmanager
    def lock_held(self) -> Iterator[None]:
        """Hold SQLite's write lock from another connection (as another process would)."""
        other = sqlite3.connect(self.path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    def wal_pages(self) -> int:
        """How many pages the WAL file has room for (it is reused from its start, not shrunk)."""
        with closing(sqlite3.connect(self.path)) as connection:
            (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        header, frame_header = 32, 24
        return (os.path.getsize(f"{self.path}-wal") - header) // (frame_header + page_size)


@asynccontextmanager
async def traced_store(tmp_path: Path) -> AsyncIterator[Traced]:
    """A new SQLite store in `tmp_path` whose writer's connection is traced."""
    url = f"sqlite:///{tmp_path}/store.db"
    await migrate(url)
    db = dialect_for(url).open(url)
    statements: list[tuple[str, bool]] = []
    waiting = threading.Event()
    loop_thread = threading.get_ident()

    def trace(sql: str) -> None:
        on_loop = threading.get_ident() == loop_thread
        statements.append((sql, on_loop))
        if sql == "BEGIN IMMEDIATE" and not on_loop:
            waiting.set()

    def trace_writer(connection: Connection) -> None:
        connection.connection.dbapi_connection.set_trace_callback(trace)

    await db.transaction(trace_writer)
    store = SqlStore(db)
    try:
        yield Traced(store, db, tmp_path / "store.db", statements, waiting)
    finally:
        await store.aclose()
