"""Instances: create, load, list newest first with filters and paging, pending checks, inbox adds."""

from __future__ import annotations

import pytest

from dirigent.errors import Conflict, InvalidInput
from dirigent.store import Store
from dirigent.store.records import InstanceSummary, StoredInstance
from tests.store.support import LEASE, at, instance, item


async def test_create_and_load_every_field(store: Store) -> None:
    full = StoredInstance(
        id="i1",
        namespace="ns",
        workflow="flows/wf.yaml",
        status="pending",
        record=b'{"big": "' + b"x" * 100_000 + b'"}',
        revision=3,
        invoked_by="api",
        created_at=at(1),
        ended_at=None,
        error_code=None,
        error_message=None,
    )
    await store.create_instance(full, ())
    assert await store.load_instance("i1") == full
    assert await store.load_instance("i2") is None


async def test_create_an_ended_instance_with_its_error(store: Store) -> None:
    failed = instance(
        "i1", status="failed", ended_at=at(2), error_code="direktiv.x", error_message="boom"
    )
    await store.create_instance(failed, (item("i1", "start"),))
    assert await store.load_instance("i1") == failed
    assert await store.claim("s1", at(10), at(10) + LEASE, 10) == []  # ended: its item was dropped


async def test_create_twice_conflicts_and_changes_nothing(store: Store) -> None:
    await store.create_instance(instance("i1", record=b"first"), (item("i1", "start", due=5),))
    with pytest.raises(Conflict, match="'i1' exists already"):
        await store.create_instance(
            instance("i1", record=b"second"), (item("i1", "start", due=1), item("i1", "x"))
        )
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"first"
    claims = await store.claim("s1", at(10), at(10) + LEASE, 10)
    assert [(i.key, i.due_at) for i in claims[0].due] == [("start", at(5))]


async def test_create_needs_a_creation_time(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.create_instance(StoredInstance("i1", "ns", "wf", "pending", b"{}"), ())
    assert await store.load_instance("i1") is None


def _summary(instance_id: str, workflow: str, status: str, created: float) -> InstanceSummary:
    return InstanceSummary(
        id=instance_id,
        namespace="ns",
        workflow=workflow,
        revision=0,
        status=status,
        invoked_by="",
        created_at=at(created),
        ended_at=None,
        error_code=None,
        error_message=None,
    )


@pytest.fixture
async def many(store: Store) -> Store:
    rows = [
        ("a1", "a", "pending", 1),
        ("a2", "a", "complete", 2),
        ("b1", "b", "pending", 3),
        ("a3", "a", "failed", 4),
        ("b2", "b", "complete", 5),
        ("a4", "a", "pending", 5),  # same time as b2: the id decides
    ]
    for instance_id, wf, status, created in rows:
        await store.create_instance(
            instance(instance_id, workflow=wf, status=status, created=created), ()
        )
    await store.create_instance(instance("x1", namespace="ns2", created=9), ())
    return store


async def test_list_newest_first_with_total(many: Store) -> None:
    found, total = await many.list_instances("ns")
    assert total == 6
    assert [s.id for s in found] == ["b2", "a4", "a3", "b1", "a2", "a1"]
    assert found[0] == _summary("b2", "b", "complete", 5)


async def test_list_filters_and_pages(many: Store) -> None:
    by_workflow, total = await many.list_instances("ns", workflow="a")
    assert ([s.id for s in by_workflow], total) == (["a4", "a3", "a2", "a1"], 4)
    by_status, total = await many.list_instances("ns", status="pending")
    assert ([s.id for s in by_status], total) == (["a4", "b1", "a1"], 3)
    both, total = await many.list_instances("ns", workflow="a", status="pending")
    assert ([s.id for s in both], total) == (["a4", "a1"], 2)
    page, total = await many.list_instances("ns", offset=2, limit=3)
    assert ([s.id for s in page], total) == (["a3", "b1", "a2"], 6)
    page, total = await many.list_instances("ns", workflow="b", offset=2)
    assert (page, total) == ([], 2)
    assert await many.list_instances("ns", workflow="ab") == ([], 0)
    assert await many.list_instances("nope") == ([], 0)


async def test_has_pending_instance(many: Store) -> None:
    assert await many.has_pending_instance("ns", "a")
    assert await many.has_pending_instance("ns", "b")
    assert not await many.has_pending_instance("ns", "c")
    assert not await many.has_pending_instance("ns2", "a")
    await many.create_instance(instance("c1", workflow="c", status="complete"), ())
    assert not await many.has_pending_instance("ns", "c")


async def test_add_inbox_upserts_by_key_and_drops_items_of_ended_or_unknown(store: Store) -> None:
    await store.create_instance(instance("live"), ())
    await store.create_instance(instance("done", status="complete"), ())
    await store.add_inbox(
        (
            item("live", "cancel", due=3, trigger=b"old"),
            item("live", "timer", due=2),
            item("done", "cancel"),
            item("ghost", "cancel"),
        )
    )
    await store.add_inbox((item("live", "cancel", due=1, trigger=b"new"),))
    await store.add_inbox(())

    claims = await store.claim("s1", at(10), at(10) + LEASE, 10)
    assert [c.instance.id for c in claims] == ["live"]
    assert claims[0].due == (
        item("live", "cancel", due=1, trigger=b"new"),
        item("live", "timer", due=2),
    )
    assert await store.load_instance("ghost") is None
