"""What the web views need from the ledger that its package does not offer (yet).

Writes go through the ledger's own door (:func:`planner.ledger.importer.import_entries`,
the same validation as a file import); the read-outs here are plain ORM queries on
the ledger's tables, in the units the views show (kg, CNY, points). Candidates to
move into ``planner/ledger/`` once they are wanted there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, true

from planner.ledger.db import Ledger
from planner.ledger.errors import LedgerError
from planner.ledger.importer import ImportResult, import_entries
from planner.ledger.importer import import_file as _import_file
from planner.ledger.plans import PlanSource, load_plan, register_plan
from planner.ledger.reconcile import reconcile
from planner.ledger.records import RunClose, TallyEntry
from planner.ledger.report import month_report
from planner.ledger.schema import FEN, GRAMS, MILLI, Entry, HouseholdRow

if TYPE_CHECKING:
    from planner.scenario.model import Scenario
    from planner.web.app import WebState
    from planner.web.plans import PlanFolder


def ensure_registered(state: WebState, folder: PlanFolder) -> None:
    """Register a plan folder in the ledger once per version of its plan.json."""
    key = (folder.name, folder.mtime_ns)
    if key in state._registered:
        return
    with state._register_lock:  # one registration at a time; the others wait for it
        if key in state._registered:
            return
        source = plan_source(folder.path, folder.bundle.scenario)
        register_plan(state.ledger, source, who="planner serve")
        state._registered.add(key)


def plan_source(path: Path, scenario: Scenario | None = None) -> PlanSource:
    """The ledger's view of a plan folder (:func:`planner.ledger.plans.load_plan`)."""
    return load_plan(path, scenario)


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


def flags(ledger: Ledger, month: str, limit: int = 300) -> tuple[list[dict[str, Any]], int]:
    """The month's reconciliation flags (the ledger's reconcile): the first ``limit``
    as dicts (kind, run_id, point, household, message, expected, found), and how many."""
    try:
        found = reconcile(ledger, month)
    except LedgerError:
        return [], 0
    return [f.to_json() for f in found[:limit]], len(found)


def report(ledger: Ledger, month: str) -> dict[str, Any]:
    """The ledger's planned-vs-actual report of ``month`` as JSON, with look-ups by key."""
    try:
        doc = month_report(ledger, month).to_json()
    except LedgerError:
        return {"runs": {}, "gachas": {}, "total": None}
    return {
        "runs": {r["run_id"]: r for r in doc["runs"]},
        "gachas": {(g["township"], g["gacha"]): g for g in doc["gachas"]},
        "total": doc["total"],
    }


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
                .where(Entry.active == true(), Entry.household_id.in_(part))
                .group_by(Entry.household_id)
            )
            for hid, milli in s.execute(q):
                out[hid] = round((milli or 0) / MILLI, 3)
    return out


def _entry_view(e: Entry) -> dict[str, Any]:
    return {
        "key": e.idempotency_key,
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
            .where(Entry.run_id == run_id, Entry.active == true())
            .order_by(Entry.point_id, Entry.household_id, Entry.stream, Entry.category, Entry.key)
        ).all()
        return [_entry_view(e) for e in rows]


def known_household(ledger: Ledger, household: str) -> bool:
    with ledger.sessions() as s:
        return s.get(HouseholdRow, household) is not None
