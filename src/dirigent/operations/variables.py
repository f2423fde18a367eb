"""Variable operations on the namespace and workflow scopes: get, set (empty deletes), list.

Values are bytes with a MIME type (workflow-language.md §8). `workflow=None` means the namespace
scope; otherwise the variable belongs to that workflow and goes when it is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dirigent.errors import InvalidInput, NotFound
from dirigent.operations.namespaces import check_key, get_namespace
from dirigent.operations.workflows import get_workflow
from dirigent.store.records import Variable, VariableRef

if TYPE_CHECKING:
    from dirigent.operations.server import Server

DEFAULT_MIME_TYPE = "application/octet-stream"
MAX_MIME_TYPE = 255


@dataclass(frozen=True, slots=True)
class VariableInfo:
    """What a listing shows of a variable: its key, size in bytes and MIME type."""

    name: str
    size: int
    mime_type: str


async def _ref(
    server: Server, namespace: str, key: str | None, workflow: str | None
) -> VariableRef:
    """The reference, after checking the names and that the namespace (and workflow) exist."""
    if workflow is None:
        await get_namespace(server, namespace)
    else:
        await get_workflow(server, namespace, workflow)
    if key is not None:
        check_key(key, "variable")
    if workflow is None:
        return VariableRef("namespace", key or "", namespace)
    return VariableRef("workflow", key or "", namespace, workflow)


async def get_variable(
    server: Server, namespace: str, key: str, workflow: str | None = None
) -> Variable:
    """The variable's bytes and MIME type; NotFound if it is not set."""
    ref = await _ref(server, namespace, key, workflow)
    found = await server.store.get_variable(ref)
    if found is None:
        owner = f"workflow '{workflow}'" if workflow else f"namespace '{namespace}'"
        raise NotFound(f"variable '{key}' does not exist in {owner}")
    return found


async def set_variable(
    server: Server,
    namespace: str,
    key: str,
    data: bytes,
    mime_type: str | None = None,
    workflow: str | None = None,
) -> bool:
    """Set the variable to `data` (with `mime_type`, default octet-stream); empty `data` deletes it.

    Returns whether the variable is set afterwards.
    """
    ref = await _ref(server, namespace, key, workflow)
    if not data:
        await server.store.delete_variable(ref)
        return False
    mime = (mime_type or "").strip() or DEFAULT_MIME_TYPE
    if len(mime) > MAX_MIME_TYPE:
        raise InvalidInput(f"Content-Type: longer than {MAX_MIME_TYPE} characters")
    await server.store.set_variable(ref, Variable(data, mime))
    return True


async def list_variables(
    server: Server, namespace: str, workflow: str | None = None
) -> list[VariableInfo]:
    """The scope's variables by key."""
    await _ref(server, namespace, None, workflow)
    scope = "namespace" if workflow is None else "workflow"
    rows = await server.store.list_variables(namespace, scope, workflow or "")
    return [VariableInfo(ref.key, size, mime) for ref, size, mime in rows]
