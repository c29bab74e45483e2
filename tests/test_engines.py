"""Both routing engines on tiny hand-checked days and on random small days."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.solve.engines import ENGINES, get_engine
from planner.solve.engines.ortools_engine import ORToolsEngine
from planner.solve.engines.protocol import RoutingEngine
from planner.solve.engines.pyvrp_engine import PyVRPEngine
from planner.solve.problem import (
    Customer,
    DaySolution,
    DayVisit,
    Pattern,
    PeriodicProblem,
    Vehicle,
    day_visits,
)
from planner.solve.schedule import schedule_route

LIMIT = 0.5  # seconds per day: the days here are tiny


def line_day(
    xs: Sequence[int],
    demands: Sequence[int],
    *,
    capacity: int = 100,
    windows: Sequence[tuple[int, int] | None] | None = None,
    facility_x: int = 30,
) -> tuple[PeriodicProblem, tuple[DayVisit, ...]]:
    """Depot (node 0) at 0, a facility (node 1) at ``facility_x``, customers at ``xs``."""
    x = np.array([0, facility_x, *xs])
    dur = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    wins = windows or [None] * len(xs)
    custs = tuple(
        Customer(2 + i, (Pattern((0,), ((d,),)),), service=0, window=w)
        for i, (d, w) in enumerate(zip(demands, wins, strict=True))
    )
    veh = Vehicle("T1", 0, (capacity,), (360, 1080), 600, (0,))
    p = PeriodicProblem(1, dur, dur * 1000, (0,), (1,), custs, (veh,), facility_service=5)
    return p, day_visits(p, (0,) * len(xs), 0)


def random_day(
    seed: int,
    n: int,
    nveh: int,
    *,
    breaks: bool = True,
    depot_facility: bool = False,
    objective: str = "duration",
    max_reloads: int | None = None,
) -> tuple[PeriodicProblem, tuple[DayVisit, ...]]:
    """A random day in a 40 km square: 2 load dimensions, windows, breaks, speeds."""
    rng = np.random.default_rng(seed)
    nfac = int(rng.integers(1, 3))
    m = 2 + nfac + n  # two depots
    xy = rng.uniform(0, 40_000, size=(m, 2))
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) * 1.3
    dist = np.rint(d).astype(np.int64)
    dur = np.ceil(d / 700).astype(np.int64)
    facilities = tuple(range(2, 2 + nfac)) + ((0,) if depot_facility else ())
    custs = []
    for i in range(n):
        w = None
        if rng.random() < 0.3:
            a = int(rng.integers(420, 900))
            w = (a, a + int(rng.integers(30, 240)))
        demand = (int(rng.integers(0, 400)), int(rng.integers(0, 8)))
        service = int(rng.integers(0, 20))
        custs.append(Customer(2 + nfac + i, (Pattern((0,), (demand,)),), service, w))
    vehicles = tuple(
        Vehicle(
            f"T{k}",
            int(rng.integers(0, 2)),
            (int(rng.integers(600, 2000)), int(rng.integers(10, 30))),
            (420, 1020),
            int(rng.integers(300, 600)),
            (0,),
            cost_per_distance=0.002,
            cost_per_duration=0.5,
            speed_factor=float(rng.choice([1.0, 1.0, 1.25])),
            break_window=(690, 780) if breaks else None,
            break_duration=45 if breaks else 0,
        )
        for k in range(nveh)
    )
    p = PeriodicProblem(
        1,
        dur,
        dist,
        (0, 1),
        facilities,
        tuple(custs),
        vehicles,
        dimensions=("kg", "m3"),
        objective=objective,
        facility_service=15,
        max_reloads=max_reloads,
    )
    return p, day_visits(p, (0,) * n, 0)


def check_day(problem: PeriodicProblem, visits: Sequence[DayVisit], sol: DaySolution) -> list[int]:
    """Assert the engine contract; return the served visits."""
    served: list[int] = []
    used = [r.vehicle for r in sol.routes]
    assert len(used) == len(set(used))
    for r in sol.routes:
        assert r.vehicle in problem.vehicles_on(sol.day)
        sched = schedule_route(problem, sol.day, visits, r)
        assert sched.feasible, sched.violations
        depot = problem.vehicles[r.vehicle].depot
        if depot not in problem.facilities:
            assert not any(sched.end_load)  # ends empty: unloaded at a facility
        served += [i for i in r.visits if i >= 0]
    assert len(served) == len(set(served))
    assert sorted(served + list(sol.unrouted)) == list(range(len(visits)))
    return served


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> RoutingEngine:
    return get_engine(request.param)


def test_get_engine() -> None:
    assert isinstance(get_engine("pyvrp"), PyVRPEngine)
    assert isinstance(get_engine("ortools"), ORToolsEngine)
    assert {get_engine(n).name for n in ENGINES} == set(ENGINES)
    with pytest.raises(ValueError, match="Unknown routing engine 'vroom'"):
        get_engine("vroom")


def test_known_optimum(engine: RoutingEngine) -> None:
    # Out along the line and home through the facility at 30: 10+10+5+5+30 = 60
    # minutes of travel; any other order drives back and forth.
    p, visits = line_day([20, 10, 25], [1, 1, 1])
    sol = engine.route_day(p, 0, visits, time_limit=LIMIT, seed=1)
    check_day(p, visits, sol)
    (route,) = sol.routes
    assert route.stops == (3, 2, 4, 1)
    assert schedule_route(p, 0, visits, route).cost == 60


def test_capacity_forces_an_unload_trip(engine: RoutingEngine) -> None:
    # 6 + 6 > 10: 0 -> 10 -> F(30) -> 20 -> F(30) -> 0 = 10+20+10+10+30 = 80.
    p, visits = line_day([10, 20], [6, 6], capacity=10)
    sol = engine.route_day(p, 0, visits, time_limit=LIMIT, seed=1)
    check_day(p, visits, sol)
    (route,) = sol.routes
    assert route.visits == (0, -1, 1, -1)
    assert schedule_route(p, 0, visits, route).cost == 80


def test_visit_outside_every_shift_is_unrouted(engine: RoutingEngine) -> None:
    p, visits = line_day([10, 20], [1, 1], windows=[None, (1200, 1300)])
    sol = engine.route_day(p, 0, visits, time_limit=LIMIT, seed=1)
    assert check_day(p, visits, sol) == [0]
    assert sol.unrouted == (1,)


def test_too_heavy_visit_is_unrouted(engine: RoutingEngine) -> None:
    p, visits = line_day([10, 20], [50, 150])
    sol = engine.route_day(p, 0, visits, time_limit=LIMIT, seed=1)
    assert check_day(p, visits, sol) == [0]


def test_no_visits_and_no_vehicles(engine: RoutingEngine) -> None:
    p, _ = line_day([10], [1])
    assert engine.route_day(p, 0, (), time_limit=LIMIT, seed=1) == DaySolution(0, ())
    p2, visits2 = random_day(3, 4, 1)
    sol = engine.route_day(p2, 1, visits2, time_limit=LIMIT, seed=1)  # nobody works day 1
    assert sol.routes == () and sol.unrouted == (0, 1, 2, 3)


@pytest.mark.parametrize("depot_facility", [False, True])
def test_every_visit_served_when_roomy(engine: RoutingEngine, depot_facility: bool) -> None:
    p, visits = random_day(7, 8, 3, breaks=False, depot_facility=depot_facility)
    p = PeriodicProblem(
        1,
        p.duration,
        p.distance,
        p.depots,
        p.facilities,
        tuple(Customer(c.node, c.patterns, c.service) for c in p.customers),  # no windows
        tuple(Vehicle(v.name, v.depot, (5000, 100), (360, 1080), 720, (0,)) for v in p.vehicles),
        dimensions=p.dimensions,
        facility_service=15,
    )
    visits = day_visits(p, (0,) * len(p.customers), 0)
    sol = engine.route_day(p, 0, visits, time_limit=LIMIT, seed=1)
    assert len(check_day(p, visits, sol)) == len(visits)


@pytest.mark.parametrize("name", ENGINES)
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 12),
    nveh=st.integers(1, 3),
    breaks=st.booleans(),
    depot_facility=st.booleans(),
    objective=st.sampled_from(["duration", "cost"]),
    max_reloads=st.sampled_from([None, 1, 3]),
)
def test_random_days_keep_the_contract(
    name: str,
    seed: int,
    n: int,
    nveh: int,
    breaks: bool,
    depot_facility: bool,
    objective: str,
    max_reloads: int | None,
) -> None:
    p, visits = random_day(
        seed,
        n,
        nveh,
        breaks=breaks,
        depot_facility=depot_facility,
        objective=objective,
        max_reloads=max_reloads,
    )
    sol = get_engine(name).route_day(p, 0, visits, time_limit=0.3, seed=seed)
    check_day(p, visits, sol)


@pytest.mark.parametrize(
    "make",
    [lambda: PyVRPEngine(max_iterations=400), lambda: ORToolsEngine(max_solutions=40)],
    ids=ENGINES,
)
def test_same_seed_same_solution(make: Callable[[], RoutingEngine]) -> None:
    p, visits = random_day(11, 12, 2)
    first = make().route_day(p, 0, visits, time_limit=5.0, seed=3)
    again = make().route_day(p, 0, visits, time_limit=5.0, seed=3)
    assert first == again
    check_day(p, visits, first)


def test_ortools_default_is_bounded_by_work_and_repeats() -> None:
    # No wall clock in the default path: the same day gives the same routes.
    p, visits = random_day(5, 10, 2, breaks=False)
    first = ORToolsEngine().route_day(p, 0, visits, time_limit=0.2, seed=0)
    again = ORToolsEngine().route_day(p, 0, visits, time_limit=0.2, seed=1)
    assert first == again
    check_day(p, visits, first)


def test_ortools_sizes_a_cvrp_fleet_and_drops_what_cannot_bind() -> None:
    # A CVRP day (the depot is the facility, one truck per customer, no windows):
    # no time dimension, no facility copies, required visits, a fleet cut to the load.
    from planner.solve.engines.ortools_engine import _Model

    xs = list(range(5, 125, 5))
    x = np.array([0, *xs])
    dur = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    custs = tuple(Customer(1 + i, (Pattern((0,), ((10,),)),)) for i in range(len(xs)))
    fleet = tuple(Vehicle(f"v{k}", 0, (30,), (0, 10**6), 10**6, (0,)) for k in range(len(xs)))
    p = PeriodicProblem(1, dur, dur, (0,), (0,), custs, fleet)
    visits = day_visits(p, (0,) * len(xs), 0)
    model = _Model(p, 0, visits, tuple(range(len(visits))), optional=None)
    assert not model.timed and not model.optional
    assert model.size == 2 + len(xs)  # a start, an end, the visits: no copies
    assert len(model.vehicles) == 8 + 2  # 240 kg in 30 kg loads, plus a margin of two
    sol = ORToolsEngine(max_solutions=30).route_day(p, 0, visits, time_limit=1.0, seed=0)
    check_day(p, visits, sol)
    assert not sol.unrouted
    assert len(sol.routes) >= 8


def cvrp_day(n: int, trucks: int, *, max_reloads: int | None = None) -> PeriodicProblem:
    """A one-day CVRP on a random square: the depot (node 0) is the only facility."""
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 1000, size=(n + 1, 2))
    dur = np.rint(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))).astype(np.int64)
    custs = tuple(
        Customer(1 + i, (Pattern((0,), ((int(rng.integers(1, 10)),),)),)) for i in range(n)
    )
    fleet = tuple(Vehicle(f"v{k}", 0, (25,), (0, 10**6), 10**6, (0,)) for k in range(trucks))
    return PeriodicProblem(1, dur, dur, (0,), (0,), custs, fleet, max_reloads=max_reloads)


def test_single_trip_days_are_recognised() -> None:
    from planner.solve.engines.pyvrp_engine import single_trip_day

    assert single_trip_day(cvrp_day(20, 20), 0, 20)  # a truck per visit
    assert not single_trip_day(cvrp_day(20, 5), 0, 20)  # too few: reloads may be needed
    assert single_trip_day(cvrp_day(20, 5, max_reloads=0), 0, 20)  # one trip each anyway
    p, _ = random_day(3, 10, 3, depot_facility=True)  # facilities apart from the depots
    assert not single_trip_day(p, 0, 10)
    line, _ = line_day([5, 10], [10, 10])  # the depot is no facility (Otog-like)
    assert not single_trip_day(line, 0, 2)


@pytest.mark.parametrize("max_reloads", [None, 0])
def test_single_trip_day_gives_distinct_trucks_single_trips(max_reloads: int | None) -> None:
    # One vehicle type with many trucks in PyVRP: each route must come back as a
    # different truck of ours, on one trip (no facility stop between visits).
    p = cvrp_day(30, 30, max_reloads=max_reloads)
    visits = day_visits(p, (0,) * 30, 0)
    sol = PyVRPEngine(max_iterations=300).route_day(p, 0, visits, time_limit=5.0, seed=1)
    check_day(p, visits, sol)
    assert not sol.unrouted
    assert all(-1 not in r.visits for r in sol.routes)
    assert len(sol.routes) >= math.ceil(sum(v.demand[0] for v in visits) / 25)
    again = PyVRPEngine(max_iterations=300).route_day(p, 0, visits, time_limit=5.0, seed=1)
    assert sol == again


def test_ortools_counted_limit_stops_at_its_count() -> None:
    # The work limit says no exactly `checks` times, then stops the search for good.
    from ortools.constraint_solver import pywrapcp

    from planner.solve.engines.ortools_engine import counted_limit

    solver = pywrapcp.Solver("limit")
    x = solver.IntVar(0, 10**6, "x")
    limit = counted_limit(solver, 50)
    db = solver.Phase([x], solver.CHOOSE_FIRST_UNBOUND, solver.ASSIGN_MIN_VALUE)
    solver.NewSearch(db, [limit])
    assert solver.NextSolution()
    solver.EndSearch()
    assert solver.Branches() <= 50


def test_ortools_more_work_never_searches_worse() -> None:
    # The budget is counted work, so a bigger budget continues the same search path:
    # its best objective is at most the smaller one's, and both repeat exactly.
    from planner.solve.engines.ortools_engine import _Model

    p = cvrp_day(40, 40)
    visits = day_visits(p, (0,) * 40, 0)
    objectives = []
    for seconds in (0.05, 0.3, 0.3):
        engine = ORToolsEngine()
        engine.route_day(p, 0, visits, time_limit=seconds, seed=0)
        objectives.append(engine.last_objective)
    assert objectives[0] is not None and objectives[1] is not None
    assert objectives[1] <= objectives[0]
    assert objectives[1] == objectives[2]
    model = _Model(p, 0, visits, tuple(range(40)), optional=None)
    engine = ORToolsEngine()
    assert engine.work_limit(model, 2.0) > engine.work_limit(model, 1.0)


def test_polish_is_bounded_by_its_work_and_never_makes_a_route_dearer() -> None:
    """The finishing polish spends the stops it is given and stops there: none left
    keeps the route as it is, enough finds the ordered route; every result is feasible
    and no dearer (the OR-Tools engine's polish is bounded so, not by the clock)."""
    from planner.solve.engines.finish import PolishWork, close_route, polish_route
    from planner.solve.problem import Route

    p, visits = line_day([50, 10, 40, 20, 30], [1] * 5)
    order = (0, 2, 4, 3, 1)  # zig-zag along the line
    route = close_route(p, visits, Route(0, tuple(visits[i].node for i in order), order))
    cost = schedule_route(p, 0, visits, route).cost
    assert polish_route(p, 0, visits, route, math.inf, PolishWork(0)) == route
    spent: list[float] = []
    results = []
    for budget in (10, 100, 1_000, math.inf):
        work = PolishWork(budget)
        polished = polish_route(p, 0, visits, route, math.inf, work)
        spent.append(budget - work.left)
        sched = schedule_route(p, 0, visits, polished)
        assert sched.feasible and sched.cost <= cost + 1e-9
        results.append(sched.cost)
        if budget < math.inf:
            assert work.left > -len(polished.stops) - 3  # at most one candidate over
    assert results == sorted(results, reverse=True) and results[-1] < cost
    along = (1, 3, 4, 2, 0)  # the customers by their place on the line: out and back
    best = close_route(p, visits, Route(0, tuple(visits[i].node for i in along), along))
    assert results[-1] == schedule_route(p, 0, visits, best).cost
