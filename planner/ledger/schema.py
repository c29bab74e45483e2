"""The ledger's tables (SQLAlchemy 2 declarative ORM).

Amounts are stored as integers so that sums are exact and the same on SQLite and
PostgreSQL: masses in grams, money in fen (0.01 CNY), points in thousandths.
``docs/ledger.md`` describes every table; ``migrations/`` creates them (Alembic).

Recorded rows are never updated in place: a corrected import marks the earlier
row ``active = false`` with ``superseded_by`` pointing at the import that replaced
it, and writes an :class:`Audit` row saying who changed what, and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from planner.ledger.records import natural_key

GRAMS = 1000  # per kg
FEN = 100  # per CNY
MILLI = 1000  # per point

ID = String(64)
KEY = String(200)


def isum(column: Any) -> Any:
    """``SUM(column)`` as a 64-bit integer on every database (PostgreSQL sums to numeric)."""
    return cast_(func.sum(column), BigInteger)


def table(model: type[Base]) -> Table:
    """The Core table of a mapped class (for bulk inserts)."""
    return cast(Table, model.__table__)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, int: BigInteger}


class LedgerLock(Base):
    """One row; every import locks it, so imports are applied one after another."""

    __tablename__ = "ledger_lock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


# --- what the plans say ------------------------------------------------------------
class PlanRow(Base):
    """A registered plan (plan.json + its scenario's prices and settings)."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scenario: Mapped[str] = mapped_column(String(200))
    month: Mapped[str] = mapped_column(String(7), index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    registered_by: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)


class Price(Base):
    """A category's prices and points in one plan's scenario."""

    __tablename__ = "prices"
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plans.id"), primary_key=True)
    category: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    stream: Mapped[str] = mapped_column(String(10))
    buy_fen_kg: Mapped[int]
    resale_fen_kg: Mapped[int]
    milli_points_per_kg: Mapped[int]
    kg_per_item_g: Mapped[int]
    milli_points_per_item: Mapped[int]
    hazardous: Mapped[bool] = mapped_column(Boolean)


class GoodsPrice(Base):
    """An exchange-goods item of one plan's price list in points."""

    __tablename__ = "goods_prices"
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plans.id"), primary_key=True)
    item: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    milli_points: Mapped[int]
    value_fen: Mapped[int]


class PlaceRow(Base):
    """A depot, point, station, buyer or plant; points carry their gacha and township."""

    __tablename__ = "places"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    gacha_code: Mapped[str] = mapped_column(String(20))
    gacha: Mapped[str] = mapped_column(String(100))
    township_code: Mapped[str] = mapped_column(String(20))
    township: Mapped[str] = mapped_column(String(100))


class HouseholdRow(Base):
    """A household and the point it uses (as of the latest registered plan)."""

    __tablename__ = "households"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    point_id: Mapped[str] = mapped_column(ID, ForeignKey("places.id"), index=True)
    people: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))


class RunRow(Base):
    """A planned run (one truck, one date) and what the plan expects of it."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plans.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    date: Mapped[dt.date]
    vehicle: Mapped[str] = mapped_column(ID)
    distance_m: Mapped[int]
    duration_min: Mapped[int]
    fuel_fen: Mapped[int]
    driver_fen: Mapped[int]
    cash_float_fen: Mapped[int]


class StopRow(Base):
    """A planned collect step: point, order in the run, arrival and expected money."""

    __tablename__ = "stops"
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id"), primary_key=True)
    point_id: Mapped[str] = mapped_column(ID, ForeignKey("places.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    arrival: Mapped[str] = mapped_column(String(16))
    households: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    cash_fen: Mapped[int]
    goods_fen: Mapped[int]
    milli_points: Mapped[int]
    milli_points_redeemed: Mapped[int]
    compost_g: Mapped[int]


class StopKg(Base):
    """kg per category the plan expects a stop to collect (plan.json ``collected``)."""

    __tablename__ = "stop_kg"
    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    point_id: Mapped[str] = mapped_column(ID, primary_key=True)
    category: Mapped[str] = mapped_column(ID, primary_key=True)
    grams: Mapped[int]


class RunGoods(Base):
    """Goods the plan expects a run to hand out, and to load (with the margin)."""

    __tablename__ = "run_goods"
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id"), primary_key=True)
    item: Mapped[str] = mapped_column(ID, primary_key=True)
    expected: Mapped[int]
    load: Mapped[int]


class RunUnload(Base):
    """kg the plan expects a run to unload at a station."""

    __tablename__ = "run_unloads"
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id"), primary_key=True)
    station: Mapped[str] = mapped_column(ID, primary_key=True)
    grams: Mapped[int]


# --- what was recorded -------------------------------------------------------------
class ImportRow(Base):
    """One imported file (or one batch sent by the web view)."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    added: Mapped[int]
    changed: Mapped[int]
    removed: Mapped[int]
    unchanged: Mapped[int]


