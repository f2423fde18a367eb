"""What the SQL store needs from a database dialect, and the choice of dialect by URL.

`sql.py` is written once against SQLAlchemy Core; the few things that differ between SQLite and
PostgreSQL (engine setup, upserts, locking for claims and migrations, reading driver errors) sit behind
this protocol in `sqlite.py` and `postgres.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Executable, Select, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from dirigent.errors import InvalidInput


class Failure(enum.Enum):
    """What a driver error means for the caller."""

    UNIQUE = "unique"  # a row with that key exists: Conflict
    FOREIGN_KEY = "foreign_key"  # the row it belongs to is missing: NotFound
    UNAVAILABLE = "unavailable"  # the database cannot be reached or used right now
    TRANSIENT = "transient"  # rolled back by the database (deadlock, serialization): retry


class Dialect(Protocol):
    name: str
    #: Execution options of read-only transactions: one consistent snapshot, no write locks.
    read_only: dict[str, Any]

    def create_engine(self, url: str) -> AsyncEngine:
        """An engine for the user's URL (translated to the async driver), set up for the store."""
        ...

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Executable:
        """INSERT that replaces the `update` columns of a row with the same `keys`; takes rows as
        executemany parameters."""
        ...

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        """The claim query made exclusive: concurrent claimers never select the same rows."""
        ...

    def lock_migrations(self, connection: Connection) -> None:
        """Serialise migrations of servers starting at once (inside the migration transaction)."""
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
