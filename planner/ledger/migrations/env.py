"""Alembic environment: migrations run on the connection :func:`planner.ledger.db.upgrade` gives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import func, select

from planner.ledger.schema import Base

# An arbitrary constant: the advisory lock that serialises migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 7_301_313

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
