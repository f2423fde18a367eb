"""Alembic migrations of the durable stores' schema, run in code: no alembic.ini is needed.

`migrate(url)` upgrades a database to the newest schema; `SqlStore.open` does it on every start, so a
new version of Dirigent migrates its database by itself. Servers starting at once are serialised
(PostgreSQL: an advisory lock; SQLite: the write lock of `BEGIN IMMEDIATE`).

A database already at `HEAD` is left alone after one plain query of `alembic_version`: Alembic (about
20 MB that would stay in the server's memory) is imported only when there is something to upgrade.

A new revision is a new file in `versions/` written by hand after `0001_initial.py` (set `down_revision`),
spelling types out rather than importing `schema.py`; change `schema.py` alike, and the test that compares
the migrated schema with `schema.py` keeps them in step. Set `HEAD` to it (a test compares `HEAD` with
Alembic's own head).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from dirigent.store.database import Database
from dirigent.store.dialect import dialect_for
from dirigent.store.failures import translate

if TYPE_CHECKING:
    from alembic.config import Config

#: Where Alembic finds env.py and versions/.
SCRIPTS = Path(__file__).parent
#: The newest revision in `versions/`.
HEAD = "0002"
_VERSION = text("SELECT version_num FROM alembic_version")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code; with `connection`, env.py migrates through it."""
    from alembic.config import Config  # here, not at the top: only to migrate

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    """Upgrade `db` to the newest revision, in one transaction (nothing to do at `HEAD`)."""

    def run(connection: Connection) -> None:
        from alembic import command  # here, not at the top: only to migrate

        db.dialect.lock_migrations(connection)
        command.upgrade(alembic_config(connection), "head")

    if await db.read(_at_head):
        return
    try:
        await db.transaction(run)
    except (SQLAlchemyError, OSError) as exc:
        raise translate(exc, db.dialect, committing=False) from exc


def _at_head(connection: Connection) -> bool:
    """Whether the database's schema is at `HEAD` already (a new database has no version table)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.execute(_VERSION).scalars().all() == [HEAD]


async def migrate(url: str) -> None:
    """Upgrade the database at `url` (`sqlite:///…`, `postgresql://…`) to the newest schema."""
    db = dialect_for(url).open(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
