"""SQLite specifics: one writer at a time, WAL journal, aware timestamps kept as UTC text.

The sqlite3 module blocks; SQLite takes microseconds for a small transaction or a read by key,
though, and a hop to a thread and back costs more than that (and hands the GIL over twice). So writes
and point reads run on the event loop's thread when they cannot wait, in threads when they could;
other reads, which may return many rows, in a few reader threads, each keeping its connection
(`SqliteDatabase`). Connections are opened in threads (opening may wait for a lock). The statements
of a step run on the sqlite3 cursor directly (`DriverStatement`): SQLite takes microseconds for them,
SQLAlchemy's execution layer several times that.

Every write transaction starts with `BEGIN IMMEDIATE`, which takes SQLite's single write lock up front,
so a claim's select-then-update cannot interleave with another writer and two claimers never get the
same instance. Reads start a deferred `BEGIN`: in WAL mode they see a snapshot and never block the
writer.

Writes commit in groups, in turns of the writer: a turn takes every write queued by then (up to
`BATCH`) and runs them in one transaction, each in a savepoint of its own, so one COMMIT serves them
all. A write that fails rolls back to its savepoint and gets its own error while the others commit; a
failure of the transaction itself (BEGIN, COMMIT, or SQLite rolling it all back, as it may on an I/O
error) is every write's failure.

A turn runs on the event loop when SQLite's write lock can be taken at once: its `BEGIN IMMEDIATE` is
sent with a busy timeout of 0. When another connection holds the lock (another process on the same
file), the turn moves to the writer thread, which waits for it up to `BUSY_TIMEOUT` while the loop goes
on. Both use the one writer connection, one turn at a time (`SqliteDatabase`'s turn). A turn with a
bulky write (`Database.write(bulky=True)`: a migration, a large delete, a large step) runs in the thread
too, so that none holds the loop for long.

Checkpoints: in WAL mode SQLite copies the WAL back into the database file (and fsyncs it) inside the
COMMIT that makes the WAL cross `wal_autocheckpoint` pages, which would block the loop. So the writer
connection has automatic checkpoints off, and the writer thread runs a PASSIVE one as often as SQLite
would (every `CHECKPOINT_PAGES` pages: after as many transactions as wrote that many before the last
checkpoint, which reports the WAL's size), and at `dispose`. It holds the turn meanwhile, as the COMMIT
that checkpointed did: the writes queued meanwhile wait, the loop does not. Then the next write finds
the WAL copied entirely and starts it over from its beginning, which keeps it bounded; a checkpoint
beside the writes would rarely catch up with them, and the WAL would grow as long as writes go on.

Small point reads (`driver.Statement`s marked `small`: a row by its key) run on the loop too, one at a time,
on a connection of their own with a busy timeout of 0: in WAL mode a reader waits for no writer or
checkpoint, only (rarely) for a connection recovering the WAL or holding the file exclusively, and
then the read goes to a reader thread.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Insert, Select, Table, UpdateBase, create_engine, event
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from dirigent.errors import InvalidInput
from dirigent.store.database import Abandoned, Database, Job, Work, transact
from dirigent.store.dialect import Failure, Prepared, SingleStatements
from dirigent.store.driver import Compiled, Statement, compile_once

T = TypeVar("T")

logger = logging.getLogger("dirigent.store")

#: Connection settings: WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints
#: only, which stays consistent after a crash of the process (only a power loss may lose the newest
#: commits); foreign keys are enforced.
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")
#: How long (ms) a thread waits for a lock another connection holds instead of failing at once
#: (connections are opened in threads, waiting so).
BUSY_TIMEOUT = 10000
#: The connections used on the loop never wait for a lock (what would goes to a thread), and the
#: writer's never checkpoints in a COMMIT.
WRITER_PRAGMAS = ("PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0")
POINT_READER_PRAGMAS = ("PRAGMA busy_timeout=0",)

#: Reader threads (and connections): WAL lets them all read while the writer writes.
READERS = 4
#: Writes that one transaction takes at most, so that none grows without bound.
BATCH = 64
#: WAL pages between two checkpoints: SQLite's default `wal_autocheckpoint`.
CHECKPOINT_PAGES = 1000
#: Transactions before the first checkpoint, which tells how many pages they wrote (an engine's
#: step alone in one writes about ten).
FIRST_CHECKPOINT_AFTER = 100

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
        return None  # statements in process cost no round trip: one each is cheap

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


class DriverStatement:
    """A statement compiled once by SQLAlchemy and run on the sqlite3 cursor directly.

    It keeps what SQLAlchemy would do — its SQL, its type handling (bind processors such as
    `UtcDateTime`'s, which refuse naive times), driver errors raised as its `DBAPIError` — and skips
    its per-execution work, which costs several times what SQLite needs for a small statement.
    """

    def __init__(self, statement: UpdateBase, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = list(keys)
        self._compiled: Compiled | None = None

    def _run(self, db: Connection, rows: Sequence[Mapping[str, Any]], many: bool) -> int:
        if self._compiled is None:
            self._compiled = compile_once(self._statement, db.dialect, self._keys)
        sql = self._compiled.sql
        args = [self._compiled.arguments(row) for row in rows]
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


def _engine(
    url: URL, connections: int, pragmas: Sequence[str] = (), begin: str | None = None
) -> Engine:
    """A synchronous engine keeping up to `connections`, each set up with `PRAGMAS` and `pragmas`
    (waiting up to `BUSY_TIMEOUT` for locks meanwhile); with `begin`, its transactions start with
    that statement."""
    # Not bound to the thread that opened them: the writer's connection serves the event loop and
    # the writer thread, one turn at a time (SQLAlchemy sets this for files already; said here).
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT / 1000}
    engine = create_engine(url, pool_size=connections, max_overflow=0, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        # SQLAlchemy emits BEGIN itself (below), not the sqlite3 module's legacy mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*PRAGMAS, *pragmas):
            cursor.execute(pragma)
        cursor.close()

    if begin is not None:

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


def _begin(driver: sqlite3.Connection, *, wait: bool) -> bool:
    """Send `BEGIN IMMEDIATE`, taking SQLite's write lock: if another connection holds it, wait up
    to `BUSY_TIMEOUT` for it when `wait`, else give up at once and return False."""
    if wait:
        _execute(driver, f"PRAGMA busy_timeout={BUSY_TIMEOUT}")
        try:
            _execute(driver, "BEGIN IMMEDIATE")
        finally:
            _execute(driver, "PRAGMA busy_timeout=0")
        return True
    try:
        _execute(driver, "BEGIN IMMEDIATE")
    except DBAPIError as exc:
        if _busy(exc):
            return False
        raise
    return True


def _busy(error: DBAPIError) -> bool:
    """Whether `error` is SQLite's: another connection holds a lock (it would have waited)."""
    return getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY")


@dataclass(slots=True, eq=False)
class _Write:
    """A write queued for a turn of the writer, then its outcome: `result`, unless `error`.
    `inline`: it may run on the event loop (a bulky write, such as a migration, does not)."""

    work: Work[Any]
    job: Job
    future: asyncio.Future[Any]
    inline: bool
    result: Any = None
    error: BaseException | None = None


class SqliteDatabase(Database):
    """A SQLite file: writes in turns of the writer, on the event loop or in the writer thread when
    they would wait (one connection, used by one turn at a time); point reads on the loop, other
    reads (and point reads that would wait) in `READERS` threads, each keeping a connection of its
    own.

    A call waits for its result; cancelling the waiting task abandons the call: a call not yet
    started never runs, a running one rolls back (a write to its savepoint) unless it is committing.
    (A write running on the event loop runs to its end: nothing is cancelled meanwhile.)

    The turn: whoever holds it, and only they, uses the writer's connection: a turn on the loop
    (`_inline_turn`), one in the writer thread (`_thread_turn`), or `dispose`. A write finding no
    holder takes it for a turn on its loop; when a turn ends, `_pass_turn` hands it on.
    """

    def __init__(self, dialect: SqliteDialect, url: URL) -> None:
        super().__init__(dialect)
        self._writes = _engine(url, 1, WRITER_PRAGMAS)
        self._reads = _engine(url, READERS, begin="BEGIN")
        self._point_reads = _engine(url, 1, POINT_READER_PRAGMAS)
        #: The writer's connection, opened by the first turn (in the writer thread); only the
        #: turn's holder touches it.
        self._writer_db: Connection | None = None
        #: The connection of point reads on the loop, opened by the first (in a reader thread);
        #: only who holds `_point_lock` touches it.
        self._point_reader: Connection | None = None
        self._point_lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        #: Writes waiting for a turn, whether someone holds the turn, and `dispose` calls waiting
        #: for it (they get it when no write is left).
        self._queue: list[_Write] = []
        self._turn = False
        self._waiting: list[asyncio.Future[None]] = []
        self._queue_lock = threading.Lock()
        #: Transactions committed since the last checkpoint, and how many the next one waits for
        #: (only the turn's holder touches them).
        self._unchecked = 0
        self._checkpoint_after = FIRST_CHECKPOINT_AFTER
        self._local = threading.local()
        self._held: list[Connection] = []
        self._lock = threading.Lock()

    async def _write(self, work: Work[T], job: Job, *, statement: bool, bulky: bool) -> T:
        return await self._queued(work, job, inline=not bulky)

    async def _queued(self, work: Work[T], job: Job, *, inline: bool) -> T:
        """Queue `work` for a turn of the writer (taking the turn if nobody holds it) and wait."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        write = _Write(work, job, future, inline)
        with self._queue_lock:
            self._queue.append(write)
            idle, self._turn = not self._turn, True
        if idle:  # else the turn under way hands it on to a turn that takes this write
            # In the loop's next iteration, so that the writes of the other tasks woken in this one
            # go along: taken at once, a turn mostly took this write alone (`action.c16`: 1.9
            # writes a transaction, against 9 this way).
            asyncio.get_running_loop().call_soon(self._inline_turn)
        try:
            return await future
        except asyncio.CancelledError:
            job.abandoned = True  # not started: it never runs; running: its savepoint rolls back
            raise

    async def _read(self, work: Work[T], *, statement: bool) -> T:
        point = isinstance(work, Statement) and work.small
        # Not blocking: the loop of another thread using this database reads in a thread meanwhile.
        if point and self._point_lock.acquire(blocking=False):
            try:
                if self._point_reader is not None:
                    return transact(self._point_reader, work, Job())
            except DBAPIError as exc:
                if not _busy(exc):
                    raise
            finally:
                self._point_lock.release()
        if self._readers is None:
            self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="dirigent-sqlite-read")
        job = Job()
        future = self._readers.submit(self._read_in_thread, work, job, point)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            job.abandoned = True  # `transact` rolls back
            raise

    def _read_in_thread(self, work: Work[T], job: Job, point: bool) -> T:
        """Run `work` in a reader thread; the first point read opens the point reads' connection
        (opening may wait for a lock) for the next ones."""
        if point:
            with self._point_lock:
                if self._point_reader is None:
                    self._point_reader = self._point_reads.connect()
        return transact(self._reader(), work, job)

    def _inline_turn(self) -> None:
        """A turn of the writer on the event loop: the next writes queued, committed here if SQLite's
        write lock is free at once; if not, they go to the writer thread, which waits for it (and
        which opens the writer's connection, which may wait too)."""
        batch = self._take()
        inline = self._writer_db is not None and all(write.inline for write in batch)
        if not inline or not self._run(batch, wait=False):
            self._submit(batch)
            return
        _hand_back(batch)
        if self._unchecked >= self._checkpoint_after:
            self._submit([])  # off the loop
        else:
            self._pass_turn()

    def _thread_turn(self, batch: list[_Write]) -> None:
        """A turn of the writer in its thread: run `batch` (waiting for SQLite's write lock up to
        `BUSY_TIMEOUT`), then the checkpoint if one is due."""
        if batch:
            self._run(batch, wait=True)
            _hand_back(batch)
        if self._unchecked >= self._checkpoint_after:
            self._checkpoint()
        self._pass_turn()

    def _submit(self, batch: list[_Write]) -> None:
        """Go on with the turn in the writer thread."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="dirigent-sqlite-write")
        self._writer.submit(self._thread_turn, batch)

    def _take(self) -> list[_Write]:
        """The next writes of the queue, up to `BATCH` (so that no transaction grows without bound,
        nor a turn on the loop runs long)."""
        with self._queue_lock:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
        return batch

    def _pass_turn(self) -> None:
        """Hand the turn on: to a turn on the loop of the oldest write queued, else to the oldest
        `dispose` waiting for it, else to nobody. A closed loop takes nothing: its writes run in
        the writer thread, its `dispose` waits no more."""
        while True:
            with self._queue_lock:
                if self._queue:
                    waiter, loop = None, self._queue[0].future.get_loop()
                elif self._waiting:
                    waiter = self._waiting.pop(0)
                    loop = waiter.get_loop()
                else:
                    self._turn = False
                    return
            if waiter is None:
                if not _call_soon(loop, self._inline_turn):
                    self._submit(self._take())
                return
            if _call_soon(loop, self._give, waiter):
                return

    def _give(self, waiter: asyncio.Future[None]) -> None:
        """On `waiter`'s loop: give it the turn, unless it stopped waiting."""
        if waiter.cancelled():
            self._pass_turn()
        else:
            waiter.set_result(None)

    async def _hold_turn(self) -> None:
        """Wait until the writes queued by now have run, and hold the turn (`_pass_turn` ends it)."""
        with self._queue_lock:
            if not self._turn:
                self._turn = True
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if not waiter.cancelled():  # it got the turn all the same
                self._pass_turn()
            raise

    def _run(self, batch: list[_Write], *, wait: bool) -> bool:
        """Run each write of `batch` in a savepoint of one transaction and commit it; a failure of
        the transaction is each write's not failed yet. False: another connection holds SQLite's
        write lock and `wait` is false; nothing ran."""
        connection = self._writer_db
        try:
            if connection is None:
                connection = self._writer_db = self._writes.connect()
            driver = _driver(connection)
            if not _begin(driver, wait=wait):
                return False
            transaction = connection.begin()  # SQLAlchemy's bookkeeping: SQLite's has begun
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
            self._unchecked += 1
        except BaseException as exc:  # the transaction failed: each write not failed yet too
            for write in batch:
                if write.error is None:
                    write.error = exc
        return True

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file as far as no reader still reads it (PASSIVE: it
        waits for nobody), holding the turn, off the loop; the next is due when as many
        transactions as wrote `CHECKPOINT_PAGES` pages now have committed."""
        committed, self._unchecked = self._unchecked, 0
        if self._writer_db is None:
            return
        try:
            checkpoint = _driver(self._writer_db).execute("PRAGMA wal_checkpoint(PASSIVE)")
            _, pages, _ = checkpoint.fetchone()
        except sqlite3.Error as exc:  # not any write's failure; the next checkpoint copies it all
            logger.warning("SQLite checkpoint failed: %s", exc)
            return
        # The pages written since the last checkpoint, when the WAL started over after it; more
        # when readers kept it from starting over, and then checkpoints come sooner.
        if committed and pages > 0:
            self._checkpoint_after = max(1, CHECKPOINT_PAGES * committed // pages)

    def _reader(self) -> Connection:
        """The calling reader thread's connection."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._reads.connect()
            self._local.connection = connection
            with self._lock:
                self._held.append(connection)
        return connection

    async def dispose(self) -> None:
        """Wait for the writes queued by now and the reads under way, checkpoint, close the threads
        and the connections. A later call opens them again (as SQLAlchemy's `dispose` allows)."""
        await self._hold_turn()
        try:
            executors, self._writer, self._readers = (self._writer, self._readers), None, None
            await asyncio.to_thread(self._close, executors)
        finally:
            self._pass_turn()

    def _close(self, executors: tuple[ThreadPoolExecutor | None, ...]) -> None:
        """`dispose`'s blocking part, holding the turn."""
        self._checkpoint()
        if self._writer_db is not None:
            self._writer_db.close()
            self._writer_db = None
        for executor in executors:
            if executor is not None:
                executor.shutdown()
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()
        with self._point_lock:
            if self._point_reader is not None:
                self._point_reader.close()
                self._point_reader = None
        self._writes.dispose()
        self._reads.dispose()
        self._point_reads.dispose()


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


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _call_soon(
    loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: Any
) -> bool:
    """Schedule `callback` on `loop` from any thread; False if the loop was closed."""
    try:
        if _running_loop() is loop:
            loop.call_soon(callback, *args)
        else:
            loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        return False
    return True


def _hand_back(batch: list[_Write]) -> None:
    """Settle the futures of `batch`: at once on the running loop, with one wakeup of each other
    loop they belong to."""
    loops: dict[asyncio.AbstractEventLoop, list[_Write]] = {}
    for write in batch:
        loops.setdefault(write.future.get_loop(), []).append(write)
    running = _running_loop()
    for loop, writes in loops.items():
        if loop is running:
            _settle(writes)
        else:
            _call_soon(loop, _settle, writes)  # a closed loop: nobody waits any more


def _settle(writes: list[_Write]) -> None:
    """On the event loop: give each write's caller its outcome."""
    for write in writes:
        if write.future.cancelled():
            continue  # its caller stopped waiting
        if write.error is None:
            write.future.set_result(write.result)
        else:
            write.future.set_exception(write.error)
