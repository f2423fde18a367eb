"""`commit`: one step of an instance, all or nothing, only by the lease holder."""

from __future__ import annotations

import pytest

from dirigent.errors import Conflict, LeaseLost
from dirigent.store import Commit, MemoryStore, Store
from dirigent.store.records import LogEntry, Variable, VariableRef
from tests.store.support import LEASE, T0, at, instance, item, started


def iref(key: str, instance_id: str = "i1") -> VariableRef:
    return VariableRef("instance", key, "ns", "wf", instance_id)


def wref(key: str) -> VariableRef:
    return VariableRef("workflow", key, "ns", "wf")


async def _due(store: Store, instance_id: str, now: float = 3600) -> list[tuple[str, bytes]]:
    """The keys and triggers of an instance's items due by `now` (claimed by a neutral owner)."""
    for claim in await store.claim("probe", at(now), at(now) + LEASE, 100):
        if claim.instance.id == instance_id:
            return [(i.key, i.trigger) for i in claim.due]
    return []


async def test_commit_applies_every_part(store: Store) -> None:
    await started(store, "i1")
    await store.set_variable(iref("gone"), Variable(b"x"))
    await store.add_inbox((item("i1", "keep", due=50), item("i1", "drop", due=50)))
    await store.commit(
        Commit(
            instance("i1", record=b'{"step":1}'),
            removed=("start", "drop", "never-there"),
            inbox=(
                item("i1", "timer", due=60, trigger=b"t1"),
                item("i1", "keep", due=70, trigger=b"k2"),
            ),
            variables=(
                (iref("a"), Variable(b"1", "application/json")),
                (wref("w"), Variable(b"2")),
                (iref("gone"), None),
            ),
            logs=(LogEntry("i1", at(1), "one", state="s"), LogEntry("i1", at(1), "two")),
        ),
        "s1",
    )
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b'{"step":1}'
    assert loaded.status == "pending"
    assert await store.get_variable(iref("a")) == Variable(b"1", "application/json")
    assert await store.get_variable(wref("w")) == Variable(b"2")
    assert await store.get_variable(iref("gone")) is None
    assert [(e.message, e.state) for e in await store.list_logs("i1")] == [
        ("one", "s"),
        ("two", None),
    ]
    assert await store.next_due("s1", at(0)) == at(60)
    await store.release_leases("s1")
    assert await _due(store, "i1") == [("timer", b"t1"), ("keep", b"k2")]


async def test_commit_keeps_what_an_instance_cannot_change(store: Store) -> None:
    await store.create_instance(
        instance("i1", created=5, revision=2, invoked_by="api"), (item("i1", "start"),)
    )
    await store.claim("s1", at(10), at(10) + LEASE, 10)
    await store.commit(
        Commit(instance("i1", created=99, namespace="ns", record=b"new", invoked_by="x")), "s1"
    )
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert (loaded.created_at, loaded.revision, loaded.invoked_by, loaded.record) == (
        at(5),
        2,
        "api",
        b"new",
    )


async def test_without_the_lease_nothing_is_written(store: Store) -> None:
    await store.create_instance(instance("i1", record=b"original"), (item("i1", "start"),))
    whole = Commit(
        instance("i1", record=b"changed", status="complete", ended_at=at(1)),
        removed=("start",),
        inbox=(item("i1", "timer", due=1),),
        children=(instance("child"),),
        variables=((wref("w"), Variable(b"x")),),
        logs=(LogEntry("i1", at(1), "never"),),
        release=True,
    )
    with pytest.raises(LeaseLost):
        await store.commit(whole, "s1")  # nobody holds it
    await store.claim("s2", at(0), at(0) + LEASE, 10)
    with pytest.raises(LeaseLost):
        await store.commit(whole, "s1")  # another server holds it
    with pytest.raises(LeaseLost):
        await store.commit(Commit(instance("ghost")), "s1")

    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert (loaded.record, loaded.status) == (b"original", "pending")
    assert await store.load_instance("child") is None
    assert await store.get_variable(wref("w")) is None
    assert await store.list_logs("i1") == []
    await store.release_leases("s2")
    assert await _due(store, "i1") == [("start", b'{"t":1}')]


async def test_memory_listeners_hear_nothing_of_a_lost_commit() -> None:
    store = MemoryStore()
    heard: list[LogEntry] = []
    store.add_log_listener(heard.append)
    await store.create_instance(instance("i1"), ())
    with pytest.raises(LeaseLost):
        await store.commit(Commit(instance("i1"), logs=(LogEntry("i1", T0, "x"),)), "s1")
    assert heard == []


