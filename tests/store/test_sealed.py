"""Sealed values (secrets, registries): bytes per namespace, kind and name."""

from __future__ import annotations

import pytest

from dirigent.errors import NotFound
from dirigent.store import Store
from tests.store.support import T0


async def test_set_get_replace_list_delete(store: Store) -> None:
    await store.create_namespace("ns", T0)
    await store.set_sealed("secret", "ns", "b", b"one")
    await store.set_sealed("secret", "ns", "a", b"two")
    await store.set_sealed("secret", "ns", "b", b"three")
    await store.set_sealed("registry", "ns", "c", b"reg")

    assert await store.get_sealed("secret", "ns", "b") == b"three"
    assert await store.get_sealed("secret", "ns", "c") is None  # kinds are separate
    assert await store.get_sealed("registry", "ns", "c") == b"reg"
    assert await store.list_sealed("secret", "ns") == ["a", "b"]
    assert await store.list_sealed("registry", "ns") == ["c"]

    await store.delete_sealed("secret", "ns", "b")
    assert await store.get_sealed("secret", "ns", "b") is None
    assert await store.list_sealed("secret", "ns") == ["a"]
    with pytest.raises(NotFound):
        await store.delete_sealed("secret", "ns", "b")
    with pytest.raises(NotFound):
        await store.delete_sealed("secret", "ns", "c")  # a registry, not a secret


async def test_needs_the_namespace(store: Store) -> None:
    with pytest.raises(NotFound, match="namespace 'nope'"):
        await store.set_sealed("secret", "nope", "a", b"x")
    assert await store.get_sealed("secret", "nope", "a") is None
    assert await store.list_sealed("secret", "nope") == []


async def test_namespaces_are_separate(store: Store) -> None:
    await store.create_namespace("ns", T0)
    await store.create_namespace("ns2", T0)
    await store.set_sealed("secret", "ns", "a", b"1")
    await store.set_sealed("secret", "ns2", "a", b"2")
    assert await store.get_sealed("secret", "ns", "a") == b"1"
    assert await store.get_sealed("secret", "ns2", "a") == b"2"
