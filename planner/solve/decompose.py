"""A large month cut into depots' sub-months, solved one after another, merged back.

A banner with several depots is mostly several small months side by side: each
point is served from the depot nearest to it, and trucks rarely cross into a
neighbour's area. Solving the pieces apart keeps every search small (the route
pricing, the calendar's CP-SAT model and the engines' days all grow faster than
the points do), at the price of the trips a neighbour's spare truck would have
made across the border.

The cut (:func:`pieces`):

1. each point goes to its nearest depot with trucks (round trip; ties to the lower
   node), each depot's trucks stay with it;
2. a piece whose trucks are fewer than its points need (the same estimate as
   ``planner info``, :func:`~planner.solve.fleet.fleet_needs`) is merged with the
   nearest other piece, the first short one in depot order first, until every piece
   has enough trucks or one piece is left (then the month is not cut).

Pieces are solved in depot order, each with its share of the time limit (by its
visits) and its own seed derived from the run's seed and its depots' node numbers,
so the plan is the same at any load and whatever else runs. Whether a month is cut
is decided here (:func:`should_cut`): ``"auto"`` cuts from :data:`AUTO_MIN_POINTS`
points up.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner._process import die_with_parent
from planner.solve._across import mend_unserved
from planner.solve.budget import Budget
from planner.solve.fleet import fleet_needs
from planner.solve.from_scenario import ScenarioProblem
from planner.solve.problem import (
    Customer,
    DaySolution,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    day_visits,
)
from planner.solve.schedule import day_cost, month_cost
from planner.solve.timing import TimingLookups

if TYPE_CHECKING:
    from planner.solve.month import MonthSolution

MODES = ("auto", "depots", "whole")
"""``auto``: cut from :data:`AUTO_MIN_POINTS` points; ``depots``: always where it
can; ``whole``: never."""

AUTO_MIN_POINTS = 600
"""Points from which ``auto`` cuts (measured in docs/benchmarks.md, scaling curve)."""


@dataclass(frozen=True)
class Piece:
    """Customers and vehicles (indices into the whole problem) solved together."""

    depots: tuple[int, ...]
    customers: tuple[int, ...]
    vehicles: tuple[int, ...]


def should_cut(problem: PeriodicProblem, mode: str) -> bool:
    """Whether ``mode`` asks for a cut of ``problem`` (before looking at the fleet)."""
    if mode not in MODES:
        raise ValueError(f"Expected decompose mode one of {', '.join(MODES)}, got {mode!r}.")
    if mode == "whole" or len({v.depot for v in problem.vehicles}) < 2:
        return False
    return mode == "depots" or len(problem.customers) >= AUTO_MIN_POINTS


def pieces(problem: PeriodicProblem) -> list[Piece]:
    """The month's pieces in depot order; see the module docstring."""
    depots = sorted({v.depot for v in problem.vehicles})
    d = problem.duration
    home: dict[int, list[int]] = {q: [] for q in depots}
    for i, c in enumerate(problem.customers):
        home[min(depots, key=lambda q: (int(d[q, c.node]) + int(d[c.node, q]), q))].append(i)
    parts = [
        Piece(
            (q,),
            tuple(home[q]),
            tuple(k for k, v in enumerate(problem.vehicles) if v.depot == q),
        )
        for q in depots
    ]
    while len(parts) > 1:
        short = next((p for p in parts if _short(problem, p)), None)
        if short is None:
            break
        rest = [p for p in parts if p is not short]
        near = min(
            rest,
            key=lambda p: (
                min(int(d[a, b]) + int(d[b, a]) for a in short.depots for b in p.depots),
                p.depots,
            ),
        )
        merged = Piece(
            tuple(sorted(short.depots + near.depots)),
            tuple(sorted(short.customers + near.customers)),
            tuple(sorted(short.vehicles + near.vehicles)),
        )
        parts = sorted([p for p in rest if p is not near] + [merged], key=lambda p: p.depots)
    return parts


def _short(problem: PeriodicProblem, piece: Piece) -> bool:
    """Whether the piece's trucks are fewer than its points need a day (or none reach one)."""
    needs = fleet_needs(sub_problem(problem, piece))
    return sum(n.trucks for n in needs) > len(piece.vehicles) or any(n.unreachable for n in needs)


def sub_problem(problem: PeriodicProblem, piece: Piece) -> PeriodicProblem:
    """The piece as a problem of its own (the same nodes and read-only matrices), with
    the facilities its trucks would unload at (:func:`near_facilities`)."""
    return dataclasses.replace(
        problem,
        depots=piece.depots,
        facilities=near_facilities(problem, piece),
        customers=tuple(problem.customers[i] for i in piece.customers),
        vehicles=tuple(problem.vehicles[k] for k in piece.vehicles),
    )


