"""SQLite specifics: one writer at a time, WAL journal, aware timestamps kept as UTC text.

The sqlite3 module blocks, so the store runs each call whole in a thread of its own (`SqliteDatabase`):
every write in one writer thread, with one connection, reads in a few reader threads, each keeping its
connection. A call is one hop from the event loop however many statements it runs, and SQLite's single
write lock is taken by one thread of this process at a time. The statements of a step run on the
sqlite3 cursor directly (`DriverStatement`): SQLite takes microseconds for them, SQLAlchemy's
execution layer several times that.

Every write transaction starts with `BEGIN IMMEDIATE`, which takes SQLite's single write lock up front
(waiting up to `busy_timeout`, e.g. for another process on the same file), so a claim's
select-then-update cannot interleave with another writer and two claimers never get the same instance.
Reads start a deferred `BEGIN`: in WAL mode they see a snapshot and never block the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Engine, Insert, Select, Table, UpdateBase, create_engine, event
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError

from dirigent.errors import InvalidInput
from dirigent.store.database import Database, Job
from dirigent.store.dialect import Failure, Prepared, SingleStatements

T = TypeVar("T")

#: Connection settings: WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints
#: only, which stays consistent after a crash of the process (only a power loss may lose the newest
#: commits); writers wait for the lock instead of failing at once; foreign keys are enforced.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)

#: Reader threads (and connections): WAL lets them all read while the writer writes.
READERS = 4

_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


class SqliteDialect:
    name = "sqlite"

    def open(self, url: str) -> Database:
        parsed = make_url(url)
        path = parsed.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            raise InvalidInput("SQLite needs a file: sqlite:///path/to/file.db (or use memory://)")
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(self, parsed.set(drivername="sqlite+pysqlite"))

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
        stmt = insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )

    def prepare(self, statement: UpdateBase, keys: Sequence[str]) -> Prepared:
        return DriverStatement(statement, keys)

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        return query  # BEGIN IMMEDIATE holds the database's only write lock already

    def lock_migrations(self, connection: Connection) -> None:
        """BEGIN IMMEDIATE serialises migrations already."""

    def single_statements(self) -> SingleStatements | None:
        return None  # statements in the writer thread cost no round trip: one each is cheap

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


#: What SQLAlchemy makes of a parameter's value before the driver sees it (types' bind processors).
Processor = Callable[[Any], Any]


class _Compiled(NamedTuple):
    sql: str
    #: The positional parameters: the name to take the value from (None: a value of the statement's
    #: own, such as a literal), that value, and the parameter's processor.
    binds: list[tuple[str | None, Any, Processor | None]]


class DriverStatement:
    """A statement compiled once by SQLAlchemy and run on the sqlite3 cursor directly.

    It keeps what SQLAlchemy would do — its SQL, its type handling (bind processors such as
    `UtcDateTime`'s, which refuse naive times), driver errors raised as its `DBAPIError` — and skips
    its per-execution work, which costs several times what SQLite needs for a small statement.
    """

    def __init__(self, statement: UpdateBase, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = list(keys)
        self._compiled: _Compiled | None = None

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect, column_keys=self._keys)
        binds: list[tuple[str | None, Any, Processor | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                binds.append((name, None, process))
            else:
                binds.append((None, bind.effective_value, process))
        self._compiled = _Compiled(str(compiled), binds)
        return self._compiled

    def _run(self, db: Connection, rows: Sequence[Mapping[str, Any]], many: bool) -> int:
        sql, binds = self._compiled or self._compile(db.dialect)
        args = [_arguments(binds, row) for row in rows]
        driver: sqlite3.Connection = db.connection.dbapi_connection  # type: ignore[assignment]
        try:
            if many:
                return driver.executemany(sql, args).rowcount
            return driver.execute(sql, args[0]).rowcount
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc

    def execute(self, db: Connection, params: Mapping[str, Any]) -> int:
        return self._run(db, [params], many=False)

    def executemany(self, db: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        self._run(db, rows, many=True)


def _arguments(
    binds: list[tuple[str | None, Any, Processor | None]], row: Mapping[str, Any]
) -> tuple[Any, ...]:
    values = []
    for name, own, process in binds:
        value = own if name is None else row[name]
        values.append(value if process is None else process(value))
    return tuple(values)


def _engine(url: URL, begin: str, connections: int) -> Engine:
    """A synchronous engine whose transactions start with `begin`, keeping up to `connections`."""
    engine = create_engine(url, pool_size=connections, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        # SQLAlchemy emits BEGIN itself (below), not the sqlite3 module's legacy mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # On the sqlite3 connection itself: `exec_driver_sql` costs several times what SQLite takes.
        driver: sqlite3.Connection = connection.connection.dbapi_connection  # type: ignore[assignment]
        try:
            driver.execute(begin)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(begin, (), exc, sqlite3.Error) from exc

    return engine


class SqliteDatabase(Database):
    """A SQLite file reached through threads: one for writes, `READERS` for reads, each thread with
    a connection of its own that it keeps.

    A call waits for its thread's result; cancelling the waiting task abandons the call: a call not yet
    started never runs, a running transaction rolls back unless it is committing already.
    """

    def __init__(self, dialect: SqliteDialect, url: URL) -> None:
        super().__init__(dialect)
        self._writes = _engine(url, "BEGIN IMMEDIATE", 1)
        self._reads = _engine(url, "BEGIN", READERS)
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._held: list[Connection] = []
        self._lock = threading.Lock()

    def autocommits(self, *, writes: bool) -> bool:
        return False

    async def _run(
        self, work: Callable[[Connection], T], job: Job, *, writes: bool, statement: bool
    ) -> T:
        if writes:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="dirigent-sqlite-write")
            future = self._writer.submit(lambda: work(self._connection(self._writes)))
        else:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(
                    READERS, thread_name_prefix="dirigent-sqlite-read"
                )
            future = self._readers.submit(lambda: work(self._connection(self._reads)))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            job.abandoned = True  # `transact` rolls back instead of committing
            raise

    def _connection(self, engine: Engine) -> Connection:
        """The calling thread's connection (to `engine`: each thread does only writes or reads)."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = engine.connect()
            self._local.connection = connection
            with self._lock:
                self._held.append(connection)
        return connection

    async def dispose(self) -> None:
        """Wait for the calls under way, close the threads and the connections. A later call opens
        them again (as SQLAlchemy's `dispose` allows)."""
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        for executor in (writer, readers):
            if executor is not None:
                await asyncio.to_thread(executor.shutdown)
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()
        self._writes.dispose()
        self._reads.dispose()
