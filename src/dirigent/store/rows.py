"""Rows of the SQL store to records and back, and the column lists its queries select."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, and_

from dirigent.errors import InvalidInput, NotFound
from dirigent.store import schema as t
from dirigent.store.base import SealedKind
from dirigent.store.identity import normalize
from dirigent.store.records import (
    EventWait,
    InboxItem,
    InstanceSummary,
    LogEntry,
    StoredInstance,
    Variable,
    VariableRef,
    WorkflowRecord,
)

#: A result row of any shape; fields are read by name.
AnyRow = Row[*tuple[Any, ...]]

SUMMARY = (
    t.instances.c.id,
    t.instances.c.namespace,
    t.instances.c.workflow,
    t.instances.c.revision,
    t.instances.c.status,
    t.instances.c.invoked_by,
    t.instances.c.created_at,
    t.instances.c.ended_at,
    t.instances.c.error_code,
    t.instances.c.error_message,
)
INSTANCE = (*SUMMARY, t.instances.c.record)
WORKFLOW = (
    t.workflows.c.namespace,
    t.workflows.c.id,
    t.workflow_revisions.c.revision,
    t.workflow_revisions.c.source,
    t.workflows.c.active,
    t.workflow_revisions.c.description,
    t.workflows.c.created_at,
    t.workflow_revisions.c.created_at.label("updated_at"),
    t.workflows.c.log_to_events,
)
REVISION_OF_WORKFLOW = and_(
    t.workflow_revisions.c.namespace == t.workflows.c.namespace,
    t.workflow_revisions.c.workflow == t.workflows.c.id,
)


def missing_workflow(namespace: str, workflow: str) -> NotFound:
    return NotFound(f"workflow '{workflow}' does not exist in namespace '{namespace}'")


def workflow_record(row: AnyRow) -> WorkflowRecord:
    return WorkflowRecord(
        namespace=row.namespace,
        id=row.id,
        revision=row.revision,
        source=row.source,
        active=row.active,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        log_to_events=row.log_to_events,
    )


def instance_row(instance: StoredInstance, parent_id: str | None) -> dict[str, Any]:
    if instance.created_at is None:
        raise InvalidInput(f"instance '{instance.id}' has no creation time")
    return {
        "id": instance.id,
        "namespace": instance.namespace,
        "workflow": instance.workflow,
        "revision": instance.revision,
        "status": instance.status,
        "invoked_by": instance.invoked_by,
        "parent_id": parent_id,
        "created_at": instance.created_at,
        "ended_at": instance.ended_at,
        "error_code": instance.error_code,
        "error_message": instance.error_message,
        "lease_owner": None,
        "lease_until": None,
        "record": instance.record,
    }


def instance_summary(row: AnyRow) -> InstanceSummary:
    return InstanceSummary(
        id=row.id,
        namespace=row.namespace,
        workflow=row.workflow,
        revision=row.revision,
        status=row.status,
        invoked_by=row.invoked_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
        error_code=row.error_code,
        error_message=row.error_message,
    )


def stored_instance(row: AnyRow) -> StoredInstance:
    return StoredInstance(
        id=row.id,
        namespace=row.namespace,
        workflow=row.workflow,
        status=row.status,
        record=row.record,
        revision=row.revision,
        invoked_by=row.invoked_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
        error_code=row.error_code,
        error_message=row.error_message,
    )


def inbox_row(item: InboxItem) -> dict[str, Any]:
    return {
        "instance_id": item.instance_id,
        "key": item.key,
        "trigger": item.trigger,
        "due_at": item.due_at,
    }


def inbox_item(row: AnyRow) -> InboxItem:
    return InboxItem(row.instance_id, row.key, row.trigger, row.due_at)


def variable_row(ref: VariableRef, variable: Variable) -> dict[str, Any]:
    ref = normalize(ref)
    return {
        "namespace": ref.namespace,
        "scope": ref.scope,
        "workflow": ref.workflow,
        "instance_id": ref.instance_id,
        "key": ref.key,
        "mime_type": variable.mime_type,
        "size": len(variable.data),
        "data": variable.data,
    }


def log_entry(row: AnyRow) -> LogEntry:
    return LogEntry(
        instance_id=row.instance_id,
        time=row.time,
        message=row.message,
        state=row.state,
        action_id=row.action_id,
        extra=orjson.loads(row.extra) if row.extra else {},
    )


def log_row(entry: LogEntry) -> dict[str, Any]:
    return {
        "instance_id": entry.instance_id,
        "time": entry.time,
        "state": entry.state,
        "action_id": entry.action_id,
        "message": entry.message,
        "extra": orjson.dumps(entry.extra).decode() if entry.extra else None,
    }


def sealed_key(kind: SealedKind, namespace: str, name: str) -> tuple[ColumnElement[bool], ...]:
    s = t.sealed.c
    return s.kind == kind, s.namespace == namespace, s.name == name


def wait_row(wait: EventWait) -> dict[str, Any]:
    return {
        "instance_id": wait.instance_id,
        "key": wait.key,
        "namespace": wait.namespace,
        "type": wait.type,
        "context": orjson.dumps(wait.context).decode(),
    }
