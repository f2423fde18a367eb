"""Builders for store records, on a fixed clock (tests never read the real time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dirigent.store.base import Store
from dirigent.store.records import InboxItem, StoredInstance, WorkflowRecord

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def instance(
    instance_id: str,
    *,
    namespace: str = "ns",
    workflow: str = "wf",
    status: str = "pending",
    created: float = 0,
    record: bytes = b"{}",
    **fields: object,
) -> StoredInstance:
    return StoredInstance(
        id=instance_id,
        namespace=namespace,
        workflow=workflow,
        status=status,
        record=record,
        created_at=at(created),
        **fields,  # type: ignore[arg-type]
    )


def item(instance_id: str, key: str, due: float = 0, trigger: bytes = b'{"t":1}') -> InboxItem:
    return InboxItem(instance_id, key, trigger, at(due))


def workflow(namespace: str, workflow_id: str, source: bytes = b"states: []") -> WorkflowRecord:
    return WorkflowRecord(
        namespace=namespace,
        id=workflow_id,
        revision=0,
        source=source,
        active=True,
        description=f"{workflow_id} v0",
        created_at=T0,
        updated_at=T0,
    )


async def started(store: Store, instance_id: str, owner: str = "s1", **fields: object) -> None:
    """Create a pending instance with a due Start item and take its lease as `owner`."""
    await store.create_instance(instance(instance_id, **fields), (item(instance_id, "start"),))  # type: ignore[arg-type]
    claims = await store.claim(owner, at(0), at(0) + LEASE, 100)
    if instance_id not in {c.instance.id for c in claims}:
        raise AssertionError(f"{owner} could not claim {instance_id}")
