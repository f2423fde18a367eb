"""Workflows: revisions, optimistic updates, flags, listing, and deleting exactly what is theirs."""

from __future__ import annotations

import pytest

from dirigent.errors import Conflict, NotFound
from dirigent.store import Commit, Store
from dirigent.store.records import LogEntry, Variable, VariableRef, WorkflowRecord
from tests.store.support import T0, at, instance, item, started, workflow


@pytest.fixture
async def ns(store: Store) -> Store:
    await store.create_namespace("ns", T0)
    return store


async def test_create_stores_revision_zero(ns: Store) -> None:
    record = WorkflowRecord(
        namespace="ns",
        id="flows/hello.yaml",
        revision=7,  # ignored: a new workflow starts at 0
        source=b"states:\n- id: a\n",
        active=False,
        description="hello",
        created_at=at(1),
        updated_at=at(1),
        log_to_events="my.logger",
    )
    created = await ns.create_workflow(record)
    expected = WorkflowRecord(
        namespace="ns",
        id="flows/hello.yaml",
        revision=0,
        source=b"states:\n- id: a\n",
        active=False,
        description="hello",
        created_at=at(1),
        updated_at=at(1),
        log_to_events="my.logger",
    )
    assert created == expected
    assert await ns.get_workflow("ns", "flows/hello.yaml") == expected
    assert await ns.get_workflow("ns", "flows/hello.yaml", 0) == expected
    assert await ns.get_workflow("ns", "flows/hello.yaml", 1) is None
    assert await ns.get_workflow("ns", "flows/other.yaml") is None
    assert await ns.get_workflow("ns2", "flows/hello.yaml") is None


async def test_create_needs_the_namespace_and_a_new_id(ns: Store) -> None:
    with pytest.raises(NotFound, match="namespace 'nope'"):
        await ns.create_workflow(workflow("nope", "wf"))
    await ns.create_workflow(workflow("ns", "wf", b"first"))
    with pytest.raises(Conflict, match="'wf' exists already"):
        await ns.create_workflow(workflow("ns", "wf", b"second"))
    found = await ns.get_workflow("ns", "wf")
    assert found is not None
    assert found.source == b"first"


async def test_updates_add_revisions_and_keep_old_ones(ns: Store) -> None:
    await ns.create_workflow(workflow("ns", "wf", b"v0"))
    one = await ns.update_workflow("ns", "wf", source=b"v1", description="d1", now=at(10))
    two = await ns.update_workflow(
        "ns", "wf", source=b"v2", description="d2", now=at(20), expected_revision=1
    )
    assert (one.revision, one.source, one.description, one.updated_at) == (1, b"v1", "d1", at(10))
    assert (two.revision, two.source, two.description, two.updated_at) == (2, b"v2", "d2", at(20))
    assert two.created_at == T0  # the workflow's creation, not the revision's

    assert await ns.get_workflow("ns", "wf") == two
    old = await ns.get_workflow("ns", "wf", 0)
    assert old is not None
    assert (old.revision, old.source, old.updated_at, old.created_at) == (0, b"v0", T0, T0)
    assert await ns.get_workflow("ns", "wf", 1) == one
    assert await ns.get_workflow("ns", "wf", 3) is None


async def test_expected_revision_must_be_the_latest(ns: Store) -> None:
    await ns.create_workflow(workflow("ns", "wf", b"v0"))
    await ns.update_workflow("ns", "wf", source=b"v1", description="", now=at(1))
    with pytest.raises(Conflict, match="revision 1, not 0"):
        await ns.update_workflow(
            "ns", "wf", source=b"lost", description="", now=at(2), expected_revision=0
        )
    latest = await ns.get_workflow("ns", "wf")
    assert latest is not None
    assert (latest.revision, latest.source) == (1, b"v1")
    assert await ns.get_workflow("ns", "wf", 2) is None


async def test_update_missing_is_not_found(ns: Store) -> None:
    with pytest.raises(NotFound):
        await ns.update_workflow("ns", "wf", source=b"", description="", now=T0)
    with pytest.raises(NotFound):
        await ns.update_workflow(
            "ns", "wf", source=b"", description="", now=T0, expected_revision=0
        )


