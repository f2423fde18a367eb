"""The initial schema: namespaces, workflows and revisions, instances, inbox, variables, logs, sealed.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Migrations are frozen: they spell out types instead of importing `schema.py`, which moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

UTC_TIME = sa.DateTime(timezone=True)
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_namespaces"),
    )
    op.create_table(
        "workflows",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("log_to_events", sa.String(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("namespace", "id", name="pk_workflows"),
        sa.ForeignKeyConstraint(
            ["namespace"], ["namespaces.name"], name="fk_workflows_namespaces", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "workflow_revisions",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "workflow", "revision", name="pk_workflow_revisions"),
        sa.ForeignKeyConstraint(
            ["namespace", "workflow"],
            ["workflows.namespace", "workflows.id"],
            name="fk_workflow_revisions_workflows",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("invoked_by", sa.String(), nullable=False),
        sa.Column("parent_id", sa.String(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("error_code", sa.String(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_instances"),
    )
    for name, columns in INSTANCE_INDEXES.items():
        op.create_index(name, "instances", columns)
    op.create_table(
        "inbox",
        sa.Column("instance_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("trigger", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "key", name="pk_inbox"),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name="fk_inbox_instances", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_inbox_due_at", "inbox", ["due_at"])
    op.create_table(
        "variables",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("instance_id", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "namespace", "scope", "workflow", "instance_id", "key", name="pk_variables"
        ),
    )
    op.create_table(
        "logs",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(), nullable=False),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(), nullable=True),
        sa.Column("action_id", sa.String(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_logs"),
    )
    op.create_index("ix_logs_instance_id_seq", "logs", ["instance_id", "seq"])
    op.create_table(
        "sealed",
        sa.Column("namespace", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "kind", "name", name="pk_sealed"),
        sa.ForeignKeyConstraint(
            ["namespace"], ["namespaces.name"], name="fk_sealed_namespaces", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    for table in (
        "sealed",
        "logs",
        "variables",
        "inbox",
        "instances",
        "workflow_revisions",
        "workflows",
        "namespaces",
    ):
        op.drop_table(table)  # indexes go with their tables


INSTANCE_INDEXES = {
    "ix_instances_namespace_created_at_id": ["namespace", "created_at", "id"],
    "ix_instances_namespace_workflow_created_at_id": ["namespace", "workflow", "created_at", "id"],
    "ix_instances_namespace_status_created_at_id": ["namespace", "status", "created_at", "id"],
    "ix_instances_namespace_workflow_status": ["namespace", "workflow", "status"],
    "ix_instances_status_lease_until": ["status", "lease_until"],
    "ix_instances_lease_owner": ["lease_owner"],
}
