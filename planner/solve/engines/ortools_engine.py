"""Routing one day with the OR-Tools routing library (guided local search).

The model:

- nodes: per depot a start and an end node (shared by the depot's vehicles), one
  node per visit, and a few *copies* of each facility (the facilities nearest the
  day's visits), optional at no penalty, so a truck may unload several times; none
  when every vehicle's depot is a facility and the fleet has trucks to spare (a
  reload at the depot is then just another truck);
- the fleet sized to the day: of a group of interchangeable vehicles only as many
  as the day's load needs plus a margin take part when capacity is the only limit
  (a CVRP instance gives one truck per customer);
- one *profile* per kind of vehicle (speed, unit costs): its travel-time and
  arc-cost matrices are built with numpy and registered once as native matrices
  (no Python callbacks), shared by every vehicle of the profile;
- one capacity dimension per load dimension: a visit adds its demand; at a facility
  copy the transit is minus the largest capacity and the slack (free there, fixed to
  zero elsewhere) lets the load drop to anything down to zero -- the usual "reload"
  model;
- a time dimension (travel at the vehicle's speed plus service) only when something
  can bind: visit windows, a break, a duration cost, or a shift shorter than the
  longest route the day could make. It has the visit windows, the shift on the start
  and end nodes, ``max_duration`` as span bound and the lunch break as a native break
  interval (``SetBreakIntervalsOfVehicle``; it may not overlap a service, but
  OR-Tools may put it inside a travel leg, where the schedule cannot: the finishing
  step moves it to a node and repairs what that breaks);
- the must-end-empty rule: the end node of a depot that is no facility is reached
  from a visit through the cheapest facility
  (:func:`~planner.solve.schedule.end_facility`), inserted when reading back;
- visits are optional with a penalty above any insertion cost only when the day can
  be infeasible (a time dimension or a reload limit); a capacity-only day requires
  every visit, and falls back to optional visits if no first solution is found;
- the objective: travel time (``"duration"``) or distance cost per arc plus duration
  cost on the span (``"cost"``), integer-scaled.

The search is bounded by **work**, not wall time. OR-Tools checks its search limits
at every step of its search (each decision of the first solution, each neighbour of
the local search), so a limit that counts those checks is a deterministic measure of
the work done, whatever the first-solution strategy or the size of the model (a count
of solutions was not: guided local search accepts solutions at rates that differ
several times between models and strategies, so one budget bought 4 or 23 CPU s).
``time_limit`` seconds buy :data:`CHECKS_PER_SECOND` checks each (measured on the
development machine), less an estimate of the model's build, so the same day gives
the same routes however busy the machine (OR-Tools' search is deterministic; ``seed``
is unused). The routes are then closed, checked with
:func:`~planner.solve.schedule.schedule_route`, repaired, completed and polished
(:func:`~planner.solve.engines.finish.finish_day`), the polish also bounded by work:
its share of ``time_limit`` buys :data:`POLISH_STOPS_PER_SECOND` stops scheduled.
``wall_clock=True`` bounds the search by the clock instead (faster to the limit, not
reproducible).

The default strategy, PATH_CHEAPEST_ARC then guided local search, is the best of the
five first-solution strategies and three metaheuristics measured at equal CPU time
(8 s) on the CVRP-X and Solomon sets: mean gap 4.7 % and 1.3 %, against 7.3 % for
SAVINGS and 2.0 % for PARALLEL_CHEAPEST_INSERTION (the earlier choices); tabu search
stops early on its own and simulated annealing stalls at its default temperature.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planner.solve.budget import ENGINE_FINISH_SHARE
from planner.solve.engines.finish import PolishWork, break_reserve, finish_day, serviceable
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import travel_matrix

_FS = routing_enums_pb2.FirstSolutionStrategy
_FIRST = {
    "SAVINGS": _FS.SAVINGS,
    "PATH_CHEAPEST_ARC": _FS.PATH_CHEAPEST_ARC,
    "PARALLEL_CHEAPEST_INSERTION": _FS.PARALLEL_CHEAPEST_INSERTION,
    "LOCAL_CHEAPEST_INSERTION": _FS.LOCAL_CHEAPEST_INSERTION,
    "CHRISTOFIDES": _FS.CHRISTOFIDES,
}
_MH = routing_enums_pb2.LocalSearchMetaheuristic
_META = {
    "GUIDED_LOCAL_SEARCH": _MH.GUIDED_LOCAL_SEARCH,
    "SIMULATED_ANNEALING": _MH.SIMULATED_ANNEALING,
    "TABU_SEARCH": _MH.TABU_SEARCH,
}
_MAX_FACILITIES = 3  # facilities given reload copies (the ones nearest the visits)
_POLISH = ENGINE_FINISH_SHARE["ortools"]  # the finishing step's share of a call
# Limit checks the search makes per CPU second (see the module docstring), measured on
# the development machine on CVRP-X, Solomon and PVRP-IF days: a capacity-only model,
# one with a time dimension, and one with break intervals. The first two were
# remeasured on 2026-12-03 (0.81-1.24 and 0.42-0.57 million on the CVRP-X and Solomon
# instances; the medians here): at 1.2 and 0.7 million a 30 s run took 35-44 s.
CHECKS_PER_SECOND = 0.9e6
CHECKS_PER_SECOND_TIMED = 0.5e6
CHECKS_PER_SECOND_BREAKS = 3.0e4
MIN_CHECKS = 20_000  # enough for a first solution on a small day
# Seconds of model build per registered matrix entry (numpy -> OR-Tools), same machine.
BUILD_SECONDS_PER_ENTRY = 2.0e-7
# Stops the finishing step's polish schedules per CPU second (35,000-60,000 measured on
# CVRP-X and Solomon): its share of ``time_limit`` buys this many per second. Unbounded,
# the polish of a 400-customer day took 2.5 s whatever the budget.
POLISH_STOPS_PER_SECOND = 50_000

IntArray = NDArray[np.int64]


class ORToolsEngine:
    """Routes a day with OR-Tools.

    Parameters
    ----------
    first_solution
        The first-solution strategy, one of :data:`_FIRST`'s keys (``"AUTO"``:
        ``PATH_CHEAPEST_ARC``, the best of those measured).
    metaheuristic
        One of :data:`_META`'s keys.
    max_solutions
        Stop after this many solutions (``None``: the work ``time_limit`` buys).
    wall_clock
        Bound the search by ``time_limit`` on the clock instead of by work.
    """

    name: str = "ortools"

    def __init__(
        self,
        first_solution: str = "AUTO",
        max_solutions: int | None = None,
        *,
        metaheuristic: str = "GUIDED_LOCAL_SEARCH",
        wall_clock: bool = False,
    ) -> None:
        if first_solution != "AUTO" and first_solution not in _FIRST:
            raise ValueError(
                f"Expected first_solution 'AUTO' or one of {sorted(_FIRST)}, "
                f"not {first_solution!r}."
            )
        if metaheuristic not in _META:
            raise ValueError(f"Expected metaheuristic in {sorted(_META)}, not {metaheuristic!r}.")
        self.first_solution = first_solution
        self.metaheuristic = metaheuristic
        self.max_solutions = max_solutions
        self.wall_clock = wall_clock
        self.last_solutions = 0  # solutions the last search found (for calibration)
        self.last_objective: int | None = None  # the last search's objective value

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
        del seed  # the routing search is deterministic
        start = time.monotonic()
        ok = serviceable(problem, day, visits)
        todo = tuple(i for i, good in enumerate(ok) if good)
        unrouted = [i for i, good in enumerate(ok) if not good]
        if not todo:
            return DaySolution(day, (), tuple(unrouted))
        model = _Model(problem, day, visits, todo, optional=None)
        solution = self._search(model, time_limit, start)
        if solution is None and not model.optional:
            model = _Model(problem, day, visits, todo, optional=True)
            solution = self._search(model, time_limit, start)
        raw = model.routes(solution) if solution is not None else []
        deadline = math.inf
        polish = PolishWork(_POLISH * time_limit * POLISH_STOPS_PER_SECOND)
        if self.wall_clock:
            deadline, polish = start + time_limit, PolishWork()
        return finish_day(problem, day, visits, raw, unrouted, deadline, polish)

    def _search(self, model: _Model, time_limit: float, start: float) -> pywrapcp.Assignment | None:
        params = pywrapcp.DefaultRoutingSearchParameters()
        first = "PATH_CHEAPEST_ARC" if self.first_solution == "AUTO" else self.first_solution
        params.first_solution_strategy = _FIRST[first]
        params.local_search_metaheuristic = _META[self.metaheuristic]
        search = (1 - _POLISH) * time_limit
        routing = model.routing
        if self.wall_clock:
            left = search - (time.monotonic() - start)
            params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
        else:
            if self.max_solutions is not None:
                params.solution_limit = self.max_solutions
            else:
                model.limit = counted_limit(routing.solver(), self.work_limit(model, search))
                routing.AddSearchMonitor(model.limit)
            # Each neighbourhood's completion search is wall-time limited too (100 ms
            # by default), which a loaded machine hits sooner: lift it out of reach.
            params.lns_time_limit.FromSeconds(3600)
        count = [0]

        def seen() -> None:
            count[0] += 1

        routing.AddAtSolutionCallback(seen)
        solution = routing.SolveWithParameters(params)
        self.last_solutions = count[0]
        self.last_objective = None if solution is None else int(solution.ObjectiveValue())
        return solution

    def work_limit(self, model: _Model, seconds: float) -> int:
        """Limit checks that ``seconds`` of work buy for ``model`` (build time deducted)."""
        left = max(0.0, seconds - BUILD_SECONDS_PER_ENTRY * model.entries)
        rate = CHECKS_PER_SECOND_TIMED if model.timed else CHECKS_PER_SECOND
        if model.breaks:
            rate = CHECKS_PER_SECOND_BREAKS
        return max(MIN_CHECKS, int(rate * left))


def counted_limit(solver: pywrapcp.Solver, checks: int) -> pywrapcp.SearchLimit:
    """A search limit that stops the search at its ``checks``-th check.

    The callback is a C iterator's ``__next__`` (False ``checks`` times, then True):
    no Python frame per check, so counting costs little of the search's time.
    """
    answers = itertools.chain(itertools.repeat(False, checks), itertools.repeat(True))
    return solver.CustomLimit(answers.__next__)


@dataclass(frozen=True)
class _Profile:
    """Matrices shared by the vehicles of one kind (speed and unit costs)."""

    arc: IntArray  # what a leg costs (the objective)
    timing: IntArray  # service at the tail + travel (+ unloading on the way home)


class _Model:
    """The routing model of one day, and how to read its nodes back.

    ``optional=None`` makes visits optional only where the day can be infeasible.
    """

    def __init__(
        self,
        problem: PeriodicProblem,
        day: int,
        visits: Sequence[DayVisit],
        todo: Sequence[int],
        *,
        optional: bool | None,
    ) -> None:
        vehicles = list(problem.vehicles_on(day))
        facilities = set(problem.facilities)
        trips = _trips(problem, visits, todo, vehicles)
        depots = sorted({problem.vehicles[k].depot for k in vehicles})
        nd = len(depots)
        # A CVRP-like day (every depot a facility, no reload limit, trucks to spare):
        # a reload at the depot is another truck, so no facility copies.
        depot_facility = all(problem.vehicles[k].depot in facilities for k in vehicles)
        spare = depot_facility and problem.max_reloads is None and len(vehicles) > trips
        copies = [] if spare else _facility_copies(problem, visits, todo, trips, len(vehicles))
        # Node layout: depot starts, depot ends, visits, facility copies.
        node_of = depots * 2 + [visits[i].node for i in todo] + copies
        first_visit, first_copy = 2 * nd, 2 * nd + len(todo)
        profiles_of = _kinds(problem, vehicles)
        timed = _needs_time(problem, visits, todo, vehicles, node_of, nd)
        if spare and not timed:
            vehicles = _sized_fleet(problem, vehicles, trips)
        self.vehicles = tuple(vehicles)
        self.node_of = node_of
        self.visit_of = [-1] * first_visit + list(todo) + [-1] * len(copies)
        self.timed = timed
        self.breaks = timed and any(break_reserve(problem, k) for k in vehicles)
        size = len(node_of)
        self.size = size
        if optional is None:
            optional = timed or not spare
        self.optional = optional

        dix = {d: j for j, d in enumerate(depots)}
        starts = [dix[problem.vehicles[k].depot] for k in vehicles]
        ends = [nd + s for s in starts]
        self.manager = pywrapcp.RoutingIndexManager(size, len(vehicles), starts, ends)
        routing = pywrapcp.RoutingModel(self.manager)
        self.routing = routing
        self.limit: pywrapcp.SearchLimit | None = None  # the work limit, kept alive

        service = np.zeros(size, dtype=np.int64)
        service[first_visit:first_copy] = [visits[i].service for i in todo]
        service[first_copy:] = problem.facility_service
        scale = _cost_scale(problem, vehicles)
        arc_ids, time_ids, penalty = self._profiles(
            problem, vehicles, profiles_of, depots, first_visit, first_copy, service, scale
        )
        for m, k in enumerate(vehicles):
            routing.SetArcCostEvaluatorOfVehicle(arc_ids[profiles_of[k]], m)

        self._loads(problem, visits, todo, vehicles, first_visit, first_copy)
        if timed:
            evaluators = [time_ids[profiles_of[k]] for k in vehicles]
            self._clock(problem, visits, todo, vehicles, evaluators, service, first_visit, scale)
        for j in range(len(todo)):
            if optional:
                routing.AddDisjunction([self.manager.NodeToIndex(first_visit + j)], penalty)
        for n in range(first_copy, size):
            routing.AddDisjunction([self.manager.NodeToIndex(n)], 0)

    def _profiles(
        self,
        problem: PeriodicProblem,
        vehicles: Sequence[int],
        profiles_of: dict[int, tuple[float, float, float]],
        depots: Sequence[int],
        first_visit: int,
        first_copy: int,
        service: IntArray,
        scale: float,
    ) -> tuple[dict[tuple[float, float, float], int], dict[tuple[float, float, float], int], int]:
        """Register each profile's matrices once; the arc and time evaluators, the
        penalty of an unserved visit (above any insertion cost)."""
        routing, size = self.routing, self.size
        arc_ids: dict[tuple[float, float, float], int] = {}
        time_ids: dict[tuple[float, float, float], int] = {}
        penalty = 1
        self.entries = 0
        for kind in sorted({profiles_of[k] for k in vehicles}):
            rep = next(k for k in vehicles if profiles_of[k] == kind)
            prof = _profile(
                problem, rep, self.node_of, depots, first_visit, first_copy, service, scale
            )
            arc_ids[kind] = routing.RegisterTransitMatrix(prof.arc.tolist())
            self.entries += size * size
            if self.timed:
                time_ids[kind] = routing.RegisterTransitMatrix(prof.timing.tolist())
                self.entries += size * size
            v = problem.vehicles[rep]
            utc = round(v.cost_per_duration * scale) if problem.objective == "cost" else 0
            longest = int(prof.arc.max())
            penalty = max(penalty, 10 * longest + utc * (v.shift[1] - v.shift[0]) + 1)
        return arc_ids, time_ids, penalty

    def _loads(
        self,
        problem: PeriodicProblem,
        visits: Sequence[DayVisit],
        todo: Sequence[int],
        vehicles: Sequence[int],
        first_visit: int,
        first_copy: int,
    ) -> None:
        """Load dimensions: demand at visits; at facility copies minus the top plus slack."""
        routing, size = self.routing, self.size
        reloads = size > first_copy
        for d, dim in enumerate(problem.dimensions):
            top = max(problem.vehicles[k].capacity[d] for k in vehicles)
            vec = [0] * size
            for j, i in enumerate(todo):
                vec[first_visit + j] = visits[i].demand[d]
            for j in range(first_copy, size):
                vec[j] = -top
            caps = [problem.vehicles[k].capacity[d] for k in vehicles]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(vec), top if reloads else 0, caps, True, dim
            )
            if reloads:
                load = routing.GetDimensionOrDie(dim)
                for n in range(first_visit, first_copy):  # no unloading at visits
                    load.SlackVar(self.manager.NodeToIndex(n)).SetValue(0)
                for m in range(len(vehicles)):
                    load.SlackVar(routing.Start(m)).SetValue(0)
        if problem.max_reloads is not None and reloads:
            counts = [0] * first_copy + [1] * (size - first_copy)
            facilities = set(problem.facilities)
            limits = [
                max(problem.max_reloads - int(problem.vehicles[k].depot not in facilities), 0)
                for k in vehicles
            ]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(counts), 0, limits, True, "reloads"
            )

    def _clock(
        self,
        problem: PeriodicProblem,
        visits: Sequence[DayVisit],
        todo: Sequence[int],
        vehicles: Sequence[int],
        evaluators: list[int],
        service: IntArray,
        first_visit: int,
        scale: float,
    ) -> None:
        """The time dimension: shifts, spans, breaks, visit windows."""
        routing, manager = self.routing, self.manager
        horizon = max(problem.vehicles[k].shift[1] for k in vehicles) + 1
        routing.AddDimensionWithVehicleTransits(evaluators, horizon, horizon, False, "time")
        clock = routing.GetDimensionOrDie("time")
        solver = routing.solver()
        visit_transit = [int(service[manager.IndexToNode(i)]) for i in range(routing.Size())]
        for m, k in enumerate(vehicles):
            v = problem.vehicles[k]
            s0, s1 = v.shift
            clock.CumulVar(routing.Start(m)).SetRange(s0, s1)
            clock.CumulVar(routing.End(m)).SetRange(s0, s1)
            clock.SetSpanUpperBoundForVehicle(v.max_duration, m)
            if problem.objective == "cost":
                utc = round(v.cost_per_duration * scale)
                if utc:
                    clock.SetSpanCostCoefficientForVehicle(utc, m)
            if break_reserve(problem, k) and v.break_window is not None:
                b0, b1 = v.break_window
                brk = solver.FixedDurationIntervalVar(b0, b1, v.break_duration, False, "break")
                clock.SetBreakIntervalsOfVehicle([brk], m, visit_transit)
            routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(m)))
            routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(m)))
        for j, i in enumerate(todo):
            w = visits[i].window
            if w is not None:
                index = manager.NodeToIndex(first_visit + j)
                clock.CumulVar(index).SetRange(max(w[0], 0), min(w[1], horizon))

    def routes(self, solution: pywrapcp.Assignment) -> list[Route]:
        """The solution's routes (visit and facility stops, depots left out)."""
        out: list[Route] = []
        routing, manager = self.routing, self.manager
        for m, vehicle in enumerate(self.vehicles):
            stops: list[int] = []
            idx: list[int] = []
            index = solution.Value(routing.NextVar(routing.Start(m)))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                stops.append(self.node_of[node])
                idx.append(self.visit_of[node])
                index = solution.Value(routing.NextVar(index))
            out.append(Route(vehicle, tuple(stops), tuple(idx)))
        return out