async def test_flags_change_without_a_revision(ns: Store) -> None:
    await ns.create_workflow(workflow("ns", "wf", b"v0"))
    await ns.update_workflow("ns", "wf", source=b"v1", description="", now=at(1))

    off = await ns.set_workflow_flags("ns", "wf", active=False, log_to_events=None)
    assert (off.revision, off.active, off.log_to_events, off.source) == (1, False, "", b"v1")
    logged = await ns.set_workflow_flags("ns", "wf", active=None, log_to_events="ev")
    assert (logged.active, logged.log_to_events) == (False, "ev")
    same = await ns.set_workflow_flags("ns", "wf", active=None, log_to_events=None)
    assert same == logged
    assert await ns.get_workflow("ns", "wf") == logged
    # Flags belong to the workflow, so old revisions show them too.
    old = await ns.get_workflow("ns", "wf", 0)
    assert old is not None
    assert (old.active, old.log_to_events, old.source) == (False, "ev", b"v0")
    with pytest.raises(NotFound):
        await ns.set_workflow_flags("ns", "nope", active=True, log_to_events=None)


async def test_list_latest_revisions_by_id_with_paging(ns: Store) -> None:
    await ns.create_namespace("other", T0)
    for name in ("c", "a", "b", "ab"):
        await ns.create_workflow(workflow("ns", name))
    await ns.create_workflow(workflow("other", "zz"))
    await ns.update_workflow("ns", "b", source=b"b1", description="", now=at(1))

    everything, total = await ns.list_workflows("ns")
    assert total == 4
    assert [(w.id, w.revision) for w in everything] == [("a", 0), ("ab", 0), ("b", 1), ("c", 0)]
    assert everything[2].source == b"b1"
    page, total = await ns.list_workflows("ns", offset=1, limit=2)
    assert ([w.id for w in page], total) == (["ab", "b"], 4)
    page, total = await ns.list_workflows("ns", offset=4)
    assert (page, total) == ([], 4)
    assert await ns.list_workflows("empty") == ([], 0)


async def test_delete_missing_is_not_found(ns: Store) -> None:
    with pytest.raises(NotFound):
        await ns.delete_workflow("ns", "wf")


async def test_delete_removes_exactly_its_own(ns: Store) -> None:
    """Deleting `ab` keeps `abc`'s and the namespace's things (2021 deleted them by prefix)."""
    for name in ("ab", "abc"):
        await ns.create_workflow(workflow("ns", name))
        await ns.update_workflow("ns", name, source=b"v1", description="", now=at(1))
        await ns.set_variable(VariableRef("workflow", "k", "ns", name), Variable(name.encode()))
        await started(ns, f"{name}-i", workflow=name)
        iref = VariableRef("instance", "k", "ns", name, f"{name}-i")
        await ns.commit(
            Commit(
                instance(f"{name}-i", workflow=name),
                removed=("start",),
                inbox=(item(f"{name}-i", "timer", due=60 if name == "ab" else 90),),
                variables=((iref, Variable(b"i")),),
                logs=(LogEntry(f"{name}-i", T0, f"log of {name}"),),
            ),
            "s1",
        )
    await ns.set_variable(VariableRef("namespace", "k", "ns"), Variable(b"namespace"))

    await ns.delete_workflow("ns", "ab")

    assert await ns.get_workflow("ns", "ab") is None
    assert await ns.get_workflow("ns", "ab", 0) is None
    assert await ns.load_instance("ab-i") is None
    assert await ns.list_logs("ab-i") == []
    assert await ns.list_variables("ns", "workflow", "ab") == []
    assert await ns.list_variables("ns", "instance", "ab", "ab-i") == []
    assert await ns.next_due("s1", at(0)) == at(90)  # ab's timer is gone, abc's is left
    assert not await ns.has_pending_instance("ns", "ab")

    kept = await ns.get_workflow("ns", "abc")
    assert kept is not None
    assert kept.revision == 1
    assert await ns.load_instance("abc-i") is not None
    assert [e.message for e in await ns.list_logs("abc-i")] == ["log of abc"]
    assert await ns.get_variable(VariableRef("workflow", "k", "ns", "abc")) == Variable(b"abc")
    assert await ns.get_variable(VariableRef("instance", "k", "ns", "abc", "abc-i")) == Variable(
        b"i"
    )
    assert await ns.get_variable(VariableRef("namespace", "k", "ns")) == Variable(b"namespace")
    assert [w.id for w in (await ns.list_workflows("ns"))[0]] == ["abc"]

    # Made again, it starts over at revision 0.
    again = await ns.create_workflow(workflow("ns", "ab", b"new"))
    assert (again.revision, again.source) == (0, b"new")
