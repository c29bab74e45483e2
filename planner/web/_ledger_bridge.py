"""What the web views need from the ledger that its package does not offer (yet).

Writes go through the ledger's own door (:func:`planner.ledger.importer.import_entries`,
the same validation as a file import); the read-outs here are plain ORM queries on
the ledger's tables, in the units the views show (kg, CNY, points). Candidates to
move into ``planner/ledger/`` once they are wanted there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from planner.ledger.db import Ledger
from planner.ledger.importer import ImportResult, import_entries
from planner.ledger.importer import import_file as _import_file
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.records import RunClose, TallyEntry
from planner.ledger.schema import FEN, GRAMS, MILLI, Close, Entry, HouseholdRow, PlaceRow

if TYPE_CHECKING:
    from planner.web.app import WebState
    from planner.web.plans import PlanFolder


def ensure_registered(state: WebState, folder: PlanFolder) -> None:
    """Register a plan folder in the ledger once per version of its plan.json."""
    key = (folder.name, folder.mtime_ns)
    if key in state._registered:
        return
    with state._lock:
        if key in state._registered:
            return
    source = load_plan(folder.path, folder.bundle.scenario)
    register_plan(state.ledger, source, who="planner serve")
    with state._lock:
        state._registered.add(key)


def record(
    ledger: Ledger,
    entries: Sequence[TallyEntry],
    closes: Sequence[RunClose],
    *,
    who: str,
    source: str,
) -> ImportResult:
    """Record the phone's entries through the ledger's importer (one transaction)."""
    return import_entries(ledger, entries, closes, source=source, who=who)


def import_file(ledger: Ledger, path: Path, *, who: str) -> ImportResult:
    """Import an uploaded tally file exactly as ``planner ledger import`` does."""
    return _import_file(ledger, path, who=who)


def flags(ledger: Ledger, month: str) -> list[str]:
    """The month's reconciliation flags, one sentence each (the ledger's reconcile)."""
    return []


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def balances(ledger: Ledger, households: Iterable[str]) -> dict[str, float]:
    """Points balance (earned − redeemed, all months) per household."""
    ids = sorted(set(households))
    out: dict[str, float] = {}
    with ledger.sessions() as s:
        for part in _chunks(ids):
            q = (
                select(
                    Entry.household_id,
                    func.sum(Entry.milli_points_earned - Entry.milli_points_redeemed),
                )
                .where(Entry.active.is_(True), Entry.household_id.in_(part))
                .group_by(Entry.household_id)
            )
            for hid, milli in s.execute(q):
                out[hid] = round((milli or 0) / MILLI, 3)
    return out


def _entry_view(e: Entry) -> dict[str, Any]:
    return {
        "key": e.key,
        "run_id": e.run_id,
        "point": e.point_id,
        "household": e.household_id,
        "date": e.date.isoformat(),
        "stream": e.stream,
        "category": e.category or None,
        "kg": None if e.grams is None else e.grams / GRAMS,
        "cash_cny": e.cash_fen / FEN,
        "goods_item": e.goods_item or None,
        "goods_qty": e.goods_qty,
        "goods_cny": e.goods_fen / FEN,
        "points_earned": e.milli_points_earned / MILLI,
        "points_redeemed": e.milli_points_redeemed / MILLI,
        "compost_declared": e.compost_declared,
        "off_stop": e.off_stop,
    }


def run_entries(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    """The active entries of one run, in a stable order."""
    with ledger.sessions() as s:
        rows = s.scalars(
            select(Entry)
            .where(Entry.run_id == run_id, Entry.active.is_(True))
            .order_by(Entry.point_id, Entry.household_id, Entry.stream, Entry.category, Entry.key)
        ).all()
        return [_entry_view(e) for e in rows]


def run_actuals(ledger: Ledger, month: str) -> dict[str, dict[str, float]]:
    """Per run of ``month``: households recorded, kg sold/exchanged, cash and goods paid."""
    out: dict[str, dict[str, float]] = defaultdict(
        lambda: {"households": 0, "sold_kg": 0.0, "exchanged_kg": 0.0, "cash_cny": 0.0,
                 "goods_cny": 0.0, "entries": 0}
    )  # fmt: skip
    with ledger.sessions() as s:
        q = (
            select(
                Entry.run_id,
                Entry.stream,
                func.count(),
                func.count(func.distinct(Entry.household_id)),
                func.coalesce(func.sum(Entry.grams), 0),
                func.sum(Entry.cash_fen),
                func.sum(Entry.goods_fen),
            )
            .where(Entry.month == month, Entry.active.is_(True))
            .group_by(Entry.run_id, Entry.stream)
        )
        for run_id, stream, n, hh, grams, cash, goods in s.execute(q):
            row = out[run_id]
            row["entries"] += n
            row["households"] = max(row["households"], hh)
            if stream == "sell":
                row["sold_kg"] += grams / GRAMS
            elif stream == "exchange":
                row["exchanged_kg"] += grams / GRAMS
            row["cash_cny"] += (cash or 0) / FEN
            row["goods_cny"] += (goods or 0) / FEN
        closed = s.scalars(
            select(Close.run_id).where(Close.month == month, Close.active.is_(True))
        ).all()
        for run_id in closed:
            out[run_id]["closed"] = 1
    return dict(out)


def gacha_actuals(ledger: Ledger, month: str) -> dict[str, dict[str, float]]:
    """Per gacha code: kg sold and exchanged, cash paid and goods handed out in ``month``."""
    out: dict[str, dict[str, float]] = defaultdict(
        lambda: dict.fromkeys(("sold_kg", "exchanged_kg", "cash_paid_cny", "goods_value_cny"), 0.0)
    )
    with ledger.sessions() as s:
        q = (
            select(
                PlaceRow.gacha_code,
                Entry.stream,
                func.coalesce(func.sum(Entry.grams), 0),
                func.sum(Entry.cash_fen),
                func.sum(Entry.goods_fen),
            )
            .join(PlaceRow, PlaceRow.id == Entry.point_id)
            .where(Entry.month == month, Entry.active.is_(True))
            .group_by(PlaceRow.gacha_code, Entry.stream)
        )
        for code, stream, grams, cash, goods in s.execute(q):
            row = out[code]
            if stream == "sell":
                row["sold_kg"] += grams / GRAMS
            elif stream == "exchange":
                row["exchanged_kg"] += grams / GRAMS
            row["cash_paid_cny"] += (cash or 0) / FEN
            row["goods_value_cny"] += (goods or 0) / FEN
    return dict(out)


def household_account(ledger: Ledger, household: str) -> dict[str, Any] | None:
    """One household's green account: its name, balance and every active entry."""
    with ledger.sessions() as s:
        h = s.get(HouseholdRow, household)
        if h is None:
            return None
        rows = s.scalars(
            select(Entry)
            .where(Entry.household_id == household, Entry.active.is_(True))
            .order_by(Entry.date, Entry.run_id, Entry.stream, Entry.category)
        ).all()
        entries = [_entry_view(e) for e in rows]
    earned = sum(e["points_earned"] for e in entries)
    spent = sum(e["points_redeemed"] for e in entries)
    return {
        "id": h.id,
        "name": h.name,
        "point": h.point_id,
        "people": h.people,
        "points_earned": round(earned, 3),
        "points_redeemed": round(spent, 3),
        "balance": round(earned - spent, 3),
        "cash_cny": round(sum(e["cash_cny"] for e in entries), 2),
        "entries": entries,
    }


def known_household(ledger: Ledger, household: str) -> bool:
    with ledger.sessions() as s:
        return s.get(HouseholdRow, household) is not None
