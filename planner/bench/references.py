"""Reference solvers on the CVRP and VRPTW sets: plain PyVRP and VROOM.

They answer "how far is the planner's core from a state-of-the-art solver given
the same time?". Both read the instance file directly (not through the core's
problem), both get the integer data the core gets (nint distances for the X set;
Solomon distances times 1000, rounded; RC208.vrp in DIMACS tenths), and every
result is re-checked with :mod:`planner.bench.evaluate`, so the cost returned is
in the instance's own units.

Part of the optional ``bench`` extra: ``pyvrp`` and ``vroom`` are imported
lazily, inside the functions.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner._errors import InstanceError, PlannerError
from planner.bench.evaluate import evaluate
from planner.bench.solomon import DEFAULT_SCALE, SolomonText, parse_solomon_text, read_solomon
from planner.bench.vrplib_format import parse_vrplib_text, read_vrplib

SETS = ("cvrp_x", "solomon")


def _check_set(instance_path: Path, set_name: str) -> None:
    if set_name not in SETS:
        raise ValueError(f"Expected set_name in {SETS}, got {set_name!r}.")
    wanted = ".vrp" if set_name == "cvrp_x" else (".txt", ".vrp")
    if instance_path.suffix.lower() not in wanted:
        raise InstanceError(f"{instance_path}: expected a {wanted} file for set {set_name}.")


def _finish(instance_path: Path, name: str, routes: list[dict[str, Any]], solver: str) -> float:
    solution = {"instance": name, "cost": None, "routes": routes}
    result = evaluate(instance_path, solution)
    if not result.feasible:
        first = result.violations[0]
        raise PlannerError(f"{name}: {solver} returned an infeasible solution: {first}.")
    return result.cost


def solve_with_pyvrp(
    instance_path: str | Path, set_name: str, time_limit: float, seed: int
) -> tuple[float, list[dict[str, Any]]]:
    """Solve one CVRP/VRPTW instance with plain PyVRP (its default iterated local search).

    Parameters
    ----------
    instance_path
        A ``.vrp`` file (X set, or RC208.vrp) or a Solomon ``.txt`` file.
    set_name
        ``"cvrp_x"`` or ``"solomon"``.
    time_limit
        Seconds of search (PyVRP's ``MaxRuntime``).
    seed
        PyVRP's random seed.

    Returns
    -------
    tuple
        The evaluated cost in instance units and the routes in our JSON format
        (``{"day": 0, "vehicle": k, "nodes": [depot, ..., depot]}``).

    Raises
    ------
    PlannerError
        When PyVRP's best solution fails :func:`planner.bench.evaluate.evaluate`.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    path = Path(instance_path)
    _check_set(path, set_name)
    if path.suffix.lower() == ".vrp":
        text = parse_vrplib_text(path)
        timed = text.spec("TYPE").upper() != "CVRP"
        # PyVRP's "dimacs" scales every number by 10 (truncated), "round" is nint.
        data = pyvrp.read(path, round_func="dimacs" if timed else "round")
        dim = int(text.spec_number("DIMENSION"))
        ids, _ = text.table("NODE_COORD_SECTION", 3, dim)
        if text.depots() != ids[:1]:
            # PyVRP puts depots first; with the depot first, its order is the file's.
            raise InstanceError(f"{path}: expected the single depot as the first node.")
        name = text.spec("NAME", path.stem)
    else:
        solomon = parse_solomon_text(path)
        data = _solomon_model(solomon).data()
        ids = [int(i) for i in solomon.rows[:, 0]]
        name = solomon.name
    result = pyvrp.solve(data, stop=MaxRuntime(time_limit), seed=seed, display=False)
    clients = data.clients()
    depots = data.depots()
    routes = []
    for k, route in enumerate(result.best.routes()):
        nodes = []
        for activity in route:
            if activity.is_client():
                nodes.append(ids[clients[activity.idx].location])
            elif activity.is_depot():
                nodes.append(ids[depots[activity.idx].location])
        routes.append({"day": 0, "vehicle": k, "nodes": nodes})
    return _finish(path, name, routes, "PyVRP"), routes


def _solomon_matrix(rows: NDArray[np.float64], scale: int) -> NDArray[np.int64]:
    xy = rows[:, 1:3]
    euclid = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    out: NDArray[np.int64] = np.floor(euclid * scale + 0.5).astype(np.int64)
    return out


def _solomon_model(text: SolomonText) -> Any:
    import pyvrp

    rows = text.rows
    matrix = _solomon_matrix(rows, DEFAULT_SCALE)

    def scaled(value: float) -> int:
        return round(value * DEFAULT_SCALE)

    model = pyvrp.Model()
    locations = [model.add_location(x=float(r[1]), y=float(r[2])) for r in rows]
    depot = model.add_depot(locations[0], tw_early=scaled(rows[0, 4]), tw_late=scaled(rows[0, 5]))
    model.add_vehicle_type(
        num_available=text.num_vehicles,
        capacity=text.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=scaled(rows[0, 4]),
        tw_late=scaled(rows[0, 5]),
    )
    for loc, r in zip(locations[1:], rows[1:], strict=True):
        model.add_client(
            loc,
            delivery=round(r[3]),
            service_duration=scaled(r[6]),
            tw_early=scaled(r[4]),
            tw_late=scaled(r[5]),
        )
    n = len(locations)
    for i in range(n):
        for j in range(n):
            if i != j:
                d = int(matrix[i, j])
                model.add_edge(locations[i], locations[j], distance=d, duration=d)
    return model


def solve_with_vroom(
    instance_path: str | Path,
    set_name: str,
    time_limit: float,
    _seed: int = 0,
    *,
    threads: int = 1,
    exploration_level: int = 5,
) -> tuple[float, list[dict[str, Any]]]:
    """Solve one CVRP/VRPTW instance with VROOM (pyvroom) under the same time limit.

    VROOM has no random seed: ``_seed`` is accepted for a uniform signature and
    ignored. pyvroom's ``Input.solve`` takes a ``timeout``; it is set to
    ``time_limit`` and the search runs at ``exploration_level`` (5, the highest)
    on ``threads`` threads. The CVRP fleet is one truck per customer, as for the core.

    Returns
    -------
    tuple
        The evaluated cost in instance units and the routes in our JSON format.

    Raises
    ------
    PlannerError
        When VROOM leaves a job unassigned or its routes fail the evaluator.
    """
    import vroom

    path = Path(instance_path)
    _check_set(path, set_name)
    # VROOM gets exactly the core's integer problem (the readers' scaling).
    bench = read_solomon(path) if path.suffix.lower() == ".txt" else read_vrplib(path)
    problem = bench.problem
    depot = problem.depots[0]
    vroom_input = vroom.Input()
    vroom_input.set_durations_matrix(
        profile="car", matrix_input=np.asarray(problem.duration, dtype=np.uint32)
    )
    for k, vehicle in enumerate(problem.vehicles):
        vroom_input.add_vehicle(
            vroom.Vehicle(
                k,
                start=depot,
                end=depot,
                capacity=list(vehicle.capacity),
                time_window=vroom.TimeWindow(*vehicle.shift),
            )
        )
    for customer in problem.customers:
        (demand,) = customer.patterns[0].demands
        window = customer.window
        vroom_input.add_job(
            vroom.Job(
                customer.node,
                location=customer.node,
                default_service=customer.service,
                delivery=list(demand),
                time_windows=() if window is None else [vroom.TimeWindow(*window)],
            )
        )
    solution = vroom_input.solve(
        exploration_level=exploration_level,
        nb_threads=threads,
        timeout=timedelta(seconds=time_limit),
    )
    steps = solution.routes
    missing = len(problem.customers) - int((steps["type"] == "job").sum())
    if missing:
        raise PlannerError(f"{bench.name}: VROOM left {missing} jobs unassigned.")
    routes = []
    for k, (_, group) in enumerate(steps.groupby("vehicle_id", sort=True)):
        nodes = [bench.node_ids[int(x)] for x in group["location_index"]]
        if len(nodes) > 2:
            routes.append({"day": 0, "vehicle": k, "nodes": nodes})
    return _finish(path, bench.name, routes, "VROOM"), routes
