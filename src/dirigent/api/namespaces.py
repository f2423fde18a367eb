"""Routes of namespaces: list, create, get, delete, the namespace log (events: `api/events.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dirigent.api.deps import Limit, Offset, ServerDep, page_limit, route
from dirigent.api.middleware import access_of
from dirigent.api.shapes import (
    LogLine,
    NamespaceDeleted,
    NamespaceList,
    NamespaceLogList,
    NamespaceOut,
)
from dirigent.operations import namespaces as ops

router = APIRouter(prefix="/api/namespaces", tags=["namespaces"])


@route(router, "GET", "/")
async def list_namespaces(
    server: ServerDep, request: Request, offset: Offset = 0, limit: Limit = 0
) -> NamespaceList:
    """Every namespace, by name; with a token limited to namespaces, those of them that exist."""
    limit = page_limit(limit, 1000)
    access = access_of(request)
    only = access.namespaces if access is not None and not access.unrestricted else None
    page, total = await ops.list_namespaces(server, offset, limit, only)
    return NamespaceList(
        namespaces=[NamespaceOut.of(n) for n in page], offset=offset, limit=limit, total=total
    )


@route(router, "POST", "/{namespace}")
async def create_namespace(server: ServerDep, namespace: str) -> NamespaceOut:
    """Create a namespace. 409 if it exists; 406 for a name that is not
    `^[a-z]([a-z0-9_-]*[a-z0-9])?$` (at most 64 characters)."""
    return NamespaceOut.of(await ops.create_namespace(server, namespace))


@route(router, "PUT", "/{namespace}", include_in_schema=False)
async def create_namespace_put(server: ServerDep, namespace: str) -> NamespaceOut:
    """The later 2021 spelling of create (PUT)."""
    return NamespaceOut.of(await ops.create_namespace(server, namespace))


@route(router, "GET", "/{namespace}")
async def get_namespace(server: ServerDep, namespace: str) -> NamespaceOut:
    """One namespace."""
    return NamespaceOut.of(await ops.get_namespace(server, namespace))


@route(router, "DELETE", "/{namespace}")
async def delete_namespace(server: ServerDep, namespace: str) -> NamespaceDeleted:
    """Delete a namespace and everything in it; its running instances are cancelled first."""
    await ops.delete_namespace(server, namespace)
    server.metrics.forget(namespace)
    return NamespaceDeleted(name=namespace)


@route(router, "GET", "/{namespace}/logs")
async def namespace_logs(
    server: ServerDep, namespace: str, offset: Offset = 0, limit: Limit = 0
) -> NamespaceLogList:
    """The namespace log: namespace and workflow changes (created, updated, toggled, deleted)."""
    size = page_limit(limit, 1000)
    entries = await ops.namespace_log(server, namespace, offset, size)
    return NamespaceLogList(
        namespaceLogs=[LogLine.of(entry) for entry in entries], offset=offset, limit=size
    )
