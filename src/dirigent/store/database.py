"""How the SQL store reaches its database: each store call is one synchronous function, one hop at most.

`SqlStore` writes every operation as a plain function of a SQLAlchemy `Connection` (`Work`). A `Database`
runs it whole — connection, BEGIN, the statements, COMMIT — in one hop at most: SQLite on the event loop
when that cannot wait, else in a thread of its own (`sqlite.py`: every statement of a call runs in one
place, not one thread hop per statement; the writes queued meanwhile share one transaction), PostgreSQL
in one greenlet on the event loop (`postgres.py`: each statement is one round trip to the server, with
no further hops in between). Driver errors become store errors here, once (`failures.translate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dirigent.store.failures import translate

if TYPE_CHECKING:
    from dirigent.store.dialect import Dialect

T = TypeVar("T")

#: What a store call does with its connection; it returns what the call returns.
Work = Callable[[Connection], T]


class Abandoned(Exception):
    """The caller stopped waiting (its task was cancelled) before COMMIT: its work rolls back."""


@dataclass(slots=True)
class Job:
    """How far one call got: `committing` once COMMIT (or an autocommitted statement) was sent;
    `abandoned` when the caller was cancelled, so a transaction not yet committing rolls back."""

    committing: bool = False
    abandoned: bool = False


def transact(connection: Connection, work: Work[T], job: Job) -> T:
    """Run `work` in one transaction on `connection` and commit it (unless abandoned meanwhile)."""
    transaction = connection.begin()
    try:
        result = work(connection)
        if job.abandoned:
            raise Abandoned
    except BaseException:
        transaction.rollback()
        raise
    job.committing = True
    transaction.commit()
    return result


class Database(ABC):
    """Runs the store's work on one database; `write`/`read` translate driver errors."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    @abstractmethod
    async def _write(self, work: Work[T], job: Job, *, statement: bool, bulky: bool) -> T:
        """Run `work` in one write transaction and commit it, in one hop, keeping `job` up to date.
        Cancelling the caller abandons the write: one not yet started never runs, one running rolls
        back unless it is committing. `statement`: `work` issues exactly one statement, which may
        run in autocommit (sending it is then committing). `bulky`: it may write or delete much, so
        it must not run on the event loop's thread."""

    @abstractmethod
    async def _read(self, work: Work[T], *, statement: bool) -> T:
        """Run `work` on one snapshot, in one hop. `statement`: `work` issues exactly one statement
        (a snapshot by itself, so it may skip BEGIN)."""

    @abstractmethod
    async def dispose(self) -> None:
        """Close every connection (a later call opens new ones, as SQLAlchemy's engines do)."""

    async def write(
        self,
        work: Work[T],
        *,
        conflict: str = "exists already",
        missing: str = "it does not exist",
        statement: bool = False,
        bulky: bool = False,
    ) -> T:
        """Run `work` as one write transaction; driver errors become store errors worded with
        `conflict`/`missing`. With `statement`, `work` issues exactly one statement: where that runs
        in autocommit, sending it is committing (a lost connection then may have committed). With
        `bulky`, it may write or delete much (many rows, large values): a database that runs small
        writes on the event loop's thread runs it in a thread of its own."""
        job = Job()
        try:
            return await self._write(work, job, statement=statement, bulky=bulky)
        except (SQLAlchemyError, OSError) as exc:
            raise translate(
                exc,
                self.dialect,
                committing=job.committing,
                conflict=conflict,
                missing=missing,
            ) from exc

    async def read(self, work: Work[T], *, statement: bool = False) -> T:
        """Run `work` on one consistent snapshot that takes no write locks. With `statement`, `work`
        issues exactly one statement (which is a snapshot by itself, so it may skip BEGIN)."""
        try:
            return await self._read(work, statement=statement)
        except (SQLAlchemyError, OSError) as exc:
            raise translate(exc, self.dialect, committing=False) from exc

    async def transaction(self, work: Work[T]) -> T:
        """Run `work` in one write transaction with the driver's errors untranslated (migrations)."""
        return await self._write(work, Job(), statement=False, bulky=True)
