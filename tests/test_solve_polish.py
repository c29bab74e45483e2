"""定时's last step: cheaper routes that keep every announced window."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.network.travel import build_travel
from planner.scenario.load import load_scenario
from planner.solve._polish import Aim, Meter, _least_added, polish, release
from planner.solve._template import Engine, visits_under, with_kept
from planner.solve.from_scenario import build_problem
from planner.solve.group_calendar import group_calendar
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route, day_visits
from planner.solve.schedule import schedule_route
from planner.solve.search import solve
from planner.solve.timing import TimingBudget, TimingLookups, _covers, lookups_for, time_month

DATA = Path(__file__).parent / "data"
Window = tuple[int, int]


@pytest.fixture(scope="module")
def month() -> tuple[
    PeriodicProblem,
    dict[int, tuple[DayVisit, ...]],
    dict[int, DaySolution],
    dict[int, Window],
    TimingLookups,
]:
    """The tiny region's month after the window phase (without its last step)."""
    scenario = load_scenario(DATA / "tiny.toml")
    sp = build_problem(scenario, build_travel(scenario))
    pats = group_calendar(sp.problem, time_limit=0.5, seed=5, irregularity=sp.irregularity())
    first = solve(sp.problem, engine="pyvrp", time_limit=2, seed=5, initial_patterns=pats)
    lookups = lookups_for(scenario, sp)
    timed = time_month(sp.problem, first, lookups, TimingBudget("pyvrp", 0.2, 5))
    problem = sp.problem
    visits = {d: day_visits(problem, first.patterns, d) for d in range(problem.num_days)}
    days = {ds.day: ds for ds in timed.days}
    covers = _covers(problem, visits, timed.days, timed.day_problems, lookups)
    return problem, visits, days, covers, lookups


def _held_cost(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, DaySolution],
    windows: dict[int, Window],
) -> tuple[float, dict[int, list[int]]]:
    """Month cost with every visit held to ``windows``, and each customer's arrivals."""
    cost = 0.0
    times: dict[int, list[int]] = {}
    for d, sol in days.items():
        prob = with_kept(problem, {v.customer: windows[v.customer] for v in visits[d]})
        held = visits_under(prob, visits[d])
        for r in sol.routes:
            sched = schedule_route(prob, d, held, r)
            assert sched.feasible, sched.violations
            cost += sched.cost
            for step in sched.steps:
                if step.kind == "visit":
                    times.setdefault(held[step.visit].customer, []).append(step.start)
    return cost, times


def _served(visits: dict[int, tuple[DayVisit, ...]], days: dict[int, DaySolution]) -> list[int]:
    return sorted(
        visits[d][k].customer for d, s in days.items() for r in s.routes for k in r.visits if k >= 0
    )


def test_polish_keeps_every_window_every_visit_and_never_costs_more(month):
    problem, visits, days, covers, _ = month
    before, _ = _held_cost(problem, visits, days, covers)
    meter = Meter(Meter.seconds(5.0))
    out = polish(problem, visits, days, covers, meter, Engine("pyvrp", 0.2, 5))
    after, times = _held_cost(problem, visits, out, covers)
    assert after <= before + 1e-6
    assert _served(visits, out) == _served(visits, days)
    for ci, ts in times.items():
        lo, hi = covers[ci]
        assert lo <= min(ts) and max(ts) <= hi
    assert meter.used > 0 and meter.calls > 0


def test_polish_does_nothing_without_work(month):
    problem, visits, days, covers, _ = month
    assert polish(problem, visits, days, covers, Meter(0.0)) == days


def test_polish_is_deterministic(month):
    problem, visits, days, covers, _ = month
    one = polish(problem, visits, days, covers, Meter(Meter.seconds(2.0)))
    two = polish(problem, visits, days, covers, Meter(Meter.seconds(2.0)))
    assert one == two


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_release_keeps_the_aimed_share_and_the_cap(month, share):
    problem, visits, days, covers, lookups = month
    width, cap, bounds = lookups.width, 2 * lookups.width, lookups.bounds
    narrow = sum(1 for w in covers.values() if w[1] - w[0] <= width)
    aim = Aim(share, width, cap, bounds)
    out, windows = release(problem, visits, days, covers, aim, Meter(Meter.seconds(5.0)))
    after, times = _held_cost(problem, visits, out, windows)
    before, _ = _held_cost(problem, visits, days, covers)
    assert after <= before + 1e-6
    kept = sum(1 for w in windows.values() if w[1] - w[0] <= width)
    assert kept >= min(narrow, -(-share * len(windows) // 1))
    for ci, (lo, hi) in windows.items():
        assert hi - lo <= max(cap, covers[ci][1] - covers[ci][0])
        assert (bounds[0] <= lo and hi <= bounds[1]) or (lo, hi) == covers[ci]
        assert lo <= min(times[ci]) and max(times[ci]) <= hi
    if share == 1.0:
        assert windows == covers and out == days


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_pruning_bound_never_exceeds_what_an_insertion_adds(month, data):
    """Relocation skips a place when this bound says it cannot pay; so the bound must
    never be above what putting the visits there really adds to the route's cost."""
    problem, visits, days, covers, _ = month
    d = data.draw(st.sampled_from(sorted(d for d, s in days.items() if s.routes)))
    routes = days[d].routes
    held = with_kept(problem, {v.customer: covers[v.customer] for v in visits[d]})
    vis = visits_under(held, visits[d])
    src = data.draw(st.sampled_from([r for r in routes if any(k >= 0 for k in r.visits)]))
    pos = data.draw(st.sampled_from([i for i, k in enumerate(src.visits) if k >= 0]))
    seg = [(src.stops[pos], src.visits[pos])]
    base = data.draw(st.sampled_from(routes))
    if base is src:
        base = Route(
            src.vehicle,
            src.stops[:pos] + src.stops[pos + 1 :],
            src.visits[:pos] + src.visits[pos + 1 :],
        )
    where = data.draw(st.integers(0, len(base.stops)))
    cand = Route(
        base.vehicle,
        (*base.stops[:where], seg[0][0], *base.stops[where:]),
        (*base.visits[:where], seg[0][1], *base.visits[where:]),
    )
    before = schedule_route(held, d, vis, base)
    after = schedule_route(held, d, vis, cand)
    assume(before.feasible and after.feasible)  # relocation compares feasible routes only
    bound = _least_added(problem, base, where, seg)
    assert bound >= 0.0 or where == len(base.stops)
    assert after.cost - before.cost >= bound - 1e-6
