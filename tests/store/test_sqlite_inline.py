"""SQLite on the event loop: writes and point reads run on the loop's thread when they cannot wait,
in threads when they could (another connection holds the lock); checkpoints run in the writer thread
and keep the WAL from growing.

Each test traces the writer's connection, noting for each statement whether it ran on the loop's
thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection, insert, select

from dirigent.store import Commit
from dirigent.store import schema as t
from dirigent.store.driver import AnyRow, Statement, first
from dirigent.store.records import LogEntry, Namespace, Variable, VariableRef
from dirigent.store.sql import BULKY_BYTES, BULKY_LOGS
from dirigent.store.sqlite import CHECKPOINT_PAGES, FIRST_CHECKPOINT_AFTER
from tests.store.sqlite_tracing import Traced, traced_store
from tests.store.support import T0, instance, started

T = TypeVar("T")

#: How long a test waits for the writer thread at most (it never waits this long when it passes).
PATIENCE = 5
CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[Traced]:
    async with traced_store(tmp_path) as store:
        yield store


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


async def test_bulky_writes_run_in_the_writer_thread(traced: Traced) -> None:
    store = traced.store
    await store.create_namespace("ns", T0)
    ref = VariableRef("namespace", "v", "ns")
    await started(store, "i1", namespace="ns", workflow="wf")
    many_logs = tuple(LogEntry("i1", T0, f"line {n}") for n in range(BULKY_LOGS + 1))
    writes = [
        (store.set_variable(ref, Variable(b"x" * BULKY_BYTES, "text/plain")), True),
        (store.set_variable(ref, Variable(b"x" * (BULKY_BYTES + 1), "text/plain")), False),
        (store.commit(Commit(instance("i1", namespace="ns"), logs=many_logs[:1]), "s1"), True),
        (store.commit(Commit(instance("i1", namespace="ns"), logs=many_logs), "s1"), False),
        (store.delete_events(T0), False),
        (store.delete_namespace("ns"), False),
    ]
    for write, on_loop in writes:
        traced.statements.clear()
        await write
        assert traced.runs("BEGIN IMMEDIATE") == [on_loop]


async def test_checkpoints_keep_the_wal_from_growing(traced: Traced) -> None:
    store = traced.store
    ref = VariableRef("namespace", "v", "ns")

    async def writes(count: int) -> None:
        for n in range(count):
            await store.set_variable(ref, Variable(b"%05d" % n, "text/plain"))

    # Counting the fixture's transaction, the first checkpoint follows the transaction that makes
    # `FIRST_CHECKPOINT_AFTER`, in the writer thread; the next write waits for it.
    await store.create_namespace("ns", T0)
    await writes(FIRST_CHECKPOINT_AFTER - 3)  # one transaction short: no checkpoint is due yet
    assert traced.runs(CHECKPOINT) == []
    await writes(2)  # the first makes it due; the second waits for it
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
    point: Noted[AnyRow | None] = Noted(by_name, {}, first, small=True, loop_thread=loop_thread)
    listing: Noted[list[AnyRow]] = Noted(
        select(t.namespaces.c.name), {}, list, loop_thread=loop_thread
    )
    for _ in range(3):
        row = await traced.db.read(point)
        assert row is not None
        assert row.name == "a"
        assert names(await traced.db.read(listing)) == ["a"]
    # The first opened the point reads' connection, in a reader thread; listings stay there.
    assert point.on_loop == [False, True, True]
    # A point read not marked small (such as a variable's value, which may be large) stays in a thread.
    large: Noted[AnyRow | None] = Noted(by_name, {}, first, loop_thread=loop_thread)
    assert await traced.db.read(large) is not None
    assert large.on_loop == [False]
    assert listing.on_loop == [False, False, False]

    # A read by key waits for no lock in WAL mode but, rarely, a recovery of the WAL, which a test
    # cannot stage: a statement that takes the write lock stands in for it.
    takes_lock = insert(t.namespaces).values(name="b", created_at=T0).returning(t.namespaces.c.name)
    waits: Noted[AnyRow | None] = Noted(takes_lock, {}, first, small=True, loop_thread=loop_thread)
    with traced.lock_held():
        read = asyncio.create_task(traced.db.read(waits))
        await asyncio.sleep(0)  # tried on the loop: SQLite answered busy at once
        assert waits.on_loop[0] is True
    async with asyncio.timeout(PATIENCE):
        row = await read
    assert row is not None
    assert row.name == "b"
    assert waits.on_loop == [True, False]
