"""Routing one day with PyVRP (iterated local search).

The mapping:

- clients are the day's visits: demand as multi-dimensional *pickup*, service
  duration, time window;
- each vehicle working that day is a vehicle type of its own: capacity, the shift as
  ``tw_early``/``tw_late``, ``max_duration`` as ``shift_duration``; vehicles of one
  kind share a routing profile: durations at their speed (``speed_factor``), and as
  "distance" what a leg costs them -- the travel time for objective ``"duration"`` (so
  PyVRP minimises travel time exactly), the distance cost for ``"cost"`` (plus a unit
  duration cost; money scaled so that the dearest minute costs 10, small beside
  PyVRP's penalties);
- the facilities are reload depots (``reload_depots``; unloading time as the depot's
  service duration; ``max_reloads`` less the final unload);
- the must-end-empty rule: a vehicle whose depot is no facility ends at an *end depot*
  of its own, reached from a visit at the cost of the cheapest visit -> facility ->
  depot detour (:func:`~planner.solve.schedule.end_facility`); that facility is put
  back when the route is read;
- the lunch break (PyVRP has none) is reserved: its duration comes off the shift end
  and the maximum duration.

The search runs in two halves. First every visit is required: PyVRP finds reload
trips far better so (with optional visits it rarely tries the reload that would make
room for one more). If that finds no feasible routes, the second half makes visits
optional with a prize above any insertion cost and starts from the first half's
routes, so only visits that do not fit are left out; otherwise the second half goes
on from the first. The routes are then closed, checked with
:func:`~planner.solve.schedule.schedule_route`, repaired and polished
(:func:`~planner.solve.engines.finish.finish_day`, the last tenth of ``time_limit``).

The search stops after ``time_limit`` seconds (or ``max_iterations`` when given:
only an iteration limit makes a run reproducible on every machine). Locations carry
no coordinates: PyVRP uses them only for plotting.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.constants import MAX_SIZE, MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, StoppingCriterion

from planner.solve.budget import ENGINE_FINISH_SHARE
from planner.solve.engines.finish import break_reserve, finish_day, serviceable
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import end_facility, scaled_time, travel_matrix

_OPEN = int(np.iinfo(np.int64).max)  # PyVRP's "no time window" value
_POLISH = ENGINE_FINISH_SHARE["pyvrp"]  # the finishing step's share of a call


@dataclass
class _Day:
    """A day's PyVRP data and how to read its solution back."""

    data: pyvrp.ProblemData
    vehicles: tuple[int, ...]  # vehicle type -> problem vehicle
    clients: tuple[int, ...]  # client -> day visit
    depots: tuple[int, ...]  # depot -> problem node
    prize: int  # for optional visits: more than any insertion costs
    fleet: tuple[tuple[int, ...], ...] = ()  # vehicle type -> its problem vehicles

    def vehicle_of(self) -> Callable[[int], int]:
        """Problem vehicle of each route by its vehicle type, in the order routes come."""
        fleet = self.fleet or tuple((k,) for k in self.vehicles)
        used = [0] * len(fleet)

        def pick(vehicle_type: int) -> int:
            used[vehicle_type] += 1
            return fleet[vehicle_type][used[vehicle_type] - 1]

        return pick


class PyVRPEngine:
    """Routes a day with PyVRP.

    Parameters
    ----------
    max_iterations
        Stop after this many iterations instead of at the time limit (``None``: time
        limit only). When set, neither the search nor the finishing steps read the
        clock, so a seed gives the same routes on any machine at any load.
    """

    name: str = "pyvrp"

    def __init__(self, max_iterations: int | None = None) -> None:
        self.max_iterations = max_iterations

    def _stop(self, seconds: float, share: float = 0.5) -> StoppingCriterion:
        """Stop after ``share`` of ``seconds`` (or of :attr:`max_iterations`)."""
        if self.max_iterations is None:
            return MaxRuntime(share * seconds)
        # The iterations alone end the search: no wall-clock guard, which would bind
        # on a busy machine and change the routes.
        return MaxIterations(int(self.max_iterations * share) + 1)

    def route_day(
        self,
        problem: PeriodicProblem,
        day: int,
        visits: Sequence[DayVisit],
        *,
        time_limit: float,
        seed: int,
    ) -> DaySolution:
        """Route ``visits`` with the vehicles working on ``day``; see the module docstring."""
        ok = serviceable(problem, day, visits)
        todo = tuple(i for i, good in enumerate(ok) if good)
        unrouted = [i for i, good in enumerate(ok) if not good]
        if not todo:
            return DaySolution(day, (), tuple(unrouted))
        single = single_trip_day(problem, day, len(todo))
        built = (
            _build_single(problem, day, visits, todo)
            if single
            else _build(problem, day, visits, todo)
        )
        search = (1 - _POLISH) * time_limit
        # Phase 1: every visit required -- PyVRP finds reload trips best this way. A
        # single-trip day (no reload modelling) gets the whole search in one run, as
        # plain PyVRP does; the second half follows only if that found no feasible routes.
        result = _solve(built.data, self._stop(search, 1.0 if single else 0.5), seed, None)
        if not (single and result.best.is_feasible()):
            data, best = built.data, result.best
            if not best.is_feasible():
                # Phase 2: visits optional with a prize above any insertion cost, started
                # from phase 1's routes, so the visits that do not fit are left out.
                data, best = _optional(data, best, built.prize)
            result = _solve(data, self._stop(search), seed, best)
        raw = _read_routes(built, visits, result.best)
        deadline = time.monotonic() + _POLISH * time_limit
        if self.max_iterations is not None:  # reproducible: finish without a clock
            deadline = math.inf
        return finish_day(problem, day, visits, raw, unrouted, deadline)


