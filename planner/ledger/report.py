"""Planned vs actual for a month, per run, gacha, township and banner.

:func:`month_report` answers from the database only: the planned figures stored
when the plan was registered (stops' kg, cash, goods, points, compost; runs' fuel
and driver cost) and the sums of the month's active entries and run closes.
All sums are of integers (grams, fen, thousandths of points), so the JSON is the
same from SQLite and PostgreSQL; nothing in it depends on when it was made.

Net cost (农维费 spent) = fuel + driver + cash paid + goods handed out - what the
buyer pays for the recyclables (the category's resale price x kg sold). Actual fuel
is the planned fuel scaled by odometer km / planned km where the run close gives
the odometer; a run's fuel and driver cost is shared among the gachas it serves in
proportion to the households at its stops (as the plan's money summary does).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from planner.ledger.db import Ledger
from planner.ledger.errors import LedgerError
from planner.ledger.schema import (
    FEN,
    GRAMS,
    MILLI,
    Close,
    PlaceRow,
    PlanRow,
    Price,
    RunRow,
    StopHouseholds,
    StopKg,
    StopRow,
    StopSum,
    isum,
)

FORMAT = "steppe-ledger-report/1"
FIGURES = (
    "sold_kg",
    "exchanged_kg",
    "compost_kg",
    "cash_paid_cny",
    "goods_value_cny",
    "points_earned",
    "points_redeemed",
    "resale_cny",
    "fuel_cny",
    "driver_cny",
    "net_cost_cny",
)
_SCALE = {"sold_kg": GRAMS, "exchanged_kg": GRAMS, "compost_kg": GRAMS}
_SCALE |= {"points_earned": MILLI, "points_redeemed": MILLI}


@dataclass
class Figures:
    """One side (planned or actual) in integer units; :meth:`as_dict` converts."""

    v: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0.0))

    def add(self, name: str, x: float) -> None:
        self.v[name] += x

    def merge(self, other: Figures) -> None:
        for k, x in other.v.items():
            self.v[k] += x

    def as_dict(self) -> dict[str, float]:
        out = {}
        for k in FIGURES:
            x = self.v[k]
            if k == "net_cost_cny":
                continue
            out[k] = round(x / _SCALE.get(k, FEN), 3 if k in _SCALE else 2)
        net = (
            self.v["fuel_cny"]
            + self.v["driver_cny"]
            + self.v["cash_paid_cny"]
            + self.v["goods_value_cny"]
            - self.v["resale_cny"]
        )
        out["net_cost_cny"] = round(net / FEN, 2)
        return out


@dataclass
class Line:
    """Planned and actual figures for one run, gacha, township or the banner."""

    key: dict[str, str]
    planned: Figures = field(default_factory=Figures)
    actual: Figures = field(default_factory=Figures)
    stops_planned: int = 0
    stops_recorded: int = 0
    households_recorded: int = 0
    fee_budget_cny: float = 0.0

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = dict(self.key)
        doc["stops_planned"] = self.stops_planned
        doc["stops_recorded"] = self.stops_recorded
        doc["households_recorded"] = self.households_recorded
        doc["planned"] = self.planned.as_dict()
        doc["actual"] = self.actual.as_dict()
        if self.fee_budget_cny:
            doc["fee_budget_cny"] = round(self.fee_budget_cny, 2)
            doc["fee_balance_cny"] = round(self.fee_budget_cny - doc["actual"]["net_cost_cny"], 2)
        return doc


@dataclass
class MonthReport:
    """The month's planned vs actual figures."""

    month: str
    runs: list[Line]
    gachas: list[Line]
    townships: list[Line]
    total: Line

    def to_json(self) -> dict[str, Any]:
        """Deterministic JSON: fixed key order, sorted lines, no timestamps."""
        return {
            "format": FORMAT,
            "month": self.month,
            "total": self.total.to_json(),
            "townships": [x.to_json() for x in self.townships],
            "gachas": [x.to_json() for x in self.gachas],
            "runs": [x.to_json() for x in self.runs],
        }


