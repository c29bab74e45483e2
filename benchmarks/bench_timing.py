"""Benchmark 定时: how well each point's arrivals keep one announced window.

For the Otog default and four synthetic regions, the first phase (group calendar +
search) runs once; then, in the same run, main's former second phase ("before":
a target at the first visit's arrival, every day re-routed with hard windows,
failing points widened by 60 min then opened, a failing day keeping its first
routes), :func:`planner.solve.timing.time_month` ("after") and the same without
sibling days and the 2 h cap ("no_siblings_no_cap") each make the final routes from
that same first phase ("after" with its last step, the cost-only repair and the
release down to ``[windows] aim_pct``, given the work ``planner run``'s default
90 s limit gives it). Reported per region and approach: the
distribution of the arrival spread and of the announced window width, the shares
with every arrival within 60 / 120 min *and* a window of at most that width, the
widest window, windows outside the scenario's bounds, the month's cost (and how far
above the first phase's, measured in the same run), the share
of points served by one truck all month, unserved visits, and each phase's wall and
CPU seconds. A script, not a test:

    python benchmarks/bench_timing.py                        # 5 regions, phase 1 at 20 s
    python benchmarks/bench_timing.py --cache /tmp/timing    # reuse first phases
    python benchmarks/bench_timing.py --json benchmarks/results/timing.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from planner.network.travel import build_travel
from planner.plan.build import announced_windows, build_plan
from planner.plan.model import Plan
from planner.scenario.load import load_scenario
from planner.scenario.model import Scenario
from planner.scenario.settings import minutes_of
from planner.solve._clock import DaySize
from planner.solve.budget import Budget
from planner.solve.engines import bounded_engine
from planner.solve.from_scenario import ScenarioProblem, build_problem
from planner.solve.group_calendar import group_calendar
from planner.solve.month import with_windows
from planner.solve.problem import DaySolution, PeriodicProblem, PeriodicSolution, day_visits
from planner.solve.schedule import day_cost
from planner.solve.search import SearchOptions, solve
from planner.solve.timing import TimingBudget, lookups_for, time_month

ROOT = Path(__file__).resolve().parents[1]
# The last step's work (its cost-only repair) as `planner run`'s default limit gives it.
POLISH_LIMIT = 90.0
# (name, synth arguments) of the synthetic regions; the default region is scenarios/otog.toml.
SYNTH = (
    ("random-120", ["--seed", "7", "--points", "120", "--households", "6000", "--trucks", "6"]),
    (
        "random-200",
        [
            "--seed", "11", "--points", "200", "--households", "9000",
            "--townships", "4", "--area-km2", "7000", "--trucks", "8",
        ],
    ),
    ("random-160", ["--seed", "3", "--points", "160", "--households", "7500", "--trucks", "7"]),
    (
        "random-260",
        [
            "--seed", "21", "--points", "260", "--households", "12000",
            "--townships", "5", "--area-km2", "9000", "--trucks", "10",
        ],
    ),
)  # fmt: skip


def first_phase(sp: ScenarioProblem, time_limit: float, seed: int) -> PeriodicSolution:
    """The first phase exactly as ``solve_month`` runs it."""
    calendar_limit = min(2.0, 0.05 * time_limit)
    patterns = group_calendar(
        sp.problem, time_limit=calendar_limit, seed=seed, irregularity=sp.irregularity()
    )
    return solve(
        sp.problem,
        engine="pyvrp",
        time_limit=max(1.0, 0.75 * time_limit - calendar_limit),
        seed=seed,
        options=SearchOptions(improve_calendar=True),
        initial_patterns=patterns,
    )


def before(
    scenario: Scenario, sp: ScenarioProblem, first: PeriodicSolution, per_day: float, seed: int
) -> tuple[PeriodicSolution, dict[str, tuple[int, int]], dict[int, PeriodicProblem]]:
    """Main's second phase before 定时 (commit 07ad0a3), kept here to compare against."""
    draft = build_plan(scenario, sp, first)
    width = scenario.settings.windows.width_min
    bounds = (
        minutes_of(scenario.settings.windows.earliest),
        minutes_of(scenario.settings.windows.latest),
    )
    windows = announced_windows(draft.runs, width, cover=False, bounds=bounds)
    by_node = {c.node: p for c, p in zip(sp.problem.customers, sp.customer_points, strict=True)}
    narrowed = with_windows(sp.problem, windows, by_node)
    days: list[DaySolution] = []
    day_problems: dict[int, PeriodicProblem] = {}
    for d, old in enumerate(first.days):
        visits = day_visits(narrowed, first.patterns, d)
        day_windows = dict(windows)
        loose = narrowed
        router = bounded_engine("pyvrp", per_day, DaySize.of(narrowed, d, visits))
        new = router.route_day(narrowed, d, visits, time_limit=per_day, seed=seed)
        for widen in (60, None):
            if not new.unrouted:
                break
            for k in new.unrouted:
                point = sp.customer_points[visits[k].customer]
                lo, hi = windows.get(point, (0, 0))
                if widen is None or point not in windows:
                    day_windows.pop(point, None)
                else:
                    day_windows[point] = (max(bounds[0], lo - widen), min(bounds[1], hi + widen))
            loose = with_windows(narrowed, day_windows, by_node, default=sp.problem)
            new = router.route_day(loose, d, visits, time_limit=per_day, seed=seed)
        if len(new.unrouted) <= len(old.unrouted):
            days.append(new)
            day_problems[d] = loose
        else:
            days.append(old)
    solution = dataclasses.replace(first, days=tuple(days))
    final = build_plan(scenario, sp, solution, day_problems=day_problems)
    return solution, announced_windows(final.runs, width, bounds=bounds), day_problems


