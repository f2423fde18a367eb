"""Instance logs: appended in order, paged, with their attribution; listeners of the memory store."""

from __future__ import annotations

from dirigent.store import Commit, MemoryStore, Store
from dirigent.store.records import LogEntry
from tests.store.support import at, instance, started


async def test_order_fields_and_paging(store: Store) -> None:
    entries = [
        LogEntry("i1", at(5), "entering state", state="first"),
        LogEntry("i1", at(1), "function says hi", state="first", action_id="a1"),  # earlier time
        LogEntry("i1", at(6), "with extra", extra={"level": "debug", "k": "v"}),
        LogEntry("i1", at(6), "same time, later"),
    ]
    for entry in entries:
        await store.append_log(entry)
    await store.append_log(LogEntry("i2", at(2), "other instance"))

    assert await store.list_logs("i1") == entries  # appended order, not time order
    assert await store.list_logs("i1", offset=1, limit=2) == entries[1:3]
    assert await store.list_logs("i1", offset=3) == entries[3:]
    assert await store.list_logs("i1", offset=4) == []
    assert await store.list_logs("i1", limit=0) == []
    assert await store.list_logs("i2") == [LogEntry("i2", at(2), "other instance")]
    assert await store.list_logs("i3") == []


async def test_many_lines_keep_their_order(store: Store) -> None:
    for n in range(250):
        await store.append_log(LogEntry("i1", at(0), f"line {n}"))
    lines = [e.message for e in await store.list_logs("i1", offset=100, limit=120)]
    assert lines == [f"line {n}" for n in range(100, 220)]


async def test_memory_listeners_see_appended_and_committed_lines() -> None:
    store = MemoryStore()
    seen: list[str] = []
    store.add_log_listener(lambda entry: seen.append(entry.message))
    await store.append_log(LogEntry("i0", at(0), "direct"))
    await started(store, "i1")
    await store.commit(
        Commit(
            instance("i1"),
            logs=(LogEntry("i1", at(1), "first"), LogEntry("i1", at(1), "second")),
        ),
        "s1",
    )
    assert seen == ["direct", "first", "second"]
    assert [e.message for e in store.logs("i1")] == ["first", "second"]
