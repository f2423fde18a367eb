"""Events and schedules on the SQL store: each operation a plain function of a connection, run by
`SqlStore` as one transaction (see `sql.py`).

Concurrency: an event for a grouped (`eventsAnd`) workflow locks that workflow's listener rows
(`FOR UPDATE`; SQLite's write lock serialises every write anyway) before it reads the workflow's
partial groups, so two events never extend the same group from one snapshot. Schedules are claimed
like instances (the dialect's `lock_for_claim`: `FOR UPDATE SKIP LOCKED` on PostgreSQL): a due tick
fires in exactly one transaction, which also moves `next_run` on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update

from dirigent.store import schema as t
from dirigent.store.base import (
    EventDelivery,
    EventRouter,
    EventRouting,
    ScheduleFirer,
)
from dirigent.store.dialect import Dialect
from dirigent.store.records import (
    EventGroup,
    EventListener,
    EventWait,
    Schedule,
    StoredEvent,
)
from dirigent.store.rows import AnyRow, instance_row
from dirigent.store.steps import StatementWriter, split_inbox

_e = t.events.c
_w = t.event_waits.c
_l = t.event_listeners.c
_g = t.event_groups.c
_s = t.schedules.c
_i = t.instances.c


# Statements of the intake's hot path, built once.

#: The waits of pending instances for an event's namespace and type.
_WAITS = (
    select(t.event_waits)
    .join(t.instances, _i.id == _w.instance_id)
    .where(_w.namespace == bindparam("ns"), _w.type == bindparam("type"), _i.status == "pending")
    .order_by(_w.instance_id, _w.key)
)
_typed = t.event_listeners.alias("typed")
#: Every listener of each workflow that has one for an event's namespace and type.
_LISTENERS = (
    select(t.event_listeners)
    .where(
        _l.namespace == bindparam("ns"),
        _l.workflow.in_(
            select(_typed.c.workflow).where(
                _typed.c.namespace == bindparam("ns"), _typed.c.type == bindparam("type")
            )
        ),
    )
    .order_by(_l.workflow, _l.position)
)
_INSERT_EVENT = insert(t.events)


# Rows


def event_row(event: StoredEvent) -> dict[str, Any]:
    return {
        "namespace": event.namespace,
        "source": event.source,
        "id": event.id,
        "type": event.type,
        "received_at": event.received_at,
        "deliveries": event.deliveries,
        "event": event.event,
    }


def stored_event(row: AnyRow) -> StoredEvent:
    return StoredEvent(
        row.namespace, row.source, row.id, row.type, row.received_at, row.event, row.deliveries
    )


def event_wait(row: AnyRow) -> EventWait:
    return EventWait(row.instance_id, row.key, row.namespace, row.type, orjson.loads(row.context))


def listener_row(listener: EventListener) -> dict[str, Any]:
    return {
        "namespace": listener.namespace,
        "workflow": listener.workflow,
        "position": listener.position,
        "type": listener.type,
        "grouped": listener.grouped,
        "singular": listener.singular,
        "spec": listener.spec,
    }


def event_listener(row: AnyRow) -> EventListener:
    return EventListener(
        row.namespace, row.workflow, row.position, row.type, row.grouped, row.singular, row.spec
    )


def group_row(group: EventGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "namespace": group.namespace,
        "workflow": group.workflow,
        "correlation": group.correlation,
        "created_at": group.created_at,
        "expires_at": group.expires_at,
        "events": group.events,
    }


def event_group(row: AnyRow) -> EventGroup:
    return EventGroup(
        row.namespace,
        row.workflow,
        row.id,
        row.correlation,
        row.created_at,
        row.expires_at,
        row.events,
    )


def schedule_row(schedule: Schedule) -> dict[str, Any]:
    return {
        "namespace": schedule.namespace,
        "workflow": schedule.workflow,
        "cron": schedule.cron,
        "zone": schedule.zone,
        "revision": schedule.revision,
        "singular": schedule.singular,
        "next_run": schedule.next_run,
    }


def schedule_of(row: AnyRow) -> Schedule:
    return Schedule(
        row.namespace, row.workflow, row.cron, row.zone, row.revision, row.singular, row.next_run
    )


# Events


def receive_event(
    db: Connection, writer: StatementWriter, event: StoredEvent, route: EventRouter
) -> EventDelivery:
    """See `Store.receive_event`; the event's row is inserted last, so a duplicate (a unique
    violation) rolls everything back."""
    ns = event.namespace
    of_type = {"ns": ns, "type": event.type}
    waits = db.execute(_WAITS, of_type).all()
    listeners = [event_listener(row) for row in db.execute(_LISTENERS, of_type)]
    grouped = sorted({li.workflow for li in listeners if li.grouped})
    groups: list[EventGroup] = []
    if grouped:
        # Wait for other events of these workflows, then read their groups as they left them.
        locked = db.execute(
            select(t.event_listeners)
            .where(_l.namespace == ns, _l.workflow.in_(grouped))
            .order_by(_l.workflow, _l.position)
            .with_for_update()
        ).all()
        listeners = sorted(
            [li for li in listeners if li.workflow not in grouped]
            + [event_listener(row) for row in locked],
            key=lambda li: (li.workflow, li.position),
        )
        mine = (_g.namespace == ns, _g.workflow.in_(grouped))
        db.execute(delete(t.event_groups).where(*mine, _g.expires_at <= event.received_at))
        groups = [
            event_group(row)
            for row in db.execute(
                select(t.event_groups).where(*mine).order_by(_g.created_at, _g.id)
            )
        ]
    singular = sorted({li.workflow for li in listeners if li.singular})
    busy: frozenset[str] = frozenset()
    if singular:
        busy = frozenset(
            db.execute(
                select(_i.workflow)
                .where(_i.namespace == ns, _i.workflow.in_(singular), _i.status == "pending")
                .distinct()
            ).scalars()
        )
    delivery = route(
        EventRouting(
            event=event,
            waits=tuple(event_wait(row) for row in waits),
            listeners=tuple(listeners),
            groups=tuple(groups),
            busy=busy,
        )
    )
    new = [item.instance for item in delivery.instances]
    for instance in new:
        writer.insert_instance(db, instance_row(instance, None))
    items = [entry for item in delivery.instances for entry in item.inbox]
    known, unknown = split_inbox([*items, *delivery.inbox], {i.id: True for i in new})
    writer.upsert_inbox(db, known, unknown)
    written = {g.id for g in delivery.groups} | {g.id for g in delivery.removed_groups}
    if written:
        db.execute(delete(t.event_groups).where(_g.id.in_(sorted(written))))
    if delivery.groups:
        db.execute(insert(t.event_groups), [group_row(g) for g in delivery.groups])
    row = event_row(event)
    row["deliveries"] = delivery.deliveries
    db.execute(_INSERT_EVENT, [row])
    return delivery


def list_events(
    db: Connection, namespace: str, offset: int, limit: int
) -> tuple[list[StoredEvent], int]:
    total = db.execute(
        select(func.count()).select_from(t.events).where(_e.namespace == namespace)
    ).scalar_one()
    rows = db.execute(
        select(t.events)
        .where(_e.namespace == namespace)
        .order_by(_e.received_at.desc(), _e.source.desc(), _e.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [stored_event(row) for row in rows], total


def delete_events(db: Connection, before: datetime) -> int:
    return db.execute(delete(t.events).where(_e.received_at < before)).rowcount


def set_event_listeners(
    db: Connection, namespace: str, workflow: str, listeners: Sequence[EventListener]
) -> None:
    db.execute(delete(t.event_groups).where(_g.namespace == namespace, _g.workflow == workflow))
    db.execute(delete(t.event_listeners).where(_l.namespace == namespace, _l.workflow == workflow))
    if listeners:
        db.execute(insert(t.event_listeners), [listener_row(li) for li in listeners])


def list_event_listeners(db: Connection, namespace: str, workflow: str) -> list[EventListener]:
    rows = db.execute(
        select(t.event_listeners)
        .where(_l.namespace == namespace, _l.workflow == workflow)
        .order_by(_l.position)
    )
    return [event_listener(row) for row in rows]


def list_event_groups(db: Connection, namespace: str, workflow: str) -> list[EventGroup]:
    rows = db.execute(
        select(t.event_groups)
        .where(_g.namespace == namespace, _g.workflow == workflow)
        .order_by(_g.created_at, _g.id)
    )
    return [event_group(row) for row in rows]


def delete_expired_groups(db: Connection, now: datetime) -> int:
    return db.execute(delete(t.event_groups).where(_g.expires_at <= now)).rowcount


def list_event_waits(db: Connection, instance_id: str) -> list[EventWait]:
    rows = db.execute(select(t.event_waits).where(_w.instance_id == instance_id).order_by(_w.key))
    return [event_wait(row) for row in rows]


def forget_workflows(db: Connection, namespace: str, workflow: str | None = None) -> None:
    """Delete the listeners, partial groups and schedules of a workflow (or of every workflow of
    the namespace)."""
    for table in (t.event_groups, t.event_listeners, t.schedules):
        where = [table.c.namespace == namespace]
        if workflow is not None:
            where.append(table.c.workflow == workflow)
        db.execute(delete(table).where(*where))


# Schedules


def set_schedule(db: Connection, namespace: str, workflow: str, schedule: Schedule | None) -> None:
    db.execute(delete(t.schedules).where(_s.namespace == namespace, _s.workflow == workflow))
    if schedule is not None:
        db.execute(insert(t.schedules), [schedule_row(schedule)])


def get_schedule(db: Connection, namespace: str, workflow: str) -> Schedule | None:
    row = db.execute(
        select(t.schedules).where(_s.namespace == namespace, _s.workflow == workflow)
    ).first()
    return schedule_of(row) if row else None


def fire_schedules(
    db: Connection,
    dialect: Dialect,
    writer: StatementWriter,
    now: datetime,
    limit: int,
    fire: ScheduleFirer,
) -> int:
    """See `Store.fire_schedules`. An instance whose id exists already is not created again: its
    tick ran (a server whose clock lags may compute a tick again)."""
    due: Select[tuple[object, ...]] = (
        select(t.schedules)
        .where(_s.next_run <= now)
        .order_by(_s.next_run, _s.namespace, _s.workflow)
        .limit(limit)
    )
    rows = db.execute(dialect.lock_for_claim(due)).all()
    for row in rows:
        schedule = schedule_of(row)
        busy = False
        if schedule.singular:
            busy = (
                db.execute(
                    select(_i.id)
                    .where(
                        _i.namespace == schedule.namespace,
                        _i.workflow == schedule.workflow,
                        _i.status == "pending",
                    )
                    .limit(1)
                ).first()
                is not None
            )
        firing = fire(schedule, busy)
        new = firing.instance
        if new is not None:
            exists = db.execute(select(_i.id).where(_i.id == new.instance.id)).first()
            if exists is None:
                writer.insert_instance(db, instance_row(new.instance, None))
                known, _ = split_inbox(new.inbox, {new.instance.id: True})
                writer.upsert_inbox(db, known, [])
        db.execute(
            update(t.schedules)
            .where(_s.namespace == schedule.namespace, _s.workflow == schedule.workflow)
            .values(next_run=firing.next_run)
        )
    return len(rows)


def next_schedule(db: Connection) -> datetime | None:
    earliest: datetime | None = db.execute(select(func.min(_s.next_run))).scalar()
    return earliest