def near_facilities(problem: PeriodicProblem, piece: Piece) -> tuple[int, ...]:
    """The facilities nearest to the piece's points and depots, and those on their
    cheapest way home to each of its depots (and the piece's depots that are ones).

    The others lie across the banner: a truck would never unload there, and every
    facility is a reload depot PyVRP weighs at each step (on an 800-point banner
    27 of them, where a piece needs about a third).
    """
    facilities = problem.facilities
    if len(facilities) <= 1:
        return facilities
    d = problem.duration
    cols = np.array(facilities)
    nodes = np.array([problem.customers[i].node for i in piece.customers] + list(piece.depots))
    to_facility = d[np.ix_(nodes, cols)]
    keep = {f for f in facilities if f in piece.depots}
    keep.update(cols[to_facility.argmin(axis=1)].tolist())
    for q in piece.depots:
        keep.update(cols[(to_facility + d[cols, q][None, :]).argmin(axis=1)].tolist())
    return tuple(f for f in facilities if f in keep)


def piece_seed(seed: int, piece: Piece) -> int:
    """The piece's seed: from the run's seed and its depots only (not their order)."""
    return zlib.crc32(f"{seed}:{','.join(map(str, piece.depots))}".encode()) % 2**31


SolveOne = Callable[..., "MonthSolution"]
"""Solves one piece: ``solve_one(sub, budget=, seed=, timing=, report=)`` (solve_month's
keywords); picklable (a partial of a module's function) for the worker processes."""
Report = Callable[[str, float, float], None]

WORKERS = 2
"""Worker processes for the pieces (at most the machine's cores and the pieces)."""


@dataclass(frozen=True)
class _Task:
    """One piece's month, as a worker process receives it."""

    sp: ScenarioProblem
    budget: Budget
    seed: int
    timing: TimingLookups | None


@dataclass(frozen=True)
class _Solved:
    """A piece's month without its matrices (each day's customers only), to send back."""

    solution: PeriodicSolution
    first_cost: float
    windows: dict[str, tuple[int, int]]
    day_customers: dict[int, tuple[Customer, ...]]


def solve_in_pieces(
    sp: ScenarioProblem,
    parts: Sequence[Piece],
    *,
    budget: Budget,
    seed: int,
    timing: TimingLookups | None,
    solve_one: SolveOne,
    report: Report | None = None,
    workers: int | None = None,
) -> MonthSolution:
    """Each piece solved by ``solve_one``, the results merged into one month.

    With ``workers`` above 1 (default :data:`WORKERS`, at most the cores) the pieces
    run in that many worker processes, largest first; each piece's month depends on
    its own problem, share and seed only, so the plan is the same with any number of
    workers. The workers end with this process. ``report`` gets each piece's
    progress when they run here, the pieces done when they run in workers.
    """
    problem = sp.problem
    visits = [sum(problem.customers[i].frequency for i in p.customers) for p in parts]
    total = max(1, sum(visits))
    tasks = []
    for piece, n in zip(parts, visits, strict=True):
        sub = dataclasses.replace(
            sp,
            problem=sub_problem(problem, piece),
            customer_points=tuple(sp.customer_points[i] for i in piece.customers),
        )
        share = dataclasses.replace(budget, time_limit=budget.time_limit * max(n, 1) / total)
        mine = dataclasses.replace(timing, points=sub.customer_points) if timing else None
        tasks.append(_Task(sub, share, piece_seed(seed, piece), mine))
    count = min(WORKERS if workers is None else workers, os.cpu_count() or 1, len(tasks))
    if "fork" not in multiprocessing.get_all_start_methods():
        count = 1  # workers read their pieces from a forked copy of this process
    if count <= 1:
        solved = [
            solve_one(t.sp, budget=t.budget, seed=t.seed, timing=t.timing, report=report)
            for t in tasks
        ]
    else:
        solved = _in_workers(tasks, visits, solve_one, count, report)
    return mend(sp, merge(problem, parts, solved), timing)


def mend(sp: ScenarioProblem, month: MonthSolution, timing: TimingLookups | None) -> MonthSolution:
    """The merged month with its unserved visits put on any depot's truck that day
    (:mod:`planner.solve._across`); itself when nothing was unserved or nothing fits."""
    sol = month.solution
    if not any(ds.unrouted for ds in sol.days):
        return month
    bounds = timing.bounds if timing is not None else None
    step = timing.step if timing is not None else 15
    got = mend_unserved(
        sp.problem,
        sol.patterns,
        sol.days,
        month.day_problems,
        month.windows,
        sp.customer_points,
        bounds,
        step,
    )
    if not got.placed:
        return month
    cost = month_cost(sp.problem, got.patterns, got.days, got.day_problems)
    solution = dataclasses.replace(sol, patterns=got.patterns, days=got.days, cost=cost)
    return dataclasses.replace(
        month, solution=solution, windows=got.windows, day_problems=got.day_problems
    )


