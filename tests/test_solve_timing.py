"""定时: the window phase on real first-phase solutions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.network.travel import build_travel
from planner.scenario.load import load_scenario
from planner.solve.from_scenario import ScenarioProblem, build_problem
from planner.solve.group_calendar import group_calendar
from planner.solve.problem import PeriodicSolution, Route, day_visits
from planner.solve.schedule import schedule_route
from planner.solve.search import solve
from planner.solve.timing import (
    Timed,
    TimingBudget,
    TimingLookups,
    _reversed,
    lookups_for,
    time_month,
)

DATA = Path(__file__).parent / "data"


def _first(sp: ScenarioProblem, seed: int) -> PeriodicSolution:
    pats = group_calendar(sp.problem, time_limit=0.5, seed=seed, irregularity=sp.irregularity())
    return solve(sp.problem, engine="pyvrp", time_limit=2, seed=seed, initial_patterns=pats)


@pytest.fixture(scope="module")
def tiny() -> tuple[ScenarioProblem, PeriodicSolution, TimingLookups, Timed]:
    scenario = load_scenario(DATA / "tiny.toml")
    sp = build_problem(scenario, build_travel(scenario))
    first = _first(sp, 3)
    lookups = lookups_for(scenario, sp)
    timed = time_month(sp.problem, first, lookups, TimingBudget("pyvrp", 0.2, 3))
    return sp, first, lookups, timed


def _arrivals(sp: ScenarioProblem, first: PeriodicSolution, timed: Timed) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for ds in timed.days:
        prob = timed.day_problems.get(ds.day, sp.problem)
        visits = day_visits(prob, first.patterns, ds.day)
        for r in ds.routes:
            sched = schedule_route(prob, ds.day, visits, r)
            assert sched.feasible, sched.violations
            for st in sched.steps:
                if st.kind == "visit":
                    point = sp.customer_points[visits[st.visit].customer]
                    out.setdefault(point, []).append(st.start)
    return out


def test_every_window_holds_every_arrival_within_bounds(tiny):
    sp, first, lookups, timed = tiny
    arrivals = _arrivals(sp, first, timed)
    assert set(arrivals) == set(timed.windows)
    lo0, hi0 = lookups.bounds
    for point, times in arrivals.items():
        lo, hi = timed.windows[point]
        assert lo0 <= lo <= min(times) and max(times) <= hi <= hi0
        assert hi - lo >= lookups.width and lo % lookups.step == 0


def test_no_day_loses_a_visit(tiny):
    _, first, _, timed = tiny
    for old, new in zip(first.days, timed.days, strict=True):
        assert old.day == new.day and len(new.unrouted) <= len(old.unrouted)


def test_same_seed_same_routes_and_windows(tiny):
    sp, first, lookups, timed = tiny
    again = time_month(sp.problem, first, lookups, TimingBudget("pyvrp", 0.2, 3))
    assert again.days == timed.days and again.windows == timed.windows


def test_reversal_keeps_each_unload_after_its_trip():
    r = Route(0, (5, 6, 1, 7, 8, 1), (0, 1, -1, 2, 3, -1))
    back = _reversed(r, frozenset({1}))
    assert back == Route(0, (8, 7, 1, 6, 5, 1), (3, 2, -1, 1, 0, -1))
    assert _reversed(back, frozenset({1})) == r


def test_the_phase_work_bounds_sibling_days(tiny, monkeypatch):
    """With no work left after each day's re-routing, no sibling day is tried, and the
    month still keeps every visit and gets its windows."""
    import planner.solve.timing as timing

    sp, first, lookups, _ = tiny
    calls: list[int] = []
    real = timing._derived

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(timing, "_derived", counted)
    time_month(sp.problem, first, lookups, TimingBudget("pyvrp", 0.2, 3))
    assert calls, "the tiny month tries sibling days when unbounded"
    calls.clear()
    bound = time_month(sp.problem, first, lookups, TimingBudget("pyvrp", 0.2, 3, work=0.0))
    assert not calls
    for old, new in zip(first.days, bound.days, strict=True):
        assert len(new.unrouted) <= len(old.unrouted)
    assert set(_arrivals(sp, first, bound)) == set(bound.windows)


def test_engine_work_counts_the_least_iterations_a_call_runs():
    from planner.solve._clock import (
        ENGINE_WORK_PER_SECOND,
        MIN_ENGINE_ITERATIONS,
        DaySize,
        Meter,
        engine_work,
    )

    assert engine_work("pyvrp", 2.0, DaySize(10)) == 2.0  # a small day: what it was granted
    big = engine_work("pyvrp", 0.2, DaySize(400))
    assert big == pytest.approx(MIN_ENGINE_ITERATIONS * 400 / ENGINE_WORK_PER_SECOND)
    assert big > 0.2
    assert engine_work("pyvrp", 0.2, DaySize(400, 3.0)) == pytest.approx(3 * big)
    assert engine_work("ortools", 0.2, DaySize(400)) == 0.2
    meter = Meter(Meter.seconds(1.0))
    meter.engine("pyvrp", 0.5, DaySize(10))
    assert meter.left()
    meter.engine("pyvrp", 0.6, DaySize(10))
    assert not meter.left()


def test_a_fuller_day_weighs_more_per_visit() -> None:
    # A day's engine iterations cost more when its trucks are fuller or have more
    # facilities each (benchmarks/bench_work.py): such a day buys fewer of them.
    from planner.solve._clock import DaySize, engine_iterations
    from planner.solve.problem import DayVisit, PeriodicProblem, Vehicle

    n = 40
    duration = np.ones((n + 2, n + 2), dtype=np.int64)
    np.fill_diagonal(duration, 0)

    def size(capacity: int, facilities: tuple[int, ...]) -> DaySize:
        truck = Vehicle("T1", 0, (capacity,), (0, 600), 600, (0,))
        problem = PeriodicProblem(1, duration, duration, (0,), facilities, (), (truck,))
        visits = [DayVisit(i, i + 2, (10,), 0, None) for i in range(n)]
        return DaySize.of(problem, 0, visits)

    light, full = size(4000, (1,)), size(500, (1,))
    assert light.visits == full.visits == n
    assert light.weight == 1.0  # like the default region's days: as the rate was measured
    assert full.weight > 1.0
    assert size(500, (0, 1)).weight > full.weight  # a second facility to unload at
    assert engine_iterations(1.0, full) < engine_iterations(1.0, light)
