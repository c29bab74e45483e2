"""Benchmark instances as the core sees them, and solutions in the instances' own terms.

A :class:`BenchInstance` is what the readers (:mod:`planner.bench.pvrpif`,
:mod:`planner.bench.vrplib_format`, :mod:`planner.bench.solomon`) return: the
:class:`~planner.solve.problem.PeriodicProblem` plus what it takes to translate a
core solution back into the instance's node ids and cost units.

Our solution format (JSON)::

    {"instance": NAME, "cost": C,
     "routes": [{"day": d, "vehicle": k, "nodes": [depot, ..., depot]}]}

Days count from 0 as in the published PVRP-IF reports; ``nodes`` are the
instance's own node ids in visiting order, depot first and last, facility visits
included. :mod:`planner.bench.evaluate` checks such a file against the instance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner._atomic import atomic_writer
from planner._errors import InstanceError
from planner.solve.problem import DaySolution, PeriodicProblem, PeriodicSolution, Route, day_visits

KINDS = ("pvrpif", "cvrp", "vrptw")


@dataclass(frozen=True, eq=False)
class BenchInstance:
    """A published instance mapped onto the solver core.

    Parameters
    ----------
    name
        The instance's name (``Milano_020_4_0``, ``X-n101-k25``, ``C101``).
    kind
        ``"pvrpif"``, ``"cvrp"`` or ``"vrptw"``.
    path
        The file it was read from.
    problem
        The core problem. Node ``i`` of the problem is node ``node_ids[i]`` of the file.
    node_ids
        The instance's own node id of every problem node.
    scale
        Core integer units per instance unit: the core's matrices, windows and
        service times are the instance's times ``scale`` (1 for PVRP-IF and CVRP,
        1000 for Solomon text files, 10 for VRPLIB time-window files).
    exact_cost
        The instance's true arc costs over problem nodes when the core's integer
        matrix only approximates them (Solomon: double-precision Euclidean
        distances); ``None`` when ``problem.duration / scale`` is exact.
    """

    name: str
    kind: str
    path: Path
    problem: PeriodicProblem
    node_ids: tuple[int, ...]
    scale: int = 1
    exact_cost: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Expected kind in {KINDS}, got {self.kind!r}.")
        if len(self.node_ids) != self.problem.num_nodes:
            raise ValueError("Expected one node id per problem node.")
        if self.scale < 1:
            raise ValueError("Expected scale >= 1.")
        if self.exact_cost is not None:
            self.exact_cost.setflags(write=False)

    @property
    def depot_id(self) -> int:
        """The instance's node id of the (single) depot."""
        return self.node_ids[self.problem.depots[0]]

    def cost_of(self, paths: list[tuple[int, ...]]) -> float:
        """Total cost, in instance units, of paths of *problem* node indices."""
        arcs = [(a, b) for p in paths for a, b in pairwise(p)]
        if self.exact_cost is not None:
            return float(sum(self.exact_cost[a, b] for a, b in arcs))
        # Sum in integers first: 7761 / 10 is 776.1, a float sum of tenths is not.
        return sum(int(self.problem.duration[a, b]) for a, b in arcs) / self.scale


def solution_to_json(instance: BenchInstance, solution: PeriodicSolution) -> dict[str, Any]:
    """Express a core solution in our JSON solution format.

    Problem node indices become the instance's node ids, each route gets its
    depot first and last, and the cost is recomputed from the routes in the
    instance's own units (``solution.cost`` is in core units and may include
    penalties). Routes without stops are left out: they use no vehicle.

    Parameters
    ----------
    instance
        The instance the solution solves.
    solution
        A solution of ``instance.problem``.

    Returns
    -------
    dict
        ``{"instance", "cost", "routes"}`` ready for :func:`write_solution_json`.
    """
    problem = instance.problem
    ids = instance.node_ids
    routes: list[dict[str, Any]] = []
    paths: list[tuple[int, ...]] = []
    for day_solution in solution.days:
        for route in day_solution.routes:
            if not route.stops:
                continue
            depot = problem.vehicles[route.vehicle].depot
            path = (depot, *route.stops, depot)
            paths.append(path)
            routes.append(
                {
                    "day": day_solution.day,
                    "vehicle": route.vehicle,
                    "nodes": [ids[i] for i in path],
                }
            )
    return {"instance": instance.name, "cost": instance.cost_of(paths), "routes": routes}


def write_solution_json(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` atomically.

    The text goes to a temporary file in the same folder which then replaces
    ``path``, so a reader never sees a half-written solution.
    """
    with atomic_writer(Path(path)) as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")


def solution_from_json(instance: BenchInstance, data: Mapping[str, Any]) -> PeriodicSolution:
    """Express a solution in our JSON format as a core solution (the inverse of
    :func:`solution_to_json`), e.g. to re-route a published calendar.

    Each customer's pattern is the one whose days it is visited on; customers
    never visited get no pattern (``unassigned``). Depot visits inside a route
    become facility stops (reloads) when the depot is a facility.

    Raises
    ------
    InstanceError
        When a node id is unknown, a route does not start and end at its
        vehicle's depot, or a customer's visit days match none of its patterns.
    """
    problem = instance.problem
    index = {node_id: i for i, node_id in enumerate(instance.node_ids)}
    customer_of = {c.node: k for k, c in enumerate(problem.customers)}
    days_of: dict[int, list[int]] = {k: [] for k in range(len(problem.customers))}
    paths: list[tuple[int, int, tuple[int, ...]]] = []
    for r, route in enumerate(data.get("routes", [])):
        where = f"solution {instance.name}, routes[{r}]"
        try:
            path = tuple(index[x] for x in route["nodes"])
            day, vehicle = int(route["day"]), int(route["vehicle"])
            depot = problem.vehicles[vehicle].depot
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise InstanceError(
                f"{where}: expected a route of known nodes, found {exc!r}."
            ) from None
        if path[0] != depot or path[-1] != depot:
            raise InstanceError(f"{where}: expected the vehicle's depot first and last.")
        for node in path[1:-1]:
            if node in customer_of:
                days_of[customer_of[node]].append(day)
        paths.append((day, vehicle, path))

    patterns: list[int | None] = []
    for k, customer in enumerate(problem.customers):
        days = tuple(sorted(days_of[k]))
        if not days:
            patterns.append(None)
            continue
        match = [i for i, p in enumerate(customer.patterns) if p.days == days]
        if not match:
            raise InstanceError(
                f"solution {instance.name}: expected node {instance.node_ids[customer.node]} "
                f"on one of its patterns' days, found days {list(days)}."
            )
        patterns.append(match[0])
    chosen = tuple(patterns)

    day_solutions = []
    for day in range(problem.num_days):
        visit_of = {v.node: i for i, v in enumerate(day_visits(problem, chosen, day))}
        routes = tuple(
            Route(vehicle, path[1:-1], tuple(visit_of.get(s, -1) for s in path[1:-1]))
            for d, vehicle, path in paths
            if d == day
        )
        day_solutions.append(DaySolution(day, routes))
    cost = sum(int(problem.duration[a, b]) for *_, path in paths for a, b in pairwise(path))
    unassigned = tuple(
        k for k, p in enumerate(chosen) if p is None and problem.customers[k].patterns
    )
    return PeriodicSolution(chosen, tuple(day_solutions), float(cost), unassigned)