async def test_a_child_id_that_exists_fails_the_whole_commit(store: Store) -> None:
    await started(store, "i1")
    await store.create_instance(instance("taken", record=b"theirs"), ())
    with pytest.raises(Conflict):
        await store.commit(
            Commit(
                instance("i1", record=b"changed"),
                removed=("start",),
                children=(instance("fresh"), instance("taken", record=b"mine")),
                variables=((wref("w"), Variable(b"x")),),
                logs=(LogEntry("i1", at(1), "never"),),
            ),
            "s1",
        )
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"{}"
    taken = await store.load_instance("taken")
    assert taken is not None
    assert taken.record == b"theirs"
    assert await store.load_instance("fresh") is None
    assert await store.get_variable(wref("w")) is None
    assert await store.list_logs("i1") == []


async def test_children_are_created_with_their_first_triggers(store: Store) -> None:
    await started(store, "parent")
    await store.commit(
        Commit(
            instance("parent"),
            removed=("start",),
            children=(
                instance("c1", workflow="sub", created=1),
                instance("c2", workflow="sub", created=2),
            ),
            inbox=(item("c1", "start", due=1), item("c2", "start", due=1)),
        ),
        "s1",
    )
    for child in ("c1", "c2"):
        loaded = await store.load_instance(child)
        assert loaded == instance(child, workflow="sub", created=int(child[1]))
    claims = await store.claim("s2", at(1), at(1) + LEASE, 10)
    assert [(c.instance.id, [i.key for i in c.due]) for c in claims] == [
        ("c1", ["start"]),
        ("c2", ["start"]),
    ]


async def test_a_child_reports_to_its_parent_unless_the_parent_ended(store: Store) -> None:
    await started(store, "parent")
    await store.commit(
        Commit(
            instance("parent"),
            removed=("start",),
            children=(instance("child"),),
            inbox=(item("child", "start"),),
        ),
        "s1",
    )
    await store.claim("s1", at(1), at(1) + LEASE, 10)  # takes the child
    await store.commit(
        Commit(
            instance("child", status="complete", ended_at=at(2)),
            inbox=(item("parent", "child:done", due=2, trigger=b"ok"),),
            release=True,
        ),
        "s1",
    )
    assert await store.next_due("s1", at(0)) == at(2)
    await store.commit(
        Commit(instance("parent", status="failed", ended_at=at(3)), removed=("child:done",)),
        "s1",
    )
    await store.add_inbox((item("parent", "late", due=4),))  # the parent has ended: dropped
    assert await store.next_due("s1", at(0)) is None


async def test_the_end_of_an_instance_clears_its_inbox_and_instance_variables(store: Store) -> None:
    await started(store, "i1")
    await started(store, "i2")
    await store.set_variable(iref("a"), Variable(b"1"))
    await store.set_variable(iref("a", "i2"), Variable(b"2"))
    await store.set_variable(wref("w"), Variable(b"3"))
    await store.add_inbox((item("i1", "timer", due=60), item("i2", "timer", due=90)))
    ended = instance("i1", status="failed", ended_at=at(5), error_code="x.y", error_message="bad")
    await store.commit(
        Commit(
            ended,
            inbox=(item("i1", "more", due=70),),
            variables=((iref("b"), Variable(b"set as it ends")),),
        ),
        "s1",
    )
    assert await store.load_instance("i1") == ended
    assert await store.list_variables("ns", "instance", "wf", "i1") == []
    assert await store.get_variable(iref("a", "i2")) == Variable(b"2")
    assert await store.get_variable(wref("w")) == Variable(b"3")
    assert await store.next_due("s1", at(0)) == at(0)  # i2's start; i1's items are all gone
    await store.release_leases("s1")
    assert await _due(store, "i1") == []
    assert [k for k, _ in await _due(store, "i2")] == ["start", "timer"]


async def test_release_gives_the_lease_up(store: Store) -> None:
    await started(store, "i1")
    await store.commit(
        Commit(instance("i1"), removed=("start",), inbox=(item("i1", "t", due=10),), release=True),
        "s1",
    )
    with pytest.raises(LeaseLost):
        await store.commit(Commit(instance("i1")), "s1")
    claims = await store.claim("s2", at(10), at(10) + LEASE, 10)
    assert [(c.instance.id, c.orphaned, [i.key for i in c.due]) for c in claims] == [
        ("i1", False, ["t"])
    ]


async def test_a_run_out_lease_still_commits_until_taken_over(store: Store) -> None:
    await started(store, "i1")
    # The lease ran out (at 30) but nobody took it: the holder may still write.
    await store.commit(Commit(instance("i1", record=b"late")), "s1")
    claims = await store.claim("s2", at(100), at(100) + LEASE, 10)
    assert [(c.instance.id, c.orphaned) for c in claims] == [("i1", True)]
    with pytest.raises(LeaseLost):
        await store.commit(Commit(instance("i1", record=b"too late")), "s1")
    loaded = await store.load_instance("i1")
    assert loaded is not None
    assert loaded.record == b"late"


