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

Writes commit in groups: the writer thread takes every write queued by then (up to `BATCH`) and runs
them in one transaction, each in a savepoint of its own, so one COMMIT and one wakeup of the event loop
serve them all. A write that fails rolls back to its savepoint and gets its own error while the others
commit; a failure of the transaction itself (BEGIN, COMMIT, or SQLite rolling it all back, as it may on
an I/O error) is every write's failure.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Engine, Insert, Select, Table, UpdateBase, create_engine, event
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError

from dirigent.errors import InvalidInput
from dirigent.store.database import Abandoned, Database, Job, Work, transact
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
#: Writes that one transaction takes at most, so that none grows without bound.
BATCH = 64

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
        driver = _driver(db)
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
        _execute(_driver(connection), begin)

    return engine


def _driver(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `connection`."""
    driver: sqlite3.Connection = connection.connection.dbapi_connection  # type: ignore[assignment]
    return driver


def _execute(driver: sqlite3.Connection, sql: str) -> None:
    """Send `sql` on the sqlite3 connection itself (`exec_driver_sql` costs several times what
    SQLite takes), failing as SQLAlchemy would."""
    try:
        driver.execute(sql)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, (), exc, sqlite3.Error) from exc


@dataclass(slots=True, eq=False)
class _Write:
    """A write queued for the writer thread, then its outcome: `result`, unless `error`."""

    work: Work[Any]
    job: Job
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None


class SqliteDatabase(Database):
    """A SQLite file reached through threads: one for writes, `READERS` for reads, each thread with
    a connection of its own that it keeps. The writer commits the writes queued meanwhile together.

    A call waits for its thread's result; cancelling the waiting task abandons the call: a call not yet
    started never runs, a running one rolls back (a write to its savepoint) unless it is committing.
    """

    def __init__(self, dialect: SqliteDialect, url: URL) -> None:
        super().__init__(dialect)
        self._writes = _engine(url, "BEGIN IMMEDIATE", 1)
        self._reads = _engine(url, "BEGIN", READERS)
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        #: Writes waiting for the writer, and whether a turn of the writer will take them.
        self._queue: list[_Write] = []
        self._turn = False
        self._queue_lock = threading.Lock()
        self._local = threading.local()
        self._held: list[Connection] = []
        self._lock = threading.Lock()

    async def _write(self, work: Work[T], job: Job, *, statement: bool) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._queue_lock:
            self._queue.append(_Write(work, job, future))
            idle, self._turn = not self._turn, True
        if idle:  # else the turn under way takes this write too
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="dirigent-sqlite-write")
            # Submitted in the loop's next iteration, so that the writes of the other tasks woken
            # in this one go along: submitted at once, a turn mostly took this write alone
            # (`action.c16`: 1.9 writes a transaction, against 9 this way).
            asyncio.get_running_loop().call_soon(self._writer.submit, self._write_queued)
        try:
            return await future
        except asyncio.CancelledError:
            job.abandoned = True  # not started: it never runs; running: its savepoint rolls back
            raise

    async def _read(self, work: Work[T], *, statement: bool) -> T:
        if self._readers is None:
            self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="dirigent-sqlite-read")
        job = Job()
        future = self._readers.submit(lambda: transact(self._connection(self._reads), work, job))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            job.abandoned = True  # `transact` rolls back
            raise

    def _write_queued(self) -> None:
        """A turn of the writer thread: until the queue is empty, take the writes queued by then (up
        to `BATCH`), run them in one transaction, and hand their outcomes back to the event loop."""
        while batch := self._take():
            try:
                self._commit(batch)
            except BaseException as exc:  # the transaction failed: each write not failed yet too
                for write in batch:
                    if write.error is None:
                        write.error = exc
            _hand_back(batch)

    def _take(self) -> list[_Write]:
        """The next writes of the queue, up to `BATCH`; none ends the turn."""
        with self._queue_lock:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            self._turn = bool(batch)
        return batch

    def _commit(self, batch: list[_Write]) -> None:
        """Run each write of `batch` in a savepoint of one transaction, and commit it."""
        connection = self._connection(self._writes)
        transaction = connection.begin()  # BEGIN IMMEDIATE (`_engine`)
        driver = _driver(connection)
        try:
            for write in batch:
                _run_in_savepoint(connection, driver, write)
            for write in batch:
                write.job.committing = write.error is None
            transaction.commit()
        except BaseException:
            transaction.rollback()
            driver.rollback()  # what a failed COMMIT kept open, which SQLAlchemy leaves alone
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
        await asyncio.sleep(0)  # the writer's turns scheduled by now are submitted first
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


def _run_in_savepoint(connection: Connection, driver: sqlite3.Connection, write: _Write) -> None:
    """Run `write` in a savepoint: if its work fails, or its caller stops waiting meanwhile, it
    rolls back to the savepoint and keeps the error. Abandoned before it starts, it never runs."""
    if write.job.abandoned:
        write.error = Abandoned()
        return
    _execute(driver, "SAVEPOINT write")
    try:
        write.result = write.work(connection)
        if write.job.abandoned:
            raise Abandoned
    except Exception as exc:
        write.error = exc
        if not driver.in_transaction:
            raise  # SQLite rolled the whole transaction back: the batch fails with it
        _execute(driver, "ROLLBACK TO write")
    _execute(driver, "RELEASE write")


def _hand_back(batch: list[_Write]) -> None:
    """Settle the futures of `batch` with one wakeup of each event loop they belong to."""
    loops: dict[asyncio.AbstractEventLoop, list[_Write]] = {}
    for write in batch:
        loops.setdefault(write.future.get_loop(), []).append(write)
    for loop, writes in loops.items():
        with suppress(RuntimeError):  # the loop was closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, writes)


def _settle(writes: list[_Write]) -> None:
    """On the event loop: give each write's caller its outcome."""
    for write in writes:
        if write.future.cancelled():
            continue  # its caller stopped waiting
        if write.error is None:
            write.future.set_result(write.result)
        else:
            write.future.set_exception(write.error)
