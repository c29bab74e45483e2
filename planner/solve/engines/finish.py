"""What every engine's routes go through: close, tidy, repair, complete, polish.

Whatever an engine returns is closed (the cheapest facility before the depot when the
truck would come home loaded), tidied (facility stops that unload nothing go),
repaired (visits dropped until :func:`~planner.solve.schedule.schedule_route` finds no
fault), completed (left-out visits put back where they now fit) and polished (visits
swapped or moved while the exact cost falls): :func:`finish_day`. The engines model
some rules only approximately -- PyVRP has no breaks, OR-Tools may break inside a
leg -- so this step is what makes their routes right by :mod:`planner.solve.schedule`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import RouteSchedule, end_facility, schedule_route

_INSERT_PLACES = 8  # places per route, by shortest detour, tried for a left-out visit


@dataclass
class PolishWork:
    """How much more polishing a day may do, counted in stops scheduled (work, not
    time: the same routes come out however busy the machine). Unbounded by default."""

    left: float = math.inf

    def take(self, stops: int) -> bool:
        """Whether a candidate of ``stops`` stops may still be scheduled (and spend it)."""
        if self.left <= 0:
            return False
        self.left -= stops + 1
        return True


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


def polish_route(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    route: Route,
    deadline: float,
    work: PolishWork | None = None,
) -> Route:
    """Swap and move visits of a feasible route while its exact cost falls.

    First improvement over all swaps of two visits and all moves of one visit to
    another place (facility stops stay), until none helps, ``deadline``
    (:func:`time.monotonic`) passes or ``work`` is spent. The result is feasible and
    no dearer.
    """
    work = work or PolishWork()
    best = schedule_route(problem, day, visits, route)
    if not best.feasible:
        return route
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for cand in _neighbours(route):
            if time.monotonic() >= deadline or not work.take(len(cand.stops)):
                break
            cand = tidy_route(problem, day, visits, close_route(problem, visits, cand))
            sched = schedule_route(problem, day, visits, cand)
            if sched.feasible and sched.cost < best.cost - 1e-9:
                route, best, improved = cand, sched, True
                break
    return route


def _neighbours(route: Route) -> Iterable[Route]:
    """Routes one swap or one move of a visit away from ``route``."""
    pairs = list(zip(route.stops, route.visits, strict=True))
    where = [p for p, (_, vi) in enumerate(pairs) if vi >= 0]
    for i, a in enumerate(where):
        for b in where[i + 1 :]:
            new = pairs.copy()
            new[a], new[b] = new[b], new[a]
            yield Route(route.vehicle, tuple(n for n, _ in new), tuple(v for _, v in new))
    for a in where:
        rest = pairs[:a] + pairs[a + 1 :]
        for b in range(len(pairs)):
            if b in (a, a + 1):
                continue
            new = rest.copy()
            new.insert(b if b < a else b - 1, pairs[a])
            yield Route(route.vehicle, tuple(n for n, _ in new), tuple(v for _, v in new))


def insert_visits(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    routes: Sequence[Route],
    left: Iterable[int],
    deadline: float,
) -> tuple[list[Route], list[int]]:
    """Put left-out visits where they fit best, until ``deadline``.

    A visit may go anywhere in a route (or start the route of an idle vehicle), alone
    or followed by an unload at the facility nearest it; the places with the shortest
    detours are scheduled exactly and the cheapest feasible one taken. Returns the
    routes and the visits still left out.
    """
    out = {r.vehicle: r for r in routes}
    for k in problem.vehicles_on(day):
        out.setdefault(k, Route(k, (), ()))
    cost = {k: schedule_route(problem, day, visits, r).cost for k, r in out.items()}
    dur = problem.duration
    still: list[int] = []
    for vi in sorted(left):
        node = visits[vi].node
        best: tuple[float, Route] | None = None
        for k, r in out.items():
            home = problem.vehicles[k].depot
            path = (home, *r.stops, home)
            detour = sorted(
                range(len(r.stops) + 1),
                key=lambda p: (
                    dur[path[p], node] + dur[node, path[p + 1]] - dur[path[p], path[p + 1]]
                ),
            )
            fac, _, _ = end_facility(problem, k, node)
            for pos in detour[:_INSERT_PLACES]:
                if time.monotonic() >= deadline:
                    break
                for extra in (((node, vi),), ((node, vi), (fac, -1))):
                    stops = r.stops[:pos] + tuple(n for n, _ in extra) + r.stops[pos:]
                    idx = r.visits[:pos] + tuple(i for _, i in extra) + r.visits[pos:]
                    cand = close_route(problem, visits, Route(k, stops, idx))
                    sched = schedule_route(problem, day, visits, cand)
                    delta = sched.cost - cost[k]
                    if sched.feasible and (best is None or delta < best[0]):
                        best = (delta, cand)
        if best is None:
            still.append(vi)
            continue
        route = best[1]
        out[route.vehicle] = route
        cost[route.vehicle] += best[0]
    kept = [r for r in out.values() if r.stops]
    return kept, still


def finish_day(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    raw: Iterable[Route],
    unrouted: Iterable[int],
    deadline: float,
    polish: PolishWork | None = None,
) -> DaySolution:
    """Close, repair, complete and polish an engine's routes into the day's solution.

    ``raw`` are the engine's routes (visit stops and reload stops); ``unrouted`` the
    visits it was not given. Visits in neither, and visits dropped in repair, are put
    back where they fit (:func:`insert_visits`) or reported unrouted. Completing and
    polishing stop at ``deadline`` (:func:`time.monotonic`), polishing also when
    ``polish`` is spent (all routes share it); ``unrouted`` visits are not tried again.
    """
    skipped = set(unrouted)
    left: set[int] = set()
    routes: list[Route] = []
    for r in raw:
        route, dropped = repair_route(problem, day, visits, close_route(problem, visits, r))
        left.update(dropped)
        if any(i >= 0 for i in route.visits):
            routes.append(route)
    served = {i for r in routes for i in r.visits if i >= 0}
    left.update(i for i in range(len(visits)) if i not in served and i not in skipped)
    if left:
        routes, rest = insert_visits(problem, day, visits, routes, left, deadline)
        left = set(rest)
    polish = polish or PolishWork()
    routes = [polish_route(problem, day, visits, r, deadline, polish) for r in routes]
    routes.sort(key=lambda r: r.vehicle)
    return DaySolution(day, tuple(routes), tuple(sorted(left | skipped)))
