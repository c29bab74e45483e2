"""Green accounts (绿色账户): each household's points and every transaction behind them.

Points are earned on exchange kg (and items) and, where ``[ledger] points_per_kg``
says so, on sold kg; they are redeemed for goods at the truck against the price
list in points. Balances are sums over the active entries, so they carry from
month to month by construction: a month's opening balance is the closing balance
of everything recorded before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, true

from planner.ledger.codes import household_code
from planner.ledger.db import Ledger
from planner.ledger.errors import LedgerError
from planner.ledger.schema import FEN, GRAMS, MILLI, Entry, HouseholdRow, ImportRow, PlaceRow, isum


@dataclass(frozen=True)
class Transaction:
    """One recorded line of a household's account."""

    date: str
    run_id: str
    point: str
    stream: str
    category: str
    kg: float | None
    items: float | None
    price_cny_kg: float | None
    cash_cny: float
    goods_item: str
    goods_qty: int
    goods_value_cny: float
    points_earned: float
    points_redeemed: float
    compost_declared: bool | None
    off_stop: bool
    import_id: int
    active: bool
    superseded_by: int | None


@dataclass(frozen=True)
class MonthStatement:
    month: str
    opening: float
    earned: float
    redeemed: float
    closing: float
    cash_cny: float
    sold_kg: float
    exchanged_kg: float


@dataclass(frozen=True)
class HouseholdAccount:
    """A household's green account: who, where, balance, months and transactions."""

    id: str
    code: str
    name: str
    people: int
    point: str
    point_name: str
    gacha: str
    township: str
    balance: float
    months: tuple[MonthStatement, ...]
    transactions: tuple[Transaction, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def household_account(ledger: Ledger, household: str, *, history: bool = False) -> HouseholdAccount:
    """The account of ``household`` (its id or card code).

    With ``history``, superseded entries are listed too (``active`` false).

    Raises
    ------
    LedgerError
        No such household in the ledger.
    """
    from planner.ledger.codes import parse_household

    with ledger.sessions() as s:
        text = household.strip()
        cands = [text, text.rpartition("-")[0]]
        rows = s.scalars(select(HouseholdRow).where(HouseholdRow.id.in_(cands))).all()
        hid, why = parse_household(text, {h.id: h for h in rows})
        if hid is None:
            raise LedgerError(f"household: expected a household id or card code, found {why}")
        h = next(r for r in rows if r.id == hid)
        place = s.get(PlaceRow, h.point_id)
        q = select(Entry).where(Entry.household_id == hid)
        if not history:
            q = q.where(Entry.active == true())
        entries = s.scalars(q.order_by(Entry.date, Entry.run_id, Entry.id)).all()
    tx = tuple(_transaction(e) for e in entries)
    months: dict[str, list[int]] = {}
    for e in entries:
        if not e.active:
            continue
        m = months.setdefault(e.month, [0, 0, 0, 0, 0])
        m[0] += e.milli_points_earned
        m[1] += e.milli_points_redeemed
        m[2] += e.cash_fen
        if e.grams is not None and e.stream in ("sell", "exchange"):
            m[3 if e.stream == "sell" else 4] += e.grams
    statements = []
    balance = 0
    for month in sorted(months):
        earned, redeemed, cash, sold, exch = months[month]
        opening = balance
        balance += earned - redeemed
        statements.append(
            MonthStatement(
                month,
                opening / MILLI,
                earned / MILLI,
                redeemed / MILLI,
                balance / MILLI,
                cash / FEN,
                sold / GRAMS,
                exch / GRAMS,
            )
        )
    return HouseholdAccount(
        id=hid,
        code=household_code(hid),
        name=h.name,
        people=h.people,
        point=h.point_id,
        point_name=place.name if place else "",
        gacha=place.gacha if place else "",
        township=place.township if place else "",
        balance=balance / MILLI,
        months=tuple(statements),
        transactions=tx,
    )


def _transaction(e: Entry) -> Transaction:
    return Transaction(
        date=e.date.isoformat(),
        run_id=e.run_id,
        point=e.point_id,
        stream=e.stream,
        category=e.category,
        kg=None if e.grams is None else e.grams / GRAMS,
        items=None if e.items_milli is None else e.items_milli / MILLI,
        price_cny_kg=None if e.price_fen_kg_milli is None else e.price_fen_kg_milli / FEN / MILLI,
        cash_cny=e.cash_fen / FEN,
        goods_item=e.goods_item,
        goods_qty=e.goods_qty,
        goods_value_cny=e.goods_fen / FEN,
        points_earned=e.milli_points_earned / MILLI,
        points_redeemed=e.milli_points_redeemed / MILLI,
        compost_declared=e.compost_declared,
        off_stop=e.off_stop,
        import_id=e.import_id,
        active=e.active,
        superseded_by=e.superseded_by,
    )


def balances(ledger: Ledger, *, before: str | dt.date | None = None) -> dict[str, float]:
    """Points balance of every household with entries (before a month ``YYYY-MM`` or date)."""
    q = select(
        Entry.household_id,
        isum(Entry.milli_points_earned) - isum(Entry.milli_points_redeemed),
    ).where(Entry.active == true())
    if isinstance(before, str):
        q = q.where(Entry.month < before)
    elif isinstance(before, dt.date):
        q = q.where(Entry.date < before)
    q = q.group_by(Entry.household_id)
    with ledger.sessions() as s:
        return {h: int(b or 0) / MILLI for h, b in s.execute(q)}


def import_log(ledger: Ledger, limit: int = 50) -> list[dict[str, Any]]:
    """The latest imports: who, when, what they added, changed and removed."""
    with ledger.sessions() as s:
        rows = s.scalars(select(ImportRow).order_by(ImportRow.id.desc()).limit(limit)).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "by": r.imported_by,
            "at": r.imported_at.isoformat(),
            "added": r.added,
            "changed": r.changed,
            "removed": r.removed,
            "unchanged": r.unchanged,
        }
        for r in rows
    ]
