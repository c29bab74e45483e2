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
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

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


def reconcile(ledger: Ledger, month: str) -> list[Flag]:
    """Every discrepancy of ``month``, sorted by kind, run, point and household."""
    _check_month(month)
    flags: list[Flag] = []
    with ledger.sessions() as s:
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
        active = (Entry.month == month, Entry.active.is_(True))
        main = s.execute(
            select(
                Entry.run_id,
                Entry.point_id,
                Entry.category,
                Entry.goods_item,
                isum(Entry.grams),
                isum(Entry.cash_fen),
                isum(Entry.goods_qty),
                Entry.stream,
            )
            .where(*active)
            .group_by(Entry.run_id, Entry.point_id, Entry.stream, Entry.category, Entry.goods_item)
        ).all()
        closes = {
            c.run_id: c
            for c in s.scalars(select(Close).where(Close.month == month, Close.active.is_(True)))
        }
        ids = [c.id for c in closes.values()]
        goods = s.scalars(select(CloseGoods).where(CloseGoods.close_id.in_(ids))).all()
        tickets = s.scalars(select(CloseTicket).where(CloseTicket.close_id.in_(ids))).all()
        deliveries = s.scalars(select(CloseDelivery).where(CloseDelivery.close_id.in_(ids))).all()
        plants = set(s.scalars(select(PlaceRow.id).where(PlaceRow.kind == "plant")))
        stops = s.execute(
            select(StopRow.run_id, StopRow.point_id).join(RunRow).where(RunRow.month == month)
        ).all()
        # Off-stop records and prices off the list, found by the database (few rows).
        least = min(t["price_tolerance_cny_kg"] for t in tol.values()) * FEN * MILLI
        odd = s.execute(
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
                *active,
                or_(
                    Entry.off_stop.is_(True),
                    and_(
                        Entry.stream == "sell",
                        func.abs(Entry.price_fen_kg_milli - Price.buy_fen_kg * MILLI) > least,
                    ),
                ),
            )
        ).all()
        redeeming = (
            select(Entry.household_id)
            .where(*active, Entry.milli_points_redeemed > 0)
            .distinct()
            .scalar_subquery()
        )
        earned = isum(Entry.milli_points_earned)
        spent = isum(Entry.milli_points_redeemed)
        bal = s.execute(
            select(Entry.household_id, earned - spent)
            .where(
                Entry.active.is_(True),
                Entry.month <= month,
                Entry.household_id.in_(redeeming),
            )
            .group_by(Entry.household_id)
            .having(earned < spent)
        ).all()
    per_run: dict[str, int] = defaultdict(int)
    kg_cat: dict[tuple[str, str], int] = defaultdict(int)
    handed: dict[tuple[str, str], int] = defaultdict(int)
    recorded: set[tuple[str, str]] = set()
    for rid, point, cat, item, grams, cash, qty, stream in main:
        recorded.add((rid, point))
        per_run[rid] += int(cash or 0)
        if stream != "compost" and grams is not None and cat:
            kg_cat[(rid, cat)] += int(grams)
        if item:
            handed[(rid, item)] += int(qty or 0)
    off = sorted({(r, p, h) for r, p, h, _c, _pr, o in odd if o})
    priced = sorted((r, p, h, c, pr) for r, p, h, c, pr, o in odd if not o or pr is not None)
    by_close: dict[int, str] = {c.id: rid for rid, c in closes.items()}

    # money and goods on the truck
    for rid, c in closes.items():
        t = tol[runs[rid].plan_id]
        paid = per_run.get(rid, 0)
        if c.cash_out_fen is not None and c.cash_returned_fen is not None:
            want = c.cash_out_fen - paid
            if abs(want - c.cash_returned_fen) > t["cash_tolerance_cny"] * FEN + 1e-9:
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
    handed_by = dict(handed)
    seen_goods: set[tuple[str, str]] = set()
    for g in goods:
        rid = by_close[g.close_id]
        seen_goods.add((rid, g.item))
        n = handed_by.get((rid, g.item), 0)
        if g.loaded is None or g.returned is None:
            continue
        want = g.loaded - n
        if abs(want - g.returned) > tol[runs[rid].plan_id]["goods_tolerance_items"]:
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
        if rid in closes and (rid, item) not in seen_goods and n > 0:
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

    # masses: weigh tickets and the plant
    kg_total: dict[str, int] = defaultdict(int)
    kg_haz: dict[str, int] = defaultdict(int)
    for (rid, cat), grams in sorted(kg_cat.items()):
        kg_total[rid] += grams
        p = prices.get((runs[rid].plan_id, cat))
        if p is not None and p.hazardous:
            kg_haz[rid] += grams
    ticket_g: dict[str, int] = defaultdict(int)
    for tk in tickets:
        ticket_g[by_close[tk.close_id]] += tk.grams
    plant_g: dict[str, int] = defaultdict(int)
    for d in deliveries:
        if d.facility in plants:
            plant_g[by_close[d.close_id]] += d.grams
    for rid in sorted(closes):
        t = tol[runs[rid].plan_id]
        if any(by_close[tk.close_id] == rid for tk in tickets):
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

    # households and stops
    for rid, point, hid, cat, price_m in priced:
        p = prices.get((runs[rid].plan_id, cat))
        if p is None or price_m is None:
            continue
        tolerance = tol[runs[rid].plan_id]["price_tolerance_cny_kg"] * FEN * MILLI
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
    for rid, point in sorted(stops):
        if (rid, point) not in recorded:
            flags.append(
                Flag(
                    "stop_unrecorded",
                    rid,
                    point,
                    "",
                    "a planned stop with no record",
                    "records",
                    "none",
                )
            )
    for rid, point, hid in off:
        flags.append(
            Flag(
                "off_stop",
                rid,
                point,
                hid,
                "a household recorded at a stop it does not belong to",
                "its own point",
                point,
            )
        )
    with_entries = {rid for rid, _ in recorded}
    for rid in sorted(with_entries - set(closes)):
        flags.append(
            Flag(
                "no_close", rid, "", "", "tallies recorded but no run close", "a run close", "none"
            )
        )
    for hid, b in bal:
        flags.append(
            Flag(
                "negative_balance",
                "",
                "",
                hid,
                "redeemed more points than earned",
                0,
                round(int(b) / MILLI, 3),
            )
        )
    return sorted(
        flags, key=lambda f: (KINDS.index(f.kind), f.run_id, f.point, f.household, f.message)
    )
