"""SQLite group commit: the writer thread runs the writes queued meanwhile in one transaction, each in a
savepoint of its own.

Each test holds SQLite's write lock from another connection while a first write waits for it in the
writer thread, queues writes behind it, then lets go: the first write commits alone and every write
queued meanwhile shares the next transaction (counted by tracing the writer's connection).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, insert

from dirigent.errors import Conflict, Internal, LeaseLost, NotFound
from dirigent.store import Commit
from dirigent.store import schema as t
from dirigent.store.database import Database
from dirigent.store.records import Namespace, Variable, VariableRef
from dirigent.store.sql import SqlStore
from dirigent.store.sqlite import BATCH
from tests.store.sqlite_tracing import Traced, traced_store
from tests.store.support import T0, instance, started, workflow

T = TypeVar("T")

#: How long a test waits for the writer thread at most (it never waits this long when it passes).
PATIENCE = 5


@dataclass
class Writer:
    """A traced SQLite store, and ways to make writes queue behind a first one."""

    traced: Traced

    @property
    def store(self) -> SqlStore:
        return self.traced.store

    @property
    def db(self) -> Database:
        return self.traced.db

    @asynccontextmanager
    async def lock_held(self) -> AsyncIterator[None]:
        """Hold SQLite's write lock from another connection while a first write waits for it in
        the writer thread: writes queued in the block wait too, and when the block ends they
        commit in the transactions after the first write's."""
        with self.traced.lock_held():
            self.traced.waiting.clear()  # every write before has ended
            first = asyncio.create_task(self.store.create_namespace("first", T0))
            assert await asyncio.to_thread(self.traced.waiting.wait, PATIENCE)
            self.traced.statements.clear()  # from the first write's transaction on
            yield
            await asyncio.sleep(0)  # the tasks started in the block queue (or abandon) their writes
        await first

    def batches(self) -> list[int]:
        """How many writes each transaction after the first write's ran."""
        sizes: list[int] = []
        for sql, _ in self.traced.statements:
            if sql == "BEGIN IMMEDIATE":
                sizes.append(0)
            elif sql == "SAVEPOINT write" and sizes:
                sizes[-1] += 1
        return sizes


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[Writer]:
    async with traced_store(tmp_path) as traced:
        yield Writer(traced)


def start(*writes: Coroutine[Any, Any, T]) -> list[asyncio.Task[T]]:
    return [asyncio.create_task(write) for write in writes]


async def outcomes(tasks: list[asyncio.Task[T]]) -> list[T | BaseException]:
    async with asyncio.timeout(PATIENCE):
        return await asyncio.gather(*tasks, return_exceptions=True)


async def namespaces(store: SqlStore) -> list[str]:
    return [namespace.name for namespace in await store.list_namespaces()]


async def test_writes_queued_meanwhile_commit_together_up_to_a_batch(writer: Writer) -> None:
    names = [f"ns{n:03}" for n in range(BATCH + 10)]
    async with writer.lock_held():
        tasks = start(*(writer.store.create_namespace(name, T0) for name in names))
    assert await outcomes(tasks) == [Namespace(name, T0) for name in names]
    assert await namespaces(writer.store) == ["first", *names]
    assert writer.batches() == [BATCH, 10]


async def test_a_failing_write_fails_alone_and_the_others_commit(writer: Writer) -> None:
    store = writer.store
    await started(store, "i1", owner="s1")
    async with writer.lock_held():
        tasks = start(
            store.create_namespace("a", T0),
            store.commit(Commit(instance("i1", record=b"stolen")), "s2"),
            store.create_instance(instance("i1"), ()),
            store.commit(Commit(instance("i1", record=b"mine")), "s1"),
            store.create_namespace("a", T0),
            store.create_namespace("b", T0),
        )
    a, stolen, again, mine, twice, b = await outcomes(tasks)
    assert (a, mine, b) == (Namespace("a", T0), None, Namespace("b", T0))
    assert isinstance(stolen, LeaseLost)
    assert str(stolen) == "'s2' does not hold the lease of instance 'i1'"
    assert isinstance(again, Conflict)
    assert str(again) == "instance 'i1' exists already"
    assert isinstance(twice, Conflict)
    assert str(twice) == "namespace 'a' exists already"
    assert await namespaces(store) == ["a", "b", "first"]
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"mine"
    assert writer.batches() == [6]


