"""Alembic migrations of the durable stores' schema, run in code: no alembic.ini is needed.

`SqlStore.open` calls `upgrade` on every start, so a new version of Dirigent migrates its database
by itself. Servers starting at once are serialised (PostgreSQL: an advisory lock; SQLite: the write
lock of `BEGIN IMMEDIATE`).

A database already at `HEAD` is left alone after one plain query of `alembic_version`. Any other is
migrated by a child process (`python -m dirigent.store.migrations`: the same interpreter,
environment and working directory), so Alembic (about 10 MB that would stay) never enters the
server's memory; a store error of the child is raised again here, the same. A process that has
loaded Alembic already (the tests, a tool) migrates in itself: a child would save nothing there.

A new revision is a new file in `versions/` written by hand after `0001_initial.py` (set `down_revision`),
spelling types out rather than importing `schema.py`; change `schema.py` alike, and the test that compares
the migrated schema with `schema.py` keeps them in step. Set `HEAD` to it (a test compares `HEAD` with
Alembic's own head).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from dirigent.errors import (
    Conflict,
    DirigentError,
    Internal,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    Unavailable,
)
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
#: The errors a child reports, by class name (`StoreUnavailable` has a field more).
_REPORTED = {
    kind.__name__: kind for kind in (NotFound, InvalidInput, Conflict, Unavailable, Internal)
}


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code; with `connection`, env.py migrates through it."""
    from alembic.config import Config  # here, not at the top: only to migrate

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, url: str) -> None:
    """Upgrade `db`, opened from `url`, to the newest revision (nothing to do at `HEAD`)."""
    if await db.read(_at_head):
        return
    if "alembic" in sys.modules:  # loaded already (the tests, a tool): a child would save nothing
        await _run_alembic(db)
    else:
        await migrate_in_child(url)


async def migrate(url: str) -> None:
    """Upgrade the database at `url` (`sqlite:///…`, `postgresql://…`) to the newest schema, in this
    process."""
    db = dialect_for(url).open(url)
    try:
        await _run_alembic(db)
    finally:
        await db.dispose()


async def migrate_in_child(url: str) -> None:
    """`migrate(url)` in a child process; its store error is raised here. Another failure (a bug,
    a database Alembic cannot upgrade) leaves the child's traceback on stderr and raises
    `Internal`."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        # on stdin, not in the arguments, which every user of the machine can read
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await child.communicate(url.encode())
    except BaseException:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            child.kill()  # cut short, the migration rolls back (it is one transaction)
        raise
    if child.returncode == 0:
        return
    if out.strip():
        raise reported_error(out.decode().splitlines()[-1])
    raise Internal(
        f"migrating the database failed: the migration process ended with status {child.returncode}"
    )


def error_report(error: DirigentError) -> str:
    """`error` as one line of JSON, for `reported_error` in the parent process."""
    committed = error.may_have_committed if isinstance(error, StoreUnavailable) else None
    kind = type(error).__name__
    return json.dumps({"kind": kind, "message": error.message, "may_have_committed": committed})


def reported_error(line: str) -> DirigentError:
    """The error that `error_report` wrote."""
    report = json.loads(line)
    if report["kind"] == StoreUnavailable.__name__:
        return StoreUnavailable(report["message"], may_have_committed=report["may_have_committed"])
    return _REPORTED.get(report["kind"], Internal)(report["message"])


async def _run_alembic(db: Database) -> None:
    def run(connection: Connection) -> None:
        from alembic import command  # here, not at the top: only to migrate

        db.dialect.lock_migrations(connection)
        command.upgrade(alembic_config(connection), "head")

    try:
        await db.transaction(run)
    except (SQLAlchemyError, OSError) as exc:
        raise translate(exc, db.dialect, committing=False) from exc


def _at_head(connection: Connection) -> bool:
    """Whether the database's schema is at `HEAD` already (a new database has no version table)."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.execute(_VERSION).scalars().all() == [HEAD]
