"""The one truth of a route's timing, load and cost.

:func:`schedule_route` simulates a vehicle's day along a :class:`~planner.solve.problem.Route`:
it leaves its depot, drives every leg at the vehicle's speed (the duration matrix times
``speed_factor``, rounded up), waits for time windows, collects each visit's demand,
unloads at facilities (load back to zero after ``facility_service``), takes the lunch
break and returns to its depot. Every engine's routes are re-checked here; a route this
module calls infeasible must never leave an engine.

Rules, in brief:

- The depot departure is the latest one that does not make the return later (so a
  route does not leave at the shift start only to wait for a window).
- The lunch break (``break_duration`` > 0 with a ``break_window``) must start inside
  the window. It is not part of the route when it fits before the departure (departure
  at or after window start + duration) or after the return (return at or before the
  window end). Otherwise it is taken at the first place where the truck would start
  something (a service or a leg) after the window opens -- while waiting there, if the
  truck waits -- or earlier, waiting for the window to open, when the next place would
  only be reached after the window closes. If that placement breaks a time limit, the
  other places are tried and the best one kept. The break is a step of its own, placed
  at the node where the truck is.
- A loaded truck must unload at a facility before returning, unless its depot is itself
  a facility (it then unloads on return, in no extra time).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from planner.solve.problem import (
    DaySolution,
    DayVisit,
    IntMatrix,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    Vehicle,
    day_visits,
)

_EPS = 1e-9  # guards the rounding up of scaled travel times against float noise


def scaled_time(duration: int, factor: float) -> int:
    """A travel time at a vehicle's speed: ``duration * factor``, rounded up."""
    if factor == 1.0:
        return int(duration)
    return math.ceil(duration * factor - _EPS)


def travel_matrix(problem: PeriodicProblem, vehicle: int) -> IntMatrix:
    """The duration matrix at ``vehicle``'s speed (rounded up like :func:`scaled_time`)."""
    factor = problem.vehicles[vehicle].speed_factor
    if factor == 1.0:
        return problem.duration
    out: IntMatrix = np.ceil(problem.duration * factor - _EPS).astype(np.int64)
    out.setflags(write=False)
    return out


def leg_cost(problem: PeriodicProblem, vehicle: Vehicle, distance: int, travel: int) -> float:
    """What a leg costs under the problem's objective, service and waiting aside."""
    if problem.objective == "duration":
        return float(travel)
    return vehicle.cost_per_distance * distance + vehicle.cost_per_duration * travel


def end_facility(problem: PeriodicProblem, vehicle: int, node: int) -> tuple[int, int, int]:
    """The cheapest facility to unload at between ``node`` and ``vehicle``'s depot.

    Returns
    -------
    tuple[int, int, int]
        The facility node, and the distance and travel time of ``node`` -> facility ->
        depot (unloading time excluded). Ties go to the facility listed first.
    """
    veh = problem.vehicles[vehicle]
    best: tuple[float, int, int, int] | None = None
    for f in problem.facilities:
        dist = int(problem.distance[node, f] + problem.distance[f, veh.depot])
        time = scaled_time(int(problem.duration[node, f]), veh.speed_factor) + scaled_time(
            int(problem.duration[f, veh.depot]), veh.speed_factor
        )
        cost = leg_cost(problem, veh, dist, time)
        if best is None or cost < best[0]:
            best = (cost, f, dist, time)
    assert best is not None  # the problem guarantees at least one facility
    return best[1], best[2], best[3]


@dataclass(frozen=True)
class Step:
    """One step of a scheduled route, in time order.

    ``kind`` is ``"visit"``, ``"facility"`` or ``"break"``; ``visit`` indexes the day's
    visits (-1 for facilities and the break). ``arrival`` is when the truck is ready
    at ``node`` (for a stop right after a break there: the break's end), ``start`` when
    the service or break starts (``start - arrival`` is waiting), ``departure`` when it
    ends. ``load`` is the load after the step; ``distance`` and ``travel`` describe the
    leg that led to the step (zero when the truck was already at ``node``).
    """

    kind: str
    node: int
    visit: int
    arrival: int
    start: int
    departure: int
    load: tuple[int, ...]
    distance: int
    travel: int

    @property
    def waiting(self) -> int:
        return self.start - self.arrival


