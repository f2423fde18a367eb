"""SQLite on the event loop: writes and point reads run on the loop's thread when they cannot wait,
in threads when they could (another connection holds the lock); checkpoints run in the writer thread
and keep the WAL from growing.

Each test traces the writer's connection, noting for each statement whether it ran on the loop's
thread.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection, insert, select

from dirigent.store import schema as t
from dirigent.store.database import Database
from dirigent.store.dialect import dialect_for
from dirigent.store.driver import AnyRow, Statement, first
from dirigent.store.migrations import migrate
from dirigent.store.records import Namespace, Variable, VariableRef
from dirigent.store.sql import SqlStore
from dirigent.store.sqlite import CHECKPOINT_PAGES, FIRST_CHECKPOINT_AFTER
from tests.store.support import T0, started

T = TypeVar("T")

#: How long a test waits for the writer thread at most (it never waits this long when it passes).
PATIENCE = 5
CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


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


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[Traced]:
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


@dataclass(frozen=True, slots=True)
class Noted(Statement[T]):
    """A statement read that notes whether it ran on the loop's thread."""

    loop_thread: int = 0
    on_loop: list[bool] = field(default_factory=list)

    def __call__(self, db: Connection) -> T:
        self.on_loop.append(threading.get_ident() == self.loop_thread)
        return Statement.__call__(self, db)


def names(rows: list[AnyRow]) -> list[str]:
    return [row.name for row in rows]


async def test_writes_run_on_the_loop_and_migrations_and_the_last_checkpoint_in_threads(
    traced: Traced,
) -> None:
    traced.statements.clear()
    assert await traced.store.create_namespace("a", T0) == Namespace("a", T0)
    assert traced.runs("BEGIN IMMEDIATE") == traced.runs("COMMIT") == [True]
    assert traced.threads() == {True}

    traced.statements.clear()
    await traced.db.transaction(lambda db: db.execute(select(t.namespaces)).all())
    assert traced.runs("BEGIN IMMEDIATE") == traced.runs("COMMIT") == [False]
    assert traced.threads() == {False}

    traced.statements.clear()
    await traced.store.aclose()  # checkpoints, in a thread
    assert traced.statements == [(CHECKPOINT, False)]


async def test_a_write_waits_for_a_lock_held_elsewhere_in_the_writer_thread_while_the_loop_goes_on(
    traced: Traced,
) -> None:
    store = traced.store
    await started(store, "i1")
    traced.statements.clear()
    traced.waiting.clear()
    with traced.lock_held():
        write = asyncio.create_task(store.create_namespace("a", T0))
        assert await asyncio.to_thread(traced.waiting.wait, PATIENCE)
        # Tried on the loop at once, then waiting in the writer thread; the loop serves other work
        # meanwhile.
        assert traced.runs("BEGIN IMMEDIATE") == [True, False]
        loaded = await store.load_instance("i1")
        assert loaded is not None
        assert loaded.id == "i1"
        assert not write.done()
    async with asyncio.timeout(PATIENCE):
        assert await write == Namespace("a", T0)
    assert traced.runs("COMMIT") == [False]

    traced.statements.clear()  # the lock is free: the next write runs on the loop again
    assert await store.create_namespace("b", T0) == Namespace("b", T0)
    assert traced.runs("COMMIT") == [True]
    assert traced.threads() == {True}
    assert [namespace.name for namespace in await store.list_namespaces()] == ["a", "b"]


async def test_checkpoints_keep_the_wal_from_growing(traced: Traced) -> None:
    store = traced.store
    ref = VariableRef("namespace", "v", "ns")

    async def writes(count: int) -> None:
        for n in range(count):
            await store.set_variable(ref, Variable(b"%05d" % n, "text/plain"))

    # Counting the fixture's transaction, the first checkpoint follows the transaction that makes
    # `FIRST_CHECKPOINT_AFTER`, in the writer thread; the next write waits for it.
    await store.create_namespace("ns", T0)
    await writes(FIRST_CHECKPOINT_AFTER - 2)
    assert traced.runs(CHECKPOINT) == []
    await writes(2)
    assert traced.runs(CHECKPOINT) == [False]
    # A page each (the same row): without checkpoints the WAL would hold four times as many.
    await writes(4 * CHECKPOINT_PAGES)
    assert set(traced.runs(CHECKPOINT)) == {False}
    assert traced.wal_pages() <= CHECKPOINT_PAGES
    last = Variable(b"%05d" % (4 * CHECKPOINT_PAGES - 1), "text/plain")
    assert await store.get_variable(ref) == last


async def test_point_reads_run_on_the_loop_and_go_to_a_thread_when_they_would_wait(
    traced: Traced,
) -> None:
    await traced.store.create_namespace("a", T0)
    loop_thread = threading.get_ident()
    by_name = select(t.namespaces.c.name).where(t.namespaces.c.name == "a")
    point: Noted[AnyRow | None] = Noted(by_name, {}, first, loop_thread)
    listing: Noted[list[AnyRow]] = Noted(select(t.namespaces.c.name), {}, list, loop_thread)
    for _ in range(3):
        row = await traced.db.read(point)
        assert row is not None
        assert row.name == "a"
        assert names(await traced.db.read(listing)) == ["a"]
    # The first opened the point reads' connection, in a reader thread; listings stay there.
    assert point.on_loop == [False, True, True]
    assert listing.on_loop == [False, False, False]

    # A read by key waits for no lock in WAL mode but, rarely, a recovery of the WAL, which a test
    # cannot stage: a statement that takes the write lock stands in for it.
    takes_lock = insert(t.namespaces).values(name="b", created_at=T0).returning(t.namespaces.c.name)
    waits: Noted[AnyRow | None] = Noted(takes_lock, {}, first, loop_thread)
    with traced.lock_held():
        read = asyncio.create_task(traced.db.read(waits))
        await asyncio.sleep(0)  # tried on the loop: SQLite answered busy at once
        assert waits.on_loop[0] is True
    async with asyncio.timeout(PATIENCE):
        row = await read
    assert row is not None
    assert row.name == "b"
    assert waits.on_loop == [True, False]
