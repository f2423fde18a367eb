"""Routes of events: send CloudEvents to a namespace, list the events it received."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import Field

from dirigent.api.deps import Limit, Offset, ServerDep, page_limit, route
from dirigent.api.shapes import Shape, Timestamp
from dirigent.events import parse_http
from dirigent.operations import events as ops
from dirigent.operations.events import Receipt
from dirigent.store.records import StoredEvent
from dirigent.types import JSONObject

router = APIRouter(prefix="/api/namespaces/{namespace}", tags=["events"])

_EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cloudevents+json": {"schema": {"type": "object"}},
            "application/cloudevents-batch+json": {"schema": {"type": "array"}},
            "application/json": {"schema": {"type": "object"}},
        },
        "description": "A CloudEvent in structured mode, a batch of them, or (binary mode) the "
        "event's data with its attributes in `ce-*` headers",
    }
}


class EventReceipt(Shape):
    """What became of one event sent."""

    id: str
    source: str
    type: str
    duplicate: bool = Field(description="An event with this source and id came before: ignored")
    deliveries: int = Field(description="Waiting instances, eventsAnd groups and starts it reached")
    started: list[str] = Field(description="Ids of the instances it started")

    @classmethod
    def of(cls, receipt: Receipt) -> EventReceipt:
        event = receipt.event
        return cls(
            id=event.id,
            source=event.source,
            type=event.type,
            duplicate=receipt.duplicate,
            deliveries=receipt.deliveries,
            started=list(receipt.started),
        )


class EventsSent(Shape):
    events: list[EventReceipt]


class EventOut(Shape):
    """An event as received, with what it did."""

    id: str
    source: str
    type: str
    receivedAt: Timestamp
    deliveries: int = Field(description="Waiting instances, eventsAnd groups and starts it reached")
    event: JSONObject = Field(description="The CloudEvent in its JSON format")

    @classmethod
    def of(cls, stored: StoredEvent) -> EventOut:
        return cls(
            id=stored.id,
            source=stored.source,
            type=stored.type,
            receivedAt=Timestamp.of(stored.received_at),
            deliveries=stored.deliveries,
            event=orjson.loads(stored.event),
        )


class EventList(Shape):
    events: list[EventOut]
    offset: int
    limit: int
    total: int


@route(router, "POST", "/event", openapi_extra=_EVENT_BODY)
async def send_event(server: ServerDep, namespace: str, request: Request) -> EventsSent:
    """Send CloudEvents (1.0 or 0.3) to the namespace: structured mode (the event as JSON, or a
    batch as `application/cloudevents-batch+json`) or binary mode (attributes in `ce-*` headers,
    `Content-Type` and the body are the data). 400 names the attribute at fault; all events of a
    batch are checked before any is delivered. A duplicate (same source and id) is answered with
    `duplicate: true` and does nothing."""
    events = parse_http(request.headers, await request.body())
    receipts = await ops.send_events(server, namespace, events)
    return EventsSent(events=[EventReceipt.of(r) for r in receipts])


@route(router, "GET", "/events")
async def list_events(
    server: ServerDep, namespace: str, offset: Offset = 0, limit: Limit = 0
) -> EventList:
    """The events the namespace received, newest first, as long as they are kept (the server's
    `event_retention_seconds`)."""
    limit = page_limit(limit, 100)
    found, total = await ops.list_events(server, namespace, offset, limit)
    return EventList(
        events=[EventOut.of(e) for e in found], offset=offset, limit=limit, total=total
    )
