"""Secrets and registry credentials of a namespace: set, list names, delete. Values never come back.

Values are sealed by the server's `Vault` before the store sees them. A registry is named by its URL
and its value is `user:token`. Nothing here returns a value, and no message repeats one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dirigent.errors import InvalidInput
from dirigent.operations.namespaces import check_key, get_namespace
from dirigent.store.base import SealedKind

if TYPE_CHECKING:
    from dirigent.operations.server import Server

MAX_VALUE = 64 * 1024
MAX_URL = 512


def _check(kind: SealedKind, name: str, value: str | None = None) -> None:
    if kind == "secret":
        check_key(name, "name")
    elif not name or len(name) > MAX_URL or any(c.isspace() for c in name):
        raise InvalidInput(
            f"name: a registry is named by its URL (no blanks, at most {MAX_URL} characters)"
        )
    if value is None:
        return
    if not value:
        raise InvalidInput("data: the value is empty")
    if len(value.encode()) > MAX_VALUE:
        raise InvalidInput(f"data: longer than {MAX_VALUE} bytes")
    if kind == "registry" and ":" not in value:
        raise InvalidInput("data: registry credentials are 'user:token'")


async def set_sealed(
    server: Server, kind: SealedKind, namespace: str, name: str, value: str
) -> None:
    """Create or replace a secret (`kind` "secret") or registry credentials ("registry")."""
    _check(kind, name, value)
    await get_namespace(server, namespace)
    await server.vault.put(kind, namespace, name, value)


async def list_sealed(server: Server, kind: SealedKind, namespace: str) -> list[str]:
    """The names (never the values), sorted."""
    await get_namespace(server, namespace)
    return await server.store.list_sealed(kind, namespace)


async def delete_sealed(server: Server, kind: SealedKind, namespace: str, name: str) -> None:
    """Delete one; NotFound if it does not exist."""
    _check(kind, name)
    await get_namespace(server, namespace)
    await server.store.delete_sealed(kind, namespace, name)