def _optional(
    data: pyvrp.ProblemData, best: pyvrp.Solution, prize: int
) -> tuple[pyvrp.ProblemData, pyvrp.Solution]:
    """``data`` with every client optional at ``prize``, and ``best`` on it."""
    data = data.replace(
        clients=[
            pyvrp.Client(
                c.location,
                delivery=c.delivery,
                pickup=c.pickup,
                service_duration=c.service_duration,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                prize=prize,
                required=False,
                name=c.name,
            )
            for c in data.clients()
        ]
    )
    routes_in = [
        pyvrp.Route(
            data,
            [pyvrp.Activity(a.type, a.idx) for a in r.schedule()[1:-1]],
            r.vehicle_type(),
        )
        for r in best.routes()
    ]
    return data, pyvrp.Solution(data, routes_in)


def _read_routes(built: _Day, visits: Sequence[DayVisit], best: pyvrp.Solution) -> list[Route]:
    """PyVRP's routes as ours (facility stops as visit index -1, depots left out)."""
    pick = built.vehicle_of()
    raw: list[Route] = []
    for r in best.routes():
        stops: list[int] = []
        idx: list[int] = []
        for act in r.schedule()[1:-1]:
            if act.is_depot():
                stops.append(built.depots[act.idx])
                idx.append(-1)
            else:
                vi = built.clients[act.idx]
                stops.append(visits[vi].node)
                idx.append(vi)
        raw.append(Route(pick(r.vehicle_type()), tuple(stops), tuple(idx)))
    return raw


