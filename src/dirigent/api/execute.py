"""Executing a workflow: `POST` (the body is the input) or `GET` (the query is the input).

Without `wait`: `{"instanceId": …}`. With `wait`: the final data as JSON (or one value of it with
`field`), the header `Direktiv-InstanceID`, and on failure `Direktiv-ErrorCode` /
`Direktiv-ErrorMessage` plus the 2021 spellings `Direktiv_ErrorCode` / `Direktiv_ErrorMsg`. A wait
that runs past the server's limit answers 202 with the id, so the caller can poll.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from dirigent.api.deps import ERRORS, ServerDep, route
from dirigent.api.shapes import ExecuteStarted
from dirigent.engine import Instance
from dirigent.operations import instances as ops
from dirigent.types import JSONObject

router = APIRouter(prefix="/api/namespaces/{namespace}/workflows", tags=["workflows"])

INSTANCE_HEADER = "Direktiv-InstanceID"
#: Query parameters that steer execution and are not input.
_CONTROL = frozenset({"wait", "field"})
_FALSE = frozenset({"", "0", "false", "no", "off"})

Wait = Annotated[
    str | None,
    Query(
        description="Any value but empty, 0, false, no, off: wait for the end and answer its data"
    ),
]
Field = Annotated[
    str | None,
    Query(
        description="With wait: a jq query over the output; its first value is the answer (a string "
        "that is valid base64 is decoded and returned raw)"
    ),
]

_EXECUTED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "model": ExecuteStarted,
        "description": "Without wait: the instance id. With wait: the final data (application/json)"
        f" and the header {INSTANCE_HEADER}; on failure also Direktiv-ErrorCode, "
        "Direktiv-ErrorMessage, Direktiv_ErrorCode and Direktiv_ErrorMsg.",
    },
    202: {"model": ExecuteStarted, "description": "With wait: still running at the server's limit"},
}
_ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The input: a JSON object becomes the data; other JSON v becomes "
        '{"input": v}; other bytes {"input": "<base64>"}',
    }
}


@route(
    router,
    "POST",
    "/{workflow}/execute",
    response_class=Response,
    responses=_EXECUTED,
    openapi_extra=_ANY_BODY,
)
async def execute_post(
    server: ServerDep,
    namespace: str,
    workflow: str,
    request: Request,
    wait: Wait = None,
    field: Field = None,
) -> Response:
    """Start an instance with the request body as input."""
    return await _execute(server, namespace, workflow, await request.body(), wait, field)


@route(router, "GET", "/{workflow}/execute", response_class=Response, responses=_EXECUTED)
async def execute_get(
    server: ServerDep,
    namespace: str,
    workflow: str,
    request: Request,
    wait: Wait = None,
    field: Field = None,
) -> Response:
    """Start an instance whose input is the query parameters (`?a=1&a=2` → `{"a": ["1", "2"]}`),
    without `wait` and `field`."""
    data: JSONObject = {}
    for key in request.query_params:
        if key not in _CONTROL and key not in data:
            values = request.query_params.getlist(key)
            data[key] = values if len(values) > 1 else values[0]
    return await _execute(server, namespace, workflow, data, wait, field)


async def _execute(
    server: ServerDep,
    namespace: str,
    workflow: str,
    raw_input: bytes | JSONObject,
    wait_value: str | None,
    field: str | None,
) -> Response:
    wait = wait_value is not None and wait_value.strip().lower() not in _FALSE
    query = ops.compile_field(field) if wait and field else None  # refused before anything starts
    instance = await ops.execute_workflow(server, namespace, workflow, raw_input, wait=wait)
    if not wait:
        return Response(orjson.dumps({"instanceId": instance.id}), media_type="application/json")
    headers = {INSTANCE_HEADER: instance.id}
    if not instance.done:
        body = orjson.dumps({"instanceId": instance.id})
        return Response(body, status_code=202, media_type="application/json", headers=headers)
    headers.update(_error_headers(instance))
    if query is not None:
        value = ops.extract_field(instance.output, query)
        return Response(value.body, media_type=value.media_type, headers=headers)
    return Response(orjson.dumps(instance.output), media_type="application/json", headers=headers)


def _error_headers(instance: Instance) -> dict[str, str]:
    if instance.error is None:
        return {}
    code = _header_value(instance.error.code)
    message = _header_value(instance.error.message)
    return {
        "Direktiv-ErrorCode": code,
        "Direktiv-ErrorMessage": message,
        "Direktiv_ErrorCode": code,
        "Direktiv_ErrorMsg": message,
    }


def _header_value(text: str) -> str:
    """Text safe for an HTTP header: one line, printable ASCII (others as backslash escapes)."""
    printable = "".join(c if c >= " " and c != "\x7f" else " " for c in text)
    return " ".join(printable.split()).encode("ascii", "backslashreplace").decode("ascii")
