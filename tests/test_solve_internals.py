"""Solver internals: patterns, the group calendar, day search, LNS, the budget, windows."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from planner.solve._daysearch import improve_day
from planner.solve._lns import LNSConfig, Plan, lns, random_plan
from planner.solve._routes import RouteModel
from planner.solve.budget import Budget
from planner.solve.group_calendar import group_calendar, make_groups
from planner.solve.month import announce
from planner.solve.patterns import enumerate_patterns
from planner.solve.schedule import schedule_route
from tests.problems import line_problem

EVERY_OTHER = [(0, 2), (1, 3)]


def _check_plan(plan: Plan) -> None:
    """Every route feasible by schedule_route; every visit of every pattern routed once."""
    p = plan.model.problem
    pats = tuple(plan.patterns)
    for d in range(p.num_days):
        from planner.solve.problem import day_visits

        visits = day_visits(p, pats, d)
        ds = plan.day_solution(d, visits)
        served = [i for r in ds.routes for i in r.visits if i >= 0]
        assert sorted(served + list(ds.unrouted)) == list(range(len(visits)))
        for r in ds.routes:
            assert schedule_route(p, d, visits, r).feasible


def test_patterns_keep_the_gap_and_start_with_the_steadiest() -> None:
    dates = [dt.date(2026, 12, 1) + dt.timedelta(days=k) for k in range(31) if k % 7 < 5]
    pats = enumerate_patterns(dates, 3, 7, 31)
    assert pats

    def irregularity(pat: tuple[int, ...]) -> float:
        days = [dates[i].toordinal() for i in pat]
        gaps = [b - a for a, b in itertools.pairwise(days)] + [days[0] + 31 - days[-1]]
        return sum((g - 31 / 3) ** 2 for g in gaps)

    for pat in pats:
        days = [dates[i].toordinal() for i in pat]
        assert len(pat) == 3 and all(b - a >= 7 for a, b in itertools.pairwise(days))
    scores = [irregularity(pat) for pat in pats]
    assert scores == sorted(scores)  # the steadiest rhythm first


@pytest.mark.parametrize(
    ("visits", "min_gap", "expected"),
    [
        (0, 7, [()]),  # no visit needed: the one empty pattern
        (40, 1, []),  # more visits than service dates: none
        (2, 30, []),  # a gap longer than the month allows twice: none
    ],
)
def test_patterns_edge_cases(visits: int, min_gap: int, expected: list[tuple[int, ...]]) -> None:
    dates = [dt.date(2026, 12, 1) + dt.timedelta(days=k) for k in range(31)]
    assert enumerate_patterns(dates, visits, min_gap, 31) == expected


def test_groups_cover_every_customer_once_and_the_calendar_repeats() -> None:
    p = line_problem([5, 6, 7, 40, 41, 42, 80, 81], [EVERY_OTHER] * 8, capacity=20, demand=4)
    groups = make_groups(p)
    members = sorted(i for g in groups for i in g.customers)
    assert members == list(range(8))
    first = group_calendar(p, time_limit=1.0, seed=1)
    assert first == group_calendar(p, time_limit=1.0, seed=1)
    for g in groups:  # a group shares one pattern
        assert len({first[i] for i in g.customers}) == 1
    assert all(q is not None and 0 <= q < 2 for q in first)


def test_improve_day_never_raises_the_cost_and_keeps_every_visit() -> None:
    p = line_problem([9, 1, 8, 2, 7, 3], [[(0,)]] * 6, num_days=1, vehicles=2)
    model = RouteModel(p)
    rng = random.Random(0)
    plan = random_plan(model, rng, LNSConfig())
    day = plan.days[0]
    # A deliberately bad order: every stop of the day on one truck, far and near mixed.
    stops = [s for _, st in day.routes for s in st if s >= 0]
    while day.routes:
        del day.routes[0], day.costs[0], day.durs[0]
    assert day.add_route(model, 0, [*stops, -2])  # unload at the facility (node 1)
    before = day.cost
    improve_day(model, day, rng)
    assert day.cost <= before + 1e-9
    _check_plan(plan)


def test_lns_returns_a_plan_no_worse_than_its_start() -> None:
    p = line_problem([5, 30, 6, 31, 60, 61], [EVERY_OTHER] * 6, capacity=12, demand=4)
    model = RouteModel(p)
    rng = random.Random(2)
    start = random_plan(model, rng, LNSConfig())
    begin = start.objective
    best, steps = lns(
        start.copy(), rng, should_stop=lambda: False, max_iterations=60, cfg=LNSConfig()
    )
    assert 0 < steps <= 60
    assert best.objective <= begin + 1e-9
    _check_plan(best)


def test_budget_splits_add_up_and_reject_nonsense() -> None:
    b = Budget(90)
    assert b.calendar == 2.0  # 5 % of 90 s, capped at 2 s
    assert b.first_phase == pytest.approx(0.75 * 90 - 2.0)
    assert b.windows_day(20) == pytest.approx(0.2 * 90 / 20)
    assert b.calendar + b.first_phase + 20 * b.windows_day(20) <= 90 + 1e-9
    assert Budget(1).windows_day(20) == 0.2  # a floor per day
    with pytest.raises(ValueError, match="above 0"):
        Budget(0)
    with pytest.raises(ValueError, match="add up"):
        Budget(10, search_share=0.9)


def test_announced_windows_target_the_first_visit_and_cover_every_arrival() -> None:
    arrivals = {"P1": [500, 540, 470], "P2": [600]}
    assert announce(arrivals, 60, cover=False) == {"P1": (465, 525), "P2": (570, 630)}
    covered = announce(arrivals, 60)
    assert covered["P1"] == (465, 540)  # median 500, widened to hold 470..540
    assert covered["P2"] == (570, 630)


def test_fleet_needs_counts_truck_days_and_names_the_unreachable() -> None:
    from planner.solve.fleet import fleet_needs

    # Two points 280 min out on either side of the depot: each round trip (560 min)
    # fits a 600-min shift, both together do not, so one day needs two trucks.
    far = line_problem([280, -280], [[(0,)]] * 2, num_days=1, vehicles=1, max_duration=600)
    (need,) = fleet_needs(far)
    assert (need.truck_days, need.days, need.trucks, need.have) == (2, 1, 2, 1)
    assert need.reason.startswith("hours: 2 truck-days")
    assert not need.unreachable
    # A point 400 min out cannot be served and brought back within 600 minutes.
    (beyond,) = fleet_needs(line_problem([400], [[(0,)]], max_duration=600))
    assert beyond.unreachable == (0,)
    assert "no truck reaches" in beyond.reason
