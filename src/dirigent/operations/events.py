"""Event intake: the one path of every CloudEvent a namespace receives — sent to the API, emitted by a
`generateEvent` state, or a `log:` line under `logEvent` — and the event listeners of workflows.

An event is stored once per (namespace, source, id); in the same transaction it reaches what waits
for it (docs/events.md):

- each waiting instance with a matching wait gets an `EventReceived` in its inbox;
- each workflow that starts on a matching `event` / `eventsXor` definition gets a new instance with
  input `{"<type>": payload, "cloudevents": {"<type>": attributes}}`;
- each `eventsAnd` workflow puts it into its oldest partial group (of the event's correlation key)
  that lacks a matching definition, or a new group; a group with an event for every definition
  starts an instance with all of them and is removed. Groups older than `lifespan` are dropped.

A duplicate (same source and id) does nothing. Listeners are (re)registered when a workflow is
pushed, updated or toggled, and go with it when it is deleted or deactivated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any

import orjson

from dirigent.engine.states.events import CONTEXT_KEY
from dirigent.engine.triggers import EventReceived, trigger_to_json
from dirigent.errors import Conflict, StoreUnavailable
from dirigent.events import Event, EventFilter, correlation_key, parse_event
from dirigent.operations.clock import Clock, RealClock
from dirigent.operations.metrics import Metrics
from dirigent.operations.namespaces import check_name, get_namespace
from dirigent.operations.runtime import new_instance, to_create
from dirigent.spec import WorkflowDefinition
from dirigent.spec.workflow import EventsAndStart, EventStart, EventsXorStart
from dirigent.store.base import EventDelivery, EventRouting, Store
from dirigent.store.records import (
    EventGroup,
    EventListener,
    InboxItem,
    NewInstance,
    StoredEvent,
    WorkflowRecord,
)
from dirigent.types import JSONObject

if TYPE_CHECKING:
    from dirigent.operations.server import Server

logger = logging.getLogger("dirigent.events")

#: How instances started by events say who started them.
INVOKED_BY_EVENT = "event"
#: Tries of an intake that the database rolled back (a deadlock between concurrent events).
_TRIES = 3


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one event: a duplicate did nothing; else how many waiting instances, groups
    and new instances it reached (`deliveries`), and the ids of the instances it started."""

    event: Event
    duplicate: bool = False
    deliveries: int = 0
    started: tuple[str, ...] = ()


class EventIntake:
    """Receives events for namespaces; the runtime's `EventSink` and the API's intake."""

    def __init__(
        self, store: Store, *, clock: Clock | None = None, metrics: Metrics | None = None
    ) -> None:
        self.store = store
        self.clock: Clock = clock or RealClock()
        self.metrics = metrics

    async def receive(self, namespace: str, event: Event) -> Receipt:
        """Store `event` once and deliver it (see the module's docstring). NotFound without the
        namespace; a duplicate is a Receipt with `duplicate` set."""
        attempt = 0
        while True:
            attempt += 1
            now = self.clock.now()
            stored = StoredEvent(
                namespace, event.source, event.id, event.type, now, event.to_bytes()
            )
            try:
                delivery = await self.store.receive_event(stored, _Router(event, now).route)
            except Conflict:
                return Receipt(event, duplicate=True)
            except StoreUnavailable as error:
                if error.may_have_committed or attempt == _TRIES:
                    raise
                continue
            started = tuple(new.instance.id for new in delivery.instances)
            if self.metrics is not None:
                for new in delivery.instances:
                    self.metrics.instance_started(namespace, new.instance.workflow)
            return Receipt(event, False, delivery.deliveries, started)

    async def emit(self, namespace: str, event: JSONObject) -> None:
        """An event in its JSON form (from `generateEvent`, `logEvent`): InvalidEvent if it is not
        a valid CloudEvent."""
        await self.receive(namespace, parse_event(event))