def measure(
    scenario: Scenario,
    sp: ScenarioProblem,
    solution: PeriodicSolution,
    windows: dict[str, tuple[int, int]],
    day_problems: dict[int, PeriodicProblem],
) -> dict[str, Any]:
    """The distribution figures of one approach's final plan."""
    plan: Plan = build_plan(scenario, sp, solution, windows=windows, day_problems=day_problems)
    cost = 0.0
    for ds in solution.days:
        prob = day_problems.get(ds.day, sp.problem)
        cost += day_cost(prob, ds.day, day_visits(prob, solution.patterns, ds.day), ds)
    times: dict[str, list[int]] = {}
    trucks: dict[str, set[str]] = {}
    for run in plan.runs:
        for st in run.collects:
            times.setdefault(st.place, []).append(st.arrival_min)
            trucks.setdefault(st.place, set()).add(run.vehicle)
    spread = {p: max(ts) - min(ts) for p, ts in times.items()}
    width = {p: hi - lo for p, (lo, hi) in windows.items() if p in times}
    bounds = (
        minutes_of(scenario.settings.windows.earliest),
        minutes_of(scenario.settings.windows.latest),
    )
    n = len(times)

    def share(limit: int) -> float:
        ok = sum(1 for p in times if spread[p] <= limit and width.get(p, 10**6) <= limit)
        return round(100.0 * ok / max(1, n), 1)

    def hist(values: list[int]) -> dict[str, int]:
        edges = (15, 30, 45, 60, 90, 120, 180, 240)
        out: Counter[str] = Counter()
        for v in values:
            label = next((f"<={b}" for b in edges if v <= b), f">{edges[-1]}")
            out[label] += 1
        labels = [f"<={b}" for b in edges] + [f">{edges[-1]}"]
        return {k: out[k] for k in labels}

    return {
        "points": n,
        "share_60": share(60),
        "share_120": share(120),
        "spread_le_60_pct": round(100.0 * sum(v <= 60 for v in spread.values()) / max(1, n), 1),
        "max_window_min": max(width.values(), default=0),
        "windows_out_of_bounds": sum(
            1 for lo, hi in windows.values() if lo < bounds[0] or hi > bounds[1]
        ),
        "cost_cny": round(cost, 1),
        "one_truck_pct": round(100.0 * sum(len(t) == 1 for t in trucks.values()) / max(1, n), 1),
        "unserved": len(plan.unserved),
        "spread_hist": hist(list(spread.values())),
        "window_hist": hist(list(width.values())),
    }


