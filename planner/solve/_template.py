"""A day's routes derived from a sibling day's (定时 templates).

Two days that share most of their points (a point visited on the 11th and the 22nd,
with most of its neighbours on the same two days) keep their arrival times by
construction when the later day drives the earlier day's routes: the same truck
(or an interchangeable one), the same order, the points not due that day skipped
and the truck waiting where skipping them would make it early. Skipping a stop
never makes a route later or heavier (travel times are shortest paths), so what is
left stays feasible; the day's other points are then inserted where they cost
least, inside their target window where one is given.

Used by :func:`planner.solve.timing.time_month` as one more candidate per day; its
score decides whether the derived routes replace the day's.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.solve._clock import DaySize, Meter
from planner.solve.engines import bounded_engine
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import end_facility, schedule_route

Window = tuple[int, int]


@dataclass(frozen=True)
class Engine:
    """The routing engine, its work per call (seconds of work, not of the clock), the seed."""

    name: str
    seconds: float
    seed: int


def with_kept(problem: PeriodicProblem, kept: Mapping[int, Window]) -> PeriodicProblem:
    """``problem`` with the given customers' windows (customer index → window)."""
    if not kept:
        return problem
    customers = tuple(
        dataclasses.replace(c, window=kept[i]) if i in kept else c
        for i, c in enumerate(problem.customers)
    )
    return problem.with_windows(customers)


def visits_under(problem: PeriodicProblem, visits: Sequence[DayVisit]) -> tuple[DayVisit, ...]:
    """``visits`` with the windows ``problem`` gives their customers (what the plan times)."""
    return tuple(
        dataclasses.replace(v, window=problem.customers[v.customer].window) for v in visits
    )


def engine_routes(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    engine: Engine,
    meter: Meter | None = None,
) -> DaySolution | None:
    """``engine``'s routes for ``day``'s ``visits`` under ``problem`` as it is (with the
    windows it holds), or ``None`` where the engine leaves a visit out; the call is
    counted on ``meter``."""
    size = DaySize.of(problem, day, visits)
    if meter is not None:
        meter.engine(engine.name, engine.seconds, size)
    router = bounded_engine(engine.name, engine.seconds, size)
    sol = router.route_day(problem, day, visits, time_limit=engine.seconds, seed=engine.seed)
    return None if sol.unrouted else sol


def siblings(visits: Mapping[int, Sequence[DayVisit]], day: int, count: int) -> list[int]:
    """Up to ``count`` other days sharing the most points with ``day`` (ties: earlier day)."""
    here = {v.customer for v in visits[day]}
    shared = []
    for other in sorted(visits):
        if other != day:
            n = len(here.intersection(v.customer for v in visits[other]))
            if n:
                shared.append((-n, other))
    return [other for _, other in sorted(shared)[:count]]


def twin_key(problem: PeriodicProblem, vehicle: int) -> tuple[object, ...]:
    """What makes two trucks interchangeable: everything but their name and days."""
    veh = problem.vehicles[vehicle]
    return dataclasses.astuple(dataclasses.replace(veh, name="", days=()))


def _truck_for(problem: PeriodicProblem, vehicle: int, free: list[int]) -> int | None:
    """``vehicle`` if it is free today, else the first free interchangeable truck."""
    if vehicle in free:
        return vehicle
    key = twin_key(problem, vehicle)
    return next((v for v in free if twin_key(problem, v) == key), None)


def _projected(
    route: Route, index: Mapping[int, int], source_visits: Sequence[DayVisit], facilities: set[int]
) -> tuple[list[int], list[int]]:
    """``route``'s stops that are due today, as (nodes, today's visit indices).

    An unload is kept only after a visit since the last kept unload (an empty truck
    does not drive to the station).
    """
    nodes: list[int] = []
    vis: list[int] = []
    for node, vi in zip(route.stops, route.visits, strict=True):
        if vi >= 0:
            k = index.get(source_visits[vi].customer)
            if k is not None:
                nodes.append(node)
                vis.append(k)
        elif node not in facilities or (vis and vis[-1] >= 0):
            nodes.append(node)
            vis.append(vi)
    return nodes, vis


