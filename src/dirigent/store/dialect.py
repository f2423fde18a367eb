"""What the SQL store needs from a database dialect, and the choice of dialect by URL.

`sql.py` is written once against SQLAlchemy Core; the few things that differ between SQLite and
PostgreSQL (how calls reach the database, upserts, locking for claims and migrations, writing a whole
step at once, reading driver errors) sit behind this protocol in `sqlite.py` and `postgres.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Insert, Select, Table, UpdateBase

from dirigent.errors import InvalidInput

if TYPE_CHECKING:
    from dirigent.store.database import Database
    from dirigent.store.driver import Statement
    from dirigent.store.steps import Step


class Prepared(Protocol):
    """A statement made ready once, run many times with parameters by name."""

    def execute(self, db: Connection, params: Mapping[str, Any]) -> int:
        """Run it once; the number of rows it matched."""
        ...

    def executemany(self, db: Connection, rows: Sequence[Mapping[str, Any]]) -> None: ...


class CoreStatement:
    """A statement run through SQLAlchemy's execution (the default `Dialect.prepare`)."""

    def __init__(self, statement: UpdateBase) -> None:
        self._statement = statement

    def execute(self, db: Connection, params: Mapping[str, Any]) -> int:
        return db.execute(self._statement, params).rowcount

    def executemany(self, db: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        db.execute(self._statement, list(rows))


class SingleStatements(Protocol):
    """Writes a dialect makes in one statement each; they run without BEGIN/COMMIT (one round trip)."""

    def write_step(self, step: Step) -> Statement[bool]:
        """The statement writing `step`; it reads False (and writes nothing) when `step.owner` does
        not hold the lease."""
        ...

    def create_instance(
        self, row: dict[str, Any], inbox: list[dict[str, Any]], unknown: list[dict[str, Any]]
    ) -> Statement[None]:
        """The statement inserting the instance `row` with its `inbox` rows, and those of `unknown`
        rows whose instance is pending (see `steps.split_inbox`)."""
        ...


class Failure(enum.Enum):
    """What a driver error means for the caller."""

    UNIQUE = "unique"  # a row with that key exists: Conflict
    FOREIGN_KEY = "foreign_key"  # the row it belongs to is missing: NotFound
    UNAVAILABLE = "unavailable"  # the database cannot be reached or used right now
    TRANSIENT = "transient"  # rolled back by the database (deadlock, serialization): retry


class Dialect(Protocol):
    name: str

    def open(self, url: str) -> Database:
        """The database at the user's URL, set up for the store (not migrated yet)."""
        ...

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
        """INSERT that replaces the `update` columns of a row with the same `keys`; takes rows as
        executemany parameters."""
        ...

    def prepare(self, statement: UpdateBase, keys: Sequence[str]) -> Prepared:
        """`statement` ready to run often; `keys` name the columns its parameters fill (INSERT
        values, UPDATE SET), in addition to its own bound parameters."""
        ...

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        """The claim query made exclusive: concurrent claimers never select the same rows."""
        ...

    def lock_migrations(self, connection: Connection) -> None:
        """Serialise migrations of servers starting at once (inside the migration transaction)."""
        ...

    def single_statements(self) -> SingleStatements | None:
        """The writes this dialect makes in one statement each; None: the store writes them
        statement by statement, in a transaction."""
        ...

    def classify(self, error: BaseException) -> Failure | None:
        """What a driver error (`exc.orig` of SQLAlchemy's wrapper, or a raw OSError) means."""
        ...


def dialect_for(url: str) -> Dialect:
    """The dialect for `sqlite:///path` or `postgresql://user@host:port/db` (driver suffixes allowed)."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        from dirigent.store.sqlite import SqliteDialect

        return SqliteDialect()
    if scheme in ("postgresql", "postgres"):
        from dirigent.store.postgres import PostgresDialect

        return PostgresDialect()
    raise InvalidInput(
        f"unsupported database URL '{scheme}:…': use memory://, sqlite:///path or postgresql://…"
    )
