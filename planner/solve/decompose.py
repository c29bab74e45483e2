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
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.solve.budget import Budget
from planner.solve.fleet import fleet_needs
from planner.solve.from_scenario import ScenarioProblem
from planner.solve.problem import (
    DaySolution,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    day_visits,
)
from planner.solve.schedule import day_cost
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
    """The piece as a problem of its own (the same nodes and read-only matrices)."""
    return dataclasses.replace(
        problem,
        depots=piece.depots,
        customers=tuple(problem.customers[i] for i in piece.customers),
        vehicles=tuple(problem.vehicles[k] for k in piece.vehicles),
    )


def piece_seed(seed: int, piece: Piece) -> int:
    """The piece's seed: from the run's seed and its depots only (not their order)."""
    return zlib.crc32(f"{seed}:{','.join(map(str, piece.depots))}".encode()) % 2**31


SolveOne = Callable[..., "MonthSolution"]
"""Solves one piece: ``solve_one(sub, budget=, seed=, timing=)`` (solve_month's keywords)."""


def solve_in_pieces(
    sp: ScenarioProblem,
    parts: Sequence[Piece],
    *,
    budget: Budget,
    seed: int,
    timing: TimingLookups | None,
    solve_one: SolveOne,
) -> MonthSolution:
    """Each piece solved by ``solve_one`` in order, the results merged into one month."""
    problem = sp.problem
    visits = [sum(problem.customers[i].frequency for i in p.customers) for p in parts]
    total = max(1, sum(visits))
    solved = []
    for piece, n in zip(parts, visits, strict=True):
        sub = dataclasses.replace(
            sp,
            problem=sub_problem(problem, piece),
            customer_points=tuple(sp.customer_points[i] for i in piece.customers),
        )
        share = dataclasses.replace(budget, time_limit=budget.time_limit * max(n, 1) / total)
        mine = dataclasses.replace(timing, points=sub.customer_points) if timing else None
        solved.append(solve_one(sub, budget=share, seed=piece_seed(seed, piece), timing=mine))
    return merge(problem, parts, solved)


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
    return dataclasses.replace(problem, customers=tuple(customers)) if changed else problem
