"""What each household sells, exchanges and composts at each visit (三个一).

Everything is computed from a plan (``plan.json`` as PLAN_FORMAT.md defines it)
and the scenario, so an edited plan gets tallies that match it:

* a stop's ``collected`` kg per category is split over the point's households in
  proportion to their people (each generates ``people x rate x days``, so the shares
  are exact); quantities are apportioned in grams so that they add up to the stop's
  figure exactly;
* compost is what the household generated since the point's previous visit in the
  plan (for the first visit: ``month.previous_visit_days``, or the same gap as
  between the month's last and first visits, a steady rhythm);
* exchange points (per kg and per item) go to the household's points balance;
  goods are handed out in whole items, the rest of the balance is carried to the
  next visit (see :mod:`planner.money.exchange`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.money.exchange import Handout, hand_out
from planner.plan.model import Plan
from planner.scenario.model import Scenario
from planner.scenario.settings import Category
from planner.scenario.waste import daily_kg_per_person

GRAMS = 1000
# A point without a households file is tallied as one row per visit under this id.
WHOLE_POINT = "*"


@dataclass(frozen=True, slots=True)
class Tally:
    """One row of tallies.csv."""

    run_id: str
    date: str
    point: str
    household: str
    stream: str
    category: str
    quantity: float
    unit: str
    value_cny: float


@dataclass(frozen=True)
class Visit:
    """A collect step of the plan."""

    run_id: str
    date: dt.date
    point: str
    collected: dict[str, float]


@dataclass
class MonthTallies:
    """The month's tallies and the goods behind the exchange rows."""

    rows: list[Tally] = field(default_factory=list)
    handouts: list[Handout] = field(default_factory=list)
    # points balance each household ends the month with
    balances: dict[str, float] = field(default_factory=dict)

    def by_run(self) -> dict[str, list[Tally]]:
        out: dict[str, list[Tally]] = defaultdict(list)
        for t in self.rows:
            out[t.run_id].append(t)
        return out


def plan_visits(plan: Plan) -> list[Visit]:
    """The plan's collect steps, by date, run and order in the run."""
    return [
        Visit(
            run_id=run.id,
            date=run.date,
            point=st.place,
            collected={k: float(v) for k, v in (st.collected or {}).items()},
        )
        for run, st in plan.collect_steps()
    ]


