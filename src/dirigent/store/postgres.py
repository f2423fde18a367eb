"""PostgreSQL specifics: asyncpg, `FOR UPDATE SKIP LOCKED` claims, advisory-locked migrations.

Transactions run at READ COMMITTED. A claim locks the rows it selects and skips rows that another
claimer has locked, so concurrent claimers share the work without waiting for each other; a row whose
lease another claimer has just taken is re-checked against the new lease and left out.

Every statement is a round trip, so the store spends few: a call runs whole in one greenlet
(`PostgresDatabase`); single statements (most reads, `append_log`, and a commit's whole step or a new
instance, each written in one statement by `postgres_writes.py`) run in autocommit, without BEGIN and COMMIT; a connection
taken from the pool is checked without a round trip unless it was idle (`_check`).

The statements of the hot path (a step's commit, a new instance, the point reads of an instance, a
workflow, a variable) come as `driver.Statement`s and skip SQLAlchemy's execution and the greenlet:
each runs on an asyncpg connection of a pool of its own, compiled once by SQLAlchemy, with its bind
and result processors, its errors wrapped as SQLAlchemy wraps them. That pool checks its connections
as `_check` does.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    UpdateBase,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util import greenlet_spawn

from dirigent.store.database import Database, Job, Work, transact
from dirigent.store.dialect import CoreStatement, Failure, Prepared, SingleStatements
from dirigent.store.driver import Compiled, Statement, compile_once
from dirigent.store.postgres_writes import PostgresWrites

T = TypeVar("T")

#: Key of the transaction-scoped advisory lock that serialises migrations ("dirigent" in ASCII).
MIGRATION_LOCK = 0x646972696765_6E74

#: Connection exceptions, bad credentials, missing database, insufficient resources, operator action.
_UNAVAILABLE_CLASSES = ("08", "28", "3D", "53", "57")
_TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock detected
#: Connections a store opens at most (on demand), and keeps once opened.
POOL_SIZE = 30
#: Of those, the connections of the `Statement`s: most of the traffic (every commit of a step).
STATEMENT_POOL_SIZE = 20
#: What asyncpg raises for a failed statement or connection (wrapped in a `DBAPIError` by `_send`).
_DRIVER_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class PostgresDialect:
    name = "postgresql"

    def open(self, url: str) -> Database:
        parsed = make_url(url).set(drivername="postgresql+asyncpg")
        # LIFO: the most recently used connection comes first, with its prepared statements and plans.
        # No overflow: an overflow connection is closed as soon as it is given back, so a burst
        # (16 or 64 instances stepping at once) kept opening and closing connections; up to
        # POOL_SIZE, with the statements' own (`_Connections`), are opened on demand and kept. A
        # plain Engine on the asyncpg dialect, run in greenlets (`_run`), is what
        # create_async_engine wraps; sqlalchemy.ext.asyncio would load the ORM too (about 6 MB of a
        # server's memory).
        engine = create_engine(
            parsed, pool_size=POOL_SIZE - STATEMENT_POOL_SIZE, max_overflow=0, pool_use_lifo=True
        )
        return PostgresDatabase(self, engine)

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
        stmt = insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )

    def prepare(self, statement: UpdateBase, keys: Sequence[str]) -> Prepared:
        return CoreStatement(statement)

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        return query.with_for_update(skip_locked=True)

    def lock_migrations(self, connection: Connection) -> None:
        connection.execute(select(text(f"pg_advisory_xact_lock({MIGRATION_LOCK})")))

    def single_statements(self) -> SingleStatements | None:
        return PostgresWrites()

    def classify(self, error: BaseException) -> Failure | None:
        if isinstance(error, OSError):
            return Failure.UNAVAILABLE
        state = getattr(error, "sqlstate", None)
        if not isinstance(state, str):
            return None
        if state == "23505":
            return Failure.UNIQUE
        if state == "23503":
            return Failure.FOREIGN_KEY
        if state in _TRANSIENT:
            return Failure.TRANSIENT
        if state.startswith(_UNAVAILABLE_CLASSES):
            return Failure.UNAVAILABLE
        return None


class PostgresDatabase(Database):
    """A PostgreSQL database through asyncpg: each call runs in one greenlet on the event loop, a
    `Statement` on asyncpg directly.

    Write transactions run at READ COMMITTED; multi-statement reads in a read-only REPEATABLE READ
    transaction (a count and a page of one listing come from the same snapshot); single statements in
    autocommit, which is atomic and a snapshot by itself.
    """

    def __init__(self, dialect: PostgresDialect, engine: Engine) -> None:
        super().__init__(dialect)
        self._writes = engine
        self._reads: Engine = engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        self._statements: Engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        event.listen(engine, "checkin", _returned)
        event.listen(engine, "checkout", _check)
        #: How SQLAlchemy connects (the URL's parameters): the statements' connections do the same.
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._connections: _Connections | None = None
        self._compiled: dict[ClauseElement, Compiled] = {}

    async def _write(self, work: Work[T], job: Job, *, statement: bool, bulky: bool) -> T:
        if isinstance(work, Statement):
            return await self._send(work, job)
        if statement:  # in autocommit: sending the statement is committing

            def send(connection: Connection) -> T:
                job.committing = True
                return work(connection)

            return await _run(self._statements, send)
        return await _run(self._writes, lambda connection: transact(connection, work, job))

    async def _read(self, work: Work[T], *, statement: bool) -> T:
        if isinstance(work, Statement):
            return await self._send(work, None)
        if statement:
            return await _run(self._statements, work)
        return await _run(self._reads, lambda connection: transact(connection, work, Job()))

    async def _send(self, statement: Statement[T], job: Job | None) -> T:
        """Run `statement` in autocommit on a connection of the statements' own (`job`, of a write,
        is committing once it is sent), its driver errors wrapped as SQLAlchemy wraps them."""
        compiled = self._compiled.get(statement.clause)
        if compiled is None:
            compiled = compile_once(statement.clause, self._writes.dialect)
            self._compiled[statement.clause] = compiled
        arguments = compiled.arguments(statement.params)
        if self._connections is None:
            self._connections = _Connections(*self._connect_args)
        connections = self._connections
        connection = None
        try:
            async with connections.open_connection() as connection:
                if job is not None:
                    job.committing = True
                records = await connection.fetch(compiled.sql, *arguments)
        except _DRIVER_ERRORS as exc:
            gone = connection is not None and connection.is_closed()
            if gone:  # as SQLAlchemy's pool does: the server may have restarted
                connections.expire()
            raise DBAPIError(compiled.sql, arguments, exc, connection_invalidated=gone) from exc
        return statement.read([compiled.row(record) for record in records])

    async def dispose(self) -> None:
        connections, self._connections = self._connections, None
        if connections is not None:
            await connections.close()
        await greenlet_spawn(self._writes.dispose)


async def _run(engine: Engine, work: Work[T]) -> T:
    """Call `work` with a connection of `engine`, in one greenlet on the event loop."""

    def run() -> T:
        with engine.connect() as connection:
            return work(connection)

    return await greenlet_spawn(run)


#: A connection idle this long is pinged (a round trip) before use; a busier one only checked.
PING_AFTER_IDLE = 1.0


def _returned(_dbapi_connection: Any, record: Any) -> None:
    record.info["returned"] = time.monotonic()


def _check(dbapi_connection: Any, record: Any, _proxy: object) -> None:
    """Check a pooled connection before use, as `pool_pre_ping` does: a connection that died while
    idle (a restarted server) is replaced, and the pool's older connections with it.

    A server that ends a connection closes its socket, which asyncpg notices without a round trip;
    a connection idle for `PING_AFTER_IDLE` is also pinged (one round trip, where SQLAlchemy's own
    ping on asyncpg takes three: BEGIN, the query, ROLLBACK)."""
    try:
        if record.driver_connection.is_closed():
            raise ConnectionError("closed by the server")
        if time.monotonic() - record.info.get("returned", math.inf) >= PING_AFTER_IDLE:
            dbapi_connection.run_async(lambda connection: connection.execute("SELECT 1"))
    except Exception as exc:
        raise InvalidatePoolError(f"the connection is gone: {exc!r}") from exc


class _Connections:
    """The asyncpg connections of the `Statement`s: opened on demand, up to `STATEMENT_POOL_SIZE`,
    and kept; the one given back last is used first. Each is checked before use as `_check` checks
    SQLAlchemy's: one whose socket the server closed is replaced, one idle for `PING_AFTER_IDLE` is
    pinged. A statement cancelled meanwhile is cancelled on the server too (by asyncpg, which waits
    for that before the connection's next statement)."""

    def __init__(self, args: Sequence[str], kwargs: Mapping[str, Any]) -> None:
        self._args, self._kwargs = args, kwargs
        self._free = asyncio.Semaphore(STATEMENT_POOL_SIZE)
        #: Idle connections, each with when it was given back.
        self._idle: list[tuple[Any, float]] = []
        self._closed = False

    @asynccontextmanager
    async def open_connection(self) -> AsyncIterator[Any]:
        """A connection to use meanwhile (waiting while all are in use), then given back."""
        async with self._free:
            connection = await self._checked()
            try:
                yield connection
            finally:
                if self._closed or connection.is_closed():
                    connection.terminate()
                else:
                    self._idle.append((connection, time.monotonic()))

    async def _checked(self) -> Any:
        while self._idle:
            connection, released = self._idle.pop()
            if connection.is_closed():
                continue
            if time.monotonic() - released < PING_AFTER_IDLE:
                return connection
            try:
                await connection.execute("SELECT 1")
            except _DRIVER_ERRORS:
                connection.terminate()
                self.expire()  # as `_check` does: the server may have restarted
                continue
            except BaseException:  # cancelled: the ping may still be under way
                connection.terminate()
                raise
            return connection
        return await asyncpg.connect(*self._args, **self._kwargs)

    def expire(self) -> None:
        """Close the idle connections: their server may have gone."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.terminate()

    async def close(self) -> None:
        """Close the idle connections now, those in use when they are given back."""
        self._closed = True
        idle, self._idle = self._idle, []
        # A connection that fails to close is gone anyway (SQLAlchemy's pool ignores those too).
        await asyncio.gather(*(c.close() for c, _ in idle), return_exceptions=True)
