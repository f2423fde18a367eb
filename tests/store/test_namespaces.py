"""Namespaces: create, read, list, delete (with everything in them, and nothing of others)."""

from __future__ import annotations

import pytest

from dirigent.errors import Conflict, NotFound
from dirigent.store import Commit, Store
from dirigent.store.records import LogEntry, Namespace, Variable, VariableRef
from tests.store.support import T0, at, instance, item, started, workflow


async def test_create_get_and_list_by_name(store: Store) -> None:
    assert await store.create_namespace("zeta", at(1)) == Namespace("zeta", at(1))
    await store.create_namespace("alpha", at(2))
    await store.create_namespace("alpha-2", at(3))
    assert await store.get_namespace("zeta") == Namespace("zeta", at(1))
    assert await store.get_namespace("missing") is None
    assert [n.name for n in await store.list_namespaces()] == ["alpha", "alpha-2", "zeta"]


async def test_create_twice_conflicts_and_keeps_the_first(store: Store) -> None:
    await store.create_namespace("ns", at(1))
    with pytest.raises(Conflict, match="'ns' exists already"):
        await store.create_namespace("ns", at(2))
    assert await store.get_namespace("ns") == Namespace("ns", at(1))


async def test_delete_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.delete_namespace("ns")


async def test_delete_removes_everything_in_it_and_nothing_else(store: Store) -> None:
    for name in ("ns", "ns2"):
        await store.create_namespace(name, T0)
        await store.create_workflow(workflow(name, "wf"))
        await store.set_sealed("secret", name, "token", b"sealed")
        await store.set_variable(VariableRef("namespace", "k", name), Variable(b"n"))
        await store.set_variable(VariableRef("workflow", "k", name, "wf"), Variable(b"w"))
        await started(store, f"{name}-i", namespace=name)
        ref = VariableRef("instance", "k", name, "wf", f"{name}-i")
        await store.commit(
            Commit(
                instance(f"{name}-i", namespace=name),
                removed=("start",),
                inbox=(item(f"{name}-i", "timer", due=60),),
                variables=((ref, Variable(b"i")),),
                logs=(LogEntry(f"{name}-i", T0, "hello"),),
            ),
            "s1",
        )

    await store.delete_namespace("ns")

    assert await store.get_namespace("ns") is None
    assert await store.get_workflow("ns", "wf") is None
    assert await store.list_workflows("ns") == ([], 0)
    assert await store.load_instance("ns-i") is None
    assert await store.list_instances("ns") == ([], 0)
    assert await store.list_logs("ns-i") == []
    assert await store.list_sealed("secret", "ns") == []
    for scope, wf, iid in (
        ("namespace", "", ""),
        ("workflow", "wf", ""),
        ("instance", "wf", "ns-i"),
    ):
        assert await store.list_variables("ns", scope, wf, iid) == []
    assert await store.next_due("s1", at(3600)) == at(60)  # only ns2's timer is left

    # ns2 is untouched.
    assert await store.get_workflow("ns2", "wf") is not None
    assert await store.get_sealed("secret", "ns2", "token") == b"sealed"
    assert await store.get_variable(VariableRef("namespace", "k", "ns2")) == Variable(b"n")
    assert await store.get_variable(VariableRef("workflow", "k", "ns2", "wf")) == Variable(b"w")
    ref2 = VariableRef("instance", "k", "ns2", "wf", "ns2-i")
    assert await store.get_variable(ref2) == Variable(b"i")
    assert [e.message for e in await store.list_logs("ns2-i")] == ["hello"]

    # The name can be used again, starting empty.
    await store.create_namespace("ns", at(9))
    assert await store.list_sealed("secret", "ns") == []
