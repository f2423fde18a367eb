"""Value objects the store keeps: namespaces, workflows, instances, variables, logs, inbox items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Scope = Literal["instance", "workflow", "namespace"]


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """Where an instance lives: its namespace, workflow id and instance id."""

    namespace: str
    workflow: str
    instance_id: str


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A variable's identity. Only the fields its scope needs take part in matching."""

    scope: Scope
    key: str
    namespace: str
    workflow: str = ""
    instance_id: str = ""

    @classmethod
    def of(cls, scope: Scope, key: str, owner: InstanceRef) -> VariableRef:
        """The variable `key` of `scope` as seen from an instance."""
        return cls(
            scope=scope,
            key=key,
            namespace=owner.namespace,
            workflow=owner.workflow if scope != "namespace" else "",
            instance_id=owner.instance_id if scope == "instance" else "",
        )


@dataclass(frozen=True, slots=True)
class Variable:
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of an instance log, attributed to a state and, for function logs, an action."""

    instance_id: str
    time: datetime
    message: str
    state: str | None = None
    action_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredInstance:
    """An instance as the store keeps it: indexed fields and the engine's record as JSON bytes."""

    id: str
    namespace: str
    workflow: str
    status: str
    record: bytes
    revision: int = 0
    invoked_by: str = ""
    created_at: datetime | None = None
    ended_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """One revision of a workflow. Every update adds a revision; old ones are kept."""

    namespace: str
    id: str
    revision: int
    source: bytes  # the YAML as uploaded
    active: bool
    description: str
    created_at: datetime
    updated_at: datetime
    log_to_events: str = ""  # the `logEvent` setting: empty = off, else the event type/logger


@dataclass(frozen=True, slots=True)
class InstanceSummary:
    """What listings show of an instance, without its (possibly large) data."""

    id: str
    namespace: str
    workflow: str
    revision: int
    status: str
    invoked_by: str
    created_at: datetime
    ended_at: datetime | None
    error_code: str | None
    error_message: str | None


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A trigger waiting for an instance: a timer due at `due_at`, a child's end, a cancel.

    `key` names it within the instance (a timer id such as `3:deadline`); setting the same key again
    replaces the item, so a timer is stored at most once.
    """

    instance_id: str
    key: str
    trigger: bytes  # the trigger as JSON
    due_at: datetime


@dataclass(frozen=True, slots=True)
class NewInstance:
    """An instance to create with its first inbox items (its Start)."""

    instance: StoredInstance
    inbox: tuple[InboxItem, ...]


@dataclass(frozen=True, slots=True)
class Lease:
    """A runtime's hold on an instance: only `owner` commits its steps until `until` has passed."""

    owner: str
    until: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A CloudEvent a namespace received, kept for a while; unique by (namespace, source, id).

    `deliveries` counts what it did: waiting instances it reached, instances it started, `eventsAnd`
    groups it joined.
    """

    namespace: str
    source: str
    id: str
    type: str
    received_at: datetime
    event: bytes  # the CloudEvent in its JSON format
    deliveries: int = 0


@dataclass(frozen=True, slots=True)
class EventWait:
    """A waiting instance's wish for an event: its type and globs on context attributes.

    `key` names the wait within the instance; an instance's waits are replaced as a whole by a commit.
    """

    instance_id: str
    key: str
    namespace: str
    type: str
    context: dict[str, str]


@dataclass(frozen=True, slots=True)
class EventListener:
    """One event definition of a workflow that starts on events (`position` in its `start.events`).

    The store looks listeners up by (namespace, type); `spec` is the caller's JSON of how to start.
    `grouped` listeners (`eventsAnd`) gather events in groups, which the store serialises per
    workflow; `singular` ones learn whether an instance of their workflow is pending.
    """

    namespace: str
    workflow: str
    position: int
    type: str
    grouped: bool
    singular: bool
    spec: bytes


@dataclass(frozen=True, slots=True)
class EventGroup:
    """A partial `eventsAnd` group of a workflow: the events that arrived so far (`events`, the
    caller's JSON), for one correlation key; dropped once `expires_at` has passed."""

    namespace: str
    workflow: str
    id: str
    correlation: str
    created_at: datetime
    expires_at: datetime | None
    events: bytes


@dataclass(frozen=True, slots=True)
class Schedule:
    """A workflow that starts on a cron schedule, and when its next tick is due (`next_run`)."""

    namespace: str
    workflow: str
    cron: str
    zone: str
    revision: int
    singular: bool
    next_run: datetime
