"""Where each figure keeps its data: a fresh database of the kind asked for, gone afterwards.

* `sqlite`: a new file in a temporary folder on disk (not /dev/shm: commits are real writes);
* `postgres`: a new database on the server at `DIRIGENT_BENCH_POSTGRES` (default: the machine's,
  `postgresql://postgres@127.0.0.1:5432/test`), dropped at the end;
* `memory`: Dirigent's in-memory store (`memory://`), and no commits at all for the floor.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import asyncpg
from sqlalchemy.engine import make_url

Kind = Literal["sqlite", "postgres", "memory"]
KINDS: tuple[Kind, ...] = ("sqlite", "postgres", "memory")
POSTGRES = os.environ.get("DIRIGENT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def connect_postgres(url: str = POSTGRES) -> asyncpg.Connection:
    """One connection to the PostgreSQL database at `url` (a Dirigent-style URL)."""
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        timeout=5,
    )


async def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used (None if it can)."""
    try:
        connection = await connect_postgres()
    except (OSError, asyncpg.PostgresError) as error:
        return f"PostgreSQL not reachable at {POSTGRES} ({error}); set DIRIGENT_BENCH_POSTGRES"
    await connection.close()
    return None


@asynccontextmanager
async def fresh_database(kind: Kind) -> AsyncIterator[str]:
    """A new empty database of `kind`; yields Dirigent's URL for it (`open_store` takes it)."""
    if kind == "memory":
        yield "memory://"
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dirigent-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        name = f"dirigent_bench_{secrets.token_hex(4)}"
        admin = await connect_postgres()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
