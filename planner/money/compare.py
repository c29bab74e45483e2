"""Two planned months side by side, for the office's what-if questions.

Say 2 against 3 visits a month, or 6 against 8 trucks: each scenario is planned
on its own, then the figures that matter to the office are set next to each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.plan.model import Plan


@dataclass(frozen=True)
class Line:
    """One compared figure."""

    key: str
    label: str
    a: float | None
    b: float | None

    @property
    def diff(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def pct(self) -> float | None:
        d = self.diff
        if d is None or not self.a:
            return None
        return 100.0 * d / abs(self.a)


def _facts(plan: Plan, summary: dict[str, Any]) -> dict[str, float | None]:
    p, t = plan.summary, summary["totals"]
    households = t["households"] or None
    collected_t = (t["sold_kg"] + t["exchanged_kg"]) / 1000.0
    return {
        "trucks": len({r.vehicle for r in plan.runs}),
        "runs": p.runs,
        "visits": p.visits,
        "unserved": p.unserved,
        "distance_km": p.distance_km,
        "hours": p.duration_min / 60.0,
        "sold_kg": t["sold_kg"],
        "exchanged_kg": t["exchanged_kg"],
        "composted_kg": t["composted_kg"],
        "cash_paid_cny": t["cash_paid_cny"],
        "goods_value_cny": t["goods_value_cny"],
        "resale_revenue_cny": t["resale_revenue_cny"],
        "fuel_cny": t["fuel_cny"],
        "driver_cny": t["driver_cny"],
        "net_cost_cny": t["net_cost_cny"],
        "fee_budget_cny": t["fee_budget_cny"],
        "fee_balance_cny": t["fee_balance_cny"],
        "net_per_household_cny": t["net_cost_cny"] / households if households else None,
        "net_per_tonne_cny": t["net_cost_cny"] / collected_t if collected_t > 0 else None,
    }


LABELS = {
    "trucks": "trucks used",
    "runs": "runs",
    "visits": "visits made",
    "unserved": "visits not made",
    "distance_km": "distance km",
    "hours": "truck hours",
    "sold_kg": "sold kg (一卖)",
    "exchanged_kg": "exchanged kg (一换)",
    "composted_kg": "composted kg (一堆)",
    "cash_paid_cny": "cash paid CNY",
    "goods_value_cny": "goods CNY",
    "resale_revenue_cny": "resale revenue CNY",
    "fuel_cny": "fuel CNY",
    "driver_cny": "driver CNY",
    "net_cost_cny": "net cost CNY",
    "fee_budget_cny": "农维费 for the month CNY",
    "fee_balance_cny": "budget balance CNY",
    "net_per_household_cny": "net cost per household CNY",
    "net_per_tonne_cny": "net cost per tonne collected CNY",
}


def compare(a: tuple[Plan, dict[str, Any]], b: tuple[Plan, dict[str, Any]]) -> list[Line]:
    """Lines for two ``(plan, summary)`` pairs, in :data:`LABELS` order."""
    fa, fb = _facts(*a), _facts(*b)
    return [Line(k, label, fa[k], fb[k]) for k, label in LABELS.items()]


def as_json(lines: list[Line], name_a: str, name_b: str) -> dict[str, Any]:
    """The comparison as a JSON document (compare.json)."""
    return {
        "a": name_a,
        "b": name_b,
        "lines": [
            {"key": x.key, "label": x.label, "a": x.a, "b": x.b, "diff": x.diff, "pct": x.pct}
            for x in lines
        ],
    }
