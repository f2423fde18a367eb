"""Migrations keep Alembic out of the server: a child process migrates, errors come back the same."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from dirigent.errors import (
    Conflict,
    DirigentError,
    Internal,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    Unavailable,
)
from dirigent.store.migrations import (
    HEAD,
    alembic_config,
    error_report,
    migrate,
    migrate_in_child,
    reported_error,
)
from dirigent.store.sql import SqlStore
from tests.postgres import scratch_database
from tests.store.conftest import SQL_BACKENDS

_OPEN_AND_TELL = """
import asyncio, sys
from dirigent.store import open_store

async def main(url):
    store = await open_store(url)
    await store.aclose()

asyncio.run(main(sys.argv[1]))
print("alembic" in sys.modules)
"""


@pytest.fixture(params=SQL_BACKENDS)
def new_sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that no store has opened yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/new.db"
        return
    with scratch_database("dirigent_migrations") as url:
        yield url


async def _open_in_a_process_and_tell_if_alembic_is_loaded(url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPEN_AND_TELL, url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode().strip()


async def _versions(url: str) -> list[str]:
    def read(connection: Connection) -> list[str]:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())

    store = await SqlStore.open(url)
    try:
        return await store._db.read(read)
    finally:
        await store.aclose()


def test_head_is_the_newest_revision() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def test_a_process_opening_a_database_never_loads_alembic(new_sql_url: str) -> None:
    # A new database (migrated by a child process), then the same one at HEAD.
    assert await _open_in_a_process_and_tell_if_alembic_is_loaded(new_sql_url) == "False"
    assert await _versions(new_sql_url) == [HEAD]
    assert await _open_in_a_process_and_tell_if_alembic_is_loaded(new_sql_url) == "False"


async def _errors_here_and_in_a_child(url: str) -> tuple[DirigentError, DirigentError]:
    with pytest.raises(DirigentError) as here:
        await migrate(url)
    with pytest.raises(DirigentError) as child:
        await migrate_in_child(url)
    return here.value, child.value


async def test_a_store_error_in_the_child_is_raised_as_in_process(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "taken.db")) as db:
        db.execute("CREATE TABLE namespaces (x INTEGER)")  # unversioned: migration 0001 fails
    here, child = await _errors_here_and_in_a_child(f"sqlite:///{tmp_path}/taken.db")
    assert type(child) is type(here) is Internal
    assert child.message == here.message == "sqlite failed: table namespaces already exists"


async def test_an_unreachable_database_is_unavailable_in_the_child_too() -> None:
    here, child = await _errors_here_and_in_a_child("postgresql://nobody@127.0.0.1:1/nothing")
    assert isinstance(here, StoreUnavailable)
    assert isinstance(child, StoreUnavailable)
    assert type(child) is type(here)
    assert child.message == here.message
    assert child.message.startswith("postgresql is unavailable: ")
    assert child.may_have_committed is here.may_have_committed is False


async def test_another_failure_in_the_child_is_internal_with_its_traceback_on_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with closing(sqlite3.connect(tmp_path / "newer.db")) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
        db.commit()
    with pytest.raises(Internal) as failed:
        await migrate_in_child(f"sqlite:///{tmp_path}/newer.db")
    assert failed.value.message == (
        "migrating the database failed: the migration process ended with status 1"
    )
    assert "Can't locate revision identified by '9999'" in capfd.readouterr().err


@pytest.mark.parametrize(
    "error",
    [
        NotFound("n"),
        InvalidInput("i"),
        Conflict("c"),
        Unavailable("u"),
        Internal("x"),
        StoreUnavailable("s", may_have_committed=True),
        StoreUnavailable("s", may_have_committed=False),
    ],
)
def test_a_reported_error_is_the_same_error(error: DirigentError) -> None:
    again = reported_error(error_report(error))
    assert type(again) is type(error)
    assert again.message == error.message
    assert getattr(again, "may_have_committed", None) == getattr(error, "may_have_committed", None)
