"""Routes of namespaces: list, create, get, delete, the namespace log, and sending events."""

from __future__ import annotations

import base64
from typing import cast

import orjson
from fastapi import APIRouter, Request

from dirigent.api.deps import Limit, Offset, ServerDep, page_limit, route
from dirigent.api.shapes import (
    Empty,
    NamespaceDeleted,
    NamespaceList,
    NamespaceLogList,
    NamespaceOut,
)
from dirigent.errors import InvalidInput
from dirigent.operations import namespaces as ops
from dirigent.types import JSONObject

router = APIRouter(prefix="/api/namespaces", tags=["namespaces"])


@route(router, "GET", "/")
async def list_namespaces(server: ServerDep, offset: Offset = 0, limit: Limit = 0) -> NamespaceList:
    """Every namespace, by name."""
    limit = page_limit(limit, 1000)
    page, total = await ops.list_namespaces(server, offset, limit)
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
    """The namespace log. Dirigent keeps logs per instance; this list is empty for now."""
    await ops.get_namespace(server, namespace)
    return NamespaceLogList(namespaceLogs=[], offset=offset, limit=page_limit(limit, 1000))


@route(router, "POST", "/{namespace}/event")
async def send_event(server: ServerDep, namespace: str, request: Request) -> Empty:
    """Send a CloudEvent (1.0 or 0.3) to the namespace: structured mode (the event as JSON, also a
    batch `application/cloudevents-batch+json`) or binary mode (attributes in `ce-*` headers, the
    body is the data)."""
    await ops.send_events(server, namespace, _events(request, await request.body()))
    return Empty()


def _events(request: Request, body: bytes) -> list[JSONObject]:
    """The events of a request, in the CloudEvents JSON format (non-JSON data as `data_base64`)."""
    content_type = request.headers.get("content-type", "")
    if "ce-specversion" in request.headers:
        return [_binary_event(request, body, content_type)]
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            "body: not a CloudEvent: send its JSON form, or binary mode with ce-* headers"
        ) from None
    if content_type.startswith("application/cloudevents-batch+json"):
        if not isinstance(parsed, list) or not all(isinstance(e, dict) for e in parsed):
            raise InvalidInput("body: a batch is a JSON array of events")
        return cast(list[JSONObject], parsed)
    if not isinstance(parsed, dict):
        raise InvalidInput("body: a CloudEvent is a JSON object")
    return [parsed]


def _binary_event(request: Request, body: bytes, content_type: str) -> JSONObject:
    event: JSONObject = {}
    for name, value in request.headers.items():
        if name.startswith("ce-") and len(name) > 3:
            event[name[3:]] = value
    if content_type:
        event["datacontenttype"] = content_type
    if body:
        mime = content_type.split(";")[0].strip().lower()
        if not mime or mime == "application/json" or mime.endswith("+json"):
            try:
                event["data"] = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise InvalidInput(f"body: the data is not valid JSON ({content_type})") from None
        else:
            event["data_base64"] = base64.b64encode(body).decode()
    return event