class Entry(Base):
    """A tally line: one household, visit, stream and category (or goods item).

    No foreign keys (migration 0002): ``import_id``/``superseded_by`` name imports,
    ``run_id`` a run and ``household_id`` a household, all checked by the importer
    under the ledger lock; runs, households and imports are never deleted. On
    PostgreSQL the constraints' per-row triggers were most of an import's COPY.

    ``key`` is empty where the record's key is its natural one (run, point, household,
    stream, category, goods item: :attr:`idempotency_key`), which is nearly always
    (migration 0004): the columns already hold it, and storing and indexing it again
    was a fifth of the row and an index of its own.
    """

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(KEY)
    import_id: Mapped[int] = mapped_column(Integer)
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    run_id: Mapped[str] = mapped_column(ID)
    point_id: Mapped[str] = mapped_column(ID)
    household_id: Mapped[str] = mapped_column(ID)
    month: Mapped[str] = mapped_column(String(7))
    date: Mapped[dt.date]
    stream: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(ID)
    grams: Mapped[int | None]
    items_milli: Mapped[int | None]
    price_fen_kg_milli: Mapped[int | None]
    cash_fen: Mapped[int]
    goods_item: Mapped[str] = mapped_column(ID)
    goods_qty: Mapped[int]
    goods_fen: Mapped[int]
    milli_points_earned: Mapped[int]
    milli_points_redeemed: Mapped[int]
    compost_declared: Mapped[bool | None] = mapped_column(Boolean)
    off_stop: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        # One active entry per key. Queries that read active rows say ``active = true``
        # (not ``IS TRUE``) so that the databases can use these partial indexes.
        # A month's entries are found through its runs (migration 0003).
        Index(
            "ux_entries_active_stop",
            "run_id",
            "point_id",
            "household_id",
            "stream",
            "category",
            "goods_item",
            "key",
            unique=True,
            sqlite_where=active == true(),
            postgresql_where=active == true(),
        ),
        Index(
            "ux_entries_active_key",
            "key",
            unique=True,
            sqlite_where=(active == true()) & (key != ""),
            postgresql_where=(active == true()) & (key != ""),
        ),
        Index("ix_entries_household", "household_id", "date"),
    )

    @property
    def idempotency_key(self) -> str:
        """The key the record was written under: its own, or else its natural key."""
        return self.key or natural_key(
            self.run_id,
            self.point_id,
            self.household_id,
            self.stream,
            self.category,
            self.goods_item,
        )


class Close(Base):
    """A run's end-of-run box (cash, goods, odometer); tickets and deliveries below."""

    __tablename__ = "closes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(KEY)
    import_id: Mapped[int] = mapped_column(Integer, ForeignKey("imports.id"))
    superseded_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("imports.id"))
    active: Mapped[bool] = mapped_column(Boolean)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    cash_out_fen: Mapped[int | None]
    cash_returned_fen: Mapped[int | None]
    odometer_start_m: Mapped[int | None]
    odometer_end_m: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        Index(
            "ux_closes_active_key",
            "key",
            unique=True,
            sqlite_where=active == true(),
            postgresql_where=active == true(),
        ),
    )


class CloseGoods(Base):
    __tablename__ = "close_goods"
    close_id: Mapped[int] = mapped_column(Integer, ForeignKey("closes.id"), primary_key=True)
    item: Mapped[str] = mapped_column(ID, primary_key=True)
    loaded: Mapped[int | None]
    returned: Mapped[int | None]


class CloseTicket(Base):
    __tablename__ = "close_tickets"
    close_id: Mapped[int] = mapped_column(Integer, ForeignKey("closes.id"), primary_key=True)
    station: Mapped[str] = mapped_column(ID, primary_key=True)
    grams: Mapped[int]
    ticket: Mapped[str] = mapped_column(String(64))


class CloseDelivery(Base):
    __tablename__ = "close_deliveries"
    close_id: Mapped[int] = mapped_column(Integer, ForeignKey("closes.id"), primary_key=True)
    facility: Mapped[str] = mapped_column(ID, primary_key=True)
    grams: Mapped[int]
    ticket: Mapped[str] = mapped_column(String(64))


class Audit(Base):
    """Who changed what, and when: one row per record added, changed or removed."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    who: Mapped[str] = mapped_column(String(100))
    import_id: Mapped[int] = mapped_column(Integer, ForeignKey("imports.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    record: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(KEY, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- sums kept by the importer -----------------------------------------------------
class StopSum(Base):
    """A stop's active entries summed per stream, category and goods item.

    Written by the importer in the import's own transaction (:mod:`planner.ledger.sums`),
    so that ``report`` reads a few rows per stop instead of every entry of the month.
    ``grams`` is NULL where no entry of the group gives a mass (as ``SUM`` is).
    """

    __tablename__ = "stop_sums"
    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    point_id: Mapped[str] = mapped_column(ID, primary_key=True)
    stream: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(ID, primary_key=True)
    goods_item: Mapped[str] = mapped_column(ID, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    entries: Mapped[int]
    grams: Mapped[int | None]
    cash_fen: Mapped[int]
    goods_qty: Mapped[int]
    goods_fen: Mapped[int]
    milli_points_earned: Mapped[int]
    milli_points_redeemed: Mapped[int]


class StopHouseholds(Base):
    """How many households have an active entry at a stop (kept with :class:`StopSum`)."""

    __tablename__ = "stop_households"
    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    point_id: Mapped[str] = mapped_column(ID, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    households: Mapped[int]