def _profile(
    problem: PeriodicProblem,
    vehicle: int,
    node_of: Sequence[int],
    depots: Sequence[int],
    first_visit: int,
    first_copy: int,
    service: IntArray,
    scale: float,
) -> _Profile:
    """The arc-cost and timing matrices of ``vehicle``'s kind over the model's nodes."""
    v = problem.vehicles[vehicle]
    nodes = np.asarray(node_of, dtype=np.int64)
    sub = np.ix_(nodes, nodes)
    travel = np.array(travel_matrix(problem, vehicle)[sub], dtype=np.int64)
    dist = np.array(problem.distance[sub], dtype=np.int64)
    timing = travel + service[:, None]
    facilities = np.asarray(problem.facilities, dtype=np.int64)
    vis = nodes[first_visit:first_copy]
    rows = np.arange(first_visit, first_copy)
    nd = len(depots)
    for j, depot in enumerate(depots):
        if depot in problem.facilities:
            continue
        # Home from a visit through the cheapest facility (end_facility, vectorised).
        t = _scaled(problem.duration[np.ix_(vis, facilities)], v.speed_factor) + _scaled(
            problem.duration[facilities, depot], v.speed_factor
        )
        d = problem.distance[np.ix_(vis, facilities)] + problem.distance[facilities, depot]
        cost = (
            t
            if problem.objective == "duration"
            else v.cost_per_distance * d + (v.cost_per_duration * t)
        )
        best = np.argmin(cost, axis=1)
        pick = np.arange(len(vis))
        travel[rows, nd + j] = t[pick, best]
        dist[rows, nd + j] = d[pick, best]
        timing[rows, nd + j] = service[rows] + t[pick, best] + problem.facility_service
    arc = travel if problem.objective == "duration" else round(v.cost_per_distance * scale) * dist
    return _Profile(arc=arc, timing=timing)


