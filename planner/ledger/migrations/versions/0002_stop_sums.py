"""Per-stop sums of the active entries (``stop_sums``, ``stop_households``), kept by
the importer so that ``report`` reads a few rows per stop; existing ledgers get them
filled from their entries.

The foreign keys of ``entries`` are dropped: on PostgreSQL each is a trigger that
runs a query per inserted row, and they were two thirds of the server's time in an
import's ``COPY``. The importer checks every entry's run and household against the
registered plans under the ledger lock, and no code deletes runs, households or
imports. (SQLite rebuilds the table to drop them, keeping its indexes.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "stop_sums",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("point_id", _ID, nullable=False),
        sa.Column("stream", sa.String(length=10), nullable=False),
        sa.Column("category", _ID, nullable=False),
        sa.Column("goods_item", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=True),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("goods_qty", sa.BigInteger(), nullable=False),
        sa.Column("goods_fen", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_earned", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_redeemed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "point_id", "stream", "category", "goods_item"),
    )
    op.create_index("ix_stop_sums_month", "stop_sums", ["month"])
    op.create_table(
        "stop_households",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("point_id", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("households", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "point_id"),
    )
    op.create_index("ix_stop_households_month", "stop_households", ["month"])
    _fill()
    _drop_entry_foreign_keys()


def _drop_entry_foreign_keys() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for fk in sa.inspect(bind).get_foreign_keys("entries"):
            if fk["name"]:
                op.drop_constraint(fk["name"], "entries", type_="foreignkey")
        return
    # SQLite cannot drop a constraint: the table is rebuilt without them (batch mode
    # names the unnamed reflected constraints so that they can be dropped).
    with op.batch_alter_table("entries", naming_convention=_NAMES) as batch:
        for cols, parent in _ENTRY_FKS:
            batch.drop_constraint(f"fk_entries_{cols[0]}_{parent}", type_="foreignkey")


def _fill() -> None:
    """The sums of the entries already recorded (the same GROUP BY the importer runs)."""
    e = sa.table(
        "entries",
        *(
            sa.column(c)
            for c in (
                "active",
                "run_id",
                "point_id",
                "stream",
                "category",
                "goods_item",
                "month",
                "household_id",
            )
        ),
        *(
            sa.column(c, sa.BigInteger())
            for c in (
                "grams",
                "cash_fen",
                "goods_qty",
                "goods_fen",
                "milli_points_earned",
                "milli_points_redeemed",
            )
        ),
    )
    group = (e.c.run_id, e.c.point_id, e.c.stream, e.c.category, e.c.goods_item)
    sums = sa.table("stop_sums", *(sa.column(c) for c in _SUM_COLUMNS))
    hh = sa.table("stop_households", *(sa.column(c) for c in _HH_COLUMNS))
    active = e.c.active == sa.true()
    sum_select = (
        sa.select(
            *group,
            sa.func.min(e.c.month),
            sa.func.count(),
            *(sa.cast(sa.func.sum(e.c[c]), sa.BigInteger()) for c in _SUM_COLUMNS[7:]),
        )
        .where(active)
        .group_by(*group)
    )
    hh_select = (
        sa.select(
            e.c.run_id,
            e.c.point_id,
            sa.func.min(e.c.month),
            sa.func.count(sa.func.distinct(e.c.household_id)),
        )
        .where(active)
        .group_by(e.c.run_id, e.c.point_id)
    )
    op.execute(sums.insert().from_select(list(_SUM_COLUMNS), sum_select))
    op.execute(hh.insert().from_select(list(_HH_COLUMNS), hh_select))


_SUM_COLUMNS = (
    "run_id",
    "point_id",
    "stream",
    "category",
    "goods_item",
    "month",
    "entries",
    "grams",
    "cash_fen",
    "goods_qty",
    "goods_fen",
    "milli_points_earned",
    "milli_points_redeemed",
)
_HH_COLUMNS = ("run_id", "point_id", "month", "households")
_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_ENTRY_FKS = (
    (["import_id"], "imports"),
    (["superseded_by"], "imports"),
    (["run_id"], "runs"),
    (["household_id"], "households"),
)


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        for cols, parent in _ENTRY_FKS:
            batch.create_foreign_key(f"fk_entries_{cols[0]}_{parent}", parent, cols, ["id"])
    op.drop_index("ix_stop_households_month", table_name="stop_households")
    op.drop_table("stop_households")
    op.drop_index("ix_stop_sums_month", table_name="stop_sums")
    op.drop_table("stop_sums")