def _in_workers(
    tasks: Sequence[_Task],
    visits: Sequence[int],
    solve_one: SolveOne,
    count: int,
    report: Report | None,
) -> list[MonthSolution]:
    """The tasks solved in ``count`` forked worker processes; results in the tasks' order.

    The workers are forked after the tasks are stored in :data:`_TASKS`, so they
    read their piece (and its matrices) from the copied memory instead of a pickle;
    only the index goes over, and each piece comes back without its matrices.
    """
    from planner.solve.month import MonthSolution

    order = sorted(range(len(tasks)), key=lambda i: (-visits[i], i))  # largest first
    _TASKS[:] = [(solve_one, t) for t in tasks]
    got: dict[int, _Solved] = {}
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            count, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            futures = {pool.submit(_solve_task, i): i for i in order}
            if report is not None:
                report("pieces", 0, len(tasks))
            for f in as_completed(futures):
                got[futures[f]] = f.result()
                if report is not None:
                    report("pieces", len(got), len(tasks))
    finally:
        _TASKS.clear()
    out = []
    for i, task in enumerate(tasks):
        r = got[i]
        days = {
            d: dataclasses.replace(task.sp.problem, customers=c) for d, c in r.day_customers.items()
        }
        out.append(MonthSolution(r.solution, r.first_cost, r.windows, days))
    return out


_TASKS: list[tuple[SolveOne, _Task]] = []
"""The pieces of the cut being solved, for the forked workers to read."""


def _solve_task(index: int) -> _Solved:
    """In a worker: one piece's month (no progress display; its matrices stay here)."""
    solve_one, task = _TASKS[index]
    ms = solve_one(task.sp, budget=task.budget, seed=task.seed, timing=task.timing, report=None)
    days = {d: p.customers for d, p in ms.day_problems.items()}
    return _Solved(ms.solution, ms.first_cost, ms.windows, days)


def merge(
    problem: PeriodicProblem, parts: Sequence[Piece], solved: Sequence[MonthSolution]
) -> MonthSolution:
    """The pieces' months as one month of ``problem`` (customers, vehicles renumbered)."""
    from planner.solve.month import MonthSolution

    patterns: list[int | None] = [None] * len(problem.customers)
    unassigned: list[int] = []
    windows: dict[str, tuple[int, int]] = {}
    for piece, ms in zip(parts, solved, strict=True):
        for local, i in enumerate(piece.customers):
            patterns[i] = ms.solution.patterns[local]
        unassigned += [piece.customers[i] for i in ms.solution.unassigned]
        windows.update(ms.windows)
    chosen = tuple(patterns)
    days: list[DaySolution] = []
    day_problems: dict[int, PeriodicProblem] = {}
    cost = 0.0
    for d in range(problem.num_days):
        prob = _day_problem(problem, parts, solved, d)
        if prob is not problem:
            day_problems[d] = prob
        visits = day_visits(prob, chosen, d)
        where = {v.customer: k for k, v in enumerate(visits)}
        routes: list[Route] = []
        unrouted: list[int] = []
        for piece, ms in zip(parts, solved, strict=True):
            sub = ms.day_problems.get(d) or sub_problem(problem, piece)
            # The piece's visit numbers -> the month's (-1, a station stop, stays).
            glob = [
                where[piece.customers[v.customer]] for v in day_visits(sub, ms.solution.patterns, d)
            ]
            for r in ms.solution.days[d].routes:
                stops = tuple(-1 if k < 0 else glob[k] for k in r.visits)
                routes.append(Route(piece.vehicles[r.vehicle], r.stops, stops))
            unrouted += [glob[k] for k in ms.solution.days[d].unrouted]
        day = DaySolution(
            d, tuple(sorted(routes, key=lambda r: r.vehicle)), tuple(sorted(unrouted))
        )
        days.append(day)
        cost += day_cost(prob, d, visits, day)
    solution = PeriodicSolution(chosen, tuple(days), cost, tuple(sorted(unassigned)))
    first = sum(ms.first_cost for ms in solved)
    return MonthSolution(solution, first, windows, day_problems)


def _day_problem(
    problem: PeriodicProblem, parts: Sequence[Piece], solved: Sequence[MonthSolution], day: int
) -> PeriodicProblem:
    """``problem`` with the windows each piece routed ``day`` under (itself if none)."""
    customers = list(problem.customers)
    changed = False
    for piece, ms in zip(parts, solved, strict=True):
        sub = ms.day_problems.get(day)
        if sub is None:
            continue
        changed = True
        for local, i in enumerate(piece.customers):
            customers[i] = sub.customers[local]
    return problem.with_windows(customers) if changed else problem
