"""The per-stop sums of the active entries, kept in the import's transaction.

``report`` needs, per stop, the month's kg, cash, goods and points per stream and
category and the number of households recorded. Summing every entry of the month
on each request is O(entries); :class:`~planner.ledger.schema.StopSum` and
:class:`~planner.ledger.schema.StopHouseholds` hold those sums, and every import
recomputes them for the runs it touched (:func:`refresh_runs`), inside its own
transaction: a rolled-back or killed import leaves them as they were, a committed
one leaves them equal to a ``GROUP BY`` over the active entries (the tests check
this after imports, corrections and removals).

Recomputing a touched run's groups from its entries (rather than adding deltas)
keeps supersedes, removals and records moved between stops right by construction;
one run is about a thousand entries, read through ``ix_entries_stop``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from planner.ledger._checks import chunks
from planner.ledger.schema import Entry, StopHouseholds, StopSum, isum

_GROUP = (Entry.run_id, Entry.point_id, Entry.stream, Entry.category, Entry.goods_item)
SUM_COLUMNS = (
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


def sums_query(*where: ColumnElement[bool]) -> Select[Any]:
    """The :class:`StopSum` rows of the active entries matching ``where``, from ``entries``."""
    return (
        select(
            *_GROUP,
            func.min(Entry.month),
            func.count(),
            isum(Entry.grams),
            isum(Entry.cash_fen),
            isum(Entry.goods_qty),
            isum(Entry.goods_fen),
            isum(Entry.milli_points_earned),
            isum(Entry.milli_points_redeemed),
        )
        .where(Entry.active.is_(True), *where)
        .group_by(*_GROUP)
    )


def households_query(*where: ColumnElement[bool]) -> Select[str, str, str, int]:
    """The :class:`StopHouseholds` rows of the active entries matching ``where``."""
    return (
        select(
            Entry.run_id,
            Entry.point_id,
            func.min(Entry.month),
            func.count(func.distinct(Entry.household_id)),
        )
        .where(Entry.active.is_(True), *where)
        .group_by(Entry.run_id, Entry.point_id)
    )


def refresh_runs(s: Session, run_ids: Iterable[str]) -> None:
    """Recompute the sums of ``run_ids`` from their active entries (in ``s``'s transaction)."""
    for chunk in chunks(sorted(set(run_ids))):
        s.execute(delete(StopSum).where(StopSum.run_id.in_(chunk)))
        s.execute(delete(StopHouseholds).where(StopHouseholds.run_id.in_(chunk)))
        s.execute(
            insert(StopSum).from_select(list(SUM_COLUMNS), sums_query(Entry.run_id.in_(chunk)))
        )
        s.execute(
            insert(StopHouseholds).from_select(
                ["run_id", "point_id", "month", "households"],
                households_query(Entry.run_id.in_(chunk)),
            )
        )


def refresh_all(s: Session) -> None:
    """Recompute every sum (after entries were written by other means, e.g. a migration)."""
    s.execute(delete(StopSum))
    s.execute(delete(StopHouseholds))
    s.execute(insert(StopSum).from_select(list(SUM_COLUMNS), sums_query(true())))
    s.execute(
        insert(StopHouseholds).from_select(
            ["run_id", "point_id", "month", "households"], households_query(true())
        )
    )
