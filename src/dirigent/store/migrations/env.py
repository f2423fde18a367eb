"""Alembic's entry point: migrates through the connection that `migrations.upgrade` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dirigent.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with dirigent.store.migrations.migrate(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode does that for later revisions.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