def split_units(units: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number of units by ``weights`` so the parts add up exactly.

    Largest remainders: each share is rounded down and the units left go to the
    largest fractional parts (ties to the earlier share). Without positive weights,
    the last share takes everything.
    """
    if not weights:
        return []
    wsum = float(sum(weights))
    if wsum <= 0:
        return [0] * (len(weights) - 1) + [units]
    exact = [units * w / wsum for w in weights]
    base = [int(x) for x in exact]
    left = units - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return base


def apportion(total_kg: float, weights: Sequence[float]) -> list[float]:
    """Split ``total_kg`` by ``weights`` in grams that add up to it exactly."""
    return [g / GRAMS for g in split_units(round(total_kg * GRAMS), weights)]


def accumulation_days(scenario: Scenario, dates: Sequence[dt.date]) -> list[int]:
    """Days of waste each of a point's visits (sorted dates) covers."""
    s = scenario.settings.month
    month_length = (s.last_day - s.first_day).days + 1
    out = []
    for k, d in enumerate(dates):
        if k > 0:
            out.append((d - dates[k - 1]).days)
        elif s.previous_visit_days is not None:
            out.append(s.previous_visit_days)
        else:
            out.append((d - dates[-1]).days + month_length)
    return out


def household_tallies(plan: Plan, scenario: Scenario) -> MonthTallies:
    """Tally every household at every visit of ``plan``."""
    cats = {c.id: c for c in scenario.settings.categories}
    rates = daily_kg_per_person(scenario)
    compost = [c for c in scenario.settings.categories if c.stream == "compost"]
    members = _members(scenario)

    visits = plan_visits(plan)
    dates_of: dict[str, list[dt.date]] = defaultdict(list)
    for v in visits:
        dates_of[v.point].append(v.date)
    days_of = {
        p: dict(zip(ds, accumulation_days(scenario, ds), strict=True)) for p, ds in dates_of.items()
    }

    out = MonthTallies()
    balance: dict[str, float] = defaultdict(float)
    last_item: dict[str, int] = {}
    for v in visits:
        hh = members.get(v.point, [])
        if not hh:
            continue
        ids = [h for h, _ in hh]
        people = [n for _, n in hh]
        day = v.date.isoformat()
        per_household: dict[str, list[Tally]] = {h: [] for h in ids}
        points_earned: dict[str, dict[str, float]] = {h: {} for h in ids}
        for cid in sorted(v.collected, key=_category_order(scenario)):
            cat = cats.get(cid)
            if cat is None:
                continue
            for h, kg in zip(ids, apportion(v.collected[cid], people), strict=True):
                rows, pts = _collected_rows(v, h, cat, kg)
                per_household[h] += rows
                if pts > 0:
                    points_earned[h][cid] = pts
        days = days_of[v.point][v.date]
        for cat in compost:
            for h, n in hh:
                kg = round(n * rates[cat.id] * days, 3)
                per_household[h].append(
                    Tally(v.run_id, day, v.point, h, "compost", cat.id, kg, "kg", 0.0)
                )
        for h in ids:
            earned = sum(points_earned[h].values())
            balance[h] += earned
            given, balance[h], last_item[h] = hand_out(
                scenario.settings.goods, balance[h], last_item.get(h, -1)
            )
            value = sum(g.value_cny * n for g, n in given)
            rows = _with_goods_value(per_household[h], points_earned[h], value)
            out.rows += rows
            out.handouts += [
                Handout(v.run_id, day, v.point, h, g.id, n, g.points * n, g.value_cny * n)
                for g, n in given
            ]
    out.balances = {h: round(b, 3) for h, b in sorted(balance.items())}
    return out


def _members(scenario: Scenario) -> dict[str, list[tuple[str, int]]]:
    """Households (id, people) per point; a point without a list counts as one."""
    if scenario.households:
        out: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for h in scenario.households:
            out[h.point].append((h.id, h.people))
        return dict(out)
    return {p.id: [(WHOLE_POINT, max(p.people, 1))] for p in scenario.points}


def _category_order(scenario: Scenario) -> Any:
    order = {c.id: k for k, c in enumerate(scenario.settings.categories)}
    return lambda cid: (order.get(cid, len(order)), cid)


def _collected_rows(v: Visit, h: str, cat: Category, kg: float) -> tuple[list[Tally], float]:
    """The sell or exchange rows of one household and category, and points earned."""
    day = v.date.isoformat()
    if cat.stream == "sell":
        value = round(kg * cat.buy_price_cny_kg, 2)
        return [Tally(v.run_id, day, v.point, h, "sell", cat.id, kg, "kg", value)], 0.0
    rows = [Tally(v.run_id, day, v.point, h, "exchange", cat.id, kg, "kg", 0.0)]
    points = kg * cat.exchange_points_per_kg
    if cat.kg_per_item > 0:
        items = kg / cat.kg_per_item
        points += items * cat.exchange_points_per_item
        rows.append(
            Tally(v.run_id, day, v.point, h, "exchange", cat.id, round(items, 3), "item", 0.0)
        )
    return rows, points


def _with_goods_value(rows: list[Tally], earned: dict[str, float], value_cny: float) -> list[Tally]:
    """Put the goods' value on the household's exchange kg rows, by points earned.

    Cents are apportioned so that the rows add up to the goods' value exactly.
    """
    kg_rows = [i for i, t in enumerate(rows) if t.stream == "exchange" and t.unit == "kg"]
    if not kg_rows or value_cny <= 0:
        return rows
    weights = [earned.get(rows[i].category, 0.0) for i in kg_rows]
    cents = split_units(round(value_cny * 100), weights)
    out = list(rows)
    for i, c in zip(kg_rows, cents, strict=True):
        out[i] = dataclasses.replace(rows[i], value_cny=c / 100)
    return out
