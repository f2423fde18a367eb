"""Routes of instances: list a namespace's, get one, cancel, its log, and its status; the log and the
status can be followed live (`?follow=true`, Server-Sent Events).

In paths an instance is `{namespace}/{workflow}/{id}`, where `id` is the random last part of the
full instance id `<namespace>/<workflow>/<random>`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response

from dirigent.api.deps import ERRORS, Limit, Offset, ServerDep, page_limit, route
from dirigent.api.shapes import (
    Empty,
    InstanceBrief,
    InstanceDetail,
    InstanceList,
    InstanceLogList,
    InstanceStatus,
    LogLine,
    Shape,
)
from dirigent.api.streams import Closing, Event, event_stream
from dirigent.operations import instances as ops
from dirigent.operations.server import Server

router = APIRouter(prefix="/api/instances", tags=["instances"])

Follow = Annotated[
    bool, Query(description="Stream as Server-Sent Events until the instance has ended")
]
_STREAMED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "content": {"application/json": {}, "text/event-stream": {}},
        "description": "JSON; with follow=true a stream of events",
    },
}


StatusFilter = Annotated[
    Literal["pending", "complete", "failed", "crashed", "cancelled"] | None,
    Query(description="Only instances with this status (new)"),
]


@route(router, "GET", "/{namespace}")
async def list_instances(
    server: ServerDep,
    namespace: str,
    offset: Offset = 0,
    limit: Limit = 0,
    status: StatusFilter = None,
) -> InstanceList:
    """The namespace's instances (with `status`, only those), newest first."""
    limit = page_limit(limit, 100)
    found, total = await ops.list_instances(server, namespace, None, offset, limit, status)
    return InstanceList(
        workflowInstances=[InstanceBrief.of(s) for s in found],
        offset=offset,
        limit=limit,
        total=total,
    )


@route(router, "GET", "/{namespace}/{workflow}/{id}")
async def get_instance(server: ServerDep, namespace: str, workflow: str, id: str) -> InstanceDetail:
    """The instance: status, times, input and output (base64 JSON), error."""
    instance_id = ops.instance_id(namespace, workflow, id)
    return InstanceDetail.of(await ops.get_instance(server, instance_id))


@route(router, "DELETE", "/{namespace}/{workflow}/{id}")
async def cancel_instance(server: ServerDep, namespace: str, workflow: str, id: str) -> Empty:
    """Cancel a running instance (it ends `cancelled` with `direktiv.cancels.api`); 409 if it has
    ended already."""
    await ops.cancel_instance(server, ops.instance_id(namespace, workflow, id))
    return Empty()


@route(
    router, "GET", "/{namespace}/{workflow}/{id}/logs", response_class=Response, responses=_STREAMED
)
async def instance_logs(
    server: ServerDep,
    namespace: str,
    workflow: str,
    id: str,
    offset: Offset = 0,
    limit: Limit = 0,
    follow: Follow = False,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> Response:
    """The instance log, oldest first (`{"workflowInstanceLogs": [...]}`).

    With `follow=true`: every line from `offset` on as a `log` event (`id` is the line's index, so
    `Last-Event-ID` resumes after it), then an `end` event with the final status.
    """
    instance_id = ops.instance_id(namespace, workflow, id)
    if not follow:
        limit = page_limit(limit, 1000)
        entries = await ops.instance_logs(server, instance_id, offset, limit)
        page = InstanceLogList(
            workflowInstanceLogs=[LogLine.of(e) for e in entries], offset=offset, limit=limit
        )
        return Response(page.model_dump_json(), media_type="application/json")
    start = offset if last_event_id is None else last_event_id + 1
    await ops.get_instance(server, instance_id)  # 404 before the stream begins

    async def lines() -> AsyncIterator[Event]:
        index = start
        async for entry in ops.follow_logs(server, instance_id, start):
            yield "log", index, LogLine.of(entry)
            index += 1

    return event_stream(lines(), _final_status(server, instance_id))


@route(
    router,
    "GET",
    "/{namespace}/{workflow}/{id}/status",
    response_class=Response,
    responses=_STREAMED,
)
async def instance_status(
    server: ServerDep, namespace: str, workflow: str, id: str, follow: Follow = False
) -> Response:
    """Where the instance is: status and current state. With `follow=true`: a `status` event now
    and at every change, then an `end` event once it has ended."""
    instance_id = ops.instance_id(namespace, workflow, id)
    instance = await ops.get_instance(server, instance_id)
    if not follow:
        return Response(
            InstanceStatus.of(instance).model_dump_json(), media_type="application/json"
        )

    async def changes() -> AsyncIterator[Event]:
        async for current in ops.follow_status(server, instance_id):
            yield "status", None, InstanceStatus.of(current)

    return event_stream(changes(), _final_status(server, instance_id))


def _final_status(server: Server, instance_id: str) -> Closing:
    async def final() -> Shape:
        return InstanceStatus.of(await ops.get_instance(server, instance_id))

    return final
