"""What does not add up in a month: one :class:`Flag` per discrepancy.

Checks (tolerances from the plan's ``[ledger]`` settings):

* ``cash`` — cash float out - cash paid to households != cash returned;
* ``goods`` — goods loaded - handed out != returned, per item;
* ``weigh`` — households' kg (sold + exchanged) vs the stations' weigh tickets;
* ``hazardous`` — hazardous kg exchanged vs kg delivered to the plant;
* ``price`` — a household paid a price per kg that is not the scenario's;
* ``stop_unrecorded`` — a planned stop with no record (skipped, or the form lost);
* ``off_stop`` — a household recorded at a stop it does not belong to;
* ``no_close`` — a run with tallies but no end-of-run box;
* ``negative_balance`` — a household that redeemed more points than it had.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from planner.ledger.db import Ledger
from planner.ledger.report import _check_month
from planner.ledger.schema import (
    FEN,
    GRAMS,
    MILLI,
    Close,
    CloseDelivery,
    CloseGoods,
    CloseTicket,
    Entry,
    PlaceRow,
    PlanRow,
    Price,
    RunRow,
    StopRow,
    StopSum,
    isum,
)

KINDS = (
    "cash",
    "goods",
    "weigh",
    "hazardous",
    "price",
    "stop_unrecorded",
    "off_stop",
    "no_close",
    "negative_balance",
)


@dataclass(frozen=True, order=True)
class Flag:
    """One thing that does not add up."""

    kind: str
    run_id: str
    point: str
    household: str
    message: str
    expected: float | str
    found: float | str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Month:
    """The month's rows the checks read, loaded in one session."""

    runs: dict[str, RunRow]
    tol: dict[int, dict[str, Any]]
    prices: dict[tuple[int, str], Price]
    main: Sequence[Any]
    closes: dict[str, Close]
    goods: Sequence[CloseGoods]
    tickets: Sequence[CloseTicket]
    deliveries: Sequence[CloseDelivery]
    plants: set[str]
    stops: Sequence[Any]
    odd: Sequence[Any]
    balances: Sequence[Any]

    def tolerances(self, run_id: str) -> dict[str, Any]:
        return self.tol[self.runs[run_id].plan_id]


@dataclass
class _Tallies:
    """The month's entries summed per run: cash paid, kg per category, goods handed."""

    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    kg_by_category: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    handed: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    recorded: set[tuple[str, str]] = field(default_factory=set)


def reconcile(ledger: Ledger, month: str) -> list[Flag]:
    """Every discrepancy of ``month``, sorted by kind, run, point and household."""
    _check_month(month)
    with ledger.sessions() as s:
        rows = _load_month(s, month)
    tallies = _sum_entries(rows.main)
    by_close: dict[int, str] = {c.id: rid for rid, c in rows.closes.items()}
    flags = [
        *_cash_flags(rows, tallies),
        *_goods_flags(rows, tallies, by_close),
        *_mass_flags(rows, tallies, by_close),
        *_price_flags(rows),
        *_stop_flags(rows, tallies),
        *_balance_flags(rows),
    ]
    return sorted(
        flags, key=lambda f: (KINDS.index(f.kind), f.run_id, f.point, f.household, f.message)
    )


def _load_month(s: Session, month: str) -> _Month:
    runs = {r.id: r for r in s.scalars(select(RunRow).where(RunRow.month == month))}
    if not runs:
        from planner.ledger.errors import LedgerError

        raise LedgerError(f"--month: expected a month with a registered plan, found {month}")
    plan_ids = sorted({r.plan_id for r in runs.values()})
    tol = {
        p.id: p.settings["ledger"]
        for p in s.scalars(select(PlanRow).where(PlanRow.id.in_(plan_ids)))
    }
    prices = {
        (p.plan_id, p.category): p
        for p in s.scalars(select(Price).where(Price.plan_id.in_(plan_ids)))
    }
    closes = {
        c.run_id: c
        for c in s.scalars(select(Close).where(Close.month == month, Close.active == true()))
    }
    ids = [c.id for c in closes.values()]
    return _Month(
        runs=runs,
        tol=tol,
        prices=prices,
        main=_entry_sums(s, month),
        closes=closes,
        goods=s.scalars(select(CloseGoods).where(CloseGoods.close_id.in_(ids))).all(),
        tickets=s.scalars(select(CloseTicket).where(CloseTicket.close_id.in_(ids))).all(),
        deliveries=s.scalars(select(CloseDelivery).where(CloseDelivery.close_id.in_(ids))).all(),
        plants=set(s.scalars(select(PlaceRow.id).where(PlaceRow.kind == "plant"))),
        stops=s.execute(
            select(StopRow.run_id, StopRow.point_id).join(RunRow).where(RunRow.month == month)
        ).all(),
        odd=_odd_entries(s, month, tol),
        balances=_negative_balances(s, month),
    )


