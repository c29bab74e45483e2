"""Routing engines: each routes one day of a :class:`PeriodicProblem`.

OR-Tools types never leave ``ortools_engine``; PyVRP types never leave
``pyvrp_engine``. Use :func:`get_engine` to pick one by name.

The helpers below are shared by the engines: whatever an engine returns is first
closed (the cheapest facility before the depot when the truck would come home
loaded), tidied (facility stops that unload nothing go) and repaired (visits
dropped until :func:`~planner.solve.schedule.schedule_route` finds no fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from planner.solve.engines.protocol import RoutingEngine
from planner.solve.problem import DayVisit, PeriodicProblem, Route
from planner.solve.schedule import RouteSchedule, end_facility, schedule_route

ENGINES: tuple[str, ...] = ("pyvrp", "ortools")
"""Names :func:`get_engine` accepts; the first is the default."""


def get_engine(name: str) -> RoutingEngine:
    """The routing engine called ``name`` (one of :data:`ENGINES`), with its defaults.

    Raises
    ------
    ValueError
        When ``name`` is not a known engine.
    """
    if name == "pyvrp":
        from planner.solve.engines.pyvrp_engine import PyVRPEngine

        return PyVRPEngine()
    if name == "ortools":
        from planner.solve.engines.ortools_engine import ORToolsEngine

        return ORToolsEngine()
    raise ValueError(f"Unknown routing engine {name!r}; expected one of {', '.join(ENGINES)}.")


def cost_scale(problem: PeriodicProblem, vehicles: Sequence[int]) -> float:
    """Factor turning the vehicles' float unit costs into integers (the largest -> 1000)."""
    if problem.objective == "duration":
        return 1.0
    top = max(
        max(problem.vehicles[k].cost_per_distance, problem.vehicles[k].cost_per_duration)
        for k in vehicles
    )
    return 1000.0 / top if top > 0 else 1.0


def break_reserve(problem: PeriodicProblem, vehicle: int) -> int:
    """The lunch break's duration if it can fall inside ``vehicle``'s shift, else 0."""
    v = problem.vehicles[vehicle]
    if v.break_duration <= 0 or v.break_window is None:
        return 0
    if v.break_window[1] < v.shift[0] or v.break_window[0] > v.shift[1]:
        return 0
    return v.break_duration


def tidy_route(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], route: Route
) -> Route:
    """Drop facility stops that unload nothing, when that breaks no rule the route kept."""
    ndim = len(problem.dimensions)
    keep: list[int] = []
    load = [0] * ndim
    for pos, vi in enumerate(route.visits):
        if vi == -1:
            if not any(load):
                continue
            load = [0] * ndim
        else:
            load = [a + b for a, b in zip(load, visits[vi].demand, strict=True)]
        keep.append(pos)
    if len(keep) == len(route.stops):
        return route
    tidy = Route(
        route.vehicle,
        tuple(route.stops[p] for p in keep),
        tuple(route.visits[p] for p in keep),
    )
    before = schedule_route(problem, day, visits, route)
    after = schedule_route(problem, day, visits, tidy)
    return tidy if len(after.violations) <= len(before.violations) else route


def close_route(problem: PeriodicProblem, visits: Sequence[DayVisit], route: Route) -> Route:
    """Add the cheapest facility before the depot if the route would return loaded."""
    veh = problem.vehicles[route.vehicle]
    if not route.stops or route.visits[-1] == -1 or veh.depot in problem.facilities:
        return route
    load = [0] * len(problem.dimensions)
    for vi in route.visits:
        if vi == -1:
            load = [0] * len(load)
        else:
            load = [a + b for a, b in zip(load, visits[vi].demand, strict=True)]
    if not any(load):
        return route
    fac, _, _ = end_facility(problem, route.vehicle, route.stops[-1])
    return replace(route, stops=(*route.stops, fac), visits=(*route.visits, -1))


def repair_route(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], route: Route
) -> tuple[Route, tuple[int, ...]]:
    """Drop visits from ``route`` until :func:`schedule_route` finds it feasible.

    Each round drops the visit whose removal leaves the fewest violations (then the
    lowest cost), then closes and tidies the route again.

    Returns
    -------
    tuple[Route, tuple[int, ...]]
        The feasible route (possibly empty) and the dropped visit indices, in order.
    """
    route = tidy_route(problem, day, visits, close_route(problem, visits, route))
    dropped: list[int] = []
    current = schedule_route(problem, day, visits, route)
    while not current.feasible:
        best: tuple[tuple[int, float], Route, RouteSchedule, int] | None = None
        for pos, vi in enumerate(route.visits):
            if vi == -1:
                continue
            cand = Route(
                route.vehicle,
                route.stops[:pos] + route.stops[pos + 1 :],
                route.visits[:pos] + route.visits[pos + 1 :],
            )
            cand = tidy_route(problem, day, visits, close_route(problem, visits, cand))
            sched = schedule_route(problem, day, visits, cand)
            key = (len(sched.violations), sched.cost)
            if best is None or key < best[0]:
                best = (key, cand, sched, vi)
        if best is None:  # only facility stops left
            route = Route(route.vehicle, (), ())
            current = schedule_route(problem, day, visits, route)
            break
        _, route, current, vi = best
        dropped.append(vi)
    return route, tuple(dropped)


def serviceable(problem: PeriodicProblem, day: int, visits: Sequence[DayVisit]) -> tuple[bool, ...]:
    """Whether each visit can be served on its own by some vehicle working on ``day``."""
    vehicles = problem.vehicles_on(day)
    out = []
    for vi, v in enumerate(visits):
        ok = False
        for k in vehicles:
            route = close_route(problem, visits, Route(k, (v.node,), (vi,)))
            if schedule_route(problem, day, visits, route).feasible:
                ok = True
                break
        out.append(ok)
    return tuple(out)