def _with_unloads(
    problem: PeriodicProblem,
    vehicle: int,
    nodes: list[int],
    vis: list[int],
    visits: Sequence[DayVisit],
) -> tuple[list[int], list[int]]:
    """An unload added before each visit that today's loads would not fit in the truck.

    A visit collects more on one day than on another (the days since the last visit
    differ), so a trip that fitted on the source day may not today; the station
    chosen is the one that adds least driving between the two stops.
    """
    cap = problem.vehicles[vehicle].capacity
    facilities = set(problem.facilities)
    load = [0] * len(cap)
    out_nodes: list[int] = []
    out_vis: list[int] = []
    for node, k in zip(nodes, vis, strict=True):
        if k >= 0:
            demand = visits[k].demand
            if any(a + b > c for a, b, c in zip(load, demand, cap, strict=True)) and any(load):
                prev = out_nodes[-1] if out_nodes else problem.vehicles[vehicle].depot
                f = min(
                    problem.facilities,
                    key=lambda f: int(problem.duration[prev, f] + problem.duration[f, node]),
                )
                out_nodes.append(f)
                out_vis.append(-1)
                load = [0] * len(cap)
            load = [a + b for a, b in zip(load, demand, strict=True)]
        elif node in facilities:
            load = [0] * len(cap)
        out_nodes.append(node)
        out_vis.append(k)
    return out_nodes, out_vis


def project(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    source: DaySolution,
    source_visits: Sequence[DayVisit],
) -> tuple[list[Route], list[int]]:
    """``source``'s routes driven on ``day``: the routes, and today's visits left over.

    A route whose truck (and every twin) is taken today, or that breaks a rule with
    today's loads, is dropped and its visits left over.
    """
    index = {v.customer: k for k, v in enumerate(visits)}
    free = list(problem.vehicles_on(day))
    facilities = set(problem.facilities)
    routes: list[Route] = []
    placed: set[int] = set()
    for r in source.routes:
        truck = _truck_for(problem, r.vehicle, free)
        nodes, vis = _projected(r, index, source_visits, facilities)
        if truck is None or not any(k >= 0 for k in vis):
            continue
        nodes, vis = _with_unloads(problem, truck, nodes, vis, visits)
        cand = Route(truck, tuple(nodes), tuple(vis))
        if not schedule_route(problem, day, visits, cand).feasible:
            continue
        free.remove(truck)
        routes.append(cand)
        placed.update(k for k in vis if k >= 0)
    return routes, [k for k in range(len(visits)) if k not in placed]


def insert_left(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    routes: list[Route],
    left: Sequence[int],
    wanted: Mapping[int, Window],
    late_weight: float,
    *,
    only_wanted: bool = False,
) -> list[Route] | None:
    """``routes`` with every visit of ``left`` inserted where it costs least, or ``None``.

    A visit is tried inside its ``wanted`` window (customer index → window) and open
    all day at ``late_weight`` more; on any route at any place, or alone on a free
    truck. Visits already routed keep the windows of ``wanted`` they keep now.
    With ``only_wanted`` a visit must keep its window, or ``None`` is returned.
    """
    vis = list(visits)
    routes = list(routes)
    for r in routes:  # hold what the routes keep already
        for k in r.visits:
            tw = wanted.get(vis[k].customer) if k >= 0 else None
            if tw is not None:
                vis[k] = dataclasses.replace(vis[k], window=tw)
                if not schedule_route(problem, day, vis, r).feasible:
                    vis[k] = visits[k]
    costs = [schedule_route(problem, day, vis, r).cost for r in routes]
    for k in left:
        tw = wanted.get(visits[k].customer)
        options = [(visits[k].window, late_weight if tw is not None else 0.0)]
        if tw is not None:
            options = [(tw, 0.0)] if only_wanted else [(tw, 0.0), *options]
        best: tuple[float, int, Route, DayVisit] | None = None
        for window, penalty in options:
            vis[k] = dataclasses.replace(visits[k], window=window)
            for cand_i, cand in _insertions(problem, day, routes, k, visits[k].node):
                sched = schedule_route(problem, day, vis, cand)
                if not sched.feasible:
                    continue
                before = costs[cand_i] if cand_i < len(routes) else 0.0
                delta = sched.cost - before + penalty
                if best is None or delta < best[0] - 1e-9:
                    best = (delta, cand_i, cand, vis[k])
        if best is None:
            return None
        _, cand_i, cand, vis[k] = best
        if cand_i < len(routes):
            routes[cand_i] = cand
            costs[cand_i] = schedule_route(problem, day, vis, cand).cost
        else:
            routes.append(cand)
            costs.append(schedule_route(problem, day, vis, cand).cost)
    return routes


