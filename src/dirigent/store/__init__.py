"""Persistence: the abstract store and its implementations in memory, on SQLite and on PostgreSQL.

`open_store(url)` picks the implementation by URL; nothing outside `store/` knows which one it got.
"""

from __future__ import annotations

from dirigent.store.base import Claim, Commit, Store
from dirigent.store.memory import MemoryStore

__all__ = ["Claim", "Commit", "MemoryStore", "Store", "open_store"]


async def open_store(url: str) -> Store:
    """The store at `url`, ready to use; close it with `aclose()`.

    - `memory://`: in this process only, gone when it ends;
    - `sqlite:///path/to/file.db`: a file (parent folders are made), migrated to the newest schema;
    - `postgresql://user@host:port/db`: through asyncpg, migrated to the newest schema.

    Raises `InvalidInput` for other URLs and `StoreUnavailable` when the database cannot be reached.
    """
    if url.split(":", 1)[0].lower() == "memory":
        return MemoryStore()
    from dirigent.store.sql import SqlStore  # SQLAlchemy is loaded only for a durable store

    return await SqlStore.open(url)
