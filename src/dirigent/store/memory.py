"""An in-memory store: the embedded default of `dirigent run` and `dirigent.testing`.

It keeps everything in dictionaries of the running process and implements the same `Store` contract as
the durable stores, so the engine cannot tell them apart. Each method runs without awaiting anything,
so on one event loop every call is atomic; `commit` checks everything before it changes anything, so a
failed commit (`LeaseLost`, `Conflict`) writes nothing, as a rolled-back transaction would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from dirigent.errors import Conflict, InvalidInput, LeaseLost, NotFound
from dirigent.store.base import (
    Claim,
    Commit,
    EventDelivery,
    EventRouter,
    EventRouting,
    ScheduleFirer,
    SealedKind,
    Store,
)
from dirigent.store.identity import EPOCH, normalize, scope_identity
from dirigent.store.records import (
    EventGroup,
    EventListener,
    EventWait,
    InboxItem,
    InstanceSummary,
    Lease,
    LogEntry,
    Namespace,
    Schedule,
    StoredEvent,
    StoredInstance,
    Variable,
    VariableRef,
    WorkflowRecord,
)

LogListener = Callable[[LogEntry], None]


@dataclass(slots=True)
class _Revision:
    source: bytes
    description: str
    created_at: datetime


@dataclass(slots=True)
class _Workflow:
    created_at: datetime
    active: bool
    log_to_events: str
    revisions: list[_Revision] = field(default_factory=list)  # index = revision number


class MemoryStore(Store):
    """Everything in memory; log listeners see each entry as it is appended (also via `commit`).

    Besides the `Store` contract it offers the snapshots `variables()` and `logs()` and log listeners,
    for `dirigent run` and tests.
    """

    def __init__(self) -> None:
        self._namespaces: dict[str, Namespace] = {}
        self._workflows: dict[tuple[str, str], _Workflow] = {}
        self._instances: dict[str, StoredInstance] = {}
        self._leases: dict[str, Lease] = {}
        self._inbox: dict[str, dict[str, InboxItem]] = {}
        self._variables: dict[VariableRef, Variable] = {}
        self._logs: dict[str, list[LogEntry]] = {}
        self._sealed: dict[tuple[str, str, str], bytes] = {}
        self._log_listeners: list[LogListener] = []
        self._events: dict[tuple[str, str, str], StoredEvent] = {}
        self._waits: dict[str, tuple[EventWait, ...]] = {}
        self._listeners: dict[tuple[str, str], tuple[EventListener, ...]] = {}
        self._groups: dict[str, EventGroup] = {}
        self._schedules: dict[tuple[str, str], Schedule] = {}

    async def aclose(self) -> None:
        """Nothing to release; the data stays readable."""

    # Namespaces

    async def create_namespace(self, name: str, now: datetime) -> Namespace:
        if name in self._namespaces:
            raise Conflict(f"namespace '{name}' exists already")
        namespace = Namespace(name, now)
        self._namespaces[name] = namespace
        return namespace

    async def get_namespace(self, name: str) -> Namespace | None:
        return self._namespaces.get(name)

    async def list_namespaces(self) -> list[Namespace]:
        return [self._namespaces[name] for name in sorted(self._namespaces)]

    async def delete_namespace(self, name: str) -> None:
        if name not in self._namespaces:
            raise NotFound(f"namespace '{name}' does not exist")
        del self._namespaces[name]
        for key in [k for k in self._workflows if k[0] == name]:
            del self._workflows[key]
        self._drop_instances(i.id for i in self._instances.values() if i.namespace == name)
        self._logs.pop(name, None)  # the namespace log (see `Store.append_log`)
        for ref in [r for r in self._variables if r.namespace == name]:
            del self._variables[ref]
        for sealed in [k for k in self._sealed if k[1] == name]:
            del self._sealed[sealed]
        for event in [k for k in self._events if k[0] == name]:
            del self._events[event]
        for key in [k for k in self._listeners if k[0] == name]:
            self._forget_workflow_events(*key)
        for key in [k for k in self._schedules if k[0] == name]:
            del self._schedules[key]

    # Workflows

    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        if record.namespace not in self._namespaces:
            raise NotFound(f"namespace '{record.namespace}' does not exist")
        key = (record.namespace, record.id)
        if key in self._workflows:
            raise Conflict(f"workflow '{record.id}' exists already")
        self._workflows[key] = _Workflow(
            record.created_at,
            record.active,
            record.log_to_events,
            [_Revision(record.source, record.description, record.updated_at)],
        )
        return self._record(record.namespace, record.id, 0)

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
        found = self._workflow(namespace, workflow)
        latest = len(found.revisions) - 1
        if expected_revision is not None and expected_revision != latest:
            raise Conflict(
                f"workflow '{workflow}' is at revision {latest}, not {expected_revision}"
            )
        found.revisions.append(_Revision(source, description, now))
        return self._record(namespace, workflow, latest + 1)

    async def set_workflow_flags(
        self, namespace: str, workflow: str, *, active: bool | None, log_to_events: str | None
    ) -> WorkflowRecord:
        found = self._workflow(namespace, workflow)
        if active is not None:
            found.active = active
        if log_to_events is not None:
            found.log_to_events = log_to_events
        return self._record(namespace, workflow, len(found.revisions) - 1)

    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRecord | None:
        found = self._workflows.get((namespace, workflow))
        if found is None:
            return None
        if revision is None:
            revision = len(found.revisions) - 1
        if not 0 <= revision < len(found.revisions):
            return None
        return self._record(namespace, workflow, revision)

    async def list_workflows(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[WorkflowRecord], int]:
        ids = sorted(wf for ns, wf in self._workflows if ns == namespace)
        page = ids[offset : offset + limit]
        latest = [
            self._record(namespace, wf, len(self._workflows[namespace, wf].revisions) - 1)
            for wf in page
        ]
        return latest, len(ids)

    async def delete_workflow(self, namespace: str, workflow: str) -> None:
        self._workflow(namespace, workflow)
        del self._workflows[namespace, workflow]
        self._drop_instances(
            i.id
            for i in self._instances.values()
            if i.namespace == namespace and i.workflow == workflow
        )
        gone = [
            r
            for r in self._variables
            if r.scope != "namespace" and r.namespace == namespace and r.workflow == workflow
        ]
        for ref in gone:
            del self._variables[ref]
        self._forget_workflow_events(namespace, workflow)
        self._schedules.pop((namespace, workflow), None)

    def _workflow(self, namespace: str, workflow: str) -> _Workflow:
        found = self._workflows.get((namespace, workflow))
        if found is None:
            raise NotFound(f"workflow '{workflow}' does not exist in namespace '{namespace}'")
        return found

    def _record(self, namespace: str, workflow: str, revision: int) -> WorkflowRecord:
        found = self._workflows[namespace, workflow]
        rev = found.revisions[revision]
        return WorkflowRecord(
            namespace=namespace,
            id=workflow,
            revision=revision,
            source=rev.source,
            active=found.active,
            description=rev.description,
            created_at=found.created_at,
            updated_at=rev.created_at,
            log_to_events=found.log_to_events,
        )

    # Instances

    async def create_instance(
        self, instance: StoredInstance, inbox: tuple[InboxItem, ...], *, lease: Lease | None = None
    ) -> None:
        self._check_new((instance,))
        self._instances[instance.id] = instance
        if lease is not None:
            self._leases[instance.id] = lease
        self._upsert_inbox(inbox)

    async def commit(self, commit: Commit, owner: str) -> None:
        new = commit.instance
        old = self._instances.get(new.id)
        lease = self._leases.get(new.id)
        if old is None or lease is None or lease.owner != owner:
            raise LeaseLost(f"'{owner}' does not hold the lease of instance '{new.id}'")
        self._check_new(commit.children)
        # Checked everything: from here on nothing fails, so the commit is all or nothing.
        self._instances[new.id] = replace(
            new,
            namespace=old.namespace,
            workflow=old.workflow,
            revision=old.revision,
            invoked_by=old.invoked_by,
            created_at=old.created_at,
        )
        for child in commit.children:
            self._instances[child.id] = child
        own = self._inbox.get(new.id, {})
        for key in commit.removed:
            own.pop(key, None)
        self._upsert_inbox(commit.inbox)
        for ref, variable in commit.variables:
            if variable is None:
                self._variables.pop(normalize(ref), None)
            else:
                self._variables[normalize(ref)] = variable
        if commit.waits is not None:
            self._waits[new.id] = commit.waits
        if new.status != "pending":
            self._inbox.pop(new.id, None)
            self._waits.pop(new.id, None)
            self._delete_instance_variables(new.id)
        if commit.release:
            del self._leases[new.id]
        for entry in commit.logs:
            self._append_log(entry)

    async def load_instance(self, instance_id: str) -> StoredInstance | None:
        return self._instances.get(instance_id)

    async def list_instances(
        self,
        namespace: str,
        *,
        workflow: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[InstanceSummary], int]:
        found = [
            i
            for i in self._instances.values()
            if i.namespace == namespace
            and (workflow is None or i.workflow == workflow)
            and (status is None or i.status == status)
        ]
        found.sort(key=lambda i: (i.created_at or EPOCH, i.id), reverse=True)
        page = [_summary(i) for i in found[offset : offset + limit]]
        return page, len(found)

    async def has_pending_instance(self, namespace: str, workflow: str) -> bool:
        return self._has_pending(namespace, workflow)

    def _check_new(self, instances: tuple[StoredInstance, ...]) -> None:
        seen: set[str] = set()
        for instance in instances:
            if instance.created_at is None:
                raise InvalidInput(f"instance '{instance.id}' has no creation time")
            if instance.id in self._instances or instance.id in seen:
                raise Conflict(f"instance '{instance.id}' exists already")
            seen.add(instance.id)

    def _drop_instances(self, ids: Iterable[str]) -> None:
        for instance_id in list(ids):
            del self._instances[instance_id]
            self._leases.pop(instance_id, None)
            self._inbox.pop(instance_id, None)
            self._waits.pop(instance_id, None)
            self._logs.pop(instance_id, None)
            self._delete_instance_variables(instance_id)

    # Leases and inboxes

    async def add_inbox(self, items: tuple[InboxItem, ...]) -> None:
        self._upsert_inbox(items)

    def _upsert_inbox(self, items: Iterable[InboxItem]) -> None:
        for item in items:
            target = self._instances.get(item.instance_id)
            if target is not None and target.status == "pending":
                self._inbox.setdefault(item.instance_id, {})[item.key] = item

    async def claim(self, owner: str, now: datetime, until: datetime, limit: int) -> list[Claim]:
        claims: list[Claim] = []
        candidates = sorted(
            (i for i in self._instances.values() if i.status == "pending"),
            key=lambda i: (i.created_at or EPOCH, i.id),
        )
        for instance in candidates:
            if len(claims) >= limit:
                break
            lease = self._leases.get(instance.id)
            foreign = lease is not None and lease.owner != owner
            expired = lease is not None and lease.until < now
            if foreign and not expired:
                continue
            due = sorted(
                (i for i in self._inbox.get(instance.id, {}).values() if i.due_at <= now),
                key=lambda i: (i.due_at, i.key),
            )
            orphaned = foreign and expired
            if not due and not orphaned:
                continue
            self._leases[instance.id] = Lease(owner, until)
            claims.append(Claim(instance, tuple(due), orphaned))
        return claims

    async def renew_leases(self, owner: str, until: datetime) -> None:
        for instance_id, lease in list(self._leases.items()):
            if lease.owner == owner:
                self._leases[instance_id] = Lease(owner, until)

    async def release_leases(self, owner: str) -> None:
        for instance_id in [i for i, lease in self._leases.items() if lease.owner == owner]:
            del self._leases[instance_id]

    async def next_due(self, owner: str, now: datetime) -> datetime | None:
        earliest: datetime | None = None
        for instance_id, items in self._inbox.items():
            instance = self._instances.get(instance_id)
            if instance is None or instance.status != "pending" or not items:
                continue
            lease = self._leases.get(instance_id)
            if lease is not None and lease.owner != owner and not lease.until < now:
                continue
            first = min(i.due_at for i in items.values())
            if earliest is None or first < earliest:
                earliest = first
        return earliest

    # Variables

    async def get_variable(self, ref: VariableRef) -> Variable | None:
        return self._variables.get(normalize(ref))

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None:
        self._variables[normalize(ref)] = variable

    async def delete_variable(self, ref: VariableRef) -> None:
        self._variables.pop(normalize(ref), None)

    async def list_variables(
        self, namespace: str, scope: str, workflow: str = "", instance_id: str = ""
    ) -> list[tuple[VariableRef, int, str]]:
        workflow, instance_id = scope_identity(scope, workflow, instance_id)
        found = [
            (ref, len(variable.data), variable.mime_type)
            for ref, variable in self._variables.items()
            if ref.scope == scope
            and ref.namespace == namespace
            and ref.workflow == workflow
            and ref.instance_id == instance_id
        ]
        found.sort(key=lambda row: row[0].key)
        return found

    def _delete_instance_variables(self, instance_id: str) -> None:
        gone = [
            r for r in self._variables if r.scope == "instance" and r.instance_id == instance_id
        ]
        for ref in gone:
            del self._variables[ref]

    def variables(self) -> dict[VariableRef, Variable]:
        """A snapshot of every stored variable."""
        return dict(self._variables)

    # Logs

    async def append_log(self, entry: LogEntry) -> None:
        self._append_log(entry)

    def _append_log(self, entry: LogEntry) -> None:
        self._logs.setdefault(entry.instance_id, []).append(entry)
        for listener in self._log_listeners:
            listener(entry)

    async def list_logs(
        self, instance_id: str, offset: int = 0, limit: int = 1000
    ) -> list[LogEntry]:
        return self._logs.get(instance_id, [])[offset : offset + limit]

    def logs(self, instance_id: str) -> list[LogEntry]:
        """A snapshot of one instance's log."""
        return list(self._logs.get(instance_id, ()))

    def add_log_listener(self, listener: LogListener) -> None:
        """Call `listener` with every entry appended from now on."""
        self._log_listeners.append(listener)

    # Sealed values

    async def set_sealed(self, kind: SealedKind, namespace: str, name: str, data: bytes) -> None:
        if namespace not in self._namespaces:
            raise NotFound(f"namespace '{namespace}' does not exist")
        self._sealed[kind, namespace, name] = data

    async def get_sealed(self, kind: SealedKind, namespace: str, name: str) -> bytes | None:
        return self._sealed.get((kind, namespace, name))

    async def list_sealed(self, kind: SealedKind, namespace: str) -> list[str]:
        return sorted(n for k, ns, n in self._sealed if k == kind and ns == namespace)

    async def delete_sealed(self, kind: SealedKind, namespace: str, name: str) -> None:
        if self._sealed.pop((kind, namespace, name), None) is None:
            raise NotFound(f"{kind} '{name}' does not exist in namespace '{namespace}'")

    # Events

    async def receive_event(self, event: StoredEvent, route: EventRouter) -> EventDelivery:
        if event.namespace not in self._namespaces:
            raise NotFound(f"namespace '{event.namespace}' does not exist")
        key = (event.namespace, event.source, event.id)
        if key in self._events:
            raise Conflict(f"event '{event.id}' from '{event.source}' was received already")
        waits = tuple(
            wait
            for instance_id, found in self._waits.items()
            if self._pending(instance_id)
            for wait in found
            if wait.namespace == event.namespace and wait.type == event.type
        )
        workflows = sorted(
            wf
            for (ns, wf), found in self._listeners.items()
            if ns == event.namespace and any(li.type == event.type for li in found)
        )
        for group in [g for g in self._groups.values() if g.namespace == event.namespace]:
            expired = group.expires_at is not None and group.expires_at <= event.received_at
            if group.workflow in workflows and expired:
                del self._groups[group.id]
        routing = EventRouting(
            event=event,
            waits=waits,
            listeners=tuple(li for wf in workflows for li in self._listeners[event.namespace, wf]),
            groups=tuple(
                sorted(
                    (
                        g
                        for g in self._groups.values()
                        if g.namespace == event.namespace and g.workflow in workflows
                    ),
                    key=lambda g: (g.created_at, g.id),
                )
            ),
            busy=frozenset(
                wf
                for wf in workflows
                if any(li.singular for li in self._listeners[event.namespace, wf])
                and self._has_pending(event.namespace, wf)
            ),
        )
        delivery = route(routing)
        self._check_new(tuple(new.instance for new in delivery.instances))
        # Checked everything: from here on nothing fails.
        self._events[key] = replace(event, deliveries=delivery.deliveries)
        for new in delivery.instances:
            self._instances[new.instance.id] = new.instance
            self._upsert_inbox(new.inbox)
        self._upsert_inbox(delivery.inbox)
        for group in delivery.removed_groups:
            self._groups.pop(group.id, None)
        for group in delivery.groups:
            self._groups[group.id] = group
        return delivery

    async def list_events(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[StoredEvent], int]:
        found = sorted(
            (e for e in self._events.values() if e.namespace == namespace),
            key=lambda e: (e.received_at, e.source, e.id),
            reverse=True,
        )
        return found[offset : offset + limit], len(found)

    async def delete_events(self, before: datetime) -> int:
        gone = [k for k, e in self._events.items() if e.received_at < before]
        for key in gone:
            del self._events[key]
        return len(gone)

    async def set_event_listeners(
        self, namespace: str, workflow: str, listeners: tuple[EventListener, ...]
    ) -> None:
        self._workflow(namespace, workflow)
        self._forget_workflow_events(namespace, workflow)
        if listeners:
            self._listeners[namespace, workflow] = tuple(sorted(listeners, key=_position))

    async def list_event_listeners(self, namespace: str, workflow: str) -> list[EventListener]:
        return list(self._listeners.get((namespace, workflow), ()))

    async def list_event_groups(self, namespace: str, workflow: str) -> list[EventGroup]:
        return sorted(
            (
                g
                for g in self._groups.values()
                if (g.namespace, g.workflow) == (namespace, workflow)
            ),
            key=lambda g: (g.created_at, g.id),
        )

    async def delete_expired_groups(self, now: datetime) -> int:
        gone = [
            g.id for g in self._groups.values() if g.expires_at is not None and g.expires_at <= now
        ]
        for group_id in gone:
            del self._groups[group_id]
        return len(gone)

    async def list_event_waits(self, instance_id: str) -> list[EventWait]:
        return sorted(self._waits.get(instance_id, ()), key=lambda w: w.key)

    def _forget_workflow_events(self, namespace: str, workflow: str) -> None:
        self._listeners.pop((namespace, workflow), None)
        for group_id in [
            g.id
            for g in self._groups.values()
            if (g.namespace, g.workflow) == (namespace, workflow)
        ]:
            del self._groups[group_id]

    def _pending(self, instance_id: str) -> bool:
        found = self._instances.get(instance_id)
        return found is not None and found.status == "pending"

    def _has_pending(self, namespace: str, workflow: str) -> bool:
        return any(
            i.status == "pending" and i.namespace == namespace and i.workflow == workflow
            for i in self._instances.values()
        )

    # Schedules

    async def set_schedule(self, namespace: str, workflow: str, schedule: Schedule | None) -> None:
        if schedule is None:
            self._schedules.pop((namespace, workflow), None)
            return
        self._workflow(namespace, workflow)
        self._schedules[namespace, workflow] = schedule

    async def get_schedule(self, namespace: str, workflow: str) -> Schedule | None:
        return self._schedules.get((namespace, workflow))

    async def fire_schedules(self, now: datetime, limit: int, fire: ScheduleFirer) -> int:
        due = sorted(
            (s for s in self._schedules.values() if s.next_run <= now),
            key=lambda s: (s.next_run, s.namespace, s.workflow),
        )[:limit]
        for schedule in due:
            busy = schedule.singular and self._has_pending(schedule.namespace, schedule.workflow)
            firing = fire(schedule, busy)
            new = firing.instance
            if new is not None and new.instance.id not in self._instances:
                self._check_new((new.instance,))
                self._instances[new.instance.id] = new.instance
                self._upsert_inbox(new.inbox)
            self._schedules[schedule.namespace, schedule.workflow] = replace(
                schedule, next_run=firing.next_run
            )
        return len(due)

    async def next_schedule(self) -> datetime | None:
        return min((s.next_run for s in self._schedules.values()), default=None)


def _position(listener: EventListener) -> int:
    return listener.position


def _summary(instance: StoredInstance) -> InstanceSummary:
    return InstanceSummary(
        id=instance.id,
        namespace=instance.namespace,
        workflow=instance.workflow,
        revision=instance.revision,
        status=instance.status,
        invoked_by=instance.invoked_by,
        created_at=instance.created_at or EPOCH,
        ended_at=instance.ended_at,
        error_code=instance.error_code,
        error_message=instance.error_message,
    )