def _insertions(
    problem: PeriodicProblem, day: int, routes: Sequence[Route], k: int, node: int
) -> list[tuple[int, Route]]:
    """Every route with visit ``k`` put at every place, then ``k`` alone on each free truck."""
    out = []
    for i, r in enumerate(routes):
        for at in range(len(r.stops) + 1):
            out.append(
                (
                    i,
                    Route(
                        r.vehicle,
                        (*r.stops[:at], node, *r.stops[at:]),
                        (*r.visits[:at], k, *r.visits[at:]),
                    ),
                )
            )
    used = {r.vehicle for r in routes}
    seen: set[tuple[object, ...]] = set()
    for v in problem.vehicles_on(day):
        key = twin_key(problem, v)
        if v in used or key in seen:
            continue
        seen.add(key)  # one truck of each kind is enough to price a new route
        facility, _, _ = end_facility(problem, v, node)
        out.append((len(routes), Route(v, (node, facility), (k, -1))))
    return out


def route_left(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    routes: list[Route],
    left: list[int],
    targets: dict[int, Window],
    engine: Engine,
    meter: Meter | None = None,
) -> tuple[list[Route], list[int]]:
    """The visits ``left`` routed by the engine on the trucks ``routes`` leave free.

    Each keeps its target as a hard window where the engine can place it so; the
    visits it cannot place at all are returned. Engine calls are counted on ``meter``.
    """
    used = {r.vehicle for r in routes}
    free_only = dataclasses.replace(
        problem,
        vehicles=tuple(
            dataclasses.replace(v, days=()) if i in used else v
            for i, v in enumerate(problem.vehicles)
        ),
    )
    if not free_only.vehicles_on(day):
        return routes, left
    sub = [visits[k] for k in left]
    windows = {v.customer: targets[v.customer] for v in sub if v.customer in targets}
    size = DaySize.of(free_only, day, sub)
    router = bounded_engine(engine.name, engine.seconds, size)
    for _ in range(2):
        sub_vis = tuple(
            dataclasses.replace(v, window=windows.get(v.customer, v.window)) for v in sub
        )
        if meter is not None:
            meter.engine(engine.name, engine.seconds, size)
        sol = router.route_day(free_only, day, sub_vis, time_limit=engine.seconds, seed=engine.seed)
        if not sol.unrouted:
            break
        for j in sol.unrouted:  # these cannot keep their target today
            windows.pop(sub[j].customer, None)
    out = list(routes)
    for r in sol.routes:
        out.append(Route(r.vehicle, r.stops, tuple(left[j] if j >= 0 else -1 for j in r.visits)))
    return out, [left[j] for j in sol.unrouted]


def usual_trucks(
    visits: Mapping[int, Sequence[DayVisit]], days: Mapping[int, DaySolution]
) -> dict[int, int]:
    """Per customer, the truck that makes most of its visits (ties: the first one)."""
    counts: dict[int, Counter[int]] = defaultdict(Counter)
    for d in sorted(days):
        for r in days[d].routes:
            for vi in r.visits:
                if vi >= 0:
                    counts[visits[d][vi].customer][r.vehicle] += 1
    return {ci: min(c, key=lambda v: (-c[v], v)) for ci, c in counts.items()}


def hand_over(
    problem: PeriodicProblem,
    visits: Sequence[DayVisit],
    solution: DaySolution,
    usual: Mapping[int, int],
) -> DaySolution:
    """Give the day's routes to interchangeable trucks so points keep their usual truck."""
    on_day = problem.vehicles_on(solution.day)
    by_key: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for v in on_day:
        by_key[twin_key(problem, v)].append(v)
    routes = list(solution.routes)
    for trucks in by_key.values():
        idx = [i for i, r in enumerate(routes) if r.vehicle in trucks]
        if len(trucks) < 2 or not idx or len(trucks) > 7:
            continue

        def matches(i: int, v: int) -> int:
            return sum(
                1 for vi in routes[i].visits if vi >= 0 and usual.get(visits[vi].customer) == v
            )

        cur = tuple(routes[i].vehicle for i in idx)
        best = (sum(matches(i, v) for i, v in zip(idx, cur, strict=True)), cur)
        for perm in itertools.permutations(trucks, len(idx)):
            m = sum(matches(i, v) for i, v in zip(idx, perm, strict=True))
            if m > best[0]:
                best = (m, perm)
        for i, v in zip(idx, best[1], strict=True):
            routes[i] = dataclasses.replace(routes[i], vehicle=v)
    return dataclasses.replace(solution, routes=tuple(routes))