@dataclass(frozen=True)
class RouteSchedule:
    """A route's timing, load and cost, and every rule it breaks.

    ``start`` is the depot departure and ``end`` the return; ``duration`` is
    ``end - start`` (travel, service, waiting and an en-route break). ``travel_time``
    and ``distance`` include the return leg, which ``return_distance`` and
    ``return_travel`` give alone. ``violations`` lists each broken rule as a sentence.
    """

    vehicle: int
    day: int
    steps: tuple[Step, ...]
    start: int
    end: int
    distance: int
    duration: int
    travel_time: int
    return_distance: int
    return_travel: int
    end_load: tuple[int, ...]
    cost: float
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def stops(self) -> tuple[Step, ...]:
        """The visit and facility steps, in route order (the break left out)."""
        return tuple(s for s in self.steps if s.kind != "break")

    @property
    def break_step(self) -> Step | None:
        return next((s for s in self.steps if s.kind == "break"), None)

    @property
    def waiting(self) -> int:
        return sum(s.waiting for s in self.steps)


@dataclass(frozen=True)
class _Leg:
    node: int
    visit: int
    distance: int
    travel: int
    service: int
    early: int
    late: int | None


@dataclass(frozen=True)
class _Pass:
    """One forward simulation: per-stop times, the break and the return."""

    t0: int
    arrival: tuple[int, ...]
    start: tuple[int, ...]
    departure: tuple[int, ...]
    brk: tuple[int, int] | None  # (point, break start); point 2i: before stop i, 2i+1: after
    end: int
    violations: tuple[str, ...]
    late: int  # how many of the violations are late starts (windows, the break)


_NONE = -1  # break mode: no break in the route
_GREEDY = -2  # break mode: the rule of the module docstring


def _forward(legs: Sequence[_Leg], ret_travel: int, veh: Vehicle, t0: int, mode: int) -> _Pass:
    """Simulate the route from departure ``t0``; ``mode`` is _NONE, _GREEDY or a point."""
    bw0, bw1 = veh.break_window if veh.break_window else (0, 0)
    dur = veh.break_duration
    arr: list[int] = []
    beg: list[int] = []
    dep: list[int] = []
    brk: tuple[int, int] | None = None
    t = t0
    n = len(legs)
    for i, leg in enumerate(legs):
        a = t + leg.travel
        s = max(a, leg.early)
        if mode != _NONE and brk is None:
            take = mode == 2 * i
            if mode == _GREEDY:
                take = s >= bw0 or s + leg.service > bw1
            if take:
                brk = (2 * i, max(a, bw0))
                s = max(s, brk[1] + dur)
        f = s + leg.service
        t = f
        if mode != _NONE and brk is None:
            nxt = f + (legs[i + 1].travel if i + 1 < n else ret_travel)
            take = mode == 2 * i + 1
            if mode == _GREEDY:
                take = f >= bw0 or nxt > bw1
            if take:
                brk = (2 * i + 1, max(f, bw0))
                t = brk[1] + dur
        arr.append(a)
        beg.append(s)
        dep.append(t)
    end = t + ret_travel
    out: list[str] = []
    for i, leg in enumerate(legs):
        if leg.late is not None and beg[i] > leg.late:
            out.append(
                f"Stop {i + 1} (node {leg.node}) starts at {beg[i]}, "
                f"after its window closes at {leg.late}."
            )
    if brk is not None and brk[1] > bw1:
        p = brk[0] // 2
        out.append(
            f"The break cannot start inside its window {bw0}-{bw1}: the truck is first "
            f"free at {brk[1]} at stop {p + 1} (node {legs[p].node})."
        )
    late = len(out)
    if end > veh.shift[1]:
        out.append(f"Returns to the depot at {end}, after the shift ends at {veh.shift[1]}.")
    if end - t0 > veh.max_duration:
        out.append(f"Lasts {end - t0}, more than the maximum duration {veh.max_duration}.")
    return _Pass(t0, tuple(arr), tuple(beg), tuple(dep), brk, end, tuple(out), late)


