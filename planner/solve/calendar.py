"""The first calendar: a visit pattern per customer, chosen with CP-SAT.

Routing cost is won or lost in the calendar (see benchmarks/README): customers
that are close should be visited on the same days so that one truck serves them
in one sweep. The model therefore rewards every pair of near neighbours for each
day they share, keeps each day's estimated work within its fleet's hours, and
prefers even rhythms. The route search then revisits this calendar with real
route costs (:mod:`planner.solve.search`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from planner.solve._cpsat import solve_cp, solved
from planner.solve.problem import PeriodicProblem

# Objective weights, all integers for CP-SAT. A dropped customer costs far more than
# any co-location gain, so customers are left out only when nothing fits.
UNASSIGNED_PENALTY = 1_000_000
PAIR_SCALE = 100


@dataclass(frozen=True)
class CalendarResult:
    """Patterns chosen per customer (``None``: no pattern fits) and solver status."""

    patterns: tuple[int | None, ...]
    status: str
    objective: float


def symmetric_times(problem: PeriodicProblem) -> np.ndarray:
    d = problem.duration.astype(float)
    out: np.ndarray = (d + d.T) / 2.0
    return out


def estimated_work(problem: PeriodicProblem, sym: np.ndarray, neighbours: int = 3) -> np.ndarray:
    """Per customer, service time plus its share of travel (mean time to near neighbours)."""
    nodes = [c.node for c in problem.customers]
    work = np.zeros(len(nodes))
    if not nodes:
        return work
    sub = sym[np.ix_(nodes, nodes)].copy()
    np.fill_diagonal(sub, np.inf)
    k = min(neighbours, len(nodes) - 1)
    for i, c in enumerate(problem.customers):
        near = np.sort(sub[i])[:k] if k > 0 else np.array([0.0])
        work[i] = c.service + float(np.mean(near[np.isfinite(near)])) if k > 0 else c.service
    return work


def day_capacity(problem: PeriodicProblem, utilisation: float = 0.85) -> list[float]:
    """Working minutes available each day (a margin for unloading and driving home)."""
    caps = []
    for d in range(problem.num_days):
        total = 0.0
        for vi in problem.vehicles_on(d):
            v = problem.vehicles[vi]
            shift = v.shift[1] - v.shift[0]
            total += max(0, min(v.max_duration, shift) - v.break_duration)
        caps.append(total * utilisation)
    return caps


def initial_calendar(  # noqa: C901, PLR0915 - one CP-SAT model, built in one place
    problem: PeriodicProblem,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    neighbours: int = 6,
    regularity_weight: float = 0.0,
    irregularity: dict[int, list[float]] | None = None,
    balance: bool = True,
) -> CalendarResult:
    """Choose a pattern per customer.

    Parameters
    ----------
    neighbours
        How many nearest neighbours of each customer earn a shared-day reward.
    regularity_weight, irregularity
        Optional penalty per customer and pattern (index-aligned with the
        customer's patterns) times the weight; the scenario uses it to prefer
        even rhythms.
    balance
        Cap each day's estimated work at the fleet's hours that day.
    """
    m = cp_model.CpModel()
    customers = problem.customers
    sym = symmetric_times(problem)
    work = estimated_work(problem, sym)
    x: list[list[cp_model.IntVar]] = []
    unassigned: list[cp_model.IntVar | None] = []
    on_day: list[dict[int, list[cp_model.IntVar]]] = []
    for i, c in enumerate(customers):
        xi = [m.new_bool_var(f"x{i}_{p}") for p in range(len(c.patterns))]
        x.append(xi)
        days: dict[int, list[cp_model.IntVar]] = {}
        for p, pat in enumerate(c.patterns):
            for d in pat.days:
                days.setdefault(d, []).append(xi[p])
        on_day.append(days)
        if not c.patterns:
            unassigned.append(None)
            continue
        u = m.new_bool_var(f"u{i}")
        m.add(sum(xi) + u == 1)
        unassigned.append(u)

    objective: list[cp_model.LinearExprT] = []
    for ui in unassigned:
        if ui is not None:
            objective.append(UNASSIGNED_PENALTY * ui)

    # Shared-day rewards for near neighbours, scaled so a typical neighbour earns ~PAIR_SCALE.
    nodes = [c.node for c in customers]
    active = [i for i, c in enumerate(customers) if c.patterns]
    if len(active) > 1:
        sub = sym[np.ix_(nodes, nodes)]
        dists = []
        pairs: set[tuple[int, int]] = set()
        for i in active:
            order = [j for j in np.argsort(sub[i]) if j != i and customers[j].patterns]
            for j in order[:neighbours]:
                pairs.add((min(i, int(j)), max(i, int(j))))
                dists.append(sub[i, j])
        scale = max(float(np.median(dists)), 1e-9)
        for i, j in sorted(pairs):
            w = round(PAIR_SCALE * math.exp(-float(sub[i, j]) / scale))
            if w <= 0:
                continue
            for d in sorted(set(on_day[i]) & set(on_day[j])):
                z = m.new_bool_var(f"z{i}_{j}_{d}")
                m.add(z <= sum(on_day[i][d]))
                m.add(z <= sum(on_day[j][d]))
                objective.append(-w * z)

    if irregularity and regularity_weight > 0:
        for i, costs in irregularity.items():
            for p, cost in enumerate(costs):
                cw = round(regularity_weight * float(cost))
                if cw:
                    objective.append(cw * x[i][p])

    if balance:
        for d, cap in enumerate(day_capacity(problem)):
            terms = [(round(float(work[i])), v) for i in active for v in on_day[i].get(d, [])]
            if terms:
                m.add(sum(w * v for w, v in terms) <= int(cap))

    m.minimize(sum(objective))
    solver, name = solve_cp(m, time_limit=time_limit, seed=seed)
    if not solved(name):
        if balance:
            # The day caps are estimates: without them the month still gets a calendar.
            return initial_calendar(
                problem,
                time_limit=time_limit,
                seed=seed,
                neighbours=neighbours,
                regularity_weight=regularity_weight,
                irregularity=irregularity,
                balance=False,
            )
        return CalendarResult(tuple(None for _ in customers), name, math.inf)
    chosen: list[int | None] = []
    for xi in x:
        picked = [p for p, v in enumerate(xi) if solver.boolean_value(v)]
        chosen.append(picked[0] if picked else None)
    return CalendarResult(tuple(chosen), name, solver.objective_value)
