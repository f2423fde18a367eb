"""The one schema of the durable stores (SQLite and PostgreSQL), as SQLAlchemy Core tables.

Alembic migrations in `migrations/` must produce exactly this schema; a test compares them.

Conventions: every timestamp is timezone-aware UTC (`UtcDateTime`); identities that a scope does not use
are stored as empty strings, never NULL, so unique keys match exactly (`ab` is not a prefix of `abc`);
bulky values (`instances.record`, variable data, workflow sources) sit in columns that listings never
select.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

from dirigent.errors import InvalidInput

#: Constraint names are fixed, so migrations and error messages can refer to them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps `TIMESTAMP WITH TIME ZONE`; SQLite has no such type and keeps the UTC wall time as
    text, which sorts and compares correctly because every value is UTC. Values read back are always
    aware UTC datetimes. Naive datetimes are refused: their zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidInput(f"timestamps must be timezone-aware datetimes, not {value!r}")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - the drivers return datetimes
            raise TypeError(f"not a datetime: {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Autoincrementing 64-bit keys; SQLite only autoincrements an `INTEGER PRIMARY KEY`.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")

namespaces = Table(
    "namespaces",
    metadata,
    Column("name", String(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("name"),
)

workflows = Table(
    "workflows",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("id", String(), nullable=False),
    # The latest revision: updates bump it with a compare-and-set, so concurrent pushes conflict.
    Column("revision", Integer(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("log_to_events", String(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("namespace", "id"),
    ForeignKeyConstraint(["namespace"], ["namespaces.name"], ondelete="CASCADE"),
)

workflow_revisions = Table(
    "workflow_revisions",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("workflow", String(), nullable=False),
    Column("revision", Integer(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("source", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("namespace", "workflow", "revision"),
    ForeignKeyConstraint(
        ["namespace", "workflow"], ["workflows.namespace", "workflows.id"], ondelete="CASCADE"
    ),
)

instances = Table(
    "instances",
    metadata,
    Column("id", String(), nullable=False),
    Column("namespace", String(), nullable=False),
    Column("workflow", String(), nullable=False),
    Column("revision", Integer(), nullable=False),
    Column("status", String(), nullable=False),
    Column("invoked_by", String(), nullable=False),
    Column("parent_id", String(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("error_code", String(), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("lease_owner", String(), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    # Last, and never selected by listings: the engine's whole record.
    Column("record", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("id"),
    # Listings, newest first (read backwards): per namespace, per workflow, per status.
    Index(None, "namespace", "created_at", "id"),
    Index(None, "namespace", "workflow", "created_at", "id"),
    Index(None, "namespace", "status", "created_at", "id"),
    # `has_pending_instance` and a workflow's instances of one status.
    Index(None, "namespace", "workflow", "status"),
    # Claiming instances whose lease ran out; renewing and releasing one owner's leases.
    Index(None, "status", "lease_until"),
    Index(None, "lease_owner"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("instance_id", String(), nullable=False),
    Column("key", String(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("trigger", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("instance_id", "key"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
    Index(None, "due_at"),
)

variables = Table(
    "variables",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("scope", String(), nullable=False),
    Column("workflow", String(), nullable=False),  # "" for the namespace scope
    Column("instance_id", String(), nullable=False),  # "" unless the instance scope
    Column("key", String(), nullable=False),
    Column("mime_type", String(), nullable=False),
    Column("size", BigInteger(), nullable=False),
    Column("data", LargeBinary(), nullable=False),
    # The identity; its prefixes serve deleting a namespace's, a workflow's and an instance's variables.
    PrimaryKeyConstraint("namespace", "scope", "workflow", "instance_id", "key"),
)

logs = Table(
    "logs",
    metadata,
    Column("seq", SEQUENCE, autoincrement=True, nullable=False),
    Column("instance_id", String(), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("state", String(), nullable=True),
    Column("action_id", String(), nullable=True),
    Column("message", Text(), nullable=False),
    Column("extra", Text(), nullable=True),  # LogEntry.extra as a JSON object; NULL when empty
    PrimaryKeyConstraint("seq"),
    Index(None, "instance_id", "seq"),
)

sealed = Table(
    "sealed",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("data", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("namespace", "kind", "name"),
    ForeignKeyConstraint(["namespace"], ["namespaces.name"], ondelete="CASCADE"),
)

# Events and schedules (migration 0002).

events = Table(
    "events",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("source", String(), nullable=False),
    Column("id", String(), nullable=False),
    Column("type", String(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("deliveries", Integer(), nullable=False),
    Column("event", LargeBinary(), nullable=False),
    # One event per (source, id) in a namespace: a duplicate fails the insert, so it does nothing.
    PrimaryKeyConstraint("namespace", "source", "id"),
    ForeignKeyConstraint(["namespace"], ["namespaces.name"], ondelete="CASCADE"),
    # The listing, newest first; retention deletes by age.
    Index(None, "namespace", "received_at"),
    Index(None, "received_at"),
)

event_waits = Table(
    "event_waits",
    metadata,
    Column("instance_id", String(), nullable=False),
    Column("key", String(), nullable=False),
    Column("namespace", String(), nullable=False),
    Column("type", String(), nullable=False),
    Column("context", Text(), nullable=False),  # JSON object: attribute name -> glob
    PrimaryKeyConstraint("instance_id", "key"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
    Index(None, "namespace", "type"),
)

event_listeners = Table(
    "event_listeners",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("workflow", String(), nullable=False),
    Column("position", Integer(), nullable=False),
    Column("type", String(), nullable=False),
    Column("grouped", Boolean(), nullable=False),
    Column("singular", Boolean(), nullable=False),
    Column("spec", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("namespace", "workflow", "position"),
    ForeignKeyConstraint(
        ["namespace", "workflow"], ["workflows.namespace", "workflows.id"], ondelete="CASCADE"
    ),
    Index(None, "namespace", "type"),
)

event_groups = Table(
    "event_groups",
    metadata,
    Column("id", String(), nullable=False),
    Column("namespace", String(), nullable=False),
    Column("workflow", String(), nullable=False),
    Column("correlation", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("events", LargeBinary(), nullable=False),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(
        ["namespace", "workflow"], ["workflows.namespace", "workflows.id"], ondelete="CASCADE"
    ),
    Index(None, "namespace", "workflow", "created_at"),
    Index(None, "expires_at"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("namespace", String(), nullable=False),
    Column("workflow", String(), nullable=False),
    Column("cron", String(), nullable=False),
    Column("zone", String(), nullable=False),
    Column("revision", Integer(), nullable=False),
    Column("singular", Boolean(), nullable=False),
    Column("next_run", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("namespace", "workflow"),
    ForeignKeyConstraint(
        ["namespace", "workflow"], ["workflows.namespace", "workflows.id"], ondelete="CASCADE"
    ),
    Index(None, "next_run"),
)