async def test_writes_run_in_the_order_they_were_queued(writer: Writer) -> None:
    store = writer.store
    ref = VariableRef("namespace", "v", "ns")
    async with writer.lock_held():
        tasks = start(
            store.create_namespace("ns", T0),
            store.create_workflow(workflow("ns", "wf")),
            store.update_workflow(
                "ns", "wf", source=b"v1", description="v1", now=T0, expected_revision=0
            ),
            store.set_variable(ref, Variable(b"1", "text/plain")),
            store.set_variable(ref, Variable(b"2", "text/plain")),
        )
    _, created, updated, *_ = await outcomes(tasks)
    assert created.revision == 0
    assert updated.revision == 1
    assert await store.get_variable(ref) == Variable(b"2", "text/plain")
    assert writer.batches() == [5]


async def test_a_write_cancelled_before_it_starts_never_runs(writer: Writer) -> None:
    store = writer.store
    async with writer.lock_held():
        a, cancelled, b = start(
            store.create_namespace("a", T0),
            store.create_namespace("cancelled", T0),
            store.create_namespace("b", T0),
        )
        await asyncio.sleep(0)  # its write is queued
        cancelled.cancel()
    assert await outcomes([a, b]) == [Namespace("a", T0), Namespace("b", T0)]
    assert cancelled.cancelled()
    assert await namespaces(store) == ["a", "b", "first"]
    assert writer.batches() == [2]


async def test_a_write_cancelled_while_it_runs_rolls_back_alone(writer: Writer) -> None:
    store = writer.store
    running, go_on = threading.Event(), threading.Event()

    def slow(connection: Connection) -> None:
        connection.execute(insert(t.namespaces).values(name="cancelled", created_at=T0))
        running.set()
        go_on.wait(PATIENCE)

    async with writer.lock_held():
        # `transaction` runs its batch in the writer thread, as a turn that waited for the lock
        # does: on the event loop nothing could cancel a write midway.
        a, cancelled, b = start(
            store.create_namespace("a", T0),
            writer.db.transaction(slow),
            store.create_namespace("b", T0),
        )
    assert await asyncio.to_thread(running.wait, PATIENCE)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    go_on.set()
    assert await outcomes([a, b]) == [Namespace("a", T0), Namespace("b", T0)]
    assert await namespaces(store) == ["a", "b", "first"]
    assert writer.batches() == [3]


async def test_a_failing_commit_fails_every_write_of_its_transaction(writer: Writer) -> None:
    def tables(connection: Connection) -> None:
        # Checked at COMMIT (deferred): a way to make COMMIT itself fail.
        connection.exec_driver_sql("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TEMP TABLE child (parent INTEGER REFERENCES parent (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )

    def orphan(connection: Connection) -> None:
        connection.exec_driver_sql("INSERT INTO child VALUES (1)")

    await writer.db.transaction(tables)  # on the writer's connection: TEMP tables are its own
    store = writer.store
    async with writer.lock_held():
        tasks = start(
            store.create_namespace("a", T0),
            writer.db.write(orphan, missing="no parent"),
            store.create_namespace("b", T0),
        )
    a, orphaned, b = await outcomes(tasks)
    # Each write words the failure as it asked.
    assert (type(a), str(a)) == (NotFound, "it does not exist")
    assert (type(orphaned), str(orphaned)) == (NotFound, "no parent")
    assert (type(b), str(b)) == (NotFound, "it does not exist")
    assert await namespaces(store) == ["first"]
    # The failed COMMIT left its transaction open; it was rolled back, so writes go on.
    await store.create_namespace("after", T0)
    assert await namespaces(store) == ["after", "first"]


async def test_a_write_that_ends_the_transaction_fails_its_batch(writer: Writer) -> None:
    def ends(connection: Connection) -> None:
        # As SQLite itself may on an I/O error: the whole transaction is rolled back.
        connection.connection.dbapi_connection.execute("ROLLBACK")
        connection.exec_driver_sql("SELECT * FROM missing")

    store = writer.store
    async with writer.lock_held():
        tasks = start(
            store.create_namespace("a", T0), writer.db.write(ends), store.create_namespace("b", T0)
        )
    # `a` had run, `b` had not: neither committed, and each gets the failure that ended them.
    for outcome in await outcomes(tasks):
        assert (type(outcome), str(outcome)) == (Internal, "sqlite failed: no such table: missing")
    assert await namespaces(store) == ["first"]
    await store.create_namespace("after", T0)
    assert await namespaces(store) == ["after", "first"]


async def test_closing_waits_for_the_queued_writes(writer: Writer) -> None:
    store = writer.store
    async with writer.lock_held():  # behind a write under way
        tasks = start(store.create_namespace("a", T0), store.aclose())
    assert await outcomes(tasks) == [Namespace("a", T0), None]
    # Queued in the same iteration of the loop: the writer's turn for it is not submitted yet.
    tasks = start(store.create_namespace("b", T0), store.aclose())
    assert await outcomes(tasks) == [Namespace("b", T0), None]
    assert await namespaces(store) == ["a", "b", "first"]  # a closed store opens again when used