class _Router:
    """Decides, inside the intake's transaction, what one event does (pure)."""

    def __init__(self, event: Event, now: datetime) -> None:
        self.event = event
        self.now = now

    def route(self, routing: EventRouting) -> EventDelivery:
        event = self.event
        inbox = [
            self._wake(wait.instance_id, wait.key)
            for wait in routing.waits
            if EventFilter(wait.type, wait.context).matches(event)
        ]
        instances: list[NewInstance] = []
        groups: list[EventGroup] = []
        removed: list[EventGroup] = []
        joined = 0
        for workflow, listeners in _by_workflow(routing.listeners):
            specs = [_Spec.of(listener) for listener in listeners]
            hits = [spec for spec in specs if spec.filter.matches(event)]
            if not hits:
                continue
            if workflow in routing.busy:
                logger.info("event %s: singular workflow %s is busy", event.id, workflow)
                continue
            first = specs[0]
            if first.kind != "and":
                instances.append(self._start(routing.event.namespace, workflow, first, [event]))
                continue
            key = correlation_key(event, first.correlate)
            if key is None:
                continue  # it lacks a correlated attribute: it cannot join a group
            group, got = self._group(routing, workflow, key, first, [s.position for s in hits])
            joined += 1
            if len(got) < len(specs):
                groups.append(replace(group, events=orjson.dumps(got)))
                continue
            removed.append(group)
            members = [Event.from_stored(got[str(s.position)]) for s in specs]
            instances.append(self._start(routing.event.namespace, workflow, first, members))
        return EventDelivery(
            inbox=tuple(inbox),
            instances=tuple(instances),
            groups=tuple(groups),
            removed_groups=tuple(removed),
            deliveries=len(inbox) + len(instances) + joined,
        )

    def _wake(self, instance_id: str, key: str) -> InboxItem:
        event = self.event
        trigger = EventReceived(key, event.type, event.payload, dict(event.attributes))
        # One item per event and wait: a second event for the same wait is its own item, which
        # the engine ignores once the first has been taken.
        item_key = f"event:{key}:{event.source}:{event.id}"
        return InboxItem(instance_id, item_key, orjson.dumps(trigger_to_json(trigger)), self.now)

    def _group(
        self, routing: EventRouting, workflow: str, key: str, spec: _Spec, positions: list[int]
    ) -> tuple[EventGroup, dict[str, Any]]:
        """The oldest group of `key` that lacks one of `positions`, with the event put in; else a
        new group holding the event."""
        for group in routing.groups:
            if group.workflow != workflow or group.correlation != key:
                continue
            got: dict[str, Any] = orjson.loads(group.events)
            free = [p for p in positions if str(p) not in got]
            if free:
                got[str(free[0])] = self.event.to_json()
                return group, got
        expires = None if spec.lifespan is None else self.now + spec.lifespan
        group = EventGroup(
            routing.event.namespace,
            workflow,
            secrets.token_hex(16),
            key,
            self.now,
            expires,
            b"{}",
        )
        return group, {str(positions[0]): self.event.to_json()}

    def _start(
        self, namespace: str, workflow: str, spec: _Spec, events: list[Event]
    ) -> NewInstance:
        data: JSONObject = {event.type: event.payload for event in events}
        data[CONTEXT_KEY] = {event.type: dict(event.attributes) for event in events}
        instance = new_instance(
            namespace, workflow, spec.revision, data, self.now, invoked_by=INVOKED_BY_EVENT
        )
        return to_create(instance)


def _by_workflow(listeners: tuple[EventListener, ...]) -> Iterator[tuple[str, list[EventListener]]]:
    ordered = sorted(listeners, key=lambda li: (li.workflow, li.position))
    for workflow, found in groupby(ordered, key=lambda li: li.workflow):
        yield workflow, list(found)


