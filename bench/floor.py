"""The floor: the work of a state done by a plain loop, without the engine.

The same jq programs through the same `jq` binding (compiled once, data in as JSON text as Dirigent
does), the same aiohttp client to the same echo function, and the same kind of commit: on SQLite a
transaction on a WAL database with `synchronous=NORMAL` (Dirigent's settings), on PostgreSQL one
upsert statement (its own transaction), each writing a row of the size of an instance record.
Nothing here is durable beyond that: no leases, no inbox, no recovery. That is the point.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol

import aiohttp
import asyncpg
import jq
import orjson
from sqlalchemy.engine import make_url

from bench.databases import connect_postgres
from bench.workflows import ACTION_INPUT, ACTION_TRANSFORM

#: Filler standing for what an instance record holds besides its data (ids, state, times, flow), so
#: that a floor row is as large as the engine's record of the action chain (about 470 bytes).
RECORD_PADDING = b"x" * 420

_UPSERT = (
    "INSERT INTO floor_steps (id, step, record) VALUES ({0}, {1}, {2}) ON CONFLICT (id) DO "
    "UPDATE SET step = excluded.step, record = excluded.record"
)
_TABLE = "CREATE TABLE IF NOT EXISTS floor_steps (id TEXT PRIMARY KEY, step INTEGER, record {0})"


class FloorStore(Protocol):
    async def commit(self, key: str, step: int, data: Any) -> None:
        """Durably write one row: `key`'s step `step` with its data."""

    async def aclose(self) -> None: ...


def record(key: str, data: Any) -> bytes:
    return orjson.dumps({"id": key, "data": data, "pad": RECORD_PADDING.decode()})


class SqliteFloor:
    """One connection used from the event loop itself: no thread, no pool, no ORM."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(_TABLE.format("BLOB"))
        self._sql = _UPSERT.format("?", "?", "?")

    async def commit(self, key: str, step: int, data: Any) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute(self._sql, (key, step, record(key, data)))
        self._db.execute("COMMIT")

    async def aclose(self) -> None:
        self._db.close()


class PostgresFloor:
    """A pool of asyncpg connections (as many as Dirigent's pool keeps), one statement a commit."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._sql = _UPSERT.format("$1", "$2", "$3")

    @classmethod
    async def open(cls, url: str) -> PostgresFloor:
        setup = await connect_postgres(url)
        await setup.execute(_TABLE.format("BYTEA"))
        await setup.close()
        parsed = make_url(url)
        pool = await asyncpg.create_pool(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
            min_size=1,
            max_size=10,
        )
        return cls(pool)

    async def commit(self, key: str, step: int, data: Any) -> None:
        await self._pool.execute(self._sql, key, step, record(key, data))

    async def aclose(self) -> None:
        await self._pool.close()


class NoFloorStore:
    """For `--store memory`: the engine commits to memory, the floor to nothing."""

    async def commit(self, key: str, step: int, data: Any) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def open_floor_store(url: str) -> FloorStore:
    """The floor's commit for a Dirigent database URL; a separate table beside the engine's."""
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return NoFloorStore()
    if scheme == "sqlite":
        return SqliteFloor(url.removeprefix("sqlite:///") + ".floor")
    return await PostgresFloor.open(url)


class Program:
    """One jq program compiled once, run the way Dirigent runs it (JSON text in, first result)."""

    def __init__(self, text: str) -> None:
        self._program = jq.compile(text)

    def first(self, data: Any) -> Any:
        return self._program.input_text(orjson.dumps(data).decode()).first()


class ActionFloor:
    """An action state by hand: input template, POST, transform, commit."""

    def __init__(self, session: aiohttp.ClientSession, url: str, store: FloorStore) -> None:
        self._session = session
        self._url = url
        self._store = store
        self._input = Program(ACTION_INPUT)
        self._transform = Program(ACTION_TRANSFORM)

    async def step(self, key: str, step: int, data: Any) -> Any:
        body = orjson.dumps(self._input.first(data))
        headers = {"Content-Type": "application/json"}
        async with self._session.post(self._url, data=body, headers=headers) as response:
            answer = orjson.loads(await response.read())
        data = self._transform.first({**data, "return": answer})
        await self._store.commit(key, step, data)
        return data

    async def run(self, key: str, states: int, data: Any) -> Any:
        """`states` action states one after the other, as one instance of the chain runs them."""
        for step in range(states):
            data = await self.step(key, step, data)
        return data
