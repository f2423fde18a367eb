"""The durable store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

What differs between the databases sits in `sqlite.py` / `postgres.py` behind `Dialect`; this module
never asks which one it talks to. Every method is one transaction. Writes report failures as store
errors (`failures.translate`): `StoreUnavailable(may_have_committed=…)` says whether COMMIT had been sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dirigent.errors import Conflict, LeaseLost, NotFound
from dirigent.store import schema as t
from dirigent.store.base import Claim, Commit, SealedKind, Store
from dirigent.store.dialect import Dialect, dialect_for
from dirigent.store.failures import translate
from dirigent.store.identity import scope_identity
from dirigent.store.migrations import upgrade
from dirigent.store.records import (
    InboxItem,
    InstanceSummary,
    LogEntry,
    Namespace,
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
    inbox_row,
    instance_row,
    instance_summary,
    log_entry,
    log_row,
    missing_workflow,
    sealed_key,
    stored_instance,
    variable_key,
    variable_row,
    workflow_record,
)


class SqlStore(Store):
    """The `Store` on a SQL database; open it with `SqlStore.open(url)` (which migrates it)."""

    def __init__(self, engine: AsyncEngine, dialect: Dialect) -> None:
        self._engine = engine
        self._reader = engine.execution_options(**dialect.read_only)
        self._dialect = dialect
        self._insert_inbox = dialect.upsert(t.inbox, ("instance_id", "key"), ("trigger", "due_at"))
        self._set_variable = dialect.upsert(
            t.variables,
            ("namespace", "scope", "workflow", "instance_id", "key"),
            ("mime_type", "size", "data"),
        )
        self._set_sealed = dialect.upsert(t.sealed, ("namespace", "kind", "name"), ("data",))

    @classmethod
    async def open(cls, url: str) -> SqlStore:
        """Connect to `url` (`sqlite:///path`, `postgresql://user@host:port/db`) and migrate it."""
        dialect = dialect_for(url)
        engine = dialect.create_engine(url)
        try:
            await upgrade(engine, dialect)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, dialect)

    async def aclose(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def _write(
        self, *, conflict: str = "exists already", missing: str = "it does not exist"
    ) -> AsyncIterator[AsyncConnection]:
        """One write transaction; driver errors become store errors worded with `conflict`/`missing`."""
        committing = False
        try:
            async with self._engine.connect() as connection:
                transaction = await connection.begin()
                try:
                    yield connection
                except BaseException:
                    await transaction.rollback()
                    raise
                committing = True
                await transaction.commit()
        except (SQLAlchemyError, OSError) as exc:
            raise translate(
                exc,
                self._dialect,
                committing=committing,
                conflict=conflict,
                missing=missing,
            ) from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """One read-only transaction (a consistent snapshot; on SQLite it takes no write lock)."""
        try:
            async with self._reader.begin() as connection:
                yield connection
        except (SQLAlchemyError, OSError) as exc:
            raise translate(exc, self._dialect, committing=False) from exc

    # Namespaces

    async def create_namespace(self, name: str, now: datetime) -> Namespace:
        async with self._write(conflict=f"namespace '{name}' exists already") as db:
            await db.execute(insert(t.namespaces).values(name=name, created_at=now))
        return Namespace(name, now)

    async def get_namespace(self, name: str) -> Namespace | None:
        async with self._read() as db:
            row = (
                await db.execute(select(t.namespaces).where(t.namespaces.c.name == name))
            ).first()
        return Namespace(row.name, row.created_at) if row else None

    async def list_namespaces(self) -> list[Namespace]:
        async with self._read() as db:
            rows = await db.execute(select(t.namespaces).order_by(t.namespaces.c.name))
        return [Namespace(row.name, row.created_at) for row in rows]

    async def delete_namespace(self, name: str) -> None:
        async with self._write() as db:
            gone = await db.execute(delete(t.namespaces).where(t.namespaces.c.name == name))
            if gone.rowcount == 0:
                raise NotFound(f"namespace '{name}' does not exist")
            await self._delete_instances(db, t.instances.c.namespace == name)
            await db.execute(delete(t.variables).where(t.variables.c.namespace == name))
            await db.execute(delete(t.sealed).where(t.sealed.c.namespace == name))
            await db.execute(
                delete(t.workflow_revisions).where(t.workflow_revisions.c.namespace == name)
            )
            await db.execute(delete(t.workflows).where(t.workflows.c.namespace == name))

    # Workflows

    async def create_workflow(self, record: WorkflowRecord) -> WorkflowRecord:
        async with self._write(
            conflict=f"workflow '{record.id}' exists already",
            missing=f"namespace '{record.namespace}' does not exist",
        ) as db:
            await db.execute(
                insert(t.workflows).values(
                    namespace=record.namespace,
                    id=record.id,
                    revision=0,
                    active=record.active,
                    log_to_events=record.log_to_events,
                    created_at=record.created_at,
                )
            )
            await db.execute(
                insert(t.workflow_revisions).values(
                    namespace=record.namespace,
                    workflow=record.id,
                    revision=0,
                    description=record.description,
                    created_at=record.updated_at,
                    source=record.source,
                )
            )
            return await self._get_workflow(db, record.namespace, record.id, 0)

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
        async with self._write() as db:
            # Compare-and-set of the latest revision: of two concurrent updates, one conflicts.
            if expected_revision is None:
                condition = key
            else:
                condition = and_(key, t.workflows.c.revision == expected_revision)
            bumped = (
                await db.execute(
                    update(t.workflows)
                    .where(condition)
                    .values(revision=t.workflows.c.revision + 1)
                    .returning(t.workflows.c.revision)
                )
            ).scalar()
            if bumped is None:
                latest = (await db.execute(select(t.workflows.c.revision).where(key))).scalar()
                if latest is None:
                    raise missing_workflow(namespace, workflow)
                raise Conflict(
                    f"workflow '{workflow}' is at revision {latest}, not {expected_revision}"
                )
            await db.execute(
                insert(t.workflow_revisions).values(
                    namespace=namespace,
                    workflow=workflow,
                    revision=bumped,
                    description=description,
                    created_at=now,
                    source=source,
                )
            )
            return await self._get_workflow(db, namespace, workflow, bumped)

    async def set_workflow_flags(
        self, namespace: str, workflow: str, *, active: bool | None, log_to_events: str | None
    ) -> WorkflowRecord:
        changes: dict[str, Any] = {}
        if active is not None:
            changes["active"] = active
        if log_to_events is not None:
            changes["log_to_events"] = log_to_events
        async with self._write() as db:
            if changes:
                await db.execute(
                    update(t.workflows)
                    .where(t.workflows.c.namespace == namespace, t.workflows.c.id == workflow)
                    .values(**changes)
                )
            return await self._get_workflow(db, namespace, workflow, None)

    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRecord | None:
        async with self._read() as db:
            try:
                return await self._get_workflow(db, namespace, workflow, revision)
            except NotFound:
                return None

    async def _get_workflow(
        self, db: AsyncConnection, namespace: str, workflow: str, revision: int | None
    ) -> WorkflowRecord:
        wanted = t.workflows.c.revision if revision is None else revision
        row = (
            await db.execute(
                select(*WORKFLOW)
                .join(t.workflow_revisions, REVISION_OF_WORKFLOW)
                .where(
                    t.workflows.c.namespace == namespace,
                    t.workflows.c.id == workflow,
                    t.workflow_revisions.c.revision == wanted,
                )
            )
        ).first()
        if row is None:
            raise missing_workflow(namespace, workflow)
        return workflow_record(row)

    async def list_workflows(
        self, namespace: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[WorkflowRecord], int]:
        async with self._read() as db:
            total = (
                await db.execute(
                    select(func.count())
                    .select_from(t.workflows)
                    .where(t.workflows.c.namespace == namespace)
                )
            ).scalar_one()
            rows = await db.execute(
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

    async def delete_workflow(self, namespace: str, workflow: str) -> None:
        async with self._write() as db:
            gone = await db.execute(
                delete(t.workflows).where(
                    t.workflows.c.namespace == namespace, t.workflows.c.id == workflow
                )
            )
            if gone.rowcount == 0:
                raise missing_workflow(namespace, workflow)
            await db.execute(
                delete(t.workflow_revisions).where(
                    t.workflow_revisions.c.namespace == namespace,
                    t.workflow_revisions.c.workflow == workflow,
                )
            )
            await self._delete_instances(
                db,
                and_(t.instances.c.namespace == namespace, t.instances.c.workflow == workflow),
            )
            # Exact matches: the variables of `ab` are not those of `abc`.
            await db.execute(
                delete(t.variables).where(
                    t.variables.c.namespace == namespace,
                    t.variables.c.scope.in_(("workflow", "instance")),
                    t.variables.c.workflow == workflow,
                )
            )

    async def _delete_instances(self, db: AsyncConnection, which: ColumnElement[bool]) -> None:
        ids = select(t.instances.c.id).where(which).scalar_subquery()
        await db.execute(delete(t.logs).where(t.logs.c.instance_id.in_(ids)))
        await db.execute(delete(t.inbox).where(t.inbox.c.instance_id.in_(ids)))
        await db.execute(
            delete(t.variables).where(
                t.variables.c.scope == "instance", t.variables.c.instance_id.in_(ids)
            )
        )
        await db.execute(delete(t.instances).where(which))

    # Instances

    async def create_instance(self, instance: StoredInstance, inbox: tuple[InboxItem, ...]) -> None:
        async with self._write(conflict=f"instance '{instance.id}' exists already") as db:
            await db.execute(insert(t.instances), [instance_row(instance, None)])
            known = {instance.id: instance.status == "pending"}
            await self._upsert_inbox(db, inbox, known)

    async def commit(self, commit: Commit, owner: str) -> None:
        new = commit.instance
        ended = new.status != "pending"
        changes: dict[str, Any] = {
            "status": new.status,
            "record": new.record,
            "ended_at": new.ended_at,
            "error_code": new.error_code,
            "error_message": new.error_message,
        }
        if commit.release:
            changes.update(lease_owner=None, lease_until=None)
        conflict = "an instance with the id of a child exists already"
        async with self._write(conflict=conflict) as db:
            # The lease check and the record write are one statement: it also locks the row.
            saved = await db.execute(
                update(t.instances)
                .where(t.instances.c.id == new.id, t.instances.c.lease_owner == owner)
                .values(**changes)
            )
            if saved.rowcount == 0:
                raise LeaseLost(f"'{owner}' does not hold the lease of instance '{new.id}'")
            known = {new.id: not ended}
            if commit.children:
                for child in commit.children:
                    known[child.id] = child.status == "pending"
                await db.execute(
                    insert(t.instances), [instance_row(c, new.id) for c in commit.children]
                )
            if commit.removed and not ended:
                await db.execute(
                    delete(t.inbox).where(
                        t.inbox.c.instance_id == new.id, t.inbox.c.key.in_(commit.removed)
                    )
                )
            await self._upsert_inbox(db, commit.inbox, known)
            await self._write_variables(db, commit.variables)
            if ended:
                await db.execute(delete(t.inbox).where(t.inbox.c.instance_id == new.id))
                await db.execute(
                    delete(t.variables).where(
                        t.variables.c.scope == "instance", t.variables.c.instance_id == new.id
                    )
                )
            if commit.logs:
                await db.execute(insert(t.logs), [log_row(entry) for entry in commit.logs])

    async def load_instance(self, instance_id: str) -> StoredInstance | None:
        async with self._read() as db:
            row = (
                await db.execute(select(*INSTANCE).where(t.instances.c.id == instance_id))
            ).first()
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
        where = [t.instances.c.namespace == namespace]
        if workflow is not None:
            where.append(t.instances.c.workflow == workflow)
        if status is not None:
            where.append(t.instances.c.status == status)
        async with self._read() as db:
            total = (
                await db.execute(select(func.count()).select_from(t.instances).where(*where))
            ).scalar_one()
            rows = await db.execute(
                select(*SUMMARY)
                .where(*where)
                .order_by(t.instances.c.created_at.desc(), t.instances.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [instance_summary(row) for row in rows], total

    async def has_pending_instance(self, namespace: str, workflow: str) -> bool:
        async with self._read() as db:
            found = await db.execute(
                select(t.instances.c.id)
                .where(
                    t.instances.c.namespace == namespace,
                    t.instances.c.workflow == workflow,
                    t.instances.c.status == "pending",
                )
                .limit(1)
            )
            return found.first() is not None

    # Leases and inboxes

    async def add_inbox(self, items: tuple[InboxItem, ...]) -> None:
        async with self._write() as db:
            await self._upsert_inbox(db, items, {})

    async def _upsert_inbox(
        self, db: AsyncConnection, items: Iterable[InboxItem], pending: dict[str, bool]
    ) -> None:
        """Upsert `items`, dropping those of instances that ended or do not exist. `pending` says
        which instances are known to be pending already (saving a query on the commit path)."""
        items = list(items)
        unknown = {i.instance_id for i in items} - pending.keys()
        if unknown:
            found = await db.execute(
                select(t.instances.c.id).where(
                    t.instances.c.id.in_(unknown), t.instances.c.status == "pending"
                )
            )
            live = set(found.scalars())
            pending = {**pending, **{i: i in live for i in unknown}}
        # A stable order keeps concurrent writers from locking inbox rows in opposite orders.
        rows = sorted(
            (inbox_row(i) for i in items if pending[i.instance_id]),
            key=lambda row: (row["instance_id"], row["key"]),
        )
        if rows:
            await db.execute(self._insert_inbox, rows)

    async def claim(self, owner: str, now: datetime, until: datetime, limit: int) -> list[Claim]:
        i = t.instances.c
        due = exists().where(t.inbox.c.instance_id == i.id, t.inbox.c.due_at <= now)
        foreign_expired = and_(
            i.lease_owner.is_not(None), i.lease_owner != owner, i.lease_until < now
        )
        query = (
            select(*INSTANCE, i.lease_owner)
            .where(
                i.status == "pending",
                or_(i.lease_owner.is_(None), i.lease_until < now, i.lease_owner == owner),
                or_(due, foreign_expired),
            )
            .order_by(i.created_at, i.id)
            .limit(limit)
        )
        async with self._write() as db:
            rows = (await db.execute(self._dialect.lock_for_claim(query))).all()
            if not rows:
                return []
            ids = [row.id for row in rows]
            await db.execute(
                update(t.instances)
                .where(i.id.in_(ids))
                .values(lease_owner=owner, lease_until=until)
            )
            items = await db.execute(
                select(t.inbox)
                .where(t.inbox.c.instance_id.in_(ids), t.inbox.c.due_at <= now)
                .order_by(t.inbox.c.due_at, t.inbox.c.key)
            )
            due_items: dict[str, list[InboxItem]] = {}
            for item in items:
                due_items.setdefault(item.instance_id, []).append(inbox_item(item))
        return [
            Claim(
                stored_instance(row),
                tuple(due_items.get(row.id, ())),
                orphaned=row.lease_owner is not None and row.lease_owner != owner,
            )
            for row in rows
        ]

    async def renew_leases(self, owner: str, until: datetime) -> None:
        async with self._write() as db:
            await db.execute(
                update(t.instances)
                .where(t.instances.c.lease_owner == owner)
                .values(lease_until=until)
            )

    async def release_leases(self, owner: str) -> None:
        async with self._write() as db:
            await db.execute(
                update(t.instances)
                .where(t.instances.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def next_due(self, owner: str, now: datetime) -> datetime | None:
        i = t.instances.c
        async with self._read() as db:
            earliest: datetime | None = (
                await db.execute(
                    select(func.min(t.inbox.c.due_at))
                    .join(t.instances, i.id == t.inbox.c.instance_id)
                    .where(
                        i.status == "pending",
                        or_(i.lease_owner.is_(None), i.lease_until < now, i.lease_owner == owner),
                    )
                )
            ).scalar()
        return earliest

    # Variables

    async def get_variable(self, ref: VariableRef) -> Variable | None:
        async with self._read() as db:
            row = (
                await db.execute(
                    select(t.variables.c.data, t.variables.c.mime_type).where(*variable_key(ref))
                )
            ).first()
        return Variable(row.data, row.mime_type) if row else None

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None:
        async with self._write() as db:
            await self._write_variables(db, ((ref, variable),))

    async def delete_variable(self, ref: VariableRef) -> None:
        async with self._write() as db:
            await self._write_variables(db, ((ref, None),))

    async def _write_variables(
        self, db: AsyncConnection, writes: Sequence[tuple[VariableRef, Variable | None]]
    ) -> None:
        for ref, variable in writes:  # in order: a later write of the same variable wins
            if variable is None:
                await db.execute(delete(t.variables).where(*variable_key(ref)))
            else:
                await db.execute(self._set_variable, [variable_row(ref, variable)])

    async def list_variables(
        self, namespace: str, scope: str, workflow: str = "", instance_id: str = ""
    ) -> list[tuple[VariableRef, int, str]]:
        v = t.variables.c
        workflow, instance_id = scope_identity(scope, workflow, instance_id)
        async with self._read() as db:
            rows = await db.execute(
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

    # Logs

    async def append_log(self, entry: LogEntry) -> None:
        async with self._write() as db:
            await db.execute(insert(t.logs), [log_row(entry)])

    async def list_logs(
        self, instance_id: str, offset: int = 0, limit: int = 1000
    ) -> list[LogEntry]:
        async with self._read() as db:
            rows = await db.execute(
                select(t.logs)
                .where(t.logs.c.instance_id == instance_id)
                .order_by(t.logs.c.seq)
                .offset(offset)
                .limit(limit)
            )
            return [log_entry(row) for row in rows]

    # Sealed values

    async def set_sealed(self, kind: SealedKind, namespace: str, name: str, data: bytes) -> None:
        async with self._write(missing=f"namespace '{namespace}' does not exist") as db:
            await db.execute(
                self._set_sealed,
                [{"kind": kind, "namespace": namespace, "name": name, "data": data}],
            )

    async def get_sealed(self, kind: SealedKind, namespace: str, name: str) -> bytes | None:
        async with self._read() as db:
            data: bytes | None = (
                await db.execute(select(t.sealed.c.data).where(*sealed_key(kind, namespace, name)))
            ).scalar()
        return data

    async def list_sealed(self, kind: SealedKind, namespace: str) -> list[str]:
        async with self._read() as db:
            names = await db.execute(
                select(t.sealed.c.name)
                .where(t.sealed.c.kind == kind, t.sealed.c.namespace == namespace)
                .order_by(t.sealed.c.name)
            )
            return list(names.scalars())

    async def delete_sealed(self, kind: SealedKind, namespace: str, name: str) -> None:
        async with self._write() as db:
            gone = await db.execute(delete(t.sealed).where(*sealed_key(kind, namespace, name)))
            if gone.rowcount == 0:
                raise NotFound(f"{kind} '{name}' does not exist in namespace '{namespace}'")
