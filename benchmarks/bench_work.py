"""Work charged against time taken: how far the work clock's rates are from this machine.

Every budget of a run is work-seconds (:mod:`planner.solve._clock`): route prices
counted in stops, engine calls counted by the seconds they were granted (or what
their fewest iterations cost). Those rates were measured once; this script measures
them again, on the machine it runs on, so that a time limit that runs long can be
traced to the rate that is off. Three figures, each next to the rate the clock uses:

1. **Route pricing**: stops priced per second by :meth:`RouteModel.evaluate` (its
   exact, schedule-based path and its simple look-up path) and by
   :func:`schedule_route` (what :class:`~planner.solve._clock.Meter` counts), on the
   routes of each region's first days.
2. **PyVRP calls**: per routed day, the wall seconds of a call at 50 and at 200
   iterations (the difference is what an iteration costs, the rest is building and
   finishing the day), against what the clock charges for an iteration
   (``visits x weight / ENGINE_WORK_PER_SECOND``), with the day's size: visits, trucks,
   facilities the trucks may unload at, and load (demand over the trucks' capacity);
   the same for parts of the day on 1, 2 and half its trucks (the window phase routes
   a day's leftover points on its free trucks), so that what the weight makes of
   those is measured too.
3. **The splits**: the work-seconds :class:`~planner.solve.budget.Budget` lets each
   phase spend for a limit, added up.

Regions: the default scenario and bench_scale's synthetic banners (fleet sized by the
planner, seed 0); banners from ``--pieces-from`` points up are measured piece by piece
(depots' sub-months, as ``--decompose auto`` solves them). Days come from each
month's group calendar (no announced windows yet). A script, not a test:

    python benchmarks/bench_work.py                           # Otog + 200, 400, 800
    python benchmarks/bench_work.py --sizes 400 1800 --days 4 --json /tmp/work.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import make_region  # noqa: E402

from planner.network.travel import build_travel  # noqa: E402
from planner.scenario.load import load_scenario  # noqa: E402
from planner.solve import _clock  # noqa: E402
from planner.solve._routes import RouteModel  # noqa: E402
from planner.solve.budget import Budget  # noqa: E402
from planner.solve.decompose import AUTO_MIN_POINTS, pieces, sub_problem  # noqa: E402
from planner.solve.engines.pyvrp_engine import PyVRPEngine  # noqa: E402
from planner.solve.from_scenario import build_problem  # noqa: E402
from planner.solve.group_calendar import group_calendar  # noqa: E402
from planner.solve.problem import DaySolution, PeriodicProblem, day_visits  # noqa: E402
from planner.solve.schedule import schedule_route  # noqa: E402

ITERATIONS = (_clock.MIN_ENGINE_ITERATIONS, 4 * _clock.MIN_ENGINE_ITERATIONS)
PRICING_SECONDS = 2.0  # how long each pricing rate is measured, per region


def _months(toml: Path, pieces_from: int) -> Iterator[PeriodicProblem]:
    """The region's month, or its depots' sub-months when it is cut."""
    sc = load_scenario(toml)
    problem = build_problem(sc, build_travel(sc)).problem
    if len(problem.customers) < pieces_from:
        yield problem
        return
    for piece in pieces(problem):
        yield sub_problem(problem, piece)


def _days(problem: PeriodicProblem, patterns: tuple[int | None, ...], count: int) -> list[int]:
    """``count`` days spread from the biggest to the smallest (no empty day)."""
    sizes = sorted(
        ((len(day_visits(problem, patterns, d)), d) for d in range(problem.num_days)),
        reverse=True,
    )
    sizes = [(n, d) for n, d in sizes if n]
    step = max(1, len(sizes) // max(1, count))
    return [d for _, d in sizes[::step]][:count]


def _engine_rows(problem: PeriodicProblem, patterns: tuple[int | None, ...], days: list[int]):
    """Per day and per part of it on fewer trucks (as the window phase routes a day's
    leftover points on its free trucks): its size and the wall seconds of a call at
    each of :data:`ITERATIONS`."""
    rows, routed = [], []
    for d in days:
        visits = day_visits(problem, patterns, d)
        trucks = problem.vehicles_on(d)
        for keep in sorted({len(trucks), max(1, len(trucks) // 2), min(2, len(trucks)), 1})[::-1]:
            part, part_visits = _part(problem, visits, trucks, keep)
            row, sol = _engine_row(part, d, part_visits)
            rows.append(row | {"part_of": len(trucks)})
            if keep == len(trucks):
                routed.append((sol, visits))
    return rows, routed


def _part(problem: PeriodicProblem, visits, trucks, keep: int):
    """The day on its first ``keep`` trucks, with their share of its visits."""
    if keep == len(trucks):
        return problem, visits
    off = set(trucks[keep:])
    part = dataclasses.replace(
        problem,
        vehicles=tuple(
            dataclasses.replace(v, days=()) if i in off else v
            for i, v in enumerate(problem.vehicles)
        ),
    )
    return part, visits[: max(3, len(visits) * keep // len(trucks))]


def _engine_row(problem: PeriodicProblem, d: int, visits) -> tuple[dict[str, Any], DaySolution]:
    trucks = problem.vehicles_on(d)
    capacity = sum(problem.vehicles[k].capacity[0] for k in trucks)
    walls = []
    for iterations in ITERATIONS:
        start = time.perf_counter()
        sol = PyVRPEngine(iterations).route_day(problem, d, visits, time_limit=1.0, seed=0)
        walls.append(time.perf_counter() - start)
    per_iteration = max(0.0, (walls[1] - walls[0]) / (ITERATIONS[1] - ITERATIONS[0]))
    size = _clock.DaySize.of(problem, d, visits)
    row = {
        "day": d,
        "visits": len(visits),
        "trucks": len(trucks),
        "facilities": len(problem.facilities),
        "load": round(sum(v.demand[0] for v in visits) / max(1e-9, capacity), 3),
        "wall_s": [round(w, 4) for w in walls],
        "iteration_s": per_iteration,
        "weight": round(size.weight, 3),
        "charged_iteration_s": size.units / _clock.ENGINE_WORK_PER_SECOND,
        "rest_s": max(0.0, walls[0] - per_iteration * ITERATIONS[0]),
    }
    return row, sol


def _pricing(problem: PeriodicProblem, routed: list[tuple[DaySolution, Any]]) -> dict[str, float]:
    """Stops priced per second by the exact and simple route prices and schedule_route."""
    model = RouteModel(problem)
    jobs = []
    for sol, visits in routed:
        demand = {v.customer: (v.demand[0] if model.one else v.demand) for v in visits}
        for r in sol.routes:
            stops = [
                visits[i].customer if i >= 0 else -1 - n
                for n, i in zip(r.stops, r.visits, strict=True)
            ]
            jobs.append((sol.day, r, visits, stops, demand))
    stops = sum(len(j[3]) for j in jobs) or 1

    def rate(one: Any) -> float:
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < PRICING_SECONDS / 3:
            for job in jobs:
                one(job)
            done += stops
        return done / (time.perf_counter() - start)

    model.simple = False
    general = rate(lambda j: model.evaluate(j[0], j[1].vehicle, j[3], j[4]))
    model.simple = True
    simple = rate(lambda j: model.evaluate(j[0], j[1].vehicle, j[3], j[4]))
    schedules = rate(lambda j: schedule_route(problem, j[0], j[2], j[1]))
    return {
        "exact_stops_per_s": general,
        "simple_stops_per_s": simple,
        "schedule_stops_per_s": schedules,
    }


def measure(name: str, toml: Path, days: int, pieces_from: int) -> dict[str, Any]:
    """One region's rows and pricing rates."""
    rows: list[dict[str, Any]] = []
    pricing: dict[str, float] = {}
    for part, problem in enumerate(_months(toml, pieces_from)):
        patterns = tuple(group_calendar(problem, time_limit=1.0, seed=0))
        got, routed = _engine_rows(problem, patterns, _days(problem, patterns, days))
        rows += [dict(r, piece=part) for r in got]
        if part == 0:
            pricing = _pricing(problem, routed)
        print(f"  {name} piece {part}: {len(got)} calls", file=sys.stderr, flush=True)
    whole = _whole(rows)
    parts = [r for r in rows if r["trucks"] < r["part_of"]]
    return {
        "region": name,
        "days": rows,
        "pricing": pricing,
        "iteration_wall_over_charge": _iteration_ratio(whole),
        "part_iteration_wall_over_charge": _iteration_ratio(parts),
        # The fewest iterations a bounded call gets, charged by _clock.engine_work.
        "call_wall_over_charge": _ratio(
            [r["wall_s"][0] for r in whole],
            [
                _clock.engine_work("pyvrp", 0.0, _clock.DaySize(r["visits"], r["weight"]))
                for r in whole
            ],
        ),
    }