def _latest(legs: Sequence[_Leg], ret: int, veh: Vehicle, lo: int, hi: int, mode: int) -> _Pass:
    """The pass with the latest departure in [lo, hi] that returns no later than from lo."""
    first = _forward(legs, ret, veh, lo, mode)
    best = first
    while lo < hi:
        mid = (lo + hi + 1) // 2
        p = _forward(legs, ret, veh, mid, mode)
        if p.end <= first.end and p.late <= first.late:
            best, lo = p, mid
        else:
            hi = mid - 1
    return best


def _rank(p: _Pass) -> tuple[int, int, int]:
    return (len(p.violations), p.end, p.end - p.t0)


def _timing(legs: Sequence[_Leg], ret: int, veh: Vehicle) -> _Pass:
    """Choose the departure and the break place as the module docstring says."""
    s0, s1 = veh.shift
    s1 = max(s0, s1)
    if not legs:
        return _Pass(s0, (), (), (), None, s0, (), 0)
    win = veh.break_window
    if veh.break_duration <= 0 or win is None or win[1] < s0 or win[0] > s1:
        return _latest(legs, ret, veh, s0, s1, _NONE)
    after = win[0] + veh.break_duration  # departing from here, the break fits before
    options = []
    if s0 < after:
        options.append(_latest(legs, ret, veh, s0, min(s1, after - 1), _GREEDY))
    if after <= s1:
        options.append(_latest(legs, ret, veh, max(s0, after), s1, _NONE))
    best = min(options, key=_rank)
    # Other break places may help -- unless the route fails even without a break.
    if best.violations and s0 < after and not _latest(legs, ret, veh, s0, s1, _NONE).violations:
        free = _forward(legs, ret, veh, s0, _NONE)
        for point in range(2 * len(legs)):
            i = point // 2
            idle = free.arrival[i] if point % 2 == 0 else free.departure[i]
            if idle > win[1]:
                break
            p = _latest(legs, ret, veh, s0, min(s1, after - 1), point)
            if _rank(p) < _rank(best):
                best = p
    return best