def _active(month: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The month's active entries, found through its runs (``ux_entries_active_stop``)."""
    runs = select(RunRow.id).where(RunRow.month == month)
    return (Entry.run_id.in_(runs), Entry.active == true())


def _entry_sums(s: Session, month: str) -> Sequence[Any]:
    """Grams, cash and goods summed per run, point, stream, category and goods item
    (the importer's per-stop sums of the active entries)."""
    return s.execute(
        select(
            StopSum.run_id,
            StopSum.point_id,
            StopSum.category,
            StopSum.goods_item,
            StopSum.grams,
            StopSum.cash_fen,
            StopSum.goods_qty,
            StopSum.stream,
        ).where(StopSum.month == month)
    ).all()


def _odd_entries(s: Session, month: str, tol: dict[int, dict[str, Any]]) -> Sequence[Any]:
    """Off-stop records and prices off the list, found by the database (few rows)."""
    least = min(t["price_tolerance_cny_kg"] for t in tol.values()) * FEN * MILLI
    return s.execute(
        select(
            Entry.run_id,
            Entry.point_id,
            Entry.household_id,
            Entry.category,
            Entry.price_fen_kg_milli,
            Entry.off_stop,
        )
        .join(RunRow, RunRow.id == Entry.run_id)
        .join(
            Price,
            and_(Price.plan_id == RunRow.plan_id, Price.category == Entry.category),
            isouter=True,
        )
        .where(
            *_active(month),
            or_(
                Entry.off_stop.is_(True),
                and_(
                    Entry.stream == "sell",
                    func.abs(Entry.price_fen_kg_milli - Price.buy_fen_kg * MILLI) > least,
                ),
            ),
        )
    ).all()


def _negative_balances(s: Session, month: str) -> Sequence[Any]:
    """Households that redeemed this month and whose balance up to it is below zero."""
    redeeming = (
        select(Entry.household_id)
        .where(*_active(month), Entry.milli_points_redeemed > 0)
        .distinct()
        .scalar_subquery()
    )
    earned = isum(Entry.milli_points_earned)
    spent = isum(Entry.milli_points_redeemed)
    return s.execute(
        select(Entry.household_id, earned - spent)
        .where(
            Entry.active == true(),
            Entry.month <= month,
            Entry.household_id.in_(redeeming),
        )
        .group_by(Entry.household_id)
        .having(earned < spent)
    ).all()


def _sum_entries(main: Sequence[Any]) -> _Tallies:
    out = _Tallies()
    for rid, point, cat, item, grams, cash, qty, stream in main:
        out.recorded.add((rid, point))
        out.paid[rid] += int(cash or 0)
        if stream != "compost" and grams is not None and cat:
            out.kg_by_category[(rid, cat)] += int(grams)
        if item:
            out.handed[(rid, item)] += int(qty or 0)
    return out


def _cash_flags(rows: _Month, tallies: _Tallies) -> list[Flag]:
    """Cash float out - cash paid to households should come back."""
    flags: list[Flag] = []
    for rid, c in rows.closes.items():
        paid = tallies.paid.get(rid, 0)
        if c.cash_out_fen is None or c.cash_returned_fen is None:
            continue
        want = c.cash_out_fen - paid
        if (
            abs(want - c.cash_returned_fen)
            > rows.tolerances(rid)["cash_tolerance_cny"] * FEN + 1e-9
        ):
            flags.append(
                Flag(
                    "cash",
                    rid,
                    "",
                    "",
                    f"float {c.cash_out_fen / FEN:.2f} - paid {paid / FEN:.2f} comes back",
                    round(want / FEN, 2),
                    round(c.cash_returned_fen / FEN, 2),
                )
            )
    return flags


def _goods_flags(rows: _Month, tallies: _Tallies, by_close: dict[int, str]) -> list[Flag]:
    """Goods loaded - handed out should come back, per item; handed but never loaded."""
    flags: list[Flag] = []
    handed_by = dict(tallies.handed)
    seen_goods: set[tuple[str, str]] = set()
    for g in rows.goods:
        rid = by_close[g.close_id]
        seen_goods.add((rid, g.item))
        n = handed_by.get((rid, g.item), 0)
        if g.loaded is None or g.returned is None:
            continue
        want = g.loaded - n
        if abs(want - g.returned) > rows.tolerances(rid)["goods_tolerance_items"]:
            flags.append(
                Flag(
                    "goods",
                    rid,
                    "",
                    "",
                    f"{g.item}: loaded {g.loaded} - handed out {n} should come back",
                    want,
                    g.returned,
                )
            )
    for (rid, item), n in sorted(handed_by.items()):
        if rid in rows.closes and (rid, item) not in seen_goods and n > 0:
            flags.append(
                Flag(
                    "goods",
                    rid,
                    "",
                    "",
                    f"{item}: {n} handed out but none recorded as loaded",
                    0,
                    n,
                )
            )
    return flags


def _mass_flags(rows: _Month, tallies: _Tallies, by_close: dict[int, str]) -> list[Flag]:
    """Households' kg vs the weigh tickets, and hazardous kg vs the plant's."""
    kg_total: dict[str, int] = defaultdict(int)
    kg_haz: dict[str, int] = defaultdict(int)
    for (rid, cat), grams in sorted(tallies.kg_by_category.items()):
        kg_total[rid] += grams
        p = rows.prices.get((rows.runs[rid].plan_id, cat))
        if p is not None and p.hazardous:
            kg_haz[rid] += grams
    ticket_g: dict[str, int] = defaultdict(int)
    for tk in rows.tickets:
        ticket_g[by_close[tk.close_id]] += tk.grams
    plant_g: dict[str, int] = defaultdict(int)
    for d in rows.deliveries:
        if d.facility in rows.plants:
            plant_g[by_close[d.close_id]] += d.grams
    flags: list[Flag] = []
    for rid in sorted(rows.closes):
        t = rows.tolerances(rid)
        if any(by_close[tk.close_id] == rid for tk in rows.tickets):
            hh, wt = kg_total[rid], ticket_g[rid]
            allowed = max(
                t["weigh_tolerance_pct"] / 100 * max(hh, wt), t["weigh_tolerance_kg"] * GRAMS
            )
            if abs(hh - wt) > allowed:
                flags.append(
                    Flag(
                        "weigh",
                        rid,
                        "",
                        "",
                        "households' kg vs the stations' weigh tickets",
                        round(hh / GRAMS, 1),
                        round(wt / GRAMS, 1),
                    )
                )
        haz_off = abs(kg_haz[rid] - plant_g[rid]) > t["hazard_tolerance_kg"] * GRAMS
        if (kg_haz[rid] or plant_g[rid]) and haz_off:
            flags.append(
                Flag(
                    "hazardous",
                    rid,
                    "",
                    "",
                    "hazardous kg exchanged vs delivered to the plant",
                    round(kg_haz[rid] / GRAMS, 1),
                    round(plant_g[rid] / GRAMS, 1),
                )
            )
    return flags


def _price_flags(rows: _Month) -> list[Flag]:
    """A household paid a price per kg beyond the plan's tolerance of the scenario's."""
    priced = sorted((r, p, h, c, pr) for r, p, h, c, pr, o in rows.odd if not o or pr is not None)
    flags: list[Flag] = []
    for rid, point, hid, cat, price_m in priced:
        p = rows.prices.get((rows.runs[rid].plan_id, cat))
        if p is None or price_m is None:
            continue
        tolerance = rows.tolerances(rid)["price_tolerance_cny_kg"] * FEN * MILLI
        if abs(price_m - p.buy_fen_kg * MILLI) > tolerance + 1e-9:
            flags.append(
                Flag(
                    "price",
                    rid,
                    point,
                    hid,
                    f"{cat} bought at a price that is not the scenario's",
                    round(p.buy_fen_kg / FEN, 3),
                    round(price_m / FEN / MILLI, 3),
                )
            )
    return flags


def _stop_flags(rows: _Month, tallies: _Tallies) -> list[Flag]:
    """Planned stops with no record, records off their stop, runs with no close."""
    flags = [
        Flag("stop_unrecorded", rid, point, "", "a planned stop with no record", "records", "none")
        for rid, point in sorted(rows.stops)
        if (rid, point) not in tallies.recorded
    ]
    off = sorted({(r, p, h) for r, p, h, _c, _pr, o in rows.odd if o})
    flags += [
        Flag(
            "off_stop",
            rid,
            point,
            hid,
            "a household recorded at a stop it does not belong to",
            "its own point",
            point,
        )
        for rid, point, hid in off
    ]
    with_entries = {rid for rid, _ in tallies.recorded}
    flags += [
        Flag("no_close", rid, "", "", "tallies recorded but no run close", "a run close", "none")
        for rid in sorted(with_entries - set(rows.closes))
    ]
    return flags


def _balance_flags(rows: _Month) -> list[Flag]:
    return [
        Flag(
            "negative_balance",
            "",
            "",
            hid,
            "redeemed more points than earned",
            0,
            round(int(b) / MILLI, 3),
        )
        for hid, b in rows.balances
    ]