def region(
    name: str, path: Path, time_limit: float, seed: int, cache: Path | None
) -> dict[str, Any]:
    """First phase once, then both second phases; figures for each."""
    scenario = load_scenario(path)
    sp = build_problem(scenario, build_travel(scenario))
    pkl = cache / f"{name}-{time_limit:g}-{seed}.pkl" if cache else None

    if pkl is not None and pkl.exists():
        first = pickle.loads(pkl.read_bytes())
    else:
        first = first_phase(sp, time_limit, seed)
        if pkl is not None:
            pkl.write_bytes(pickle.dumps(first))
    t1, c1 = time.monotonic(), time.process_time()
    budget = Budget(time_limit)
    per_day = budget.windows_day(sp.problem.num_days)
    old = before(scenario, sp, first, per_day, seed)
    t2, c2 = time.monotonic(), time.process_time()
    timed = time_month(
        sp.problem,
        first,
        lookups_for(scenario, sp),
        dataclasses.replace(
            TimingBudget.of(budget, "pyvrp", seed, sp.problem.num_days),
            polish_work=Budget(POLISH_LIMIT).windows_polish,
        ),
    )
    new_solution = dataclasses.replace(first, days=timed.days)
    t3, c3 = time.monotonic(), time.process_time()
    # The same phase without sibling days and without the cap: what main's phase does
    # once plans time each day with its windows.
    plain = time_month(
        sp.problem,
        first,
        lookups_for(scenario, sp),
        TimingBudget(engine="pyvrp", seconds_per_day=per_day, seed=seed, siblings=0, cap=None),
    )
    t4, c4 = time.monotonic(), time.process_time()
    plain_solution = dataclasses.replace(first, days=plain.days)
    out = {
        "scenario": scenario.name,
        "first_phase_cost_cny": round(first.cost, 1),
        "before": measure(scenario, sp, *old)
        | {"seconds": round(t2 - t1, 1), "cpu_seconds": round(c2 - c1, 1)},
        "after": measure(scenario, sp, new_solution, timed.windows, timed.day_problems)
        | {"seconds": round(t3 - t2, 1), "cpu_seconds": round(c3 - c2, 1)},
        "no_siblings_no_cap": measure(
            scenario, sp, plain_solution, plain.windows, plain.day_problems
        )
        | {"seconds": round(t4 - t3, 1), "cpu_seconds": round(c4 - c3, 1)},
    }
    for key in ("before", "after", "no_siblings_no_cap"):
        out[key]["cost_vs_first_pct"] = round(100.0 * (out[key]["cost_cny"] / first.cost - 1), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, help="folder for first-phase pickles")
    ap.add_argument("--only", help="one region: otog or one of the random-* names")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        regions = [("otog", ROOT / "scenarios" / "otog.toml")]
        for name, synth in SYNTH:
            toml = Path(tmp) / f"{name}.toml"
            if args.only in (None, name):
                cmd = [
                    sys.executable,
                    "-c",
                    "from planner.cli import app; app()",
                    "synth",
                    "random",
                ]
                cmd += ["--out", str(Path(tmp) / name), "--scenario", str(toml), *synth]
                subprocess.run(cmd, check=True, capture_output=True)
            regions.append((name, toml))
        for name, path in regions:
            if args.only not in (None, name):
                continue
            res = region(name, path, args.time_limit, args.seed, args.cache)
            results.append(res)
            print(json.dumps(res, ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
