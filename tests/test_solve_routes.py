"""The route model's exact pricing (planner.solve._routes) against schedule_route."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.solve._routes import DayRoutes, RouteModel, fac
from planner.solve.problem import Customer, DayVisit, Pattern, PeriodicProblem, Route, Vehicle
from planner.solve.schedule import schedule_route


def _problem(
    seed: int, n: int, *, dims: int, objective: str, depot_facility: bool
) -> PeriodicProblem:
    """A random one-day problem without windows or breaks (the model's fast path)."""
    rng = np.random.default_rng(seed)
    nfac = 2
    m = 1 + nfac + n
    xy = rng.uniform(0, 30_000, size=(m, 2))
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    dist = np.rint(d).astype(np.int64)
    dur = np.ceil(d / 600).astype(np.int64)
    custs = tuple(
        Customer(
            1 + nfac + i,
            (Pattern((0,), (tuple(int(x) for x in rng.integers(0, 60, size=dims)),)),),
            service=int(rng.integers(0, 15)),
        )
        for i in range(n)
    )
    fleet = tuple(
        Vehicle(
            f"t{k}",
            0,
            (150,) * dims,
            (0, 5000),
            int(rng.integers(200, 900)),
            (0,),
            cost_per_distance=0.002,
            cost_per_duration=0.5,
            speed_factor=(1.0, 1.25)[k],
        )
        for k in range(2)
    )
    facilities = (1, 2, 0) if depot_facility else (1, 2)
    return PeriodicProblem(
        1,
        dur,
        dist,
        (0,),
        facilities,
        custs,
        fleet,
        dimensions=tuple(f"d{j}" for j in range(dims)),
        objective=objective,
        facility_service=7,
        max_reloads=2,
    )


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    dims=st.sampled_from([1, 2]),
    objective=st.sampled_from(["duration", "cost"]),
    depot_facility=st.booleans(),
    vehicle=st.integers(0, 1),
    order=st.lists(st.integers(-2, 7), min_size=0, max_size=9),
)
def test_evaluate_equals_schedule_route(
    seed: int, dims: int, objective: str, depot_facility: bool, vehicle: int, order: list[int]
) -> None:
    # Any sequence of stops (customers, unloads at facility 1 or 2, repeats removed):
    # the model says feasible exactly when schedule_route does, at the same cost.
    p = _problem(seed, 8, dims=dims, objective=objective, depot_facility=depot_facility)
    model = RouteModel(p)
    seen: set[int] = set()
    stops: list[int] = []
    for s in order:
        if s >= 0 and s in seen:
            continue
        seen.add(s)
        stops.append(s if s >= 0 else fac(-s))  # -1 -> facility node 1, -2 -> node 2
    dem = {s: (p.customers[s].patterns[0].demands[0]) for s in stops if s >= 0}
    dem = {s: (d[0] if dims == 1 else d) for s, d in dem.items()}
    got = model.evaluate(0, vehicle, stops, dem)

    visits = [
        DayVisit(
            s,
            p.customers[s].node,
            p.customers[s].patterns[0].demands[0],
            p.customers[s].service,
            None,
        )
        for s in stops
        if s >= 0
    ]
    index = {s: i for i, s in enumerate(s for s in stops if s >= 0)}
    route = Route(
        vehicle,
        tuple(p.customers[s].node if s >= 0 else -1 - s for s in stops),
        tuple(index[s] if s >= 0 else -1 for s in stops),
    )
    sched = schedule_route(p, 0, visits, route)
    if not stops:
        assert got == (0.0, 0)
        return
    assert (got is not None) == sched.feasible, sched.violations
    if got is not None:
        assert abs(got[0] - sched.cost) < 1e-6
        assert got[1] == sched.duration


def test_set_route_keeps_the_day_when_the_new_route_breaks_a_rule() -> None:
    p = _problem(3, 6, dims=1, objective="duration", depot_facility=False)
    model = RouteModel(p)
    dem = {s: p.customers[s].patterns[0].demands[0][0] for s in range(6)}
    day = DayRoutes(0, dem)
    assert day.add_route(model, 0, [0, fac(1)])
    before = (list(day.routes[0][1]), day.cost)
    # Three tours' worth of load on one trip cannot fit a 150 capacity with no unload.
    heavy = {**dem, 1: 140, 2: 140}
    day.dem = heavy
    assert not day.set_route(model, 0, [1, 2, fac(1)])
    assert (day.routes[0][1], day.cost) == before
    assert model.work > 0  # pricing is counted for the work clock
