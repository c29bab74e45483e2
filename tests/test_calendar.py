"""The first calendar (CP-SAT) on small constructed problems."""

from __future__ import annotations

from functools import partial

import pytest
from problems import line_problem as shared_line_problem

from planner.solve.calendar import day_capacity, estimated_work, initial_calendar, symmetric_times

# One truck, two days and one unit per visit unless a test says otherwise.
line_problem = partial(shared_line_problem, num_days=2, vehicles=1, demand=1)


def test_every_customer_gets_one_of_its_own_patterns() -> None:
    pats = [[(0,), (1,)], [(0, 1)], [(1,)], [(0,), (1,)]]
    problem = line_problem([5, 6, 40, 41], pats)
    result = initial_calendar(problem, time_limit=2.0, seed=0)
    assert len(result.patterns) == 4
    for q, options in zip(result.patterns, pats, strict=True):
        assert q is not None
        assert 0 <= q < len(options)


def test_customers_without_patterns_are_none() -> None:
    problem = line_problem([5, 6, 7], [[(0,), (1,)], [], [(0,), (1,)]])
    result = initial_calendar(problem, time_limit=2.0, seed=0)
    assert result.patterns[1] is None
    assert result.patterns[0] is not None and result.patterns[2] is not None


def test_near_neighbours_share_their_day() -> None:
    # Two tight pairs far apart: each pair on one day is what the reward asks for.
    problem = line_problem([10, 11, 90, 91], [[(0,), (1,)]] * 4)
    result = initial_calendar(problem, time_limit=2.0, seed=0)
    days = [problem.customers[i].patterns[q].days for i, q in enumerate(result.patterns)]
    assert days[0] == days[1]
    assert days[2] == days[3]


@pytest.mark.parametrize("seed", [0, 1])
def test_day_capacity_spreads_the_work(seed: int) -> None:
    # Six customers close together, each 60 minutes of service: one day's fleet
    # hours (0.85 * 240 = 204) hold at most three.
    problem = line_problem(
        [10, 11, 12, 13, 14, 15], [[(0,), (1,)]] * 6, max_duration=240, service=60
    )
    result = initial_calendar(problem, time_limit=2.0, seed=seed)
    work = estimated_work(problem, symmetric_times(problem))
    caps = day_capacity(problem)
    for d in range(problem.num_days):
        on_day = [
            i
            for i, q in enumerate(result.patterns)
            if q is not None and d in problem.customers[i].patterns[q].days
        ]
        assert sum(round(work[i]) for i in on_day) <= caps[d]
    assert all(q is not None for q in result.patterns)


def test_same_seed_same_calendar() -> None:
    problem = line_problem([3, 9, 14, 22, 30, 31], [[(0,), (1,)]] * 6)
    a = initial_calendar(problem, time_limit=1.0, seed=3)
    b = initial_calendar(problem, time_limit=1.0, seed=3)
    assert a.patterns == b.patterns
