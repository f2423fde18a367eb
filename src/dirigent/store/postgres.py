"""PostgreSQL specifics: asyncpg, `FOR UPDATE SKIP LOCKED` claims, advisory-locked migrations.

Transactions run at READ COMMITTED. A claim locks the rows it selects and skips rows that another
claimer has locked, so concurrent claimers share the work without waiting for each other; a row whose
lease another claimer has just taken is re-checked against the new lease and left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Select, Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from dirigent.store.dialect import Failure

#: Key of the transaction-scoped advisory lock that serialises migrations ("dirigent" in ASCII).
MIGRATION_LOCK = 0x646972696765_6E74

#: Connection exceptions, bad credentials, missing database, insufficient resources, operator action.
_UNAVAILABLE_CLASSES = ("08", "28", "3D", "53", "57")
_TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock detected


class PostgresDialect:
    name = "postgresql"
    # A count and a page of one listing come from the same snapshot.
    read_only: dict[str, Any] = {  # noqa: RUF012 - never changed
        "isolation_level": "REPEATABLE READ",
        "postgresql_readonly": True,
    }

    def create_engine(self, url: str) -> AsyncEngine:
        parsed = make_url(url).set(drivername="postgresql+asyncpg")
        # Pre-ping drops connections that died while idle (a restarted server) before they are used.
        return create_async_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def upsert(self, table: Table, keys: Sequence[str], update: Sequence[str]) -> Executable:
        stmt = insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )

    def lock_for_claim(self, query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
        return query.with_for_update(skip_locked=True)

    def lock_migrations(self, connection: Connection) -> None:
        connection.execute(select(text(f"pg_advisory_xact_lock({MIGRATION_LOCK})")))

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
