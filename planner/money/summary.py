"""The month's money per gacha, township and banner (``summary.json``).

Net cost = fuel + driver + cash paid to households + goods handed out − what the
buyer pays for the recyclables. It is set against the 农维费 budget pro-rated to
the month (per gacha: the year's fee x days in the month / days in the year); the
goods are also shown against the reward fund. A run's fuel and driver cost is
shared among the gachas it serves in proportion to the households at its stops.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from planner.money.carry import run_carry
from planner.money.exchange import ASSUMPTION as EXCHANGE_ASSUMPTION
from planner.money.tallies import MonthTallies, household_tallies
from planner.plan.model import Plan
from planner.scenario.model import Scenario

FORMAT = "rural-waste-summary/1"
NO_GACHA = "(无嘎查 no gacha)"

ASSUMPTIONS = (
    "a stop's collected kg is shared among the point's households in proportion to their people",
    "compost is what a household generated since the point's previous visit",
    "the buyer pays each category's resale_price_cny_kg for everything collected",
    "a run's fuel and driver cost is shared among the gachas it serves by households at its stops",
    "the 农维费 budget is the year's fee per gacha x days in the month / days in the year",
    EXCHANGE_ASSUMPTION,
)


@dataclass
class _Money:
    households: int = 0
    people: int = 0
    visits: int = 0
    sold_kg: float = 0.0
    exchanged_kg: float = 0.0
    composted_kg: float = 0.0
    cash_paid_cny: float = 0.0
    resale_revenue_cny: float = 0.0
    goods_value_cny: float = 0.0
    fuel_cny: float = 0.0
    driver_cny: float = 0.0
    fee_budget_cny: float = 0.0

    def add(self, other: _Money) -> None:
        for name in _Money.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        net = self.fuel_cny + self.driver_cny + self.cash_paid_cny + self.goods_value_cny
        net -= self.resale_revenue_cny
        hh = max(self.households, 1)
        return {
            "households": self.households,
            "people": self.people,
            "visits": self.visits,
            "sold_kg": round(self.sold_kg, 3),
            "exchanged_kg": round(self.exchanged_kg, 3),
            "composted_kg": round(self.composted_kg, 3),
            "diverted_kg": round(self.sold_kg + self.exchanged_kg + self.composted_kg, 3),
            "cash_paid_cny": round(self.cash_paid_cny, 2),
            "resale_revenue_cny": round(self.resale_revenue_cny, 2),
            "goods_value_cny": round(self.goods_value_cny, 2),
            "fuel_cny": round(self.fuel_cny, 2),
            "driver_cny": round(self.driver_cny, 2),
            "net_cost_cny": round(net, 2),
            "fee_budget_cny": round(self.fee_budget_cny, 2),
            "fee_balance_cny": round(self.fee_budget_cny - net, 2),
            "per_household": {
                "sold_kg": round(self.sold_kg / hh, 3),
                "exchanged_kg": round(self.exchanged_kg / hh, 3),
                "composted_kg": round(self.composted_kg / hh, 3),
                "cash_cny": round(self.cash_paid_cny / hh, 2),
                "goods_cny": round(self.goods_value_cny / hh, 2),
            },
        }


@dataclass(frozen=True)
class MonthMoney:
    """Tallies and summary of one plan."""

    tallies: MonthTallies
    summary: dict[str, Any]


def month_money(plan: Plan, scenario: Scenario) -> MonthMoney:
    """Tally the households of ``plan`` and add up the month's money."""
    tallies = household_tallies(plan, scenario)
    return MonthMoney(tallies=tallies, summary=summarize(plan, scenario, tallies))


def gacha_key(point: Any) -> str:
    """The gacha a point belongs to: its NBS code, else its name, else none."""
    return str(point.gacha_code or point.gacha or NO_GACHA)


