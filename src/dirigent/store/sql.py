"""The durable store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

What differs between the databases sits in `sqlite.py` / `postgres.py` behind `Dialect`; this module
never asks which one it talks to. Every method is one transaction, written as a plain function of a
connection that the `Database` runs in one hop (`database.py`); the hot single statements are
`driver.Statement`s, which PostgreSQL runs on its driver directly. Writes report failures as store
errors: `StoreUnavailable(may_have_committed=…)` says whether COMMIT had been sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from dirigent.errors import Conflict, LeaseLost, NotFound
from dirigent.store import schema as t
from dirigent.store import sql_events as events
from dirigent.store.base import (
    Claim,
    Commit,
    EventDelivery,
    EventRouter,
    ScheduleFirer,
    SealedKind,
    Store,
)
from dirigent.store.database import Database
from dirigent.store.dialect import dialect_for
from dirigent.store.driver import AnyRow, Statement, first
from dirigent.store.identity import normalize, scope_identity
from dirigent.store.migrations import upgrade
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
from dirigent.store.rows import (
    INSTANCE,
    REVISION_OF_WORKFLOW,
    SUMMARY,
    WORKFLOW,
    inbox_item,
    instance_row,
    instance_summary,
    log_entry,
    log_row,
    missing_workflow,
    sealed_key,
    stored_instance,
    variable_row,
    workflow_record,
)
from dirigent.store.steps import VARIABLE_KEY, StatementWriter, plan, split_inbox, variable_key_row

_i = t.instances.c

#: Pending instances that `:owner` may claim or holds at `:now` (no other owner's live lease).
_CLAIMABLE = and_(
    _i.status == "pending",
    or_(
        _i.lease_owner.is_(None),
        _i.lease_until < bindparam("now"),
        _i.lease_owner == bindparam("owner"),
    ),
)
_CLAIM = (
    select(*INSTANCE, _i.lease_owner)
    .where(
        _CLAIMABLE,
        or_(
            # an inbox item is due, or another owner's lease ran out
            exists().where(t.inbox.c.instance_id == _i.id, t.inbox.c.due_at <= bindparam("now")),
            and_(
                _i.lease_owner.is_not(None),
                _i.lease_owner != bindparam("owner"),
                _i.lease_until < bindparam("now"),
            ),
        ),
    )
    .order_by(_i.created_at, _i.id)
    .limit(bindparam("limit"))
)
_TAKE_LEASES = (
    update(t.instances)
    .where(_i.id.in_(bindparam("ids", expanding=True)))
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
)
_DUE_ITEMS = (
    select(t.inbox)
    .where(
        t.inbox.c.instance_id.in_(bindparam("ids", expanding=True)),
        t.inbox.c.due_at <= bindparam("now"),
    )
    .order_by(t.inbox.c.due_at, t.inbox.c.key)
)
_NEXT_DUE = (
    select(func.min(t.inbox.c.due_at))
    .join(t.instances, _i.id == t.inbox.c.instance_id)
    .where(_CLAIMABLE)
)
_LOAD_INSTANCE = select(*INSTANCE).where(_i.id == bindparam("id"))
#: Bytes past which a write counts as bulky (`Database.write`): writing a megabyte takes SQLite
#: about a millisecond, too long to hold the event loop for.
BULKY_BYTES = 1 << 20
#: Log lines past which a step counts as bulky (a long chain of pure states, each line with its input).
BULKY_LOGS = 256
#: A workflow at its latest revision, or at a given one: built once (each start reads one), since
#: building a SELECT with a join costs SQLAlchemy more than SQLite takes to run it.
_WORKFLOW = (
    select(*WORKFLOW)
    .join(t.workflow_revisions, REVISION_OF_WORKFLOW)
    .where(
        t.workflows.c.namespace == bindparam("namespace"), t.workflows.c.id == bindparam("workflow")
    )
)
_LATEST_WORKFLOW = _WORKFLOW.where(t.workflow_revisions.c.revision == t.workflows.c.revision)
_WORKFLOW_REVISION = _WORKFLOW.where(t.workflow_revisions.c.revision == bindparam("revision"))
_GET_VARIABLE = select(t.variables.c.data, t.variables.c.mime_type).where(
    *(t.variables.c[name] == bindparam(name) for name in VARIABLE_KEY)
)


class SqlStore(Store):
    """The `Store` on a SQL database; open it with `SqlStore.open(url)` (which migrates it)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._writer = StatementWriter(db.dialect)
        self._single = db.dialect.single_statements()
        self._claim = db.dialect.lock_for_claim(_CLAIM)
        self._set_sealed = db.dialect.upsert(t.sealed, ("namespace", "kind", "name"), ("data",))

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        """Connect to `url` (`sqlite:///path`, `postgresql://user@host:port/db`) and migrate it."""
        db = dialect_for(url).open(url)
        try:
            await upgrade(db, url)
        except BaseException:
            await db.dispose()
            raise
        return cls(db)

    async def aclose(self) -> None:
        await self._db.dispose()

    # Namespaces

    async def create_namespace(self, name: str, now: datetime) -> Namespace:
        def work(db: Connection) -> None:
            db.execute(insert(t.namespaces).values(name=name, created_at=now))

        await self._db.write(work, conflict=f"namespace '{name}' exists already")
        return Namespace(name, now)

    async def get_namespace(self, name: str) -> Namespace | None:
        def work(db: Connection) -> Namespace | None:
            row = db.execute(select(t.namespaces).where(t.namespaces.c.name == name)).first()
            return Namespace(row.name, row.created_at) if row else None

        return await self._db.read(work, statement=True)

    async def list_namespaces(self) -> list[Namespace]:
        def work(db: Connection) -> list[Namespace]:
            rows = db.execute(select(t.namespaces).order_by(t.namespaces.c.name))
            return [Namespace(row.name, row.created_at) for row in rows]

        return await self._db.read(work, statement=True)

    async def delete_namespace(self, name: str) -> None:
        def work(db: Connection) -> None:
            gone = db.execute(delete(t.namespaces).where(t.namespaces.c.name == name))
            if gone.rowcount == 0:
                raise NotFound(f"namespace '{name}' does not exist")
            _delete_instances(db, _i.namespace == name)
            db.execute(delete(t.logs).where(t.logs.c.instance_id == name))  # the namespace log
            events.forget_workflows(db, name)
            db.execute(delete(t.events).where(t.events.c.namespace == name))
            db.execute(delete(t.variables).where(t.variables.c.namespace == name))
            db.execute(delete(t.sealed).where(t.sealed.c.namespace == name))
            db.execute(delete(t.workflow_revisions).where(t.workflow_revisions.c.namespace == name))
            db.execute(delete(t.workflows).where(t.workflows.c.namespace == name))

        await self._db.write(work, bulky=True)  # all its instances, logs and variables

    # Workflows

    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        def work(db: Connection) -> WorkflowRecord:
            db.execute(
                insert(t.workflows).values(
                    namespace=record.namespace,
                    id=record.id,
                    revision=0,
                    active=record.active,
                    log_to_events=record.log_to_events,
                    created_at=record.created_at,
                )
            )
            db.execute(
                insert(t.workflow_revisions).values(
                    namespace=record.namespace,
                    workflow=record.id,
                    revision=0,
                    description=record.description,
                    created_at=record.updated_at,
                    source=record.source,
                )
            )
            return _get_workflow(db, record.namespace, record.id, 0)

        return await self._db.write(
            work,
            conflict=f"workflow '{record.id}' exists already",
            missing=f"namespace '{record.namespace}' does not exist",
        )

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
        key = and_(t.workflows.c.namespace == namespace, t.workflows.c.id == workflow)
        # Compare-and-set of the latest revision: of two concurrent updates, one conflicts.
        if expected_revision is None:
            condition = key
        else:
            condition = and_(key, t.workflows.c.revision == expected_revision)

        def work(db: Connection) -> WorkflowRecord:
            bumped = db.execute(
                update(t.workflows)
                .where(condition)
                .values(revision=t.workflows.c.revision + 1)
                .returning(t.workflows.c.revision)
            ).scalar()
            if bumped is None:
                latest = db.execute(select(t.workflows.c.revision).where(key)).scalar()
                if latest is None:
                    raise missing_workflow(namespace, workflow)
                raise Conflict(
                    f"workflow '{workflow}' is at revision {latest}, not {expected_revision}"
                )
            db.execute(
                insert(t.workflow_revisions).values(
                    namespace=namespace,
                    workflow=workflow,
                    revision=bumped,
                    description=description,
                    created_at=now,
                    source=source,
                )
            )
            return _get_workflow(db, namespace, workflow, bumped)

        return await self._db.write(work)

    async def set_workflow_flags(
        self, namespace: str, workflow: str, *, active: bool | None, log_to_events: str | None
    ) -> WorkflowRecord:
        changes: dict[str, Any] = {}
        if active is not None:
            changes["active"] = active
        if log_to_events is not None:
            changes["log_to_events"] = log_to_events

        def work(db: Connection) -> WorkflowRecord:
            if changes:
                db.execute(
                    update(t.workflows)
                    .where(t.workflows.c.namespace == namespace, t.workflows.c.id == workflow)
                    .values(**changes)
                )
            return _get_workflow(db, namespace, workflow, None)

        return await self._db.write(work)

    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRecord | None:
        row = await self._db.read(_workflow(namespace, workflow, revision), statement=True)
        return workflow_record(row) if row else None

    async def list_workflows(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[WorkflowRecord], int]:
        def work(db: Connection) -> tuple[list[WorkflowRecord], int]:
            total = db.execute(
                select(func.count())
                .select_from(t.workflows)
                .where(t.workflows.c.namespace == namespace)
            ).scalar_one()
            rows = db.execute(
                select(*WORKFLOW)
                .join(
                    t.workflow_revisions,
                    and_(
                        REVISION_OF_WORKFLOW,
                        t.workflow_revisions.c.revision == t.workflows.c.revision,
                    ),
                )
                .where(t.workflows.c.namespace == namespace)
                .order_by(t.workflows.c.id)
                .offset(offset)
                .limit(limit)
            )
            return [workflow_record(row) for row in rows], total

        return await self._db.read(work)

    async def delete_workflow(self, namespace: str, workflow: str) -> None:
        def work(db: Connection) -> None:
            gone = db.execute(
                delete(t.workflows).where(
                    t.workflows.c.namespace == namespace, t.workflows.c.id == workflow
                )
            )
            if gone.rowcount == 0:
                raise missing_workflow(namespace, workflow)
            db.execute(
                delete(t.workflow_revisions).where(
                    t.workflow_revisions.c.namespace == namespace,
                    t.workflow_revisions.c.workflow == workflow,
                )
            )
            _delete_instances(db, and_(_i.namespace == namespace, _i.workflow == workflow))
            events.forget_workflows(db, namespace, workflow)
            # Exact matches: the variables of `ab` are not those of `abc`.
            db.execute(
                delete(t.variables).where(
                    t.variables.c.namespace == namespace,
                    t.variables.c.scope.in_(("workflow", "instance")),
                    t.variables.c.workflow == workflow,
                )
            )

        await self._db.write(work, bulky=True)  # all its instances, logs and variables

    # Instances

    async def create_instance(
        self, instance: StoredInstance, inbox: tuple[InboxItem, ...], *, lease: Lease | None = None
    ) -> None:
        row = instance_row(instance, None)
        if lease is not None:
            row["lease_owner"], row["lease_until"] = lease.owner, lease.until
        known, unknown = split_inbox(inbox, {instance.id: instance.status == "pending"})

        def statements(db: Connection) -> None:
            self._writer.insert_instance(db, row)
            self._writer.upsert_inbox(db, known, unknown)

        single = self._single
        await self._db.write(
            statements if single is None else single.create_instance(row, known, unknown),
            conflict=f"instance '{instance.id}' exists already",
            statement=single is not None,
        )

    async def commit(self, commit: Commit, owner: str) -> None:
        step = plan(commit, owner)
        # A step that changes event waits (a waiting state entered or left) runs statement by
        # statement in a transaction: the single-statement form has no part for waits.
        single = self._single if step.waits is None else None

        def statements(db: Connection) -> bool:
            return self._writer.step(db, step)

        saved = await self._db.write(
            statements if single is None else single.write_step(step),
            conflict="an instance with the id of a child exists already",
            statement=single is not None,
            bulky=_bulky(commit),
        )
        if not saved:  # nothing was written: the lease is checked first
            raise LeaseLost(f"'{owner}' does not hold the lease of instance '{step.id}'")

    async def load_instance(self, instance_id: str) -> StoredInstance | None:
        statement = Statement(_LOAD_INSTANCE, {"id": instance_id}, first, small=True)
        row = await self._db.read(statement, statement=True)
        return stored_instance(row) if row else None

    async def list_instances(
        self,
        namespace: str,
        *,
        workflow: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[InstanceSummary], int]:
        where = [_i.namespace == namespace]
        if workflow is not None:
            where.append(_i.workflow == workflow)
        if status is not None:
            where.append(_i.status == status)

        def work(db: Connection) -> tuple[list[InstanceSummary], int]:
            total = db.execute(
                select(func.count()).select_from(t.instances).where(*where)
            ).scalar_one()
            rows = db.execute(
                select(*SUMMARY)
                .where(*where)
                .order_by(_i.created_at.desc(), _i.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [instance_summary(row) for row in rows], total

        return await self._db.read(work)

    async def has_pending_instance(self, namespace: str, workflow: str) -> bool:
        def work(db: Connection) -> bool:
            found = db.execute(
                select(_i.id)
                .where(_i.namespace == namespace, _i.workflow == workflow, _i.status == "pending")
                .limit(1)
            )
            return found.first() is not None

        return await self._db.read(work, statement=True)

    # Leases and inboxes

    async def add_inbox(self, items: tuple[InboxItem, ...]) -> None:
        known, unknown = split_inbox(items, {})

        def work(db: Connection) -> None:
            self._writer.upsert_inbox(db, known, unknown)

        await self._db.write(work)

    async def claim(self, owner: str, now: datetime, until: datetime, limit: int) -> list[Claim]:
        def work(db: Connection) -> list[Claim]:
            rows = db.execute(self._claim, {"owner": owner, "now": now, "limit": limit}).all()
            if not rows:
                return []
            ids = [row.id for row in rows]
            db.execute(_TAKE_LEASES, {"ids": ids, "owner": owner, "until": until})
            due: dict[str, list[InboxItem]] = {}
            for item in db.execute(_DUE_ITEMS, {"ids": ids, "now": now}):
                due.setdefault(item.instance_id, []).append(inbox_item(item))
            return [
                Claim(
                    stored_instance(row),
                    tuple(due.get(row.id, ())),
                    orphaned=row.lease_owner is not None and row.lease_owner != owner,
                )
                for row in rows
            ]

        return await self._db.write(work)

    async def renew_leases(self, owner: str, until: datetime) -> None:
        def work(db: Connection) -> None:
            db.execute(update(t.instances).where(_i.lease_owner == owner).values(lease_until=until))

        await self._db.write(work)

    async def release_leases(self, owner: str) -> None:
        def work(db: Connection) -> None:
            db.execute(
                update(t.instances)
                .where(_i.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

        await self._db.write(work)

    async def next_due(self, owner: str, now: datetime) -> datetime | None:
        def work(db: Connection) -> datetime | None:
            earliest: datetime | None = db.execute(_NEXT_DUE, {"owner": owner, "now": now}).scalar()
            return earliest

        return await self._db.read(work, statement=True)

    # Variables

    async def get_variable(self, ref: VariableRef) -> Variable | None:
        statement = Statement(_GET_VARIABLE, variable_key_row(normalize(ref)), first)
        row = await self._db.read(statement, statement=True)
        return Variable(row.data, row.mime_type) if row else None

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None:
        row = variable_row(ref, variable)

        def work(db: Connection) -> None:
            self._writer.write_variables(db, [row], [])

        await self._db.write(work, bulky=len(variable.data) > BULKY_BYTES)

    async def delete_variable(self, ref: VariableRef) -> None:
        key = variable_key_row(normalize(ref))

        def work(db: Connection) -> None:
            self._writer.write_variables(db, [], [key])

        await self._db.write(work)

    async def list_variables(
        self, namespace: str, scope: str, workflow: str = "", instance_id: str = ""
    ) -> list[tuple[VariableRef, int, str]]:
        v = t.variables.c
        workflow, instance_id = scope_identity(scope, workflow, instance_id)

        def work(db: Connection) -> list[tuple[VariableRef, int, str]]:
            rows = db.execute(
                select(v.scope, v.key, v.namespace, v.workflow, v.instance_id, v.size, v.mime_type)
                .where(
                    v.namespace == namespace,
                    v.scope == scope,
                    v.workflow == workflow,
                    v.instance_id == instance_id,
                )
                .order_by(v.key)
            )
            return [
                (
                    VariableRef(row.scope, row.key, row.namespace, row.workflow, row.instance_id),
                    row.size,
                    row.mime_type,
                )
                for row in rows
            ]

        return await self._db.read(work, statement=True)

    # Logs

    async def append_log(self, entry: LogEntry) -> None:
        row = log_row(entry)

        def work(db: Connection) -> None:
            self._writer.insert_log(db, row)

        await self._db.write(work, statement=True)

    async def list_logs(
        self, instance_id: str, offset: int = 0, limit: int = 1000
    ) -> list[LogEntry]:
        def work(db: Connection) -> list[LogEntry]:
            rows = db.execute(
                select(t.logs)
                .where(t.logs.c.instance_id == instance_id)
                .order_by(t.logs.c.seq)
                .offset(offset)
                .limit(limit)
            )
            return [log_entry(row) for row in rows]

        return await self._db.read(work, statement=True)

    # Sealed values

    async def set_sealed(self, kind: SealedKind, namespace: str, name: str, data: bytes) -> None:
        def work(db: Connection) -> None:
            db.execute(
                self._set_sealed,
                [{"kind": kind, "namespace": namespace, "name": name, "data": data}],
            )

        await self._db.write(work, missing=f"namespace '{namespace}' does not exist")

    async def get_sealed(self, kind: SealedKind, namespace: str, name: str) -> bytes | None:
        def work(db: Connection) -> bytes | None:
            data: bytes | None = db.execute(
                select(t.sealed.c.data).where(*sealed_key(kind, namespace, name))
            ).scalar()
            return data

        return await self._db.read(work, statement=True)

    async def list_sealed(self, kind: SealedKind, namespace: str) -> list[str]:
        def work(db: Connection) -> list[str]:
            names = db.execute(
                select(t.sealed.c.name)
                .where(t.sealed.c.kind == kind, t.sealed.c.namespace == namespace)
                .order_by(t.sealed.c.name)
            )
            return list(names.scalars())

        return await self._db.read(work, statement=True)

    async def delete_sealed(self, kind: SealedKind, namespace: str, name: str) -> None:
        def work(db: Connection) -> None:
            gone = db.execute(delete(t.sealed).where(*sealed_key(kind, namespace, name)))
            if gone.rowcount == 0:
                raise NotFound(f"{kind} '{name}' does not exist in namespace '{namespace}'")

        await self._db.write(work)

    # Events

    async def receive_event(self, event: StoredEvent, route: EventRouter) -> EventDelivery:
        def work(db: Connection) -> EventDelivery:
            return events.receive_event(db, self._writer, event, route)

        return await self._db.write(
            work,
            conflict=f"event '{event.id}' from '{event.source}' was received already",
            missing=f"namespace '{event.namespace}' does not exist",
        )

    async def list_events(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[StoredEvent], int]:
        return await self._db.read(lambda db: events.list_events(db, namespace, offset, limit))

    async def delete_events(self, before: datetime) -> int:
        return await self._db.write(lambda db: events.delete_events(db, before), bulky=True)

    async def set_event_listeners(
        self, namespace: str, workflow: str, listeners: tuple[EventListener, ...]
    ) -> None:
        await self._db.write(
            lambda db: events.set_event_listeners(db, namespace, workflow, listeners),
            missing=f"workflow '{workflow}' does not exist in namespace '{namespace}'",
        )

    async def list_event_listeners(self, namespace: str, workflow: str) -> list[EventListener]:
        return await self._db.read(
            lambda db: events.list_event_listeners(db, namespace, workflow), statement=True
        )

    async def list_event_groups(self, namespace: str, workflow: str) -> list[EventGroup]:
        return await self._db.read(
            lambda db: events.list_event_groups(db, namespace, workflow), statement=True
        )

    async def delete_expired_groups(self, now: datetime) -> int:
        return await self._db.write(lambda db: events.delete_expired_groups(db, now), bulky=True)

    async def list_event_waits(self, instance_id: str) -> list[EventWait]:
        return await self._db.read(
            lambda db: events.list_event_waits(db, instance_id), statement=True
        )

    # Schedules

    async def set_schedule(self, namespace: str, workflow: str, schedule: Schedule | None) -> None:
        await self._db.write(
            lambda db: events.set_schedule(db, namespace, workflow, schedule),
            missing=f"workflow '{workflow}' does not exist in namespace '{namespace}'",
        )

    async def get_schedule(self, namespace: str, workflow: str) -> Schedule | None:
        return await self._db.read(
            lambda db: events.get_schedule(db, namespace, workflow), statement=True
        )

    async def fire_schedules(self, now: datetime, limit: int, fire: ScheduleFirer) -> int:
        dialect = self._db.dialect
        return await self._db.write(
            lambda db: events.fire_schedules(db, dialect, self._writer, now, limit, fire)
        )

    async def next_schedule(self) -> datetime | None:
        return await self._db.read(events.next_schedule, statement=True)


def _workflow(namespace: str, workflow: str, revision: int | None) -> Statement[AnyRow | None]:
    """The statement reading the row of a workflow at its latest revision, or at `revision`."""
    key = {"namespace": namespace, "workflow": workflow}
    if revision is None:
        return Statement(_LATEST_WORKFLOW, key, first, small=True)
    return Statement(_WORKFLOW_REVISION, {**key, "revision": revision}, first, small=True)


def _bulky(commit: Commit) -> bool:
    """Whether a step writes much: more than `BULKY_LOGS` log lines (each may hold a state's input),
    or more than `BULKY_BYTES` of records and variables."""
    if len(commit.logs) > BULKY_LOGS:
        return True
    size = len(commit.instance.record)
    size += sum(len(v.data) for _, v in commit.variables if v is not None)
    size += sum(len(c.record) for c in commit.children)
    return size > BULKY_BYTES


def _get_workflow(
    db: Connection, namespace: str, workflow: str, revision: int | None
) -> WorkflowRecord:
    row = _workflow(namespace, workflow, revision)(db)
    if row is None:
        raise missing_workflow(namespace, workflow)
    return workflow_record(row)


def _delete_instances(db: Connection, which: ColumnElement[bool]) -> None:
    ids = select(_i.id).where(which).scalar_subquery()
    db.execute(delete(t.logs).where(t.logs.c.instance_id.in_(ids)))
    db.execute(delete(t.inbox).where(t.inbox.c.instance_id.in_(ids)))
    db.execute(delete(t.event_waits).where(t.event_waits.c.instance_id.in_(ids)))
    db.execute(
        delete(t.variables).where(
            t.variables.c.scope == "instance", t.variables.c.instance_id.in_(ids)
        )
    )
    db.execute(delete(t.instances).where(which))
