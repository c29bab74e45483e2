"""A first calendar for large months: truck-day groups, then CP-SAT on the groups.

A banner month has hundreds of points and dozens of patterns each; a CP-SAT model
over every point, pattern and neighbour pair gets too large to solve in seconds.
What a good month looks like is simpler: each truck-day sweeps one compact group
of neighbouring points. So:

1. points are grouped, per visit frequency, around the depot nearest to them, into
   groups whose estimated day (drive out, services, hops, unloading, drive back)
   fits one truck's shift — greedy, farthest point first, nearest neighbours added;
2. CP-SAT gives each group one pattern shared by all its points, with at most as
   many groups per depot and day as the depot has trucks, preferring even rhythms
   and an even spread of work over the days.

The search (:mod:`planner.solve.search`) then improves points one by one.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from planner.solve._cpsat import solve_cp, solved
from planner.solve.problem import PeriodicProblem


@dataclass(frozen=True)
class Group:
    """Customers one truck may serve on one day, and the depot that serves them."""

    depot: int
    customers: tuple[int, ...]
    minutes: float


def _day_budget(problem: PeriodicProblem, depot: int) -> float:
    trucks = [v for v in problem.vehicles if v.depot == depot]
    if not trucks:
        trucks = list(problem.vehicles)
    v = max(trucks, key=lambda t: t.max_duration)
    return float(min(v.max_duration, v.shift[1] - v.shift[0]) - v.break_duration)


def make_groups(problem: PeriodicProblem, *, fill: float = 0.75) -> list[Group]:
    """Greedy truck-day groups of customers with the same pattern list."""
    D = problem.duration.astype(float)
    depots = sorted({v.depot for v in problem.vehicles})
    unload = float(problem.facility_service)
    caps = [
        max(1, min(v.capacity[k] for v in problem.vehicles)) for k in range(len(problem.dimensions))
    ]

    def near_facility(node: int) -> float:
        return float(min(D[node, f] for f in problem.facilities))

    by_class: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, c in enumerate(problem.customers):
        if c.patterns:
            by_class[tuple(p.days for p in c.patterns)].append(i)

    groups: list[Group] = []
    for members in by_class.values():
        home: dict[int, list[int]] = defaultdict(list)
        for i in members:
            node = problem.customers[i].node
            home[min(depots, key=lambda q: D[q, node] + D[node, q])].append(i)
        for depot, pool in sorted(home.items()):
            budget = fill * _day_budget(problem, depot)
            left = set(pool)
            while left:
                seed = max(sorted(left), key=lambda i: D[depot, problem.customers[i].node])
                chosen = [seed]
                left.discard(seed)
                load = np.array(_demand(problem, seed), dtype=float)
                while True:
                    est = _estimate(problem, depot, chosen, load, caps, unload, near_facility)
                    last = problem.customers[chosen[-1]].node
                    cands = sorted(left, key=lambda i: D[last, problem.customers[i].node])
                    added = False
                    for cand in cands[:8]:
                        trial_load = load + np.array(_demand(problem, cand), dtype=float)
                        trial = _estimate(
                            problem,
                            depot,
                            [*chosen, cand],
                            trial_load,
                            caps,
                            unload,
                            near_facility,
                        )
                        if trial <= budget:
                            chosen.append(cand)
                            left.discard(cand)
                            load = trial_load
                            added = True
                            break
                    if not added:
                        break
                groups.append(Group(depot, tuple(chosen), est))
    return groups


def _demand(problem: PeriodicProblem, i: int) -> tuple[int, ...]:
    pat = problem.customers[i].patterns[0]
    return tuple(max(v[k] for v in pat.demands) for k in range(len(problem.dimensions)))


def _estimate(
    problem: PeriodicProblem,
    depot: int,
    chosen: list[int],
    load: np.ndarray,
    caps: list[int],
    unload: float,
    near_facility: Callable[[int], float],
) -> float:
    """Minutes for one truck to serve ``chosen`` in visiting order, with unloading."""
    D = problem.duration
    nodes = [problem.customers[i].node for i in chosen]
    travel = float(D[depot, nodes[0]])
    travel += sum(float(D[a, b]) for a, b in itertools.pairwise(nodes))
    trips = max(1.0, float(np.ceil(max(load[k] / caps[k] for k in range(len(caps))))))
    back = near_facility(nodes[-1]) + min(float(D[f, depot]) for f in problem.facilities)
    # Extra trips: to a station and back into the area, about twice the mean hop out.
    extra = (trips - 1) * (unload + 2.0 * near_facility(nodes[0]))
    service = sum(problem.customers[i].service for i in chosen)
    return float(travel + service + back + unload + extra)


def group_calendar(
    problem: PeriodicProblem,
    *,
    time_limit: float = 5.0,
    seed: int = 0,
    irregularity: dict[int, list[float]] | None = None,
) -> tuple[int | None, ...]:
    """A pattern per customer from truck-day groups (``None`` where none fits)."""
    groups = make_groups(problem)
    trucks: dict[int, int] = defaultdict(int)
    for v in problem.vehicles:
        trucks[v.depot] += 1
    m = cp_model.CpModel()
    x: list[list[cp_model.IntVar]] = []
    day_terms: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    work_terms: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    objective: list[cp_model.LinearExprT] = []
    for g, grp in enumerate(groups):
        pats = problem.customers[grp.customers[0]].patterns
        xg = [m.new_bool_var(f"g{g}p{p}") for p in range(len(pats))]
        m.add_exactly_one(xg)
        x.append(xg)
        costs = (irregularity or {}).get(grp.customers[0])
        for p, pat in enumerate(pats):
            for d in pat.days:
                day_terms[(grp.depot, d)].append(xg[p])
                work_terms[d].append((int(grp.minutes), xg[p]))
            if costs:
                objective.append(round(costs[p]) * len(grp.customers) * xg[p])
    overflow = []
    for (depot, _d), terms in sorted(day_terms.items()):
        # More groups than trucks at a depot is allowed at a price: the router may
        # lend a truck from the next depot, or split a group.
        over = m.new_int_var(0, len(terms), "over")
        m.add(sum(terms) <= trucks.get(depot, 0) + over)
        overflow.append(over)
    objective.append(1000 * sum(overflow))
    peak = m.new_int_var(0, 10**7, "peak")
    for _d, weighted in work_terms.items():
        m.add(sum(w * v for w, v in weighted) <= peak)
    objective.append(peak)
    # Start from the greedy calendar: CP-SAT then only improves on it, and a large
    # month still gets a calendar when the time is short.
    greedy = _greedy(problem, groups, trucks, irregularity)
    for g, p in enumerate(greedy):
        for q, var in enumerate(x[g]):
            m.add_hint(var, q == p)
    m.minimize(sum(objective))
    solver, status = solve_cp(m, time_limit=time_limit, seed=seed)
    chosen: list[int | None] = [None] * len(problem.customers)
    ok = solved(status)
    for g, grp in enumerate(groups):
        p = next(p for p, v in enumerate(x[g]) if solver.boolean_value(v)) if ok else greedy[g]
        for i in grp.customers:
            chosen[i] = p
    return tuple(chosen)


def _greedy(
    problem: PeriodicProblem,
    groups: list[Group],
    trucks: dict[int, int],
    irregularity: dict[int, list[float]] | None,
) -> list[int]:
    """Each group, longest first, on the pattern whose days are least busy at its depot."""
    busy: dict[tuple[int, int], int] = defaultdict(int)
    work = [0.0] * problem.num_days
    out = [0] * len(groups)
    for g in sorted(range(len(groups)), key=lambda g: -groups[g].minutes):
        grp = groups[g]
        pats = problem.customers[grp.customers[0]].patterns
        costs = (irregularity or {}).get(grp.customers[0]) or [0.0] * len(pats)

        def key(
            p: int, grp: Group = grp, pats: tuple[Any, ...] = pats, costs: list[float] = costs
        ) -> tuple[Any, ...]:
            over = sum(busy[(grp.depot, d)] >= trucks.get(grp.depot, 0) for d in pats[p].days)
            return (over, max(work[d] for d in pats[p].days), costs[p], p)

        best = min(range(len(pats)), key=key)
        out[g] = best
        for d in pats[best].days:
            busy[(grp.depot, d)] += 1
            work[d] += grp.minutes
    return out