def summarize(plan: Plan, scenario: Scenario, tallies: MonthTallies) -> dict[str, Any]:
    """The summary.json document."""
    s = scenario.settings
    points = {p.id: p for p in scenario.points}
    gacha_of = {pid: gacha_key(p) for pid, p in points.items()}
    money: dict[str, _Money] = defaultdict(_Money)
    _people(scenario, gacha_of, money)
    _streams(scenario, tallies, gacha_of, money)
    _run_costs(plan, scenario, gacha_of, money)

    first = s.month.first_day
    days_in_year = 366 if calendar.isleap(first.year) else 365
    month_days = (s.month.last_day - first).days + 1
    monthly_fee = s.budget.fee_per_gacha_year_cny * month_days / days_in_year
    for key, m in money.items():
        if key != NO_GACHA:
            m.fee_budget_cny = monthly_fee

    gachas = []
    townships: dict[str, _Money] = defaultdict(_Money)
    township_meta: dict[str, tuple[str, str]] = {}
    total = _Money()
    first_point: dict[str, Any] = {}
    for pid, g in gacha_of.items():
        first_point.setdefault(g, points[pid])

    def order(key: str) -> tuple[str, str]:
        p = first_point.get(key)
        return ((p.township_code or p.township) if p else "~", key)

    for key in sorted(money, key=order):
        p = first_point.get(key)
        name = p.gacha if p and p.gacha else key
        township = p.township if p else ""
        gachas.append(
            {
                "gacha": name,
                "gacha_code": p.gacha_code if p else "",
                "township": township,
                **money[key].as_dict(),
            }
        )
        tkey = (p.township_code or p.township) if p else ""
        townships[tkey].add(money[key])
        township_meta[tkey] = (township, p.township_code if p else "")
        total.add(money[key])
    totals = total.as_dict()
    goods_month = total.goods_value_cny
    totals["reward_fund_cny"] = s.budget.reward_fund_cny
    totals["reward_fund_months"] = (
        round(s.budget.reward_fund_cny / goods_month, 1) if goods_month > 0 else None
    )
    totals["gachas"] = sum(1 for k in money if k != NO_GACHA)
    totals["runs"] = len(plan.runs)
    totals["unserved"] = len(plan.unserved)
    totals["distance_km"] = round(sum(r.distance_km for r in plan.runs), 2)
    totals["points_outstanding"] = round(sum(tallies.balances.values()), 1)
    return {
        "format": FORMAT,
        "scenario": s.name,
        "period": {
            "start": first.isoformat(),
            "end": s.month.last_day.isoformat(),
            "timezone": s.month.timezone,
        },
        "currency": "CNY",
        "assumptions": list(ASSUMPTIONS),
        "totals": totals,
        "townships": [
            {"township": township_meta[k][0], "township_code": township_meta[k][1], **m.as_dict()}
            for k, m in sorted(townships.items())
        ],
        "gachas": gachas,
        "runs": run_carry(plan, scenario, tallies),
        "goods": _goods_totals(scenario, tallies),
    }


def _people(scenario: Scenario, gacha_of: dict[str, str], money: dict[str, _Money]) -> None:
    if scenario.households:
        for h in scenario.households:
            m = money[gacha_of[h.point]]
            m.households += 1
            m.people += h.people
    else:
        for p in scenario.points:
            m = money[gacha_of[p.id]]
            m.households += p.households
            m.people += p.people


def _streams(
    scenario: Scenario, tallies: MonthTallies, gacha_of: dict[str, str], money: dict[str, _Money]
) -> None:
    resale = {c.id: c.resale_price_cny_kg for c in scenario.settings.categories}
    for t in tallies.rows:
        m = money[gacha_of[t.point]]
        if t.unit != "kg":
            continue
        if t.stream == "sell":
            m.sold_kg += t.quantity
            m.cash_paid_cny += t.value_cny
            m.resale_revenue_cny += t.quantity * resale.get(t.category, 0.0)
        elif t.stream == "exchange":
            m.exchanged_kg += t.quantity
            m.goods_value_cny += t.value_cny
        else:
            m.composted_kg += t.quantity


def _run_costs(
    plan: Plan, scenario: Scenario, gacha_of: dict[str, str], money: dict[str, _Money]
) -> None:
    fleet = {v.id: v for v in scenario.settings.fleet}
    served: dict[str, int] = defaultdict(int)
    if scenario.households:
        for h in scenario.households:
            served[h.point] += 1
    else:
        for p in scenario.points:
            served[p.id] = p.households
    for run in plan.runs:
        spec = fleet.get(run.vehicle)
        if spec is None:
            continue
        fuel = spec.cost_per_km * float(run.distance_km)
        driver = spec.cost_per_hour * float(run.duration_min) / 60.0
        stops = [st.place for st in run.collects]
        for pid in stops:
            money[gacha_of[pid]].visits += 1
        weights = {pid: max(served.get(pid, 0), 1) for pid in stops}
        wsum = sum(weights[pid] for pid in stops)
        for pid in stops:
            share = weights[pid] / wsum
            m = money[gacha_of[pid]]
            m.fuel_cny += fuel * share
            m.driver_cny += driver * share


def _goods_totals(scenario: Scenario, tallies: MonthTallies) -> list[dict[str, Any]]:
    count: dict[str, int] = defaultdict(int)
    for h in tallies.handouts:
        count[h.item] += h.count
    return [
        {
            "item": g.id,
            "name": g.name,
            "unit": g.unit,
            "handed_out": count.get(g.id, 0),
            "value_cny": round(count.get(g.id, 0) * g.value_cny, 2),
        }
        for g in scenario.settings.goods
    ]