def month_report(ledger: Ledger, month: str) -> MonthReport:
    """Planned vs actual for ``month`` (``YYYY-MM``).

    Raises
    ------
    LedgerError
        The month is malformed or no plan of it is registered.
    """
    _check_month(month)
    with ledger.sessions() as s:
        runs = {r.id: r for r in s.scalars(select(RunRow).where(RunRow.month == month))}
        if not runs:
            raise LedgerError(
                f"--month: expected a month with a registered plan, found {month} "
                "(register one with 'planner ledger plan PLAN_DIR')"
            )
        plan_ids = sorted({r.plan_id for r in runs.values()})
        prices = {
            (p.plan_id, p.category): p
            for p in s.scalars(select(Price).where(Price.plan_id.in_(plan_ids)))
        }
        settings = {
            p.id: p.settings for p in s.scalars(select(PlanRow).where(PlanRow.id.in_(plan_ids)))
        }
        stops = list(
            s.scalars(
                select(StopRow)
                .join(RunRow)
                .where(RunRow.month == month)
                .order_by(StopRow.run_id, StopRow.point_id)
            )
        )
        kgs = s.execute(
            select(StopKg.run_id, StopKg.category, isum(StopKg.grams))
            .join(RunRow, RunRow.id == StopKg.run_id)
            .where(RunRow.month == month)
            .group_by(StopKg.run_id, StopKg.point_id, StopKg.category)
            .add_columns(StopKg.point_id)
            .order_by(StopKg.run_id, StopKg.point_id, StopKg.category)
        ).all()
        actual = _actual_sums(s, month)
        visited = s.execute(
            select(StopHouseholds.run_id, StopHouseholds.point_id, StopHouseholds.households)
            .where(StopHouseholds.month == month)
            .order_by(StopHouseholds.run_id, StopHouseholds.point_id)
        ).all()
        odo = {
            c.run_id: (c.odometer_end_m - c.odometer_start_m)
            for c in s.scalars(select(Close).where(Close.month == month, Close.active == true()))
            if c.odometer_start_m is not None and c.odometer_end_m is not None
        }
        point_ids = sorted({st.point_id for st in stops} | {a[1] for a in actual})
        places = {p.id: p for p in s.scalars(select(PlaceRow).where(PlaceRow.id.in_(point_ids)))}
    # Python's order, not the database's collation: the same sums in the same order.
    stops.sort(key=lambda st: (st.run_id, st.point_id))
    kgs = sorted(kgs, key=lambda r: (r[0], r[3], r[1]))
    actual = sorted(actual, key=lambda r: (r[0], r[1], r[2], r[3]))
    visited = sorted(visited, key=lambda r: (r[0], r[1]))
    return _assemble(month, runs, prices, settings, stops, kgs, actual, visited, odo, places)


def _actual_sums(s: Session, month: str) -> list[tuple[Any, ...]]:
    """The month's active entries summed per run, point, stream and category.

    Read from the per-stop sums the importer keeps (:mod:`planner.ledger.sums`): a few
    rows per stop, whatever the number of entries. The goods items of a category are
    added here, in integers, so the figures are exactly the entries' sums.
    """
    q = select(
        StopSum.run_id,
        StopSum.point_id,
        StopSum.stream,
        StopSum.category,
        StopSum.grams,
        StopSum.cash_fen,
        StopSum.goods_fen,
        StopSum.milli_points_earned,
        StopSum.milli_points_redeemed,
    ).where(StopSum.month == month)
    acc: dict[tuple[str, str, str, str], list[int | None]] = {}
    for run_id, point, stream, category, *amounts in s.execute(q):
        got = acc.setdefault((run_id, point, stream, category), [None] * len(amounts))
        for i, x in enumerate(amounts):
            if x is not None:
                got[i] = int(x) + (got[i] or 0)
    return [(*k, *v) for k, v in acc.items()]


@dataclass
class _Lines:
    """The report's lines being filled: one per run and one per gacha met."""

    runs: dict[str, RunRow]
    places: dict[str, PlaceRow]
    run_lines: dict[str, Line] = field(default_factory=dict)
    gachas: dict[tuple[str, str], Line] = field(default_factory=dict)
    plan_of: dict[str, int] = field(default_factory=dict)
    _of_point: dict[str, Line] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_lines = {
            rid: Line({"run_id": rid, "date": r.date.isoformat(), "vehicle": r.vehicle})
            for rid, r in self.runs.items()
        }
        self.plan_of = {rid: r.plan_id for rid, r in self.runs.items()}

    def gacha(self, point: str) -> Line:
        line = self._of_point.get(point)
        if line is None:
            p = self.places.get(point)
            key = (p.township, p.gacha) if p else ("", "")
            if key not in self.gachas:
                self.gachas[key] = Line({"township": key[0], "gacha": key[1]})
            line = self._of_point[point] = self.gachas[key]
        return line

    def of(self, run_id: str, point: str) -> tuple[Line, Line]:
        """The run's line and the point's gacha line: every figure counts in both."""
        return self.run_lines[run_id], self.gacha(point)


def _assemble(
    month: str,
    runs: dict[str, RunRow],
    prices: dict[tuple[int, str], Price],
    settings: dict[int, dict[str, Any]],
    stops: list[StopRow],
    kgs: Any,
    actual: Any,
    visited: Any,
    odo: dict[str, int],
    places: dict[str, PlaceRow],
) -> MonthReport:
    lines = _Lines(runs, places)
    _add_planned_stops(lines, stops, odo)
    _add_run_costs(lines, odo)
    _add_planned_kgs(lines, prices, kgs)
    _add_actual_entries(lines, prices, actual)
    for run_id, point, n in visited:
        for line in lines.of(run_id, point):
            line.households_recorded += n
            line.stops_recorded += 1
    townships, total = _roll_up(month, settings, lines.gachas)
    run_lines = lines.run_lines
    return MonthReport(
        month,
        [run_lines[k] for k in sorted(run_lines, key=lambda r: (runs[r].date, r))],
        [lines.gachas[k] for k in sorted(lines.gachas)],
        [townships[k] for k in sorted(townships)],
        total,
    )


