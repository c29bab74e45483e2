"""Mass balance between tallies.csv and plan.json (PLAN_FORMAT.md's promise)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from planner.plan.model import Plan

TOLERANCE_KG = 0.0015  # both files round to the gram


class _Row(Protocol):
    @property
    def run_id(self) -> str: ...
    @property
    def point(self) -> str: ...
    @property
    def stream(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def quantity(self) -> float: ...
    @property
    def unit(self) -> str: ...


def balance_violations(plan: Plan, rows: Iterable[_Row]) -> list[str]:
    """Where the households' sell + exchange kg differ from a stop's ``collected``.

    Keyed by run, point and category; every difference over the rounding is one
    message naming the three and both figures.
    """
    planned: dict[tuple[str, str, str], float] = defaultdict(float)
    for run in plan.runs:
        for st in run.collects:
            for cat, kg in (st.collected or {}).items():
                planned[run.id, st.place, cat] += float(kg)
    tallied: dict[tuple[str, str, str], float] = defaultdict(float)
    for t in rows:
        if t.stream in ("sell", "exchange") and t.unit == "kg":
            tallied[t.run_id, t.point, t.category] += t.quantity
    out = []
    for key in sorted(set(planned) | set(tallied)):
        a, b = planned.get(key, 0.0), tallied.get(key, 0.0)
        if abs(a - b) > TOLERANCE_KG:
            run_id, point, cat = key
            out.append(
                f"run {run_id}, point {point}, {cat}: plan.json collected {a:.3f} kg, "
                f"tallies.csv has {b:.3f} kg for its households"
            )
    return out
