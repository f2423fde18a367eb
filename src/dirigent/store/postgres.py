"""PostgreSQL specifics: asyncpg, `FOR UPDATE SKIP LOCKED` claims, advisory-locked migrations.

Transactions run at READ COMMITTED. A claim locks the rows it selects and skips rows that another
claimer has locked, so concurrent claimers share the work without waiting for each other; a row whose
lease another claimer has just taken is re-checked against the new lease and left out.

Every statement is a round trip, so the store spends few: a call runs whole in one greenlet
(`PostgresDatabase`); single statements (most reads, `append_log`, and a commit's whole step or a new
instance, each written in one statement by `postgres_writes.py`) run in autocommit, without BEGIN and COMMIT; a connection
taken from the pool is checked without a round trip unless it was idle (`_check`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, TypeVar

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
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.util import greenlet_spawn

from dirigent.store.database import Database, Job, Work, transact
from dirigent.store.dialect import CoreStatement, Failure, Prepared, SingleStatements
from dirigent.store.postgres_writes import PostgresWrites

T = TypeVar("T")

#: Key of the transaction-scoped advisory lock that serialises migrations ("dirigent" in ASCII).
MIGRATION_LOCK = 0x646972696765_6E74

#: Connection exceptions, bad credentials, missing database, insufficient resources, operator action.
_UNAVAILABLE_CLASSES = ("08", "28", "3D", "53", "57")
_TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock detected
#: Connections a store opens at most (on demand), and keeps once opened.
POOL_SIZE = 30


class PostgresDialect:
    name = "postgresql"

    def open(self, url: str) -> Database:
        parsed = make_url(url).set(drivername="postgresql+asyncpg")
        # LIFO: the most recently used connection comes first, with its prepared statements and plans.
        # No overflow: an overflow connection is closed as soon as it is given back, so a burst
        # (16 or 64 instances stepping at once) kept opening and closing connections; up to
        # POOL_SIZE are opened on demand and kept. A plain Engine on the asyncpg dialect, run in
        # greenlets (`_run`), is what create_async_engine wraps; sqlalchemy.ext.asyncio would load
        # the ORM too (about 6 MB of a server's memory).
        engine = create_engine(parsed, pool_size=POOL_SIZE, max_overflow=0, pool_use_lifo=True)
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
    """A PostgreSQL database through asyncpg: each call runs in one greenlet on the event loop.

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

    async def _write(self, work: Work[T], job: Job, *, statement: bool) -> T:
        if statement:  # in autocommit: sending the statement is committing

            def send(connection: Connection) -> T:
                job.committing = True
                return work(connection)

            return await _run(self._statements, send)
        return await _run(self._writes, lambda connection: transact(connection, work, job))

    async def _read(self, work: Work[T], *, statement: bool) -> T:
        if statement:
            return await _run(self._statements, work)
        return await _run(self._reads, lambda connection: transact(connection, work, Job()))

    async def dispose(self) -> None:
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
