"""Routing one day with the OR-Tools routing library (guided local search).

The model:

- nodes: per vehicle a start and an end node, one node per visit, and a few
  *copies* of each facility (the facilities nearest the day's visits), optional at
  no penalty, so a truck may unload several times;
- one capacity dimension per load dimension: a visit adds its demand; at a facility
  copy the transit is minus the largest capacity and the slack (free there, fixed to
  zero elsewhere) lets the load drop to anything down to zero -- the usual "reload"
  model;
- a time dimension (travel at the vehicle's speed plus service) with visit windows,
  the shift on the start and end nodes, ``max_duration`` as span bound, and the
  lunch break as a native break interval (``SetBreakIntervalsOfVehicle``; it may not
  overlap a service, but OR-Tools may put it inside a travel leg, where the schedule
  cannot: the check below moves it to a node and repairs what that breaks);
- the must-end-empty rule: the end node of a vehicle whose depot is no facility is
  reached from a visit through the cheapest facility
  (:func:`~planner.solve.schedule.end_facility`), which is inserted when reading back;
- visits are optional with a penalty above any insertion cost, so infeasible ones
  are dropped rather than failing the solve;
- the objective: travel time (``"duration"``) or distance cost per arc plus duration
  cost on the span (``"cost"``), integer-scaled; all transits are registered as
  native matrices and vectors (no Python callbacks).

The search gets nine tenths of ``time_limit``; the routes are then closed, checked
with :func:`~planner.solve.schedule.schedule_route`, repaired, completed and polished
(:func:`~planner.solve.engines.finish_day`) in the rest. OR-Tools' search is
deterministic; ``seed`` is unused. ``max_solutions`` bounds the search by solutions
found instead of by time (then no time limit is set at all), which makes a run
reproducible on every machine at any load.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from planner.solve.engines import break_reserve, finish_day, serviceable
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import end_facility, travel_matrix

_FIRST = {
    "PATH_CHEAPEST_ARC": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "PARALLEL_CHEAPEST_INSERTION": (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    ),
}
_POLISH = 0.1  # share of the time limit left for polishing the routes (finish_day)
_MAX_FACILITIES = 3  # facilities given reload copies (the ones nearest the visits)


class ORToolsEngine:
    """Routes a day with OR-Tools.

    Parameters
    ----------
    first_solution
        ``"PARALLEL_CHEAPEST_INSERTION"`` or ``"PATH_CHEAPEST_ARC"``.
    max_solutions
        Stop after this many solutions instead of at the time limit (``None``: time
        limit only). When set, neither the search nor the finishing steps read the
        clock, so a run gives the same routes on any machine at any load.
    """

    name: str = "ortools"

    def __init__(
        self, first_solution: str = "PARALLEL_CHEAPEST_INSERTION", max_solutions: int | None = None
    ) -> None:
        if first_solution not in _FIRST:
            raise ValueError(
                f"Expected first_solution in {sorted(_FIRST)}, not {first_solution!r}."
            )
        self.first_solution = first_solution
        self.max_solutions = max_solutions

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
        ok = serviceable(problem, day, visits)
        todo = tuple(i for i, good in enumerate(ok) if good)
        unrouted = [i for i, good in enumerate(ok) if not good]
        if not todo:
            return DaySolution(day, (), tuple(unrouted))
        model = _Model(problem, day, visits, todo)
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = _FIRST[self.first_solution]
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        if self.max_solutions is not None:
            # Solutions alone end the search (no time limit, which would bind on a
            # busy machine): the routes then repeat on any machine at any load.
            params.solution_limit = self.max_solutions
            # Each neighbourhood's completion search is wall-time limited too (100 ms
            # by default), which a loaded machine hits sooner: lift it out of reach.
            params.lns_time_limit.FromSeconds(3600)
        else:
            params.time_limit.FromMilliseconds(max(1, int((1 - _POLISH) * time_limit * 1000)))
        solution = model.routing.SolveWithParameters(params)
        raw: list[Route] = []
        for k, vehicle in enumerate(model.vehicles):
            if solution is None:
                break
            stops: list[int] = []
            idx: list[int] = []
            index = solution.Value(model.routing.NextVar(model.routing.Start(k)))
            while not model.routing.IsEnd(index):
                node = model.manager.IndexToNode(index)
                stops.append(model.node_of[node])
                idx.append(model.visit_of[node])
                index = solution.Value(model.routing.NextVar(index))
            raw.append(Route(vehicle, tuple(stops), tuple(idx)))
        deadline = time.monotonic() + _POLISH * time_limit
        if self.max_solutions is not None:  # reproducible: finish without a clock
            deadline = math.inf
        return finish_day(problem, day, visits, raw, unrouted, deadline)


class _Model:
    """The routing model of one day, and how to read its nodes back."""

    def __init__(
        self,
        problem: PeriodicProblem,
        day: int,
        visits: Sequence[DayVisit],
        todo: Sequence[int],
    ) -> None:
        self.vehicles = problem.vehicles_on(day)
        vehicles = self.vehicles
        nv = len(vehicles)
        facilities = set(problem.facilities)
        fs = problem.facility_service
        copies = _facility_copies(problem, visits, todo, vehicles)
        # Node layout: starts, ends, visits, facility copies.
        node_of = [problem.vehicles[k].depot for k in vehicles] * 2
        node_of += [visits[i].node for i in todo] + copies
        visit_of = [-1] * (2 * nv) + list(todo) + [-1] * len(copies)
        self.node_of, self.visit_of = node_of, visit_of
        size = len(node_of)
        first_visit, first_copy = 2 * nv, 2 * nv + len(todo)
        service = [0] * size
        for j, i in enumerate(todo):
            service[first_visit + j] = visits[i].service
        for j in range(first_copy, size):
            service[j] = fs

        self.manager = pywrapcp.RoutingIndexManager(
            size, nv, list(range(nv)), list(range(nv, 2 * nv))
        )
        routing = pywrapcp.RoutingModel(self.manager)
        self.routing = routing
        scale = _cost_scale(problem, vehicles)
        horizon = max(problem.vehicles[k].shift[1] for k in vehicles) + 1
        penalty = 1
        time_evals: list[int] = []
        for k, veh_idx in enumerate(vehicles):
            v = problem.vehicles[veh_idx]
            tm = travel_matrix(problem, veh_idx)
            travel = [[int(tm[a, b]) for b in node_of] for a in node_of]
            dist = [[int(problem.distance[a, b]) for b in node_of] for a in node_of]
            unload = [0] * size
            if v.depot not in facilities:  # end node k: home through a facility if loaded
                for a in range(first_visit, first_copy):
                    _, d, t = end_facility(problem, veh_idx, node_of[a])
                    dist[a][nv + k], travel[a][nv + k], unload[a] = d, t, fs
            udc = round(v.cost_per_distance * scale) if problem.objective == "cost" else 0
            utc = round(v.cost_per_duration * scale) if problem.objective == "cost" else 0
            if problem.objective == "duration":
                arc = travel
            else:
                arc = [[udc * d for d in row] for row in dist]
            routing.SetArcCostEvaluatorOfVehicle(routing.RegisterTransitMatrix(arc), k)
            timing = [
                [service[a] + travel[a][b] + (unload[a] if b == nv + k else 0) for b in range(size)]
                for a in range(size)
            ]
            time_evals.append(routing.RegisterTransitMatrix(timing))
            longest = max(max(row) for row in arc)
            penalty = max(penalty, 10 * longest + utc * (v.shift[1] - v.shift[0]) + 1)

        # Loads: demand at visits; at facility copies minus the largest capacity plus slack.
        for d, dim in enumerate(problem.dimensions):
            top = max(problem.vehicles[k].capacity[d] for k in vehicles)
            vec = [0] * size
            for j, i in enumerate(todo):
                vec[first_visit + j] = visits[i].demand[d]
            for j in range(first_copy, size):
                vec[j] = -top
            caps = [problem.vehicles[k].capacity[d] for k in vehicles]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(vec), top, caps, True, f"load {dim}"
            )
            load = routing.GetDimensionOrDie(f"load {dim}")
            for n in range(first_copy):
                if n < nv or n >= first_visit:
                    load.SlackVar(self.manager.NodeToIndex(n)).SetValue(0)
        if problem.max_reloads is not None:
            counts = [0] * first_copy + [1] * len(copies)
            limits = [
                max(problem.max_reloads - int(problem.vehicles[k].depot not in facilities), 0)
                for k in vehicles
            ]
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(counts), 0, limits, True, "reloads"
            )

        routing.AddDimensionWithVehicleTransits(time_evals, horizon, horizon, False, "time")
        clock = routing.GetDimensionOrDie("time")
        solver = routing.solver()
        visit_transit = [service[self.manager.IndexToNode(i)] for i in range(routing.Size())]
        for k, veh_idx in enumerate(vehicles):
            v = problem.vehicles[veh_idx]
            s0, s1 = v.shift
            clock.CumulVar(routing.Start(k)).SetRange(s0, s1)
            clock.CumulVar(routing.End(k)).SetRange(s0, s1)
            clock.SetSpanUpperBoundForVehicle(v.max_duration, k)
            if problem.objective == "cost":
                utc = round(v.cost_per_duration * scale)
                if utc:
                    clock.SetSpanCostCoefficientForVehicle(utc, k)
            if break_reserve(problem, veh_idx) and v.break_window is not None:
                b0, b1 = v.break_window
                brk = solver.FixedDurationIntervalVar(b0, b1, v.break_duration, False, "break")
                clock.SetBreakIntervalsOfVehicle([brk], k, visit_transit)
            routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(k)))
            routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(k)))
        for j, i in enumerate(todo):
            index = self.manager.NodeToIndex(first_visit + j)
            w = visits[i].window
            if w is not None:
                clock.CumulVar(index).SetRange(max(w[0], 0), min(w[1], horizon))
            routing.AddDisjunction([index], penalty)
        for n in range(first_copy, size):
            routing.AddDisjunction([self.manager.NodeToIndex(n)], 0)


def _facility_copies(
    problem: PeriodicProblem,
    visits: Sequence[DayVisit],
    todo: Sequence[int],
    vehicles: Sequence[int],
) -> list[int]:
    """Facility nodes to add as optional reload stops (each facility repeated).

    Enough copies for the trips the day's load needs beyond one per vehicle, plus one
    spare, at each of the facilities nearest the visits.
    """
    trips = 1
    for d in range(len(problem.dimensions)):
        total = sum(visits[i].demand[d] for i in todo)
        cap = min((problem.vehicles[k].capacity[d] for k in vehicles), default=0)
        if cap > 0 and total:
            trips = max(trips, math.ceil(total / cap))
    nv = len(vehicles)
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
