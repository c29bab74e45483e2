"""定时 helpers: routes driven on another day (_template), the spread cap (_spread), and
the plan timing a day with the windows it was routed with."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.travel import build_travel
from planner.plan.build import build_plan
from planner.scenario.load import load_scenario
from planner.scenario.model import Scenario
from planner.solve._spread import Grid, _try_point, cap_spreads, month_arrivals
from planner.solve._template import (
    Engine,
    engine_routes,
    insert_left,
    project,
    siblings,
    visits_under,
    with_kept,
)
from planner.solve.from_scenario import ScenarioProblem, build_problem
from planner.solve.group_calendar import group_calendar
from planner.solve.problem import DaySolution, PeriodicSolution, Route, day_visits
from planner.solve.schedule import schedule_route
from planner.solve.search import solve
from planner.solve.timing import lookups_for

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def month() -> tuple[Scenario, ScenarioProblem, PeriodicSolution]:
    scenario = load_scenario(DATA / "tiny.toml")
    sp = build_problem(scenario, build_travel(scenario))
    pats = group_calendar(sp.problem, time_limit=0.5, seed=3, irregularity=sp.irregularity())
    first = solve(sp.problem, engine="pyvrp", time_limit=2, seed=3, initial_patterns=pats)
    return scenario, sp, first


def _visits(sp: ScenarioProblem, first: PeriodicSolution) -> dict[int, tuple]:
    return {d: day_visits(sp.problem, first.patterns, d) for d in range(sp.problem.num_days)}


def _routed(routes, visits) -> list[int]:
    return sorted(visits[k].customer for r in routes for k in r.visits if k >= 0)


def test_projected_routes_serve_each_visit_once_and_are_feasible(month):
    _, sp, first = month
    visits = _visits(sp, first)
    for day in range(sp.problem.num_days):
        for src in siblings(visits, day, 2):
            routes, left = project(sp.problem, day, visits[day], first.days[src], visits[src])
            placed = [k for r in routes for k in r.visits if k >= 0]
            assert sorted(placed + list(left)) == list(range(len(visits[day])))
            for r in routes:
                assert schedule_route(sp.problem, day, visits[day], r).feasible


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_skipping_points_keeps_every_other_arrival_when_the_truck_waits(month, data):
    # The template's promise: drop any points from a day's route and the rest can
    # still be served at exactly the minutes they were (the truck waits instead).
    _, sp, first = month
    visits = _visits(sp, first)
    day = data.draw(st.sampled_from([ds.day for ds in first.days if ds.routes]))
    route = data.draw(st.sampled_from(first.days[day].routes))
    before = schedule_route(sp.problem, day, visits[day], route)
    starts = {visits[day][s.visit].customer: s.start for s in before.steps if s.kind == "visit"}
    dropped = data.draw(st.sets(st.sampled_from(sorted(starts)), max_size=len(starts) - 1))
    today = tuple(v for v in visits[day] if v.customer not in dropped)
    derived, left = project(sp.problem, day, today, DaySolution(day, (route,)), visits[day])
    assert not left and len(derived) == 1
    pinned = {c: (t, t) for c, t in starts.items() if c not in dropped}
    prob = with_kept(sp.problem, pinned)
    sched = schedule_route(prob, day, visits_under(prob, today), derived[0])
    assert sched.feasible, sched.violations
    after = {today[s.visit].customer: s.start for s in sched.steps if s.kind == "visit"}
    assert after == pinned_starts(pinned)


def pinned_starts(pinned: dict[int, tuple[int, int]]) -> dict[int, int]:
    return {c: lo for c, (lo, _) in pinned.items()}


def test_insert_left_keeps_the_wanted_window_or_says_it_cannot(month):
    _, sp, first = month
    visits = _visits(sp, first)
    day = next(ds.day for ds in first.days if len(ds.routes) and len(visits[ds.day]) > 1)
    routes = list(first.days[day].routes)
    k = routes[0].visits[next(i for i, v in enumerate(routes[0].visits) if v >= 0)]
    pos = routes[0].visits.index(k)
    routes[0] = dataclasses.replace(
        routes[0],
        stops=routes[0].stops[:pos] + routes[0].stops[pos + 1 :],
        visits=routes[0].visits[:pos] + routes[0].visits[pos + 1 :],
    )
    ci = visits[day][k].customer
    arrival = next(
        s.start
        for s in schedule_route(sp.problem, day, visits[day], first.days[day].routes[0]).steps
        if s.kind == "visit" and s.visit == k
    )
    wanted = {ci: (arrival, arrival + 60)}
    out = insert_left(sp.problem, day, visits[day], routes, [k], wanted, 300.0, only_wanted=True)
    assert out is not None
    assert _routed(out, visits[day]) == sorted(v.customer for v in visits[day])
    prob = with_kept(sp.problem, wanted)
    starts = [
        s.start
        for r in out
        for s in schedule_route(prob, day, visits_under(prob, visits[day]), r).steps
        if s.kind == "visit" and s.visit == k
    ]
    assert len(starts) == 1 and arrival <= starts[0] <= arrival + 60
    night = {ci: (0, 1)}  # before any shift starts: no route can keep it
    assert (
        insert_left(sp.problem, day, visits[day], routes, [k], night, 1.0, only_wanted=True) is None
    )


def test_cap_brings_spreads_in_and_widens_no_one_elses(month):
    scenario, sp, first = month
    visits = _visits(sp, first)
    lookups = lookups_for(scenario, sp)
    days = {ds.day: (ds, {}) for ds in first.days}
    # A cap at the width: every point over an hour is moved at any price.
    grid = Grid(lookups.width, lookups.width, lookups.bounds, lookups.step)

    def spreads(state):
        arr = month_arrivals(sp.problem, visits, state)
        return {c: max(t for _, t in a) - min(t for _, t in a) for c, a in arr.items()}

    before = spreads(days)
    capped = cap_spreads(sp.problem, visits, days, grid, lookups.late_weight)
    after = spreads(capped)
    assert set(after) == set(before)
    for c, s in after.items():
        assert s <= max(before[c], grid.width)
    over_before = sum(s > grid.cap for s in before.values())
    assert sum(s > grid.cap for s in after.values()) <= over_before
    if over_before:
        assert sum(s > grid.cap for s in after.values()) < over_before
    for d, (sol, kept) in capped.items():
        prob = with_kept(sp.problem, kept)
        for r in sol.routes:
            assert schedule_route(prob, d, visits_under(prob, visits[d]), r).feasible


def test_a_day_routed_afresh_keeps_every_visit_and_every_hold(month):
    """The cap's fallback: the engine routes the whole day again with the moved point in
    its new window and every other point where it may move; or says it cannot."""
    _, sp, first = month
    visits = _visits(sp, first)
    day = next(ds.day for ds in first.days if ds.routes)
    arrivals = month_arrivals(sp.problem, visits, {day: (first.days[day], {})})
    hold = {c: (a[0][1] - 30, a[0][1] + 30) for c, a in arrivals.items()}
    ci = min(arrivals)
    hold[ci] = (arrivals[ci][0][1] - 60, arrivals[ci][0][1])  # an hour earlier at most
    engine = Engine("pyvrp", 0.3, 0)
    prob = with_kept(sp.problem, hold)
    fresh = engine_routes(prob, day, visits_under(prob, visits[day]), engine)
    assert fresh is not None
    routes = fresh.routes
    assert _routed(routes, visits[day]) == sorted(v.customer for v in visits[day])
    for r in routes:
        sched = schedule_route(prob, day, visits_under(prob, visits[day]), r)
        assert sched.feasible
        for step in sched.steps:
            if step.kind == "visit":
                lo, hi = hold[visits[day][step.visit].customer]
                assert lo <= step.start <= hi
    hold[ci] = (0, 1)  # before any shift starts: no engine can keep it
    night = with_kept(sp.problem, hold)
    assert engine_routes(night, day, visits_under(night, visits[day]), engine) is None


def test_the_plan_times_a_day_with_the_windows_it_was_routed_with(month):
    scenario, sp, first = month
    visits = _visits(sp, first)
    day, route = next((ds.day, ds.routes[0]) for ds in first.days if ds.routes)
    sched = schedule_route(sp.problem, day, visits[day], route)
    last = next(s for s in reversed(sched.steps) if s.kind == "visit")
    ci = visits[day][last.visit].customer
    late = (last.start + 20, last.start + 80)  # the truck must wait 20 min for it
    prob = with_kept(sp.problem, {ci: late})
    assert schedule_route(prob, day, visits_under(prob, visits[day]), route).feasible
    plan = build_plan(scenario, sp, first, day_problems={day: prob})
    point = sp.customer_points[ci]
    date = sp.dates[day].isoformat()
    stops = [
        s for run in plan.runs if run.date.isoformat() == date for s in run.collects
        if s.place == point
    ]  # fmt: skip
    assert len(stops) == 1 and late[0] <= stops[0].arrival_min <= late[1]


@settings(max_examples=30, deadline=None)
@given(
    windows=st.lists(
        st.one_of(st.none(), st.tuples(st.integers(0, 400), st.integers(0, 400)).map(sorted)),
        min_size=3,
        max_size=3,
    )
)
def test_with_windows_equals_the_checked_constructor(windows: list) -> None:
    """The unchecked window change builds exactly what the checked one does."""
    from tests.problems import line_problem

    problem = line_problem([5, 9, 14], [[(0,)], [(1,)], [(0, 2)]])
    customers = tuple(
        dataclasses.replace(c, window=None if w is None else tuple(w))
        for c, w in zip(problem.customers, windows, strict=True)
    )
    fast = problem.with_windows(customers)
    assert fast == dataclasses.replace(problem, customers=customers)
    assert all(c.window is None for c in problem.customers)  # the original is untouched


def test_with_windows_refuses_other_changes() -> None:
    from tests.problems import line_problem

    problem = line_problem([5, 9], [[(0,)], [(1,)]])
    moved = (dataclasses.replace(problem.customers[0], node=3), problem.customers[1])
    with pytest.raises(ValueError, match="other windows only"):
        problem.with_windows(moved)
    with pytest.raises(ValueError, match="other windows only"):
        problem.with_windows(problem.customers[:1])


def test_moving_a_point_passes_over_one_with_no_visit_routed(month):
    """A point the trucks could not take on any day has no arrivals to hold: moving
    another point on its days leaves its visits unrouted (it used to stop on a KeyError)."""
    scenario, sp, first = month
    visits = _visits(sp, first)
    lookups = lookups_for(scenario, sp)
    arrivals = month_arrivals(sp.problem, visits, {ds.day: (ds, {}) for ds in first.days})
    ci, gone = sorted(c for c, a in arrivals.items() if len(a) > 1)[:2]
    shared = {d for d, _ in arrivals[ci]} & {d for d, _ in arrivals[gone]}
    assert shared, "the tiny month has two points visited on the same days"
    days = {}
    for ds in first.days:
        out = [k for k, v in enumerate(visits[ds.day]) if v.customer == gone]
        routes = []
        for r in ds.routes:
            keep = [j for j, k in enumerate(r.visits) if k not in out]
            if any(r.visits[j] >= 0 for j in keep):
                stops = tuple(r.stops[j] for j in keep)
                routes.append(Route(r.vehicle, stops, tuple(r.visits[j] for j in keep)))
        days[ds.day] = (DaySolution(ds.day, tuple(routes), (*ds.unrouted, *out)), {})
    arrivals = month_arrivals(sp.problem, visits, days)
    assert gone not in arrivals
    # ci said to arrive three hours later on its last day: it must move into one window.
    last, t = arrivals[ci][-1]
    arrivals[ci][-1] = (last, t + 180)
    grid = Grid(lookups.width, lookups.width, lookups.bounds, lookups.step)
    trial = _try_point(sp.problem, visits, days, arrivals, ci, grid, math.inf)
    assert trial is not None
    for d, (sol, _) in trial.items():
        assert all(visits[d][k].customer != gone for r in sol.routes for k in r.visits if k >= 0)