def _scaled(durations: NDArray[np.int64], factor: float) -> IntArray:
    """Travel times at a speed factor, rounded up (:func:`~planner.solve.schedule.scaled_time`)."""
    if factor == 1.0:
        return np.array(durations, dtype=np.int64)
    out: IntArray = np.ceil(durations * factor - 1e-9).astype(np.int64)
    return out


def _kinds(
    problem: PeriodicProblem, vehicles: Sequence[int]
) -> dict[int, tuple[float, float, float]]:
    """Each vehicle's profile key: its speed and unit costs."""
    out = {}
    for k in vehicles:
        v = problem.vehicles[k]
        out[k] = (v.speed_factor, v.cost_per_distance, v.cost_per_duration)
    return out


def _trips(
    problem: PeriodicProblem,
    visits: Sequence[DayVisit],
    todo: Sequence[int],
    vehicles: Sequence[int],
) -> int:
    """A lower bound on the loads the day needs: total demand over the smallest capacity."""
    trips = 1
    for d in range(len(problem.dimensions)):
        total = sum(visits[i].demand[d] for i in todo)
        cap = min((problem.vehicles[k].capacity[d] for k in vehicles), default=0)
        if cap > 0 and total:
            trips = max(trips, math.ceil(total / cap))
    return trips


def _needs_time(
    problem: PeriodicProblem,
    visits: Sequence[DayVisit],
    todo: Sequence[int],
    vehicles: Sequence[int],
    node_of: Sequence[int],
    nd: int,
) -> bool:
    """Whether a time dimension can bind: windows, breaks, duration costs, short shifts."""
    if any(visits[i].window is not None for i in todo):
        return True
    if problem.objective == "cost" and any(problem.vehicles[k].cost_per_duration for k in vehicles):
        return True
    if any(break_reserve(problem, k) for k in vehicles):
        return True
    # The longest route the day could make: the start and every visit and facility
    # copy left by its longest leg (and on to a facility and home), every service and
    # unloading done.
    nodes = np.asarray(node_of, dtype=np.int64)
    tails = np.concatenate([nodes[:nd], nodes[2 * nd :]])
    legs = problem.duration[np.ix_(tails, nodes)].max(axis=1).astype(np.float64)
    legs += problem.duration[np.ix_(tails, np.asarray(problem.facilities))].max(axis=1)
    slowest = max(problem.vehicles[k].speed_factor for k in vehicles)
    longest = float(legs[nd:].sum() + legs[:nd].max()) * slowest
    longest += sum(visits[i].service for i in todo)
    longest += problem.facility_service * (len(nodes) - 2 * nd - len(todo) + 1)
    return any(
        longest > min(problem.vehicles[k].max_duration, np.diff(problem.vehicles[k].shift)[0])
        for k in vehicles
    )


