"""Variables: exact identities per scope (never prefixes), replace, delete, list."""

from __future__ import annotations

from dirigent.store import Store
from dirigent.store.records import Variable, VariableRef


def ns(key: str, namespace: str = "ns") -> VariableRef:
    return VariableRef("namespace", key, namespace)


def wf(key: str, workflow: str = "wf", namespace: str = "ns") -> VariableRef:
    return VariableRef("workflow", key, namespace, workflow)


def inst(key: str, instance_id: str = "i1", workflow: str = "wf") -> VariableRef:
    return VariableRef("instance", key, "ns", workflow, instance_id)


async def test_set_get_replace_delete(store: Store) -> None:
    assert await store.get_variable(ns("a")) is None
    await store.set_variable(ns("a"), Variable(b'{"x":1}', "application/json"))
    assert await store.get_variable(ns("a")) == Variable(b'{"x":1}', "application/json")
    await store.set_variable(ns("a"), Variable(b"plain", "text/plain"))
    assert await store.get_variable(ns("a")) == Variable(b"plain", "text/plain")
    await store.delete_variable(ns("a"))
    assert await store.get_variable(ns("a")) is None
    await store.delete_variable(ns("a"))  # deleting what is not there is fine


async def test_empty_data_is_a_value(store: Store) -> None:
    await store.set_variable(ns("empty"), Variable(b""))
    assert await store.get_variable(ns("empty")) == Variable(b"", "application/octet-stream")
    assert await store.list_variables("ns", "namespace") == [
        (ns("empty"), 0, "application/octet-stream")
    ]


async def test_scopes_and_owners_are_matched_exactly(store: Store) -> None:
    await store.set_variable(ns("k"), Variable(b"namespace"))
    await store.set_variable(wf("k", "ab"), Variable(b"ab"))
    await store.set_variable(wf("k", "abc"), Variable(b"abc"))
    await store.set_variable(inst("k", "i1", "ab"), Variable(b"i1"))
    await store.set_variable(inst("k", "i10", "ab"), Variable(b"i10"))
    await store.set_variable(ns("k", "ns2"), Variable(b"other namespace"))

    assert await store.get_variable(ns("k")) == Variable(b"namespace")
    assert await store.get_variable(wf("k", "ab")) == Variable(b"ab")
    assert await store.get_variable(wf("k", "abc")) == Variable(b"abc")
    assert await store.get_variable(wf("k", "a")) is None
    assert await store.get_variable(inst("k", "i1", "ab")) == Variable(b"i1")
    assert await store.get_variable(inst("k", "i10", "ab")) == Variable(b"i10")
    assert await store.get_variable(ns("k", "ns2")) == Variable(b"other namespace")
    assert await store.get_variable(ns("k", "n")) is None

    await store.delete_variable(wf("k", "ab"))
    assert await store.get_variable(wf("k", "abc")) == Variable(b"abc")
    await store.delete_variable(inst("k", "i1", "ab"))
    assert await store.get_variable(inst("k", "i10", "ab")) == Variable(b"i10")


async def test_fields_a_scope_does_not_use_are_ignored(store: Store) -> None:
    sloppy = VariableRef("namespace", "k", "ns", workflow="wf", instance_id="i1")
    await store.set_variable(sloppy, Variable(b"v"))
    assert await store.get_variable(ns("k")) == Variable(b"v")
    assert await store.get_variable(VariableRef("workflow", "k", "ns", "wf")) is None
    sloppy_wf = VariableRef("workflow", "w", "ns", "wf", instance_id="i1")
    await store.set_variable(sloppy_wf, Variable(b"w"))
    assert await store.get_variable(wf("w")) == Variable(b"w")
    assert await store.list_variables("ns", "workflow", "wf", "i1") == [
        (wf("w"), 1, "application/octet-stream")
    ]
    await store.delete_variable(VariableRef("namespace", "k", "ns", workflow="other"))
    assert await store.get_variable(ns("k")) is None


async def test_list_one_scope_by_key_with_sizes(store: Store) -> None:
    await store.set_variable(wf("b"), Variable(b"12345", "text/plain"))
    await store.set_variable(wf("a"), Variable(b"1", "application/json"))
    await store.set_variable(wf("c", "wf2"), Variable(b"other workflow"))
    await store.set_variable(ns("z"), Variable(b"namespace"))
    await store.set_variable(inst("y"), Variable(b"instance"))

    assert await store.list_variables("ns", "workflow", "wf") == [
        (wf("a"), 1, "application/json"),
        (wf("b"), 5, "text/plain"),
    ]
    assert await store.list_variables("ns", "namespace") == [
        (ns("z"), 9, "application/octet-stream")
    ]
    assert await store.list_variables("ns", "instance", "wf", "i1") == [
        (inst("y"), 8, "application/octet-stream")
    ]
    assert await store.list_variables("ns", "instance", "wf", "i") == []
    assert await store.list_variables("ns2", "workflow", "wf") == []