def _km_ratio(run_id: str, run: RunRow, odo: dict[str, int]) -> float:
    """Odometer km / planned km where the run close gives the odometer, else 1."""
    return odo[run_id] / run.distance_m if run_id in odo and run.distance_m else 1.0


def _add_planned_stops(lines: _Lines, stops: list[StopRow], odo: dict[str, int]) -> None:
    """The stops' planned figures, and each run's fuel and driver shared among its gachas."""
    hh_of_run: dict[str, int] = defaultdict(int)
    for st in stops:
        hh_of_run[st.run_id] += st.households
    for st in stops:
        run = lines.runs[st.run_id]
        for line in lines.of(st.run_id, st.point_id):
            p = line.planned
            p.add("cash_paid_cny", st.cash_fen)
            p.add("goods_value_cny", st.goods_fen)
            p.add("points_earned", st.milli_points)
            p.add("points_redeemed", st.milli_points_redeemed)
            p.add("compost_kg", st.compost_g)
            line.stops_planned += 1
        share = st.households / hh_of_run[st.run_id] if hh_of_run[st.run_id] else 0.0
        g = lines.gacha(st.point_id)
        g.planned.add("fuel_cny", run.fuel_fen * share)
        g.planned.add("driver_cny", run.driver_fen * share)
        g.actual.add("fuel_cny", run.fuel_fen * _km_ratio(st.run_id, run, odo) * share)
        g.actual.add("driver_cny", run.driver_fen * share)


def _add_run_costs(lines: _Lines, odo: dict[str, int]) -> None:
    for rid, run in lines.runs.items():
        line = lines.run_lines[rid]
        line.planned.add("fuel_cny", run.fuel_fen)
        line.planned.add("driver_cny", run.driver_fen)
        line.actual.add("fuel_cny", run.fuel_fen * _km_ratio(rid, run, odo))
        line.actual.add("driver_cny", run.driver_fen)


def _add_planned_kgs(lines: _Lines, prices: dict[tuple[int, str], Price], kgs: Any) -> None:
    for run_id, category, grams, point in kgs:
        price = prices.get((lines.plan_of[run_id], category))
        if price is None:
            continue
        name = "sold_kg" if price.stream == "sell" else "exchanged_kg"
        for line in lines.of(run_id, point):
            line.planned.add(name, grams or 0)
            if price.stream == "sell":
                line.planned.add("resale_cny", (grams or 0) * price.resale_fen_kg / GRAMS)


def _add_actual_entries(lines: _Lines, prices: dict[tuple[int, str], Price], actual: Any) -> None:
    plan_of = lines.plan_of
    for run_id, point, stream, category, grams, cash, goods, earned, redeemed in actual:
        price = prices.get((plan_of[run_id], category)) if run_id in plan_of else None
        for line in lines.of(run_id, point):
            a = line.actual
            if stream == "sell":
                a.add("sold_kg", grams or 0)
                if price is not None:
                    a.add("resale_cny", (grams or 0) * price.resale_fen_kg / GRAMS)
            elif stream == "exchange":
                a.add("exchanged_kg", grams or 0)
            else:
                a.add("compost_kg", grams or 0)
            a.add("cash_paid_cny", cash or 0)
            a.add("goods_value_cny", goods or 0)
            a.add("points_earned", earned or 0)
            a.add("points_redeemed", redeemed or 0)


def _roll_up(
    month: str, settings: dict[int, dict[str, Any]], gachas: dict[tuple[str, str], Line]
) -> tuple[dict[str, Line], Line]:
    """Townships and the banner from the gachas, with the 农维费 budget of the month."""
    # The year's fee per gacha pro-rated to the month.
    year, mon = int(month[:4]), int(month[5:])
    days = calendar.monthrange(year, mon)[1] / (366 if calendar.isleap(year) else 365)
    fee = max(float(st.get("fee_per_gacha_year_cny", 0.0)) for st in settings.values())
    townships: dict[str, Line] = {}
    total = Line({"scope": "banner"})
    for (town_name, gacha_name), gl in sorted(gachas.items()):
        if gacha_name:
            gl.fee_budget_cny = fee * days
        town = townships.setdefault(town_name, Line({"township": town_name}))
        for agg in (town, total):
            agg.planned.merge(gl.planned)
            agg.actual.merge(gl.actual)
            agg.stops_planned += gl.stops_planned
            agg.stops_recorded += gl.stops_recorded
            agg.households_recorded += gl.households_recorded
            agg.fee_budget_cny += gl.fee_budget_cny
    return townships, total


def _check_month(month: str) -> None:
    ok = len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()
    if not ok or not 1 <= int(month[5:]) <= 12:
        raise LedgerError(f"--month: expected YYYY-MM such as 2026-12, found {month!r}")
