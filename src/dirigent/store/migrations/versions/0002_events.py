"""Events and schedules: received events, waits of waiting instances, event listeners of workflows,
partial eventsAnd groups, cron schedules.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

Frozen like 0001: types are spelled out rather than imported from `schema.py`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _of_workflow(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["namespace", "workflow"],
        ["workflows.namespace", "workflows.id"],
        name=f"fk_{table}_workflows",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("event", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "source", "id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["namespace"], ["namespaces.name"], name="fk_events_namespaces", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_events_namespace_received_at", "events", ["namespace", "received_at"])
    op.create_index("ix_events_received_at", "events", ["received_at"])
    op.create_table(
        "event_waits",
        sa.Column("instance_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "key", name="pk_event_waits"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name="fk_event_waits_instances", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_event_waits_namespace_type", "event_waits", ["namespace", "type"])
    op.create_table(
        "event_listeners",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.Column("singular", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "workflow", "position", name="pk_event_listeners"),
        _of_workflow("event_listeners"),
    )
    op.create_index("ix_event_listeners_namespace_type", "event_listeners", ["namespace", "type"])
    op.create_table(
        "event_groups",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("correlation", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.Column("events", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_groups"),
        _of_workflow("event_groups"),
    )
    op.create_index(
        "ix_event_groups_namespace_workflow_created_at",
        "event_groups",
        ["namespace", "workflow", "created_at"],
    )
    op.create_index("ix_event_groups_expires_at", "event_groups", ["expires_at"])
    op.create_table(
        "schedules",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("cron", sa.String(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("singular", sa.Boolean(), nullable=False),
        sa.Column("next_run", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("namespace", "workflow", name="pk_schedules"),
        _of_workflow("schedules"),
    )
    op.create_index("ix_schedules_next_run", "schedules", ["next_run"])


def downgrade() -> None:
    for table in ("schedules", "event_groups", "event_listeners", "event_waits", "events"):
        op.drop_table(table)  # indexes go with their tables