def _whole(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of whole days (not their parts on fewer trucks)."""
    return [r for r in rows if r["trucks"] == r["part_of"]]


def _iteration_ratio(rows: list[dict[str, Any]]) -> float:
    return _ratio([r["iteration_s"] for r in rows], [r["charged_iteration_s"] for r in rows])


def _ratio(walls: list[float], charges: list[float]) -> float:
    """Wall seconds over charged seconds, summed."""
    return round(sum(walls) / max(1e-12, sum(charges)), 2)


def splits(limit: float) -> dict[str, float]:
    """Work-seconds each phase may spend under a ``limit``-second budget, and their sum."""
    b = Budget(limit)
    parts = {
        "calendar": b.calendar,
        "first_phase": b.first_phase,
        "window_engine_work": b.windows_work,
        "window_last_step": b.windows_polish,
    }
    return {**{k: round(v, 1) for k, v in parts.items()}, "total": round(sum(parts.values()), 1)}


def fit(regions: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds an iteration costs as k * visits^a * (facilities/trucks)^b * load^c, over
    whole days (the form and rows the clock's weight was fitted to)."""
    rows = [r for g in regions for r in _whole(g["days"]) if r["iteration_s"] > 0 and r["load"] > 0]
    if len(rows) < 5:
        return {}
    x = np.array(
        [
            [1.0, np.log(r["visits"]), np.log(r["facilities"] / r["trucks"]), np.log(r["load"])]
            for r in rows
        ]
    )
    y = np.log([r["iteration_s"] for r in rows])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    spread = np.exp(x @ coef - y)
    return {
        "k": float(np.exp(coef[0])),
        "visits_exp": round(float(coef[1]), 2),
        "facilities_per_truck_exp": round(float(coef[2]), 2),
        "load_exp": round(float(coef[3]), 2),
        "p10": round(float(np.percentile(spread, 10)), 2),
        "p90": round(float(np.percentile(spread, 90)), 2),
    }


def table(result: dict[str, Any]) -> str:
    """The Markdown section docs/benchmarks.md includes."""
    rate = _clock.WORK_PER_SECOND
    lines = [
        "## Work charged against time taken (`python benchmarks/bench_work.py`)",
        "",
        "The rates the work clock charges (`planner/solve/_clock.py`) beside what this "
        "machine does, measured in one run on each region's group-calendar days (no "
        "announced windows). Each figure is wall seconds over charged seconds: above 1 "
        "the step takes longer than it is charged, below 1 it is charged more than it "
        "takes.",
        "",
        "| region | days | visits a day (median) | PyVRP call at its fewest iterations | "
        "PyVRP iteration | iteration on a part of the day | exact route price | "
        "simple route price | schedule_route |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for g in result["regions"]:
        p = g["pricing"]
        whole = _whole(g["days"])
        visits = int(np.median([r["visits"] for r in whole]))
        lines.append(
            f"| {g['region']} | {len(whole)} | {visits} | {g['call_wall_over_charge']:.2f} | "
            f"{g['iteration_wall_over_charge']:.2f} | {g['part_iteration_wall_over_charge']:.2f} | "
            f"{(rate / _clock.EXACT_WEIGHT) / p['exact_stops_per_s']:.2f} | "
            f"{rate / p['simple_stops_per_s']:.2f} | "
            f"{(rate / _clock.EXACT_WEIGHT) / p['schedule_stops_per_s']:.2f} |"
        )
    f = result["fit"]
    s = result["splits"]
    if f:
        lines += [
            "",
            f"A whole day's iteration, in wall seconds, fits k × visits^{f['visits_exp']} × "
            f"(facilities per truck)^{f['facilities_per_truck_exp']} × load^{f['load_exp']} "
            f"(k = {f['k']:.3g}; 80 % of days within {f['p10']}–{f['p90']}× of it); the clock "
            "charges visits × weight / ENGINE_WORK_PER_SECOND, the weight (`DaySize`) from "
            f"the fit it holds (visits^{_clock.DAY_EXPONENTS[0] + 1:.2f} × (facilities per "
            f"truck)^{_clock.DAY_EXPONENTS[1]:.2f} × load^{_clock.DAY_EXPONENTS[2]:.2f}), 1 "
            "up to the default region's heaviest day.",
        ]
    lines += [
        "",
        f"Splits of a {result['limit']:g} s limit (`Budget`, work-seconds): calendar "
        f"{s['calendar']}, first phase {s['first_phase']}, window phase's engine calls "
        f"{s['window_engine_work']}, its last step {s['window_last_step']}: "
        f"**{s['total']} in all**.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[200, 400, 800])
    ap.add_argument("--days", type=int, default=6, help="days measured per month or piece")
    ap.add_argument("--pieces-from", type=int, default=AUTO_MIN_POINTS)
    ap.add_argument("--no-otog", action="store_true", help="skip the default scenario")
    ap.add_argument("--limit", type=float, default=90.0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--md", type=Path, default=None, help="write the Markdown section here")
    args = ap.parse_args()
    regions = []
    if not args.no_otog:
        regions.append(
            measure("Otog", ROOT / "scenarios" / "otog.toml", args.days, args.pieces_from)
        )
    with tempfile.TemporaryDirectory(prefix="bench-work-") as tmp:
        for n in args.sizes:
            toml, _ = make_region(Path(tmp) / f"r{n}", n, 0, None)
            regions.append(measure(f"{n} points", toml, args.days, args.pieces_from))
    result = {
        "limit": args.limit,
        "splits": splits(args.limit),
        "fit": fit(regions),
        "regions": regions,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = table(result)
    if args.md:
        args.md.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
