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
one run is about a thousand entries, read through ``ux_entries_active_stop``. The one
shortcut, :func:`add_first_runs`, is for runs that had no active entry before the
import (a month's first import of each file): their sums are then the sums of the
rows just written, added up here instead of read back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from planner.ledger._checks import ENTRY_ROW, EntryRow, chunks
from planner.ledger.bulk import insert_tuples
from planner.ledger.schema import Entry, StopHouseholds, StopSum, isum, table

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
HOUSEHOLD_COLUMNS = ("run_id", "point_id", "month", "households")


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
        .where(Entry.active == true(), *where)
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
        .where(Entry.active == true(), *where)
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
                list(HOUSEHOLD_COLUMNS),
                households_query(Entry.run_id.in_(chunk)),
            )
        )


_AT = {name: ENTRY_ROW.index(name) for name in ENTRY_ROW}
_GROUP_OF = itemgetter(*(_AT[c.key] for c in _GROUP))
# the columns summed as they are (after grams, which is NULL when no entry weighs)
_SUMMED_AT = [_AT[c] for c in SUM_COLUMNS[SUM_COLUMNS.index("grams") + 1 :]]


def add_first_runs(s: Session, rows: Sequence[EntryRow]) -> None:
    """Write the sums of runs that had no active entry before ``rows`` (ENTRY_ROW tuples)
    were written: the same rows :func:`refresh_runs` would read back."""
    members: dict[tuple[Any, ...], list[EntryRow]] = defaultdict(list)
    for r in rows:
        members[_GROUP_OF(r)].append(r)
    sums: list[tuple[Any, ...]] = []
    households: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for key, group in members.items():
        cols = list(zip(*group, strict=True))
        month = cols[_AT["month"]][0]
        weighed = [g for g in cols[_AT["grams"]] if g is not None]
        totals = [sum(cols[i]) for i in _SUMMED_AT]
        sums.append((*key, month, len(group), sum(weighed) if weighed else None, *totals))
        stop = (key[0], key[1])
        households.setdefault(stop, (month, set()))[1].update(cols[_AT["household_id"]])
    insert_tuples(s, table(StopSum), SUM_COLUMNS, sums)
    insert_tuples(
        s,
        table(StopHouseholds),
        HOUSEHOLD_COLUMNS,
        [(*stop, month, len(ids)) for stop, (month, ids) in households.items()],
    )


def refresh_all(s: Session) -> None:
    """Recompute every sum (after entries were written by other means, e.g. a migration)."""
    s.execute(delete(StopSum))
    s.execute(delete(StopHouseholds))
    s.execute(insert(StopSum).from_select(list(SUM_COLUMNS), sums_query(true())))
    s.execute(insert(StopHouseholds).from_select(list(HOUSEHOLD_COLUMNS), households_query(true())))
