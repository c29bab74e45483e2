"""The ledger's first schema: plans, prices, places, households, runs, stops, imports,
entries, run closes and the audit trail (see docs/ledger.md).

Revision ID: 0001
Revises:
Create Date: 2026-12-01 23:00:57.534839
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("changed", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    lock = op.create_table(
        "ledger_lock", sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id")
    )
    op.bulk_insert(lock, [{"id": 1}])
    op.create_table(
        "places",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("gacha_code", sa.String(length=20), nullable=False),
        sa.Column("gacha", sa.String(length=100), nullable=False),
        sa.Column("township_code", sa.String(length=20), nullable=False),
        sa.Column("township", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("scenario", sa.String(length=200), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("content_hash"),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_month"), ["month"], unique=False)

    op.create_table(
        "stop_kg",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "point_id", "category"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("record", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_key"), ["key"], unique=False)

    op.create_table(
        "goods_prices",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("milli_points", sa.BigInteger(), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("plan_id", "item"),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["places.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_point_id"), ["point_id"], unique=False)

    op.create_table(
        "prices",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("stream", sa.String(length=10), nullable=False),
        sa.Column("buy_fen_kg", sa.BigInteger(), nullable=False),
        sa.Column("resale_fen_kg", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_per_kg", sa.BigInteger(), nullable=False),
        sa.Column("kg_per_item_g", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_per_item", sa.BigInteger(), nullable=False),
        sa.Column("hazardous", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("plan_id", "category"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("vehicle", sa.String(length=64), nullable=False),
        sa.Column("distance_m", sa.BigInteger(), nullable=False),
        sa.Column("duration_min", sa.BigInteger(), nullable=False),
        sa.Column("fuel_fen", sa.BigInteger(), nullable=False),
        sa.Column("driver_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_float_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("cash_out_fen", sa.BigInteger(), nullable=True),
        sa.Column("cash_returned_fen", sa.BigInteger(), nullable=True),
        sa.Column("odometer_start_m", sa.BigInteger(), nullable=True),
        sa.Column("odometer_end_m", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["imports.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("closes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closes_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_closes_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            "ux_closes_active_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("stream", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=True),
        sa.Column("items_milli", sa.BigInteger(), nullable=True),
        sa.Column("price_fen_kg_milli", sa.BigInteger(), nullable=True),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("goods_item", sa.String(length=64), nullable=False),
        sa.Column("goods_qty", sa.BigInteger(), nullable=False),
        sa.Column("goods_fen", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_earned", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("compost_declared", sa.Boolean(), nullable=True),
        sa.Column("off_stop", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["imports.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index("ix_entries_household", ["household_id", "date"], unique=False)
        batch_op.create_index("ix_entries_month", ["month", "active"], unique=False)
        batch_op.create_index("ix_entries_stop", ["run_id", "point_id"], unique=False)
        batch_op.create_index(
            "ux_entries_active_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "run_goods",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("load", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "item"),
    )
    op.create_table(
        "run_unloads",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "station"),
    )
    op.create_table(
        "stops",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("arrival", sa.String(length=16), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("goods_fen", sa.BigInteger(), nullable=False),
        sa.Column("milli_points", sa.BigInteger(), nullable=False),
        sa.Column("milli_points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("compost_g", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["places.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "point_id"),
    )
    op.create_table(
        "close_deliveries",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("facility", sa.String(length=64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["closes.id"],
        ),
        sa.PrimaryKeyConstraint("close_id", "facility"),
    )
    op.create_table(
        "close_goods",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("loaded", sa.BigInteger(), nullable=True),
        sa.Column("returned", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["closes.id"],
        ),
        sa.PrimaryKeyConstraint("close_id", "item"),
    )
    op.create_table(
        "close_tickets",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("ticket", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["closes.id"],
        ),
        sa.PrimaryKeyConstraint("close_id", "station"),
    )


def downgrade() -> None:
    op.drop_table("close_tickets")
    op.drop_table("close_goods")
    op.drop_table("close_deliveries")
    op.drop_table("stops")
    op.drop_table("run_unloads")
    op.drop_table("run_goods")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_entries_active_key",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index("ix_entries_stop")
        batch_op.drop_index("ix_entries_month")
        batch_op.drop_index("ix_entries_household")

    op.drop_table("entries")
    with op.batch_alter_table("closes", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_closes_active_key",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
        batch_op.drop_index(batch_op.f("ix_closes_run_id"))
        batch_op.drop_index(batch_op.f("ix_closes_month"))

    op.drop_table("closes")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_plan_id"))
        batch_op.drop_index(batch_op.f("ix_runs_month"))

    op.drop_table("runs")
    op.drop_table("prices")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_point_id"))

    op.drop_table("households")
    op.drop_table("goods_prices")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_key"))
        batch_op.drop_index(batch_op.f("ix_audit_import_id"))

    op.drop_table("audit")
    op.drop_table("stop_kg")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_month"))

    op.drop_table("plans")
    op.drop_table("places")
    op.drop_table("ledger_lock")
    op.drop_table("imports")
