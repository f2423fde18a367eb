"""Migrations run only when needed: a database at `HEAD` opens without importing Alembic."""

from __future__ import annotations

import asyncio
import sys

from alembic.script import ScriptDirectory

from dirigent.store.migrations import HEAD, alembic_config, migrate

_OPEN_AND_TELL = """
import asyncio, sys
from dirigent.store import open_store

async def main(url):
    store = await open_store(url)
    await store.aclose()

asyncio.run(main(sys.argv[1]))
print("alembic" in sys.modules)
"""


def test_head_is_the_newest_revision() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def test_a_current_database_opens_without_alembic(sql_url: str) -> None:
    await migrate(sql_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _OPEN_AND_TELL, sql_url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert out.decode().strip() == "False"
