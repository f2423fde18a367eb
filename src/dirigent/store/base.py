"""The store: one abstract interface, implemented in memory, on SQLite and on PostgreSQL.

Nothing outside `store/` checks which database it talks to. Every write that belongs to one step of an
instance goes through `commit`, in one transaction, so an instance's record, its timers, its variables
and its log never disagree after a crash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from dirigent.store.records import (
    EventGroup,
    EventListener,
    EventWait,
    InboxItem,
    InstanceSummary,
    Lease,
    LogEntry,
    Namespace,
    NewInstance,
    Schedule,
    StoredEvent,
    StoredInstance,
    Variable,
    VariableRef,
    WorkflowRecord,
)

#: Values kept encrypted by the caller: namespace secrets and registry credentials; also API token
#: records (only the token's hash, in a reserved namespace; see `operations/tokens.py`).
SealedKind = Literal["secret", "registry", "api-token"]


class VariableStore(Protocol):
    """Variables of the three scopes: bytes with a MIME type."""

    async def get_variable(self, ref: VariableRef) -> Variable | None: ...

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None: ...

    async def delete_variable(self, ref: VariableRef) -> None: ...


class LogSink(Protocol):
    """Where instance log lines go (state entries, `log:` output, function logs)."""

    async def append_log(self, entry: LogEntry) -> None: ...


@dataclass(frozen=True, slots=True)
class Commit:
    """Everything one step of an instance writes, applied atomically by `Store.commit`.

    Order inside the transaction: the record is saved; `removed` inbox keys of this instance are deleted;
    `inbox` items are upserted by (instance_id, key) (this instance's timers, or triggers for other
    instances such as a parent); `children` are created; `variables` are set (None deletes); `logs` are
    appended. When the record's status is no longer `pending`, the store also deletes the instance's
    remaining inbox items and its `instance`-scope variables. With `release`, the lease is given up.
    `waits`, unless None, replace the events the instance waits for (empty: none).
    """

    instance: StoredInstance
    removed: tuple[str, ...] = ()
    inbox: tuple[InboxItem, ...] = ()
    children: tuple[StoredInstance, ...] = ()
    variables: tuple[tuple[VariableRef, Variable | None], ...] = ()
    logs: tuple[LogEntry, ...] = ()
    release: bool = False
    waits: tuple[EventWait, ...] | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """An instance this server now holds the lease of, with the inbox items due for it.

    `orphaned` is true when the lease was taken over from another owner whose lease had run out: that
    server may have died with calls in flight, so the instance must be resumed (calls made again).
    """

    instance: StoredInstance
    due: tuple[InboxItem, ...]
    orphaned: bool


@dataclass(frozen=True, slots=True)
class EventRouting:
    """What the store found for an incoming event, for the caller's router to decide on.

    `waits`: those of pending instances for the event's namespace and type. `listeners`: every
    definition of each workflow that has one for the type (all of them, so a router sees every slot
    of an `eventsAnd`). `groups`: the live partial groups of those workflows, oldest first.
    `busy`: the singular workflows among them that have a pending instance.
    """

    event: StoredEvent
    waits: tuple[EventWait, ...]
    listeners: tuple[EventListener, ...]
    groups: tuple[EventGroup, ...]
    busy: frozenset[str]


@dataclass(frozen=True, slots=True)
class EventDelivery:
    """What a router decided for an event; written in the same transaction as the event.

    `inbox`: triggers for waiting instances (dropped for instances no longer pending); `instances`:
    instances to start; `groups`: partial groups to write (new or grown); `removed_groups`: groups to
    delete (completed).
    """

    inbox: tuple[InboxItem, ...] = ()
    instances: tuple[NewInstance, ...] = ()
    groups: tuple[EventGroup, ...] = ()
    removed_groups: tuple[EventGroup, ...] = ()
    #: What the event did, as the events listing shows it.
    deliveries: int = 0


@dataclass(frozen=True, slots=True)
class ScheduleFiring:
    """What one due tick of a schedule does: the instance to start (None: the tick is skipped) and
    when the next tick is due."""

    instance: NewInstance | None
    next_run: datetime


#: Decides what an event does, from what the store found; pure (called inside a transaction).
EventRouter = Callable[[EventRouting], EventDelivery]
#: Decides what a due schedule does; the flag tells whether a singular workflow is busy. Pure.
ScheduleFirer = Callable[[Schedule, bool], ScheduleFiring]


class Store(ABC):
    """Persistence of namespaces, workflows, instances (with leases and inboxes), variables, logs,
    secrets and registries.

    Errors: `NotFound`, `Conflict` (exists already, wrong revision, `LeaseLost`) from `dirigent.errors`;
    `StoreUnavailable` when the database cannot be reached, saying whether the write may have committed.
    """

    # Lifecycle

    @abstractmethod
    async def aclose(self) -> None: ...

    # Namespaces

    @abstractmethod
    async def create_namespace(self, name: str, now: datetime) -> Namespace:
        """Conflict if it exists."""

    @abstractmethod
    async def get_namespace(self, name: str) -> Namespace | None: ...

    @abstractmethod
    async def list_namespaces(self) -> list[Namespace]:
        """By name."""

    @abstractmethod
    async def delete_namespace(self, name: str) -> None:
        """NotFound if missing. Deletes everything in it: workflows, instances, variables, logs, sealed."""

    # Workflows

    @abstractmethod
    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        """Store revision 0 of a new workflow; NotFound without the namespace, Conflict if it exists."""

    @abstractmethod
    async def update_workflow(
        self,
        namespace: str,
        workflow: str,
        *,
        source: bytes,
        description: str,
        now: datetime,
        expected_revision: int | None = None,
    ) -> WorkflowRecord:
        """Add the next revision; Conflict when `expected_revision` is given and not the latest."""

    @abstractmethod
    async def set_workflow_flags(
        self, namespace: str, workflow: str, *, active: bool | None, log_to_events: str | None
    ) -> WorkflowRecord:
        """Change `active` / `log_to_events` (None leaves it) without a new revision."""

    @abstractmethod
    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRecord | None:
        """The latest revision, or the one asked for."""

    @abstractmethod
    async def list_workflows(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[WorkflowRecord], int]:
        """Latest revisions by id, and the total count."""

    @abstractmethod
    async def delete_workflow(self, namespace: str, workflow: str) -> None:
        """NotFound if missing. Deletes its revisions, instances (logs, inboxes), and variables of
        `workflow` and `instance` scope that belong to it, exactly (not by prefix)."""

    # Instances

    @abstractmethod
    async def create_instance(
        self, instance: StoredInstance, inbox: tuple[InboxItem, ...], *, lease: Lease | None = None
    ) -> None:
        """A new instance with its first triggers (Start). Conflict if the id exists.

        With `lease` it is created held: its owner runs it without claiming it, and other runtimes
        take it over only once the lease has run out (as from an owner that died)."""

    @abstractmethod
    async def commit(self, commit: Commit, owner: str) -> None:
        """Apply one step atomically. `LeaseLost` when `owner` does not hold the instance's lease
        (nothing is written then)."""

    @abstractmethod
    async def load_instance(self, instance_id: str) -> StoredInstance | None: ...

    @abstractmethod
    async def list_instances(
        self,
        namespace: str,
        *,
        workflow: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[InstanceSummary], int]:
        """Newest first, and the total count; fast without loading instance data."""

    @abstractmethod
    async def has_pending_instance(self, namespace: str, workflow: str) -> bool: ...

    # Leases and inboxes: how servers share the work

    @abstractmethod
    async def add_inbox(self, items: tuple[InboxItem, ...]) -> None:
        """Upsert triggers for instances (by instance id and key), e.g. a cancel from the API.
        Items for instances that have ended or do not exist are dropped."""

    @abstractmethod
    async def claim(self, owner: str, now: datetime, until: datetime, limit: int) -> list[Claim]:
        """Take the lease (until `until`) of up to `limit` pending instances that have inbox items due
        at `now`, or whose lease ran out, and that no other owner holds a live lease on; also return
        instances `owner` already holds that have items due. Concurrent claimers never get the same
        instance (PostgreSQL: FOR UPDATE SKIP LOCKED)."""

    @abstractmethod
    async def renew_leases(self, owner: str, until: datetime) -> None:
        """Extend every lease `owner` holds."""

    @abstractmethod
    async def release_leases(self, owner: str) -> None:
        """Give up every lease `owner` holds (a clean shutdown)."""

    @abstractmethod
    async def next_due(self, owner: str, now: datetime) -> datetime | None:
        """When the earliest inbox item that `owner` could claim or holds is due, if any."""

    # Variables

    @abstractmethod
    async def get_variable(self, ref: VariableRef) -> Variable | None: ...

    @abstractmethod
    async def set_variable(self, ref: VariableRef, variable: Variable) -> None: ...

    @abstractmethod
    async def delete_variable(self, ref: VariableRef) -> None: ...

    @abstractmethod
    async def list_variables(
        self, namespace: str, scope: str, workflow: str = "", instance_id: str = ""
    ) -> list[tuple[VariableRef, int, str]]:
        """(ref, size in bytes, MIME type) of one scope's variables, by key."""

    # Logs

    @abstractmethod
    async def append_log(self, entry: LogEntry) -> None:
        """Append to the log of `entry.instance_id`; a namespace's own log is kept under the
        namespace's name as id (instance ids always hold a `/`), and goes with the namespace."""

    @abstractmethod
    async def list_logs(
        self, instance_id: str, offset: int = 0, limit: int = 1000
    ) -> list[LogEntry]:
        """In the order they were appended."""

    # Sealed values (encrypted by the caller)

    @abstractmethod
    async def set_sealed(self, kind: SealedKind, namespace: str, name: str, data: bytes) -> None:
        """NotFound without the namespace; replaces an existing value."""

    @abstractmethod
    async def get_sealed(self, kind: SealedKind, namespace: str, name: str) -> bytes | None: ...

    @abstractmethod
    async def list_sealed(self, kind: SealedKind, namespace: str) -> list[str]: ...

    @abstractmethod
    async def delete_sealed(self, kind: SealedKind, namespace: str, name: str) -> None:
        """NotFound if missing."""

    # Events (docs/events.md)

    @abstractmethod
    async def receive_event(self, event: StoredEvent, route: EventRouter) -> EventDelivery:
        """Store `event` with what `route` decides for it, in one transaction.

        Conflict (nothing written) when the namespace has an event with that source and id already;
        NotFound without the namespace. Expired groups of the routed workflows are deleted first;
        concurrent events for the same grouped workflow are serialised. The stored event's
        `deliveries` is the delivery's."""

    @abstractmethod
    async def list_events(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[StoredEvent], int]:
        """Newest first, and the total count."""

    @abstractmethod
    async def delete_events(self, before: datetime) -> int:
        """Delete the events received before `before` (retention); how many."""

    @abstractmethod
    async def set_event_listeners(
        self, namespace: str, workflow: str, listeners: tuple[EventListener, ...]
    ) -> None:
        """Replace the workflow's listeners (none: it starts on no event) and drop its partial
        groups (they belong to the definitions replaced)."""

    @abstractmethod
    async def list_event_listeners(self, namespace: str, workflow: str) -> list[EventListener]:
        """By position."""

    @abstractmethod
    async def list_event_groups(self, namespace: str, workflow: str) -> list[EventGroup]:
        """Oldest first (expired ones included until they are deleted)."""

    @abstractmethod
    async def delete_expired_groups(self, now: datetime) -> int:
        """Delete the partial groups whose `expires_at` has passed; how many."""

    @abstractmethod
    async def list_event_waits(self, instance_id: str) -> list[EventWait]:
        """By key."""

    # Schedules

    @abstractmethod
    async def set_schedule(self, namespace: str, workflow: str, schedule: Schedule | None) -> None:
        """Set (replace) or, with None, remove the workflow's schedule."""

    @abstractmethod
    async def get_schedule(self, namespace: str, workflow: str) -> Schedule | None: ...

    @abstractmethod
    async def fire_schedules(self, now: datetime, limit: int, fire: ScheduleFirer) -> int:
        """For up to `limit` schedules due at `now` (oldest tick first): create the instance that
        `fire` asks for and move `next_run` on, each in the same transaction. Concurrent callers
        never fire the same schedule (PostgreSQL: FOR UPDATE SKIP LOCKED). How many fired."""

    @abstractmethod
    async def next_schedule(self) -> datetime | None:
        """When the earliest schedule is due, if there is one."""
