"""Calendar and routes improving each other: the solver core's main loop.

1. A first calendar from CP-SAT (:mod:`planner.solve.calendar`).
2. Every day routed by the routing engine.
3. Pattern moves: take a customer off the days of its pattern and put it on the
   days of another pattern, inserting it where it is cheapest in that day's
   routes. The move is priced exactly (every touched route re-scheduled with
   :func:`planner.solve.schedule.schedule_route`) and kept when the total falls.
4. Days changed by accepted moves are routed again by the engine, and kept
   when the engine finds them cheaper.

Steps 3–4 repeat until the time is up. Interrupting (Ctrl-C) returns the best
solution found so far.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from planner.solve.calendar import initial_calendar
from planner.solve.engines import get_engine
from planner.solve.problem import (
    DaySolution,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    day_visits,
)
from planner.solve.schedule import schedule_route

# A day's routes as the search edits them: per route, the vehicle index and its
# stops, each either ("c", customer index) or ("f", facility node).
Stop = tuple[str, int]
Progress = Callable[[str, float, float], None]


@dataclass
class _Day:
    routes: list[tuple[int, list[Stop]]]
    cost: float


@dataclass(frozen=True)
class SearchOptions:
    """How the time limit is spent.

    ``calendar_share`` of the limit goes to the first calendar; each day's first
    routing gets ``route_share`` of the limit split over the days; the rest goes
    to pattern moves and re-routing.
    """

    calendar_share: float = 0.1
    route_share: float = 0.3
    reroute_time: float = 1.0
    improve_calendar: bool = True
    neighbours: int = 6


class _State:
    """Patterns plus editable routes, with cached day costs."""

    def __init__(self, problem: PeriodicProblem, patterns: list[int | None]):
        self.problem = problem
        self.patterns = patterns
        self.days: list[_Day] = [_Day([], 0.0) for _ in range(problem.num_days)]

    def total(self) -> float:
        return sum(d.cost for d in self.days)

    def to_solution(self) -> PeriodicSolution:
        days = tuple(self.day_solution(d) for d in range(self.problem.num_days))
        unassigned = tuple(
            i
            for i, (c, p) in enumerate(zip(self.problem.customers, self.patterns, strict=True))
            if p is None and c.patterns
        )
        unrouted_cost = 0.0
        return PeriodicSolution(tuple(self.patterns), days, self.total() + unrouted_cost, unassigned)

    def day_solution(self, day: int) -> DaySolution:
        visits = day_visits(self.problem, tuple(self.patterns), day)
        index = {v.customer: k for k, v in enumerate(visits)}
        routes, routed = [], set()
        for vehicle, stops in self.days[day].routes:
            nodes, vis = [], []
            for kind, ref in stops:
                if kind == "c":
                    nodes.append(self.problem.customers[ref].node)
                    vis.append(index[ref])
                    routed.add(index[ref])
                else:
                    nodes.append(ref)
                    vis.append(-1)
            if nodes:
                routes.append(Route(vehicle, tuple(nodes), tuple(vis)))
        unrouted = tuple(k for k in range(len(visits)) if k not in routed)
        return DaySolution(day, tuple(routes), unrouted)

    def set_day(self, sol: DaySolution) -> None:
        visits = day_visits(self.problem, tuple(self.patterns), sol.day)
        routes = []
        for r in sol.routes:
            stops: list[Stop] = [
                ("c", visits[k].customer) if k >= 0 else ("f", node)
                for node, k in zip(r.stops, r.visits, strict=True)
            ]
            routes.append((r.vehicle, stops))
        self.days[sol.day] = _Day(routes, 0.0)
        self.days[sol.day].cost = self.day_cost(sol.day, routes)

    def route_cost(self, day: int, vehicle: int, stops: list[Stop]) -> float | None:
        """Exact cost of a route, or ``None`` when it is infeasible."""
        if not stops:
            return 0.0
        p = self.problem
        visits = day_visits(p, tuple(self.patterns), day)
        index = {v.customer: k for k, v in enumerate(visits)}
        nodes, vis = [], []
        for kind, ref in stops:
            if kind == "c":
                if ref not in index:
                    return None
                nodes.append(p.customers[ref].node)
                vis.append(index[ref])
            else:
                nodes.append(ref)
                vis.append(-1)
        sched = schedule_route(p, day, visits, Route(vehicle, tuple(nodes), tuple(vis)))
        return sched.cost if sched.feasible else None

    def day_cost(self, day: int, routes: Sequence[tuple[int, list[Stop]]]) -> float:
        total = 0.0
        for vehicle, stops in routes:
            c = self.route_cost(day, vehicle, stops)
            total += c if c is not None else 0.0
        return total


def solve(
    problem: PeriodicProblem,
    *,
    engine: str = "pyvrp",
    time_limit: float = 60.0,
    seed: int = 0,
    options: SearchOptions | None = None,
    progress: Progress | None = None,
    initial_patterns: Sequence[int | None] | None = None,
    calendar_kwargs: dict[str, object] | None = None,
) -> PeriodicSolution:
    """Solve ``problem`` within about ``time_limit`` seconds.

    Parameters
    ----------
    engine
        Routing engine name (``pyvrp`` or ``ortools``).
    initial_patterns
        Start from these patterns instead of the CP-SAT calendar.
    calendar_kwargs
        Extra keyword arguments for :func:`initial_calendar` (the scenario passes
        its rhythm preferences).
    """
    opts = options or SearchOptions()
    start = time.monotonic()
    deadline = start + time_limit
    router = get_engine(engine)
    rng = random.Random(seed)

    def report(phase: str, done: float, total: float) -> None:
        if progress is not None:
            progress(phase, done, total)

    report("calendar", 0, 1)
    if initial_patterns is None:
        cal = initial_calendar(
            problem,
            time_limit=max(0.5, opts.calendar_share * time_limit),
            seed=seed,
            neighbours=opts.neighbours,
            **(calendar_kwargs or {}),  # type: ignore[arg-type]
        )
        patterns = list(cal.patterns)
    else:
        patterns = list(initial_patterns)
    report("calendar", 1, 1)

    state = _State(problem, patterns)
    per_day = max(0.2, opts.route_share * time_limit / max(1, problem.num_days))
    best = state.to_solution()
    try:
        for d in range(problem.num_days):
            visits = day_visits(problem, tuple(patterns), d)
            sol = router.route_day(problem, d, visits, time_limit=per_day, seed=seed)
            state.set_day(sol)
            report("routes", d + 1, problem.num_days)
        best = state.to_solution()
        if opts.improve_calendar:
            _improve(state, router, rng, deadline, opts, seed, report)
            best = state.to_solution()
    except KeyboardInterrupt:
        # Ctrl-C: hand back what we have; every day in `state` is consistent.
        best = state.to_solution()
    return best


def _improve(
    state: _State,
    router: object,
    rng: random.Random,
    deadline: float,
    opts: SearchOptions,
    seed: int,
    report: Callable[[str, float, float], None],
) -> None:
    """Pattern moves priced exactly, then re-routing of the days they changed."""
    p = state.problem
    movable = [i for i, c in enumerate(p.customers) if len(c.patterns) > 1]
    total_time = max(1e-9, deadline - time.monotonic())
    start = time.monotonic()
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        rng.shuffle(movable)
        dirty: set[int] = set()
        improved = False
        for i in movable:
            if time.monotonic() >= deadline:
                break
            if _try_move(state, i, rng):
                improved = True
                dirty.update(range(p.num_days))
            report("calendar moves", time.monotonic() - start, total_time)
        # Re-route the days the moves touched; keep the engine's routes if cheaper.
        for d in sorted(dirty):
            if time.monotonic() >= deadline:
                break
            visits = day_visits(p, tuple(state.patterns), d)
            budget = min(opts.reroute_time, max(0.1, deadline - time.monotonic()))
            sol = router.route_day(p, d, visits, time_limit=budget, seed=seed + rounds)  # type: ignore[attr-defined]
            old = state.days[d]
            cand = _State(p, state.patterns)
            cand.set_day(sol)
            if not sol.unrouted and cand.days[d].cost < old.cost - 1e-9:
                state.days[d] = cand.days[d]
        if not improved:
            break


def _locate(state: _State, day: int, customer: int) -> tuple[int, int] | None:
    for r, (_, stops) in enumerate(state.days[day].routes):
        for k, s in enumerate(stops):
            if s == ("c", customer):
                return r, k
    return None


def _try_move(state: _State, i: int, rng: random.Random) -> bool:
    """Move customer ``i`` to its best other pattern if that lowers the exact cost."""
    p = state.problem
    cust = p.customers[i]
    cur = state.patterns[i]
    if cur is None:
        return False
    cur_days = set(cust.patterns[cur].days)
    best_gain, best_plan = 1e-9, None
    for q, pat in enumerate(cust.patterns):
        if q == cur:
            continue
        new_days = set(pat.days)
        trial = state.patterns.copy()
        trial[i] = q
        saved = state.patterns
        state.patterns = trial
        changes: dict[int, list[tuple[int, list[Stop]]]] = {}
        delta = 0.0
        ok = True
        for d in sorted(cur_days | new_days):
            routes = [(v, list(s)) for v, s in state.days[d].routes]
            if d in cur_days:
                loc = _locate(state, d, i)
                if loc is not None:
                    routes[loc[0]][1].pop(loc[1])
                    _drop_empty_trips(routes[loc[0]][1])
            if d in new_days:
                routes = _insert_cheapest(state, d, i, routes)
                if routes is None:
                    ok = False
                    break
            cost = 0.0
            for v, s in routes:
                c = state.route_cost(d, v, s)
                if c is None:
                    ok = False
                    break
                cost += c
            if not ok:
                break
            changes[d] = routes
            delta += cost - state.days[d].cost
        state.patterns = saved
        if ok and -delta > best_gain:
            best_gain, best_plan = -delta, (q, changes)
    if best_plan is None:
        return False
    q, changes = best_plan
    state.patterns[i] = q
    for d, routes in changes.items():
        state.days[d] = _Day([(v, s) for v, s in routes if s], 0.0)
        state.days[d].cost = state.day_cost(d, state.days[d].routes)
    return True


def _drop_empty_trips(stops: list[Stop]) -> None:
    """Remove facility visits that no longer follow any collection."""
    out: list[Stop] = []
    for s in stops:
        if s[0] == "f" and (not out or out[-1][0] == "f"):
            continue
        out.append(s)
    stops[:] = out


def _insert_cheapest(
    state: _State, day: int, i: int, routes: list[tuple[int, list[Stop]]]
) -> list[tuple[int, list[Stop]]] | None:
    """Insert customer ``i`` where it adds least travel, checking feasibility exactly."""
    p = state.problem
    node = p.customers[i].node
    D = p.duration
    candidates: list[tuple[float, int, int]] = []
    for r, (vehicle, stops) in enumerate(routes):
        depot = p.vehicles[vehicle].depot
        seq = [depot, *(p.customers[ref].node if k == "c" else ref for k, ref in stops), depot]
        for pos in range(len(stops) + 1):
            a, b = seq[pos], seq[pos + 1]
            candidates.append((float(D[a, node] + D[node, b] - D[a, b]), r, pos))
    candidates.sort()
    for _, r, pos in candidates[:12]:
        vehicle, stops = routes[r]
        trial = [*stops[:pos], ("c", i), *stops[pos:]]
        trial = _ensure_unload(state, vehicle, trial)
        if state.route_cost(day, vehicle, trial) is not None:
            out = [(v, list(s)) for v, s in routes]
            out[r] = (vehicle, trial)
            return out
    # A fresh route on an idle vehicle of that day.
    used = {v for v, _ in routes}
    for vehicle in p.vehicles_on(day):
        if vehicle in used:
            continue
        trial = _ensure_unload(state, vehicle, [("c", i)])
        if state.route_cost(day, vehicle, trial) is not None:
            return [*((v, list(s)) for v, s in routes), (vehicle, trial)]
    return None


def _ensure_unload(state: _State, vehicle: int, stops: list[Stop]) -> list[Stop]:
    """End a loaded route at its cheapest facility (unless its depot unloads)."""
    p = state.problem
    depot = p.vehicles[vehicle].depot
    if depot in p.facilities or not stops or stops[-1][0] == "f":
        return stops
    last = p.customers[stops[-1][1]].node
    best = min(p.facilities, key=lambda f: int(p.duration[last, f] + p.duration[f, depot]))
    return [*stops, ("f", best)]
