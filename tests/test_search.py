"""The solver core's main loop: feasibility, repeatability, Ctrl-C, unrouted repair."""

from __future__ import annotations

from pathlib import Path

import pytest
from problems import line_problem

from planner.solve.problem import (
    PeriodicProblem,
    PeriodicSolution,
    day_visits,
)
from planner.solve.schedule import schedule_route, solution_cost
from planner.solve.search import SearchOptions, solve

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
MILANO_20 = BENCH / "pvrpif" / "planning_horizon_4" / "Milano_020_4_0.geojson"


def small_problem() -> PeriodicProblem:
    twice = [(0, 2), (1, 3)]
    once = [(0,), (1,), (2,), (3,)]
    positions = [4, 9, 15, 22, 30, 35, 41, 47, 52, 60]
    pats = [twice, once, twice, twice, once, [(0, 1, 2, 3)], twice, once, twice, twice]
    return line_problem(positions, pats, max_duration=150, capacity=10)


def assert_consistent(problem: PeriodicProblem, sol: PeriodicSolution) -> int:
    """Every route feasible, every visit routed once or listed unrouted; returns how
    many visits are unrouted."""
    assert len(sol.days) == problem.num_days
    missing = 0
    for ds in sol.days:
        visits = day_visits(problem, sol.patterns, ds.day)
        served = [k for r in ds.routes for k in r.visits if k >= 0]
        assert len(served) == len(set(served))
        assert set(served).isdisjoint(ds.unrouted)
        assert set(served) | set(ds.unrouted) == set(range(len(visits)))
        for r in ds.routes:
            assert schedule_route(problem, ds.day, visits, r).feasible
        missing += len(ds.unrouted)
    assert sol.cost == pytest.approx(solution_cost(problem, sol))
    for i, (c, q) in enumerate(zip(problem.customers, sol.patterns, strict=True)):
        if not c.patterns:
            assert q is None
        elif q is None:
            assert i in sol.unassigned
    return missing


@pytest.mark.skipif(not MILANO_20.is_file(), reason=f"benchmark instances not found at {BENCH}")
def test_a_20_customer_benchmark_is_solved_feasibly() -> None:
    from planner.bench.evaluate import evaluate
    from planner.bench.pvrpif import read_pvrpif
    from planner.bench.solution_io import solution_to_json

    bench = read_pvrpif(MILANO_20)
    sol = solve(bench.problem, time_limit=5.0, seed=0)
    assert assert_consistent(bench.problem, sol) == 0
    result = evaluate(MILANO_20, solution_to_json(bench, sol))
    assert result.feasible, result.violations
    assert result.cost == pytest.approx(sol.cost)


def test_same_seed_gives_the_same_solution() -> None:
    problem = small_problem()
    opts = SearchOptions(max_iterations=40, starts=2)
    a = solve(problem, time_limit=30.0, seed=5, options=opts)
    b = solve(problem, time_limit=30.0, seed=5, options=opts)
    assert a == b
    assert assert_consistent(problem, a) == 0


@pytest.mark.parametrize("after", [1, 3, 6, 20])
def test_ctrl_c_returns_a_complete_solution(after: int) -> None:
    problem = small_problem()
    calls = []

    def progress(phase: str, _done: float, _total: float) -> None:
        calls.append(phase)
        if len(calls) >= after:
            raise KeyboardInterrupt

    sol = solve(problem, time_limit=5.0, seed=0, progress=progress)
    assert len(calls) == after
    assert_consistent(problem, sol)


@pytest.mark.parametrize("improve", [False, True])
def test_visits_that_do_not_fit_move_to_other_days(improve: bool) -> None:
    # Four far customers, once each over two days; a route holds at most two of them.
    # Starting with all four on day 0 leaves two unrouted until they move to day 1.
    problem = line_problem(
        [100, 101, 102, 103],
        [[(0,), (1,)]] * 4,
        num_days=2,
        vehicles=1,
        max_duration=230,
        service=10,
    )
    sol = solve(
        problem,
        time_limit=5.0,
        seed=0,
        initial_patterns=[0, 0, 0, 0],
        options=SearchOptions(improve_calendar=improve, max_iterations=200),
    )
    assert assert_consistent(problem, sol) == 0
    per_day = [len(day_visits(problem, sol.patterns, d)) for d in range(2)]
    assert per_day == [2, 2]


def test_progress_moves_through_the_phases() -> None:
    phases: list[str] = []
    solve(
        small_problem(),
        time_limit=3.0,
        seed=0,
        progress=lambda phase, _done, _total: phases.append(phase),
    )
    assert phases[0] == "calendar"
    assert "routes" in phases and "polish" in phases
