"""The main job: scenario → travel matrix → problem → solution → checked plan.json.

Two phases make the timing reliable for herders (定时): the month is first solved
with every point open all day; each point then gets a target window around its
arrival on its first visit of the month, and the days are routed again with those
windows as hard limits.
A day that cannot keep its windows keeps its first routes, and the affected
points' windows are widened to what the plan really does.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from planner._atomic import write_json_atomic
from planner._errors import Issue
from planner._folder import claim_folder
from planner.money import month_money
from planner.money.balance import balance_violations
from planner.money.files import read_tallies, write_money
from planner.money.tallies import Tally
from planner.network.travel import Travel, build_travel
from planner.plan.build import announced_windows, build_plan
from planner.plan.check import check_plan, format_report
from planner.plan.io import read_plan, validate_schema
from planner.plan.model import Plan
from planner.scenario.model import Scenario
from planner.scenario.settings import minutes_of
from planner.solve._clock import WallLimit
from planner.solve.engines import bounded_engine
from planner.solve.from_scenario import ScenarioProblem, build_problem
from planner.solve.group_calendar import group_calendar
from planner.solve.problem import DaySolution, PeriodicProblem, PeriodicSolution, day_visits
from planner.solve.schedule import day_cost
from planner.solve.search import solve


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
) -> PlanResult:
    """Plan ``scenario``'s month and write ``out_dir/plan.json`` atomically.

    Every budget is work, not wall time: the same inputs, seed and version give the
    same plan.json byte for byte at any load. ``wall_limit`` (seconds, opt-in) ends
    the search in real time as well; the plan then says it is not reproducible
    (``reproducible: false`` and ``reproducible_reason`` in plan.json).
    """
    t0 = time.monotonic()
    wall = WallLimit(wall_limit) if wall_limit is not None else None
    travel = build_travel(scenario)
    sp = build_problem(scenario, travel)
    with progress_display(progress, console) as report:
        solution, first_cost, windows, day_problems = solve_month(
            scenario,
            sp,
            time_limit=time_limit,
            seed=seed,
            engine=engine,
            report=report,
            improve_calendar=improve_calendar,
            wall=wall,
        )
    routed = build_plan(scenario, sp, solution, windows=windows, day_problems=day_problems)
    if wall is not None:
        routed = routed.model_copy(
            update={"reproducible": False, "reproducible_reason": wall.reason()}
        )
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
        first_phase_cost=first_cost,
        spread_min=arrival_spread(plan),
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


def solve_month(
    scenario: Scenario,
    sp: ScenarioProblem,
    *,
    time_limit: float,
    seed: int,
    engine: str,
    report: Callable[[str, float, float], None] | None = None,
    improve_calendar: bool = True,
    wall: WallLimit | None = None,
) -> tuple[PeriodicSolution, float, dict[str, tuple[int, int]], dict[int, PeriodicProblem]]:
    """Both phases: the solution, the first phase's cost, the windows and each day's problem.

    Without ``wall`` nothing here reads the clock; with it, days left when it passes
    keep their first-phase routes.
    """
    from planner.solve.search import SearchOptions

    if report is not None:
        report("calendar", 0, 1)
    # Every budget below is work, not wall time, so a seed gives the same plan.
    calendar_limit = min(2.0, 0.05 * time_limit)
    patterns = group_calendar(
        sp.problem,
        time_limit=calendar_limit,
        seed=seed,
        irregularity=sp.irregularity(),
    )
    if report is not None:
        report("calendar", 1, 1)
    first = solve(
        sp.problem,
        engine=engine,
        time_limit=max(1.0, 0.75 * time_limit - calendar_limit),
        seed=seed,
        progress=report,
        options=SearchOptions(improve_calendar=improve_calendar, fixed_on_wall_clock=False),
        initial_patterns=patterns,
        wall=wall,
    )
    draft = build_plan(scenario, sp, first)
    width = scenario.settings.windows.width_min
    # No window opens before windows.earliest or closes after windows.latest.
    bounds = (
        minutes_of(scenario.settings.windows.earliest),
        minutes_of(scenario.settings.windows.latest),
    )
    windows = announced_windows(draft.runs, width, cover=False, bounds=bounds)
    by_node = {c.node: pid for c, pid in zip(sp.problem.customers, sp.customer_points, strict=True)}
    narrowed = _with_windows(sp.problem, windows, by_node)
    per_day = max(0.2, 0.2 * time_limit / max(1, sp.problem.num_days))
    days: list[DaySolution] = []
    day_problems: dict[int, PeriodicProblem] = {}
    for d, old in enumerate(first.days):
        if wall is not None and wall.passed():
            days.append(old)  # out of (explicitly limited) wall time: first routes
            continue
        visits = day_visits(narrowed, first.patterns, d)
        day_windows = dict(windows)
        loose = narrowed
        router = bounded_engine(engine, per_day, len(visits))
        new = router.route_day(narrowed, d, visits, time_limit=per_day, seed=seed)
        for widen in (60, None):
            if not new.unrouted:
                break
            # Points that cannot keep their window today get a wider one (then the
            # whole day); the others keep theirs.
            for k in new.unrouted:
                point = sp.customer_points[visits[k].customer]
                lo, hi = windows.get(point, (0, 0))
                if widen is None or point not in windows:
                    day_windows.pop(point, None)
                else:
                    day_windows[point] = (max(bounds[0], lo - widen), min(bounds[1], hi + widen))
            loose = _with_windows(narrowed, day_windows, by_node, default=sp.problem)
            new = router.route_day(loose, d, visits, time_limit=per_day, seed=seed)
        if len(new.unrouted) <= len(old.unrouted):
            days.append(new)
            day_problems[d] = loose
        else:
            days.append(old)
        if report is not None:
            report("announced times", d + 1, sp.problem.num_days)
    final_problem = sp.problem
    cost = 0.0
    for ds in days:
        prob = day_problems.get(ds.day, final_problem)
        cost += day_cost(prob, ds.day, day_visits(prob, first.patterns, ds.day), ds)
    solution = dataclasses.replace(first, days=tuple(days), cost=cost)
    # Windows announce what the final routes do (they may differ where a day fell back).
    final = build_plan(scenario, sp, solution, day_problems=day_problems)
    return solution, first.cost, announced_windows(final.runs, width, bounds=bounds), day_problems


def _with_windows(
    problem: PeriodicProblem,
    windows: dict[str, tuple[int, int]],
    by_node: dict[int, str],
    *,
    default: PeriodicProblem | None = None,
) -> PeriodicProblem:
    """``problem`` with the given customer windows; others from ``default`` (or as they are)."""
    base = {c.node: c.window for c in (default or problem).customers}
    customers = tuple(
        dataclasses.replace(c, window=windows.get(by_node[c.node], base[c.node]))
        for c in problem.customers
    )
    return dataclasses.replace(problem, customers=customers)


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
    text, ok = format_report(report), report.ok
    tallies = path.parent / "tallies.csv"
    if {"schema", "format"} & report.rules:
        return text + "\ntallies.csv: not checked (plan.json cannot be read as a plan)", False
    plan = Plan.from_json_dict(doc, source=str(path))
    stops = sum(1 for _ in plan.collect_steps())
    if tallies.exists():
        off = balance_violations(plan, read_tallies(tallies))
        ok = ok and not off
        text += f"\ntallies.csv: {len(off)} stops where households and plan.json differ"
        text += "".join(f"\n  {m}" for m in off[:20])
    elif stops:
        # What a run killed while writing leaves: the households' side was never checked.
        ok = False
        text += (
            f"\nFAILED: tallies.csv is missing beside {path.name}, whose {stops} stops collect "
            f"from households: their tallies were not checked (planner export "
            f"{path.parent} makes it again)"
        )
    else:
        text += "\ntallies.csv: not checked (missing; the plan has no stops)"
    return text, ok


class _ProgressCtx:
    def __init__(self, enabled: bool, console: Console | None):
        self.enabled = enabled
        self.console = console
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> Callable[[str, float, float], None] | None:
        if not self.enabled:
            return None
        self.progress = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        return self.report

    def report(self, phase: str, done: float, total: float) -> None:
        assert self.progress is not None
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(phase, total=total)
        self.progress.update(self.tasks[phase], completed=min(done, total), total=total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def progress_display(enabled: bool, console: Console | None) -> _ProgressCtx:
    """A rich progress display fed by ``report(phase, done, total)`` calls (or nothing)."""
    return _ProgressCtx(enabled, console)
