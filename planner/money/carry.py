"""What each truck takes out: the cash float and the exchange goods.

The float covers the run's expected purchases plus ``carry.cash_margin``, rounded
up to ``carry.cash_round_cny``; goods are the expected hand-outs per item plus
``carry.goods_margin``, in whole units. The goods ride in the box from the start,
so they fit when their volume plus the run's largest collected volume does.

When the plan's demand comes from the ledger (``plan.demand.runs``), the float is
the forecast's upper quantile of the run's purchases (``carry.runout_probability``
of running short) and the goods are the expected hand-outs times the forecast's
upper-to-expected ratio of the run's goods value.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from planner.money.tallies import MonthTallies
from planner.plan.model import Plan
from planner.scenario.model import Scenario


def run_carry(plan: Plan, scenario: Scenario, tallies: MonthTallies) -> list[dict[str, Any]]:
    """Per run of ``plan``: purchases, cash float, goods to load and whether they fit."""
    carry = scenario.settings.carry
    goods = {g.id: g for g in scenario.settings.goods}
    fleet = {v.id: v for v in scenario.settings.fleet}
    purchases: dict[str, float] = defaultdict(float)
    for t in tallies.rows:
        if t.stream == "sell":
            purchases[t.run_id] += t.value_cny
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for h in tallies.handouts:
        expected[h.run_id][h.item] += h.count

    upper = plan.demand.runs if plan.demand is not None else {}
    out = []
    for run in plan.runs:
        rid = run.id
        bought = round(purchases.get(rid, 0.0), 2)
        float_cny = _round_up(bought * (1 + carry.cash_margin), carry.cash_round_cny)
        goods_factor = 1 + carry.goods_margin
        if rid in upper:
            float_cny = _round_up(float(upper[rid]["cash_cny"]), carry.cash_round_cny)
            goods_factor = float(upper[rid]["goods_factor"])
        lines = []
        value = volume = 0.0
        for item, g in goods.items():
            n = expected[rid].get(item, 0)
            if n == 0:
                continue
            load = math.ceil(n * goods_factor - 1e-9)
            lines.append(
                {"item": item, "name": g.name, "unit": g.unit, "expected": n, "load": load}
            )
            value += load * g.value_cny
            volume += load * g.volume_m3
        peak = max((st.load_after.get("m3", 0.0) for st in run.steps), default=0.0)
        spec = fleet.get(run.vehicle)
        box = spec.box_m3 if spec else float("inf")
        out.append(
            {
                "run_id": rid,
                "date": run.date.isoformat(),
                "vehicle": run.vehicle,
                "purchases_cny": bought,
                "cash_float_cny": float_cny,
                "goods": lines,
                "goods_value_cny": round(value, 2),
                "goods_m3": round(volume, 4),
                "peak_load_m3": round(peak, 4),
                "box_m3": box,
                "goods_fit": volume + peak <= box + 1e-9,
                **({"carry_source": "ledger"} if rid in upper else {}),
            }
        )
    return out


def _round_up(x: float, step: float) -> float:
    if x <= 0:
        return 0.0
    return float(math.ceil(x / step - 1e-9) * step)
