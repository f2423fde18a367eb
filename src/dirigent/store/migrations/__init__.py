"""Alembic migrations of the durable stores' schema, run in code: no alembic.ini is needed.

`migrate(url)` upgrades a database to the newest schema; `SqlStore.open` does it on every start, so a
new version of Dirigent migrates its database by itself. Servers starting at once are serialised
(PostgreSQL: an advisory lock; SQLite: the write lock of `BEGIN IMMEDIATE`).

A new revision is a new file in `versions/` written by hand after `0001_initial.py` (set `down_revision`),
spelling types out rather than importing `schema.py`; change `schema.py` alike, and the test that compares
the migrated schema with `schema.py` keeps them in step.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dirigent.store.database import Database
from dirigent.store.dialect import dialect_for
from dirigent.store.failures import translate

#: Where Alembic finds env.py and versions/.
SCRIPTS = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code; with `connection`, env.py migrates through it."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    """Upgrade `db` to the newest revision, in one transaction."""

    def run(connection: Connection) -> None:
        db.dialect.lock_migrations(connection)
        command.upgrade(alembic_config(connection), "head")

    try:
        await db.transaction(run)
    except (SQLAlchemyError, OSError) as exc:
        raise translate(exc, db.dialect, committing=False) from exc


async def migrate(url: str) -> None:
    """Upgrade the database at `url` (`sqlite:///…`, `postgresql://…`) to the newest schema."""
    db = dialect_for(url).open(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
