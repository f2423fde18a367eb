"""Routes of namespace and workflow variables: list, get the raw value, set from the raw body (an
empty body deletes), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from dirigent.api.deps import ERRORS, ServerDep, route
from dirigent.api.shapes import Empty, VariableList, VariableOut
from dirigent.operations import variables as ops

router = APIRouter(prefix="/api/namespaces/{namespace}", tags=["variables"])

_RAW: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The value"}
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The value; its Content-Type is kept as the variable's MIME type. "
        "An empty body deletes the variable.",
    }
}


# Namespace scope


@route(router, "GET", "/variables/")
async def list_namespace_variables(server: ServerDep, namespace: str) -> VariableList:
    """The namespace's variables: name, size in bytes, MIME type."""
    found = await ops.list_variables(server, namespace)
    return VariableList(variables=[VariableOut.of(v) for v in found])


@route(
    router, "GET", "/variables/{variable}", response_class=Response, responses={**ERRORS, **_RAW}
)
async def get_namespace_variable(server: ServerDep, namespace: str, variable: str) -> Response:
    """The value as stored, with its MIME type as Content-Type."""
    found = await ops.get_variable(server, namespace, variable)
    return Response(found.data, headers={"Content-Type": found.mime_type})


@route(router, "POST", "/variables/{variable}", openapi_extra=_BODY)
async def set_namespace_variable(
    server: ServerDep, namespace: str, variable: str, request: Request
) -> Empty:
    """Set the variable to the request body (empty: delete it)."""
    body = await request.body()
    mime = request.headers.get("content-type")
    await ops.set_variable(server, namespace, variable, body, mime)
    return Empty()


@route(router, "DELETE", "/variables/{variable}")
async def delete_namespace_variable(server: ServerDep, namespace: str, variable: str) -> Empty:
    """Delete the variable (nothing happens when it is not set)."""
    await ops.set_variable(server, namespace, variable, b"")
    return Empty()


# Workflow scope


@route(router, "GET", "/workflows/{workflow}/variables/")
async def list_workflow_variables(server: ServerDep, namespace: str, workflow: str) -> VariableList:
    """The workflow's variables: name, size in bytes, MIME type."""
    found = await ops.list_variables(server, namespace, workflow)
    return VariableList(variables=[VariableOut.of(v) for v in found])


@route(
    router,
    "GET",
    "/workflows/{workflow}/variables/{variable}",
    response_class=Response,
    responses={**ERRORS, **_RAW},
)
async def get_workflow_variable(
    server: ServerDep, namespace: str, workflow: str, variable: str
) -> Response:
    """The value as stored, with its MIME type as Content-Type."""
    found = await ops.get_variable(server, namespace, variable, workflow)
    return Response(found.data, headers={"Content-Type": found.mime_type})


@route(router, "POST", "/workflows/{workflow}/variables/{variable}", openapi_extra=_BODY)
async def set_workflow_variable(
    server: ServerDep, namespace: str, workflow: str, variable: str, request: Request
) -> Empty:
    """Set the variable to the request body (empty: delete it)."""
    body = await request.body()
    mime = request.headers.get("content-type")
    await ops.set_variable(server, namespace, variable, body, mime, workflow)
    return Empty()


@route(router, "DELETE", "/workflows/{workflow}/variables/{variable}")
async def delete_workflow_variable(
    server: ServerDep, namespace: str, workflow: str, variable: str
) -> Empty:
    """Delete the variable (nothing happens when it is not set)."""
    await ops.set_variable(server, namespace, variable, b"", workflow=workflow)
    return Empty()