async def test_parts_touching_the_same_rows_end_as_if_written_in_order(store: Store) -> None:
    await started(store, "i1")
    await store.add_inbox((item("i1", "t1", due=50, trigger=b"old"),))
    await store.set_variable(wref("gone"), Variable(b"x"))
    await store.commit(
        Commit(
            instance("i1"),
            # `t1` is removed and set again: the new item stands; `start` is removed twice.
            removed=("start", "t1", "start"),
            inbox=(
                item("i1", "t1", due=60, trigger=b"first"),
                item("i1", "t1", due=70, trigger=b"second"),  # the later item of a key wins
                item("i1", "t2", due=80, trigger=b"t2"),
            ),
            variables=(
                (wref("w"), Variable(b"1")),
                (wref("w"), Variable(b"2", "text/plain")),  # the later write wins
                (wref("a"), Variable(b"1")),
                (wref("a"), None),  # set, then deleted
                (wref("b"), None),
                (wref("b"), Variable(b"3")),  # deleted, then set
                (wref("gone"), None),
            ),
            logs=(LogEntry("i1", at(1), "one"),),
        ),
        "s1",
    )
    assert await store.get_variable(wref("w")) == Variable(b"2", "text/plain")
    assert await store.get_variable(wref("a")) is None
    assert await store.get_variable(wref("b")) == Variable(b"3")
    assert await store.get_variable(wref("gone")) is None
    assert await store.next_due("s1", at(0)) == at(70)
    await store.release_leases("s1")
    assert await _due(store, "i1") == [("t1", b"second"), ("t2", b"t2")]


async def test_one_row_of_each_part(store: Store) -> None:
    """A usual step: one of everything (PostgreSQL writes single rows differently from several)."""
    await started(store, "parent")
    await started(store, "other")
    await store.set_variable(wref("old"), Variable(b"x"))
    await store.commit(
        Commit(
            instance("parent", record=b"one"),
            removed=("start",),
            children=(instance("child"),),
            inbox=(item("other", "note", due=5, trigger=b"n"),),  # another instance, pending
            variables=((iref("v", "parent"), Variable(b"1")),),
            logs=(LogEntry("parent", at(1), "only line", state="s", action_id="a"),),
        ),
        "s1",
    )
    await store.commit(Commit(instance("parent"), variables=((wref("old"), None),)), "s1")
    loaded = await store.load_instance("parent")
    assert loaded is not None
    assert loaded.record == b"{}"
    assert await store.load_instance("child") == instance("child")
    assert await store.get_variable(iref("v", "parent")) == Variable(b"1")
    assert await store.get_variable(wref("old")) is None
    assert await store.list_logs("parent") == [
        LogEntry("parent", at(1), "only line", state="s", action_id="a")
    ]
    await store.release_leases("s1")
    assert await _due(store, "parent") == []
    assert await _due(store, "other") == [("start", b'{"t":1}'), ("note", b"n")]


async def test_several_rows_of_each_part(store: Store) -> None:
    await started(store, "parent")
    await started(store, "p2")
    await store.create_instance(instance("ended", status="complete", ended_at=at(0)), ())
    for key in ("x", "y", "z"):
        await store.set_variable(wref(key), Variable(key.encode()))
    await store.commit(
        Commit(
            instance("parent"),
            removed=("start", "never-there"),
            children=(instance("c1", created=1), instance("c2", created=2)),
            inbox=(
                item("c1", "start", due=1),
                item("c2", "start", due=2),
                item("p2", "note", due=3, trigger=b"kept"),  # pending: kept
                item("ended", "note", due=3),  # ended: dropped
                item("nobody", "note", due=3),  # does not exist: dropped
            ),
            variables=(
                (wref("x"), None),
                (wref("y"), None),
                (wref("new1"), Variable(b"1")),
                (wref("new2"), Variable(b"2")),
            ),
            logs=tuple(LogEntry("parent", at(n), f"line {n}") for n in range(30)),
        ),
        "s1",
    )
    assert [r.key for r, _, _ in await store.list_variables("ns", "workflow", "wf")] == [
        "new1",
        "new2",
        "z",
    ]
    assert [e.message for e in await store.list_logs("parent")] == [f"line {n}" for n in range(30)]
    await store.release_leases("s1")
    claims = await store.claim("s2", at(10), at(10) + LEASE, 10)
    assert [(c.instance.id, [(i.key, i.trigger) for i in c.due]) for c in claims] == [
        ("p2", [("start", b'{"t":1}'), ("note", b"kept")]),
        ("c1", [("start", b'{"t":1}')]),
        ("c2", [("start", b'{"t":1}')]),
    ]


async def test_without_the_lease_a_taken_child_id_is_no_conflict(store: Store) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),))
    await store.create_instance(instance("taken"), ())
    with pytest.raises(LeaseLost):
        await store.commit(Commit(instance("i1"), children=(instance("taken"),)), "s1")