def _solve(
    data: pyvrp.ProblemData,
    stop: StoppingCriterion,
    seed: int,
    initial: pyvrp.Solution | None,
) -> pyvrp.Result:
    """``pyvrp.solve`` without its warning that penalties hit their bound.

    That warning only says that no feasible solution was found yet: the routes are
    checked and repaired afterwards anyway.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return pyvrp.solve(
            data, stop, seed=seed, collect_stats=False, display=False, initial_solution=initial
        )


def _build(  # noqa: PLR0915 - one PyVRP model, built in one place
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], todo: Sequence[int]
) -> _Day:
    """PyVRP data for the visits ``todo`` of ``day`` (every client required)."""
    vehicles = problem.vehicles_on(day)
    facilities = set(problem.facilities)
    visit_nodes = {visits[i].node for i in todo}
    nodes = sorted({problem.vehicles[k].depot for k in vehicles} | facilities | visit_nodes)
    loc = {n: i for i, n in enumerate(nodes)}
    ends = [k for k in vehicles if problem.vehicles[k].depot not in facilities]
    end_loc = {k: len(nodes) + j for j, k in enumerate(ends)}
    size = len(nodes) + len(ends)
    sub = np.ix_(nodes, nodes)
    money = _money_scale(problem, vehicles)

    # One profile per kind of vehicle (speed, and cost per metre for "cost"): travel
    # times, and as "distance" what a leg costs (the travel time, or the distance cost
    # in scaled money). Each end depot's column holds its own vehicle's way home.
    def kind(k: int) -> tuple[float, float]:
        v = problem.vehicles[k]
        return v.speed_factor, (v.cost_per_distance if problem.objective == "cost" else 0.0)

    kinds = sorted({kind(k) for k in vehicles})
    ends_col: dict[int, tuple[list[int], list[int]]] = {}
    for k in ends:
        per_m = money * problem.vehicles[k].cost_per_distance
        col_d, col_t = [], []
        for n in nodes:
            d, t, unload = _to_end(problem, k, n, n in visit_nodes)
            col_d.append(t if problem.objective == "duration" else round(d * per_m))
            col_t.append(t + unload)
        ends_col[k] = (col_d, col_t)
    dist_m: list[Any] = []  # list[IntMatrix]; PyVRP's stub spells the type oddly
    dur_m: list[Any] = []
    for speed, per_metre in kinds:
        rep = next(k for k in vehicles if kind(k) == (speed, per_metre))
        travel = travel_matrix(problem, rep)[sub]
        if problem.objective == "duration":
            cost = travel
        else:
            cost = np.rint(problem.distance[sub] * (money * per_metre)).astype(np.int64)
        dm = np.zeros((size, size), dtype=np.int64)
        tm = np.zeros((size, size), dtype=np.int64)
        dm[: len(nodes), : len(nodes)] = cost
        tm[: len(nodes), : len(nodes)] = travel
        for k in ends:
            dm[: len(nodes), end_loc[k]], tm[: len(nodes), end_loc[k]] = ends_col[k]
        dist_m.append(dm)
        dur_m.append(tm)
    # Nothing leaves an end depot (only its own vehicle gets there).
    big = min(MAX_VALUE, 100 * (max(int(m.max()) for m in dist_m + dur_m) + 1))
    for dm, tm in zip(dist_m, dur_m, strict=True):
        for k in ends:
            e = end_loc[k]
            dm[e, :] = tm[e, :] = big
            dm[e, e] = tm[e, e] = 0

    locations = [pyvrp.Location(0.0, 0.0, name=str(n)) for n in nodes]
    locations += [pyvrp.Location(0.0, 0.0, name=f"end {k}") for k in ends]
    depot_nodes = sorted({problem.vehicles[k].depot for k in vehicles})
    depots = [pyvrp.Depot(loc[n], name=f"depot {n}") for n in depot_nodes]
    reload_ids = list(range(len(depots), len(depots) + len(problem.facilities)))
    depots += [
        pyvrp.Depot(loc[f], service_duration=problem.facility_service, name=f"facility {f}")
        for f in problem.facilities
    ]
    end_ids = {k: len(depots) + j for j, k in enumerate(ends)}
    depots += [pyvrp.Depot(end_loc[k], name=f"end {k}") for k in ends]
    homes = tuple(problem.vehicles[k].depot for k in ends)
    depot_of = (*depot_nodes, *problem.facilities, *homes)

    types = []
    worst = 0
    for k in vehicles:
        v = problem.vehicles[k]
        reserve = break_reserve(problem, k)
        utc = round(v.cost_per_duration * money) if problem.objective == "cost" else 0
        start = depot_nodes.index(v.depot)
        reloads = MAX_SIZE
        if problem.max_reloads is not None:  # the final unload is no PyVRP reload
            reloads = max(problem.max_reloads - (1 if k in end_ids else 0), 0)
        types.append(
            pyvrp.VehicleType(
                capacity=list(v.capacity),
                start_depot=start,
                end_depot=end_ids.get(k, start),
                tw_early=v.shift[0],
                tw_late=max(v.shift[0], v.shift[1] - reserve),
                shift_duration=max(0, v.max_duration - reserve),
                unit_distance_cost=1,
                unit_duration_cost=utc,
                profile=kinds.index(kind(k)),
                reload_depots=reload_ids,
                max_reloads=reloads,
                name=v.name,
            )
        )
        longest = int(dist_m[kinds.index(kind(k))][: len(nodes), : len(nodes)].max())
        worst = max(worst, 10 * longest + utc * (v.shift[1] - v.shift[0]))
    prize = min(worst + 1, MAX_VALUE // (len(todo) + 1))
    clients = _clients(problem, visits, todo, loc)
    data = pyvrp.ProblemData(locations, clients, depots, types, dist_m, dur_m)
    return _Day(data, tuple(vehicles), tuple(todo), depot_of, prize)


def _clients(
    problem: PeriodicProblem, visits: Sequence[DayVisit], todo: Sequence[int], loc: dict[int, int]
) -> list[pyvrp.Client]:
    """The visits ``todo`` as required PyVRP clients (demand as pickup)."""
    ndim = len(problem.dimensions)
    clients = []
    for i in todo:
        vis = visits[i]
        early, late = vis.window if vis.window else (0, _OPEN)
        clients.append(
            pyvrp.Client(
                loc[vis.node],
                delivery=[0] * ndim,
                pickup=list(vis.demand),
                service_duration=vis.service,
                tw_early=early,
                tw_late=late,
                name=str(i),
            )
        )
    return clients


def _group(problem: PeriodicProblem, vehicle: int) -> tuple[object, ...]:
    """What makes vehicles interchangeable: everything but their name and days."""
    v = problem.vehicles[vehicle]
    key: tuple[object, ...] = (v.depot, v.capacity, v.shift, v.max_duration, v.speed_factor)
    return (*key, v.cost_per_distance, v.cost_per_duration, v.break_window, v.break_duration)


def single_trip_day(problem: PeriodicProblem, day: int, visits: int) -> bool:
    """Whether no truck of ``day`` needs a reload, so PyVRP may route it without them.

    True when the day's trucks share one depot, the only facility (a one-day CVRP or
    VRPTW instance), have no break, and either may make one trip only
    (``max_reloads == 0``) or are all alike and at least as many as the ``visits``:
    then a reload at the depot is just another truck's route, no dearer, and leaving
    reloads out only drops duplicate solutions. Otog's trucks (stations that are no
    depot) never qualify.
    """
    vehicles = problem.vehicles_on(day)
    depots = {problem.vehicles[k].depot for k in vehicles}
    if len(depots) != 1 or set(problem.facilities) != depots:
        return False
    if any(break_reserve(problem, k) for k in vehicles):
        return False
    if problem.max_reloads == 0:
        return True
    return len({_group(problem, k) for k in vehicles}) == 1 and len(vehicles) >= visits


def _build_single(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], todo: Sequence[int]
) -> _Day:
    """PyVRP data for a :func:`single_trip_day`: no reload depots, one vehicle type per
    group of interchangeable trucks (``num_available``), as plain PyVRP models it."""
    vehicles = problem.vehicles_on(day)
    depot = problem.vehicles[vehicles[0]].depot
    nodes = sorted({depot} | {visits[i].node for i in todo})
    loc = {n: i for i, n in enumerate(nodes)}
    sub = np.ix_(nodes, nodes)
    money = _money_scale(problem, vehicles)
    groups: dict[tuple[object, ...], list[int]] = {}
    for k in vehicles:
        groups.setdefault(_group(problem, k), []).append(k)
    fleet = tuple(tuple(g) for g in groups.values())
    dist_m: list[Any] = []
    dur_m: list[Any] = []
    types: list[pyvrp.VehicleType] = []
    worst = 0
    for g in fleet:
        v = problem.vehicles[g[0]]
        travel = np.array(travel_matrix(problem, g[0])[sub], dtype=np.int64)
        cost = travel
        if problem.objective == "cost":
            per_m = money * v.cost_per_distance
            cost = np.rint(problem.distance[sub] * per_m).astype(np.int64)
        dist_m.append(cost)
        dur_m.append(travel)
        utc = round(v.cost_per_duration * money) if problem.objective == "cost" else 0
        types.append(
            pyvrp.VehicleType(
                num_available=len(g),
                capacity=list(v.capacity),
                start_depot=0,
                end_depot=0,
                tw_early=v.shift[0],
                tw_late=v.shift[1],
                shift_duration=v.max_duration,
                unit_distance_cost=1,
                unit_duration_cost=utc,
                profile=len(types),
                name=v.name,
            )
        )
        worst = max(worst, 10 * int(cost.max()) + utc * (v.shift[1] - v.shift[0]))
    locations = [pyvrp.Location(0.0, 0.0, name=str(n)) for n in nodes]
    depots = [pyvrp.Depot(loc[depot], name=f"depot {depot}")]
    clients = _clients(problem, visits, todo, loc)
    prize = min(worst + 1, MAX_VALUE // (len(todo) + 1))
    data = pyvrp.ProblemData(locations, clients, depots, types, dist_m, dur_m)
    return _Day(data, tuple(vehicles), tuple(todo), (depot,), prize, fleet)


def _money_scale(problem: PeriodicProblem, vehicles: Sequence[int]) -> float:
    """Scale of the integer costs for ``"cost"``: the dearest minute costs 10 units.

    PyVRP penalises a minute of lateness or a unit of overload by at most 100,000, so
    costs must stay small against that for the search to keep routes feasible.
    """
    per_min = max(problem.vehicles[k].cost_per_duration for k in vehicles)
    if per_min > 0:
        return 10.0 / per_min
    per_m = max(problem.vehicles[k].cost_per_distance for k in vehicles)
    return 1.0 / per_m if per_m > 0 else 1.0


def _to_end(
    problem: PeriodicProblem, vehicle: int, node: int, loaded: bool
) -> tuple[int, int, int]:
    """Distance, travel time and unloading time from ``node`` to ``vehicle``'s depot.

    A truck at a visit (``loaded``) unloads at the cheapest facility on the way; one at
    its depot or at a facility where it has just unloaded drives straight home.
    """
    v = problem.vehicles[vehicle]
    if node == v.depot and not loaded:
        return 0, 0, 0
    if node in problem.facilities and not loaded:
        t = scaled_time(int(problem.duration[node, v.depot]), v.speed_factor)
        return int(problem.distance[node, v.depot]), t, 0
    _, d, t = end_facility(problem, vehicle, node)
    return d, t, problem.facility_service