def schedule_route(  # noqa: C901, PLR0915 - the one truth of a route, one pass for speed
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], route: Route
) -> RouteSchedule:
    """Schedule ``route`` on ``day`` and list the rules it breaks.

    Parameters
    ----------
    problem
        The problem the route belongs to.
    day
        The day index (vehicle availability is checked against it).
    visits
        The day's visits; ``route.visits`` indexes them.
    route
        The vehicle and its stops (the depot implicit at both ends).

    Returns
    -------
    RouteSchedule
        Times, loads, totals, cost and violations.

    Raises
    ------
    ValueError
        When the route does not fit the problem: unknown vehicle or visit, a stop whose
        node is not its visit's node, or a facility stop at a node that is no facility.
    """
    if not 0 <= route.vehicle < len(problem.vehicles):
        raise ValueError(f"Route vehicle {route.vehicle} is not in the problem.")
    if len(route.stops) != len(route.visits):
        raise ValueError("Expected one visit index per route stop.")
    veh = problem.vehicles[route.vehicle]
    facilities = set(problem.facilities)
    ndim = len(problem.dimensions)
    legs: list[_Leg] = []
    prev = veh.depot
    for pos, (node, vi) in enumerate(zip(route.stops, route.visits, strict=True)):
        if vi == -1:
            if node not in facilities:
                raise ValueError(f"Stop {pos + 1}: node {node} is not a facility.")
            service, early, late = problem.facility_service, 0, None
        else:
            if not 0 <= vi < len(visits):
                raise ValueError(f"Stop {pos + 1}: visit {vi} is not in the day's visits.")
            if visits[vi].node != node:
                raise ValueError(f"Stop {pos + 1}: node {node} is not visit {vi}'s node.")
            w = visits[vi].window
            service, early, late = visits[vi].service, (w[0] if w else 0), (w[1] if w else None)
        dist = int(problem.distance[prev, node])
        travel = scaled_time(int(problem.duration[prev, node]), veh.speed_factor)
        legs.append(_Leg(node, vi, dist, travel, service, early, late))
        prev = node
    ret_dist = int(problem.distance[prev, veh.depot]) if legs else 0
    ret_travel = scaled_time(int(problem.duration[prev, veh.depot]), veh.speed_factor)
    ret_travel = ret_travel if legs else 0

    tp = _timing(legs, ret_travel, veh)
    violations: list[str] = []
    if legs and day not in veh.days:
        violations.append(f"Vehicle {veh.name} does not work on day {day}.")
    twice = sorted(v for v, k in Counter(r for r in route.visits if r >= 0).items() if k > 1)
    violations += [f"Visit {v} is served more than once." for v in twice]

    # Loads, independent of timing.
    load = [0] * ndim
    over = [False] * ndim
    steps: list[Step] = []
    for i, leg in enumerate(legs):
        arrival, dist, travel = tp.arrival[i], leg.distance, leg.travel
        if tp.brk is not None and tp.brk[0] == 2 * i:
            # Break on arrival: the break step takes the leg; the stop follows it.
            brk = _break_step(leg.node, arrival, tp.brk[1], veh, load, dist, travel)
            steps.append(brk)
            arrival, dist, travel = brk.departure, 0, 0
        if leg.visit == -1:
            load = [0] * ndim
        else:
            load = [a + b for a, b in zip(load, visits[leg.visit].demand, strict=True)]
        for d in range(ndim):
            if load[d] > veh.capacity[d] and not over[d]:
                over[d] = True
                violations.append(
                    f"Carries {load[d]} {problem.dimensions[d]} after stop {i + 1} "
                    f"(node {leg.node}), more than the capacity {veh.capacity[d]}."
                )
        kind = "facility" if leg.visit == -1 else "visit"
        end = tp.start[i] + leg.service
        steps.append(
            Step(kind, leg.node, leg.visit, arrival, tp.start[i], end, tuple(load), dist, travel)
        )
        if tp.brk is not None and tp.brk[0] == 2 * i + 1:
            steps.append(_break_step(leg.node, end, tp.brk[1], veh, load, 0, 0))
    if any(load) and veh.depot not in facilities:
        loaded = ", ".join(f"{q} {n}" for q, n in zip(load, problem.dimensions, strict=True) if q)
        violations.append(f"Returns to the depot loaded ({loaded}) without unloading.")
    n_fac = sum(1 for leg in legs if leg.visit == -1)
    if problem.max_reloads is not None and n_fac > problem.max_reloads:
        violations.append(f"Unloads {n_fac} times, more than the maximum {problem.max_reloads}.")
    violations += tp.violations

    distance = sum(leg.distance for leg in legs) + ret_dist
    travel_time = sum(leg.travel for leg in legs) + ret_travel
    duration = tp.end - tp.t0
    if problem.objective == "duration":
        cost = float(travel_time)
    else:
        cost = veh.cost_per_distance * distance + veh.cost_per_duration * duration
    return RouteSchedule(
        vehicle=route.vehicle,
        day=day,
        steps=tuple(steps),
        start=tp.t0,
        end=tp.end,
        distance=distance,
        duration=duration,
        travel_time=travel_time,
        return_distance=ret_dist,
        return_travel=ret_travel,
        end_load=tuple(load),
        cost=cost,
        violations=tuple(violations),
    )


def _break_step(
    node: int, arrival: int, start: int, veh: Vehicle, load: Sequence[int], dist: int, travel: int
) -> Step:
    end = start + veh.break_duration
    return Step("break", node, -1, arrival, start, end, tuple(load), dist, travel)


def day_cost(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], solution: DaySolution
) -> float:
    """Total cost of a day's routes (see :func:`schedule_route`)."""
    return sum(schedule_route(problem, day, visits, r).cost for r in solution.routes)


def month_cost(
    problem: PeriodicProblem,
    patterns: Sequence[int | None],
    days: Sequence[DaySolution],
    day_problems: dict[int, PeriodicProblem],
) -> float:
    """The month's routed cost, each day under the problem it was routed with."""
    pats = tuple(patterns)
    total = 0.0
    for ds in days:
        prob = day_problems.get(ds.day, problem)
        visits: tuple[DayVisit, ...] = day_visits(prob, pats, ds.day)
        total += day_cost(prob, ds.day, visits, ds)
    return total


def solution_cost(problem: PeriodicProblem, solution: PeriodicSolution) -> float:
    """Total cost of every day's routes of ``solution``."""
    total = 0.0
    for ds in solution.days:
        total += day_cost(problem, ds.day, day_visits(problem, solution.patterns, ds.day), ds)
    return total