def _sized_fleet(problem: PeriodicProblem, vehicles: list[int], trips: int) -> list[int]:
    """Of each group of interchangeable vehicles, as many as ``trips`` need plus a margin."""
    need = trips + max(2, math.ceil(0.1 * trips))
    groups: dict[object, list[int]] = {}
    for k in vehicles:
        v = problem.vehicles[k]
        key: tuple[object, ...] = (v.depot, v.capacity, v.shift, v.max_duration, v.speed_factor)
        key += (v.cost_per_distance, v.cost_per_duration, v.break_window, v.break_duration)
        groups.setdefault(key, []).append(k)
    keep = [k for g in groups.values() for k in g[:need]]
    return sorted(keep)


def _facility_copies(
    problem: PeriodicProblem,
    visits: Sequence[DayVisit],
    todo: Sequence[int],
    trips: int,
    nv: int,
) -> list[int]:
    """Facility nodes to add as optional reload stops (each facility repeated).

    Enough copies for the trips the day's load needs beyond one per vehicle, plus one
    spare, at each of the facilities nearest the visits.
    """
    per = max(trips - nv, 0) + 1
    if problem.max_reloads is not None:
        per = min(per, problem.max_reloads * nv)
    near = sorted(
        problem.facilities,
        key=lambda f: sum(int(problem.duration[visits[i].node, f]) for i in todo),
    )[:_MAX_FACILITIES]
    return [f for f in near for _ in range(per)]


def _cost_scale(problem: PeriodicProblem, vehicles: Sequence[int]) -> float:
    """Factor turning the vehicles' float unit costs into integers (the largest -> 1000)."""
    if problem.objective == "duration":
        return 1.0
    top = max(
        max(problem.vehicles[k].cost_per_distance, problem.vehicles[k].cost_per_duration)
        for k in vehicles
    )
    return 1000.0 / top if top > 0 else 1.0