@dataclass(frozen=True, slots=True)
class _Spec:
    """How a listener starts its workflow: the `spec` JSON of an `EventListener`."""

    position: int
    kind: str  # event, xor, and
    revision: int
    filter: EventFilter
    correlate: tuple[str, ...] = ()
    lifespan: timedelta | None = None

    @classmethod
    def of(cls, listener: EventListener) -> _Spec:
        spec = orjson.loads(listener.spec)
        lifespan = spec.get("lifespan")
        return cls(
            listener.position,
            spec["kind"],
            spec["revision"],
            EventFilter.from_json(spec["filter"]),
            tuple(spec.get("correlate", ())),
            None if lifespan is None else timedelta(seconds=lifespan),
        )


def listeners_of(
    definition: WorkflowDefinition, namespace: str, revision: int
) -> tuple[EventListener, ...]:
    """The listeners of a workflow that starts on events (none for other start types)."""
    start = definition.workflow.start
    correlate: list[str] = []
    lifespan: float | None = None
    if isinstance(start, EventStart):
        kind, wanted = "event", [start.event]
    elif isinstance(start, EventsXorStart):
        kind, wanted = "xor", start.events
    elif isinstance(start, EventsAndStart):
        kind, wanted = "and", start.events
        correlate = start.correlate
        lifespan = None if start.lifespan is None else start.lifespan.total_seconds()
    else:
        return ()
    common = {"kind": kind, "revision": revision, "correlate": correlate, "lifespan": lifespan}
    return tuple(
        EventListener(
            namespace=namespace,
            workflow=definition.id,
            position=position,
            type=found.type,
            grouped=kind == "and",
            singular=definition.workflow.singular,
            spec=orjson.dumps(
                {**common, "filter": EventFilter.of(found.type, found.filters).to_json()}
            ),
        )
        for position, found in enumerate(wanted)
    )


async def register_listeners(
    store: Store, record: WorkflowRecord, definition: WorkflowDefinition | None
) -> None:
    """Make the store's listeners of a workflow those of its latest revision while it is active,
    none while it is not (which drops its partial groups, as any change of its listeners does)."""
    wanted: tuple[EventListener, ...] = ()
    if record.active and definition is not None:
        wanted = listeners_of(definition, record.namespace, record.revision)
    current = await store.list_event_listeners(record.namespace, record.id)
    if tuple(current) != wanted:
        await store.set_event_listeners(record.namespace, record.id, wanted)


# Operations for the API and the CLI


async def send_events(server: Server, namespace: str, events: list[Event]) -> list[Receipt]:
    """Deliver events (already validated) to a namespace, in order. NotFound without it."""
    check_name(namespace, "namespace")
    if not events:
        await get_namespace(server, namespace)
    # A missing namespace is NotFound from the store (the event needs it), without a read first.
    receipts = [await server.events.receive(namespace, event) for event in events]
    if any(r.deliveries for r in receipts):
        server.runtime.notify()
    return receipts


async def list_events(
    server: Server, namespace: str, offset: int = 0, limit: int = 100
) -> tuple[list[StoredEvent], int]:
    """The namespace's events still kept (see `event_retention_seconds`), newest first."""
    await get_namespace(server, namespace)
    return await server.store.list_events(namespace, offset, limit)


async def purge_events(store: Store, now: datetime, retention: timedelta) -> None:
    """Delete events older than `retention` and expired partial groups."""
    await store.delete_events(now - retention)
    await store.delete_expired_groups(now)


@asynccontextmanager
async def keeping_events(
    store: Store, clock: Clock, retention_seconds: float, interval: float = 60.0
) -> AsyncIterator[None]:
    """Purge (`purge_events`) every `interval` seconds while the block runs; every server does,
    which is harmless: a purge deletes only what is old."""

    async def purge_forever() -> None:
        while True:
            with contextlib.suppress(StoreUnavailable):
                await purge_events(store, clock.now(), timedelta(seconds=retention_seconds))
            await asyncio.sleep(interval)

    task = asyncio.create_task(purge_forever(), name="event retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
