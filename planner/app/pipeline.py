"""The main job: read → solve → build the plan → money → check → write.

The scenario's travel matrices and problem are made, the month is solved in its two
phases (:func:`planner.solve.month.solve_month`, within one
:class:`~planner.solve.budget.Budget`), the routes become a typed plan, the money
is tallied, the plan is checked, and the files are written atomically.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from planner._atomic import write_json_atomic
from planner._errors import Issue
from planner._folder import claim_folder
from planner._progress import progress_display
from planner.money import month_money
from planner.money.balance import balance_violations
from planner.money.files import read_tallies, write_money
from planner.money.tallies import Tally
from planner.network.travel import Travel, build_travel
from planner.plan.build import build_plan
from planner.plan.check import check_plan, format_report
from planner.plan.io import read_plan, validate_schema
from planner.plan.model import Demand, Plan
from planner.scenario.model import Scenario
from planner.scenario.settings import minutes_of
from planner.solve._clock import WallLimit
from planner.solve.budget import Budget
from planner.solve.fleet import fleet_needs
from planner.solve.from_scenario import PlannedLoad, build_problem
from planner.solve.month import solve_month
from planner.solve.timing import lookups_for


@dataclass(frozen=True)
class PlanResult:
    """What :func:`plan_month` produced."""

    plan: Plan
    summary: dict[str, Any]
    tallies: tuple[Tally, ...]
    path: Path
    warnings: tuple[Issue, ...]
    check_violations: tuple[str, ...]
    seconds: float
    first_phase_cost: float
    spread_min: dict[str, int]
    fleet: tuple[FleetRow, ...] = ()
    """The smallest fleet per depot the month needs (``planner info``'s estimate)."""


@dataclass(frozen=True)
class FleetRow:
    """One depot's fleet estimate: trucks needed a service day, trucks it has, why."""

    depot: str
    needed: int
    have: int
    reason: str
    unreachable: int


class DemandProvider(Protocol):
    """Demand other than the scenario's assumptions (e.g. a forecast from the ledger)."""

    def daily_kg(self) -> Mapping[str, Mapping[str, float]]:
        """kg per day and collected category, per point."""
        ...

    def planned_load(self) -> PlannedLoad | None:
        """Loads to route visits with, if not the expected kg (headroom for a spread)."""
        ...

    def describe(self, plan: Plan) -> Demand:
        """plan.json's ``demand``: sources per point, cash and goods per run."""
        ...


def plan_month(
    scenario: Scenario,
    out_dir: Path,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    engine: str = "pyvrp",
    progress: bool = False,
    console: Console | None = None,
    improve_calendar: bool = True,
    wall_limit: float | None = None,
    demand: DemandProvider | None = None,
    decompose: str = "auto",
) -> PlanResult:
    """Plan ``scenario``'s month and write ``out_dir/plan.json`` atomically.

    Every budget is work, not wall time: the same inputs, seed and version give the
    same plan.json byte for byte at any load. ``wall_limit`` (seconds, opt-in) ends
    the search in real time as well; the plan then says it is not reproducible
    (``reproducible: false`` and ``reproducible_reason`` in plan.json). ``decompose``
    says whether the depots' sub-months are solved apart (:mod:`planner.solve.decompose`).
    """
    t0 = time.monotonic()
    wall = WallLimit(wall_limit) if wall_limit is not None else None
    travel = build_travel(scenario)
    sp = build_problem(
        scenario,
        travel,
        daily_kg=demand.daily_kg() if demand else None,
        planned_load=demand.planned_load() if demand else None,
    )
    fleet = tuple(
        FleetRow(sp.node_ids[n.depot], n.trucks, n.have, n.reason, len(n.unreachable))
        for n in fleet_needs(sp.problem)
    )
    with progress_display(progress, console) as report:
        month = solve_month(
            sp,
            width_min=scenario.settings.windows.width_min,
            budget=Budget(time_limit),
            seed=seed,
            engine=engine,
            report=report,
            improve_calendar=improve_calendar,
            # No window opens before windows.earliest or closes after windows.latest.
            bounds=(
                minutes_of(scenario.settings.windows.earliest),
                minutes_of(scenario.settings.windows.latest),
            ),
            wall=wall,
            timing=lookups_for(scenario, sp),
            decompose=decompose,
        )
    routed = build_plan(
        scenario, sp, month.solution, windows=month.windows, day_problems=month.day_problems
    )
    if wall is not None:
        routed = routed.model_copy(
            update={"reproducible": False, "reproducible_reason": wall.reason()}
        )
    if demand is not None:
        routed = routed.with_demand(demand.describe(routed))
    money = month_money(routed, scenario)
    plan = routed.with_summary(**plan_money_figures(money.summary))
    problems = validate_schema(plan.to_json_dict())
    report_ = check_plan(plan, scenario, travel=_TravelLookup(travel, scenario))
    violations = (
        tuple(problems)
        + tuple(v.message for v in report_.violations)
        + tuple(balance_violations(plan, money.tallies.rows))
    )
    path = out_dir / "plan.json"
    # Lets `planner check out/` find the scenario the plan was made from.
    meta = {
        "scenario_path": str(scenario.path.resolve()),
        "scenario_hash": scenario.content_hash,
        "seed": seed,
        "engine": engine,
        "time_limit_s": time_limit,
        "wall_limit_s": wall_limit,
        "decompose": decompose,
    }
    with claim_folder(out_dir):  # also removes what killed runs left there
        plan.write(path)
        write_money(out_dir, money)
        write_json_atomic(out_dir / "run.json", meta)
    return PlanResult(
        plan=plan,
        summary=money.summary,
        tallies=tuple(money.tallies.rows),
        path=path,
        warnings=(*scenario.warnings, *travel.warnings),
        check_violations=violations,
        seconds=time.monotonic() - t0,
        first_phase_cost=month.first_cost,
        spread_min=arrival_spread(plan),
        fleet=fleet,
    )


def plan_money_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The month's money totals that plan.json's ``summary`` repeats from summary.json."""
    t = summary["totals"]
    keys = (
        "sold_kg",
        "exchanged_kg",
        "composted_kg",
        "cash_paid_cny",
        "goods_value_cny",
        "resale_revenue_cny",
        "fuel_cny",
        "driver_cny",
        "net_cost_cny",
        "fee_budget_cny",
    )
    return {k: t[k] for k in keys}


def arrival_spread(plan: Plan) -> dict[str, int]:
    """Per point, minutes between its earliest and latest arrival over the month."""
    times: dict[str, list[int]] = {}
    for _, st in plan.collect_steps():
        times.setdefault(st.place, []).append(st.arrival_min)
    return {p: max(ts) - min(ts) for p, ts in times.items()}


class _TravelLookup:
    """Road distance and per-vehicle driving time between place ids, for the checker."""

    def __init__(self, travel: Travel, scenario: Scenario):
        self._travel = travel
        self._ix = travel.index()
        self._speed = {v.id: v.speed_factor for v in scenario.fleet}

    def km(self, a: str, b: str) -> float:
        return float(self._travel.distance_m[self._ix[a], self._ix[b]]) / 1000.0

    def minutes(self, a: str, b: str, vehicle_id: str) -> float:
        import math

        base = math.ceil(float(self._travel.duration_s[self._ix[a], self._ix[b]]) / 60.0)
        f = self._speed.get(vehicle_id, 1.0)
        return float(base if f == 1.0 else math.ceil(base * f - 1e-9))


def check_written_plan(plan_dir: Path, scenario_path: Path | None) -> tuple[str, bool]:
    """Re-verify a written plan; the scenario defaults to the one recorded beside it."""
    from planner.scenario.load import load_scenario

    path = plan_dir / "plan.json" if plan_dir.is_dir() else plan_dir
    doc = read_plan(path)
    scenario = None
    if scenario_path is None:
        meta = path.parent / "run.json"
        if meta.exists():
            import json

            scenario_path = Path(json.loads(meta.read_text(encoding="utf-8"))["scenario_path"])
    travel = None
    if scenario_path is not None:
        scenario = load_scenario(scenario_path)
        travel = _TravelLookup(build_travel(scenario), scenario)
    report = check_plan(doc, scenario, travel=travel)
    tallies = path.parent / "tallies.csv"
    if {"schema", "format"} & report.rules:
        text = (
            format_report(report)
            + "\ntallies.csv: not checked (plan.json cannot be read as a plan)"
        )
        return text, False
    plan = Plan.from_json_dict(doc, source=str(path))
    stops = sum(1 for _ in plan.collect_steps())
    if tallies.exists():
        off = balance_violations(plan, read_tallies(tallies))
        side = f"tallies.csv: {len(off)} stops where households and plan.json differ"
        side += "".join(f"\n  {m}" for m in off[:20])
        failed = (
            f"FAILED: tallies.csv: {len(off)} stop{'s' * (len(off) != 1)} where households "
            f"and {path.name} differ"
            if off
            else ""
        )
    elif stops:
        # What a run killed while writing leaves: the households' side was never checked.
        side = f"tallies.csv: missing beside {path.name}"
        failed = (
            f"FAILED: tallies.csv is missing beside {path.name}, whose {stops} stops collect "
            f"from households: their tallies were not checked (planner export "
            f"{path.parent} makes it again)"
        )
    else:
        side, failed = "tallies.csv: not checked (missing; the plan has no stops)", ""
    # The last line is the verdict: plan.json's own "OK" must not stand as the whole's.
    text = (
        format_report(report, f"{path.name}: passes every check")
        if failed
        else format_report(report)
    )
    return "\n".join(x for x in (text, side, failed) if x), report.ok and not failed
