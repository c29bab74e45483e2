"""Drop ``ix_entries_month``: every import paid for it, and no query needs it.

The month's entries are found through their runs (``runs.month``, then
``ix_entries_stop`` on ``entries.run_id``), and ``reconcile``'s per-stop sums come
from ``stop_sums``. On the simulated Otog month the index was about half a second
of SQLite's insert time per month imported.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_entries_month", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_month", "entries", ["month", "active"])
