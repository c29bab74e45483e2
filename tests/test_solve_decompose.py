"""The depots' sub-months: how a month is cut, and that the merged plan is whole."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from planner.app.pipeline import _TravelLookup, plan_month
from planner.network.travel import build_travel
from planner.plan.build import build_plan
from planner.plan.check import check_plan
from planner.scenario.load import load_scenario
from planner.scenario.settings import minutes_of
from planner.solve.budget import Budget
from planner.solve.decompose import (
    AUTO_MIN_POINTS,
    mend,
    near_facilities,
    piece_seed,
    pieces,
    should_cut,
    sub_problem,
)
from planner.solve.fleet import fleet_needs
from planner.solve.from_scenario import build_problem
from planner.solve.month import solve_month
from planner.solve.problem import DaySolution, day_visits
from planner.solve.schedule import month_cost, schedule_route
from planner.solve.timing import lookups_for
from planner.synth import generate_region, synthetic_params


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two_depots")
    params = synthetic_params(
        points=36, households=1800, townships=2, area_km2=1500.0, trucks=4, seed=5
    )
    generate_region(params, folder / "data", folder / "two.toml")
    return folder / "two.toml"


@pytest.fixture(scope="module")
def problem(region: Path):
    scenario = load_scenario(region)
    return build_problem(scenario, build_travel(scenario)).problem


def test_each_point_and_truck_in_exactly_one_piece_with_its_nearest_depot(problem):
    parts = pieces(problem)
    assert len(parts) == 2
    assert sorted(i for p in parts for i in p.customers) == list(range(len(problem.customers)))
    assert sorted(k for p in parts for k in p.vehicles) == list(range(len(problem.vehicles)))
    d = problem.duration
    for p in parts:
        assert {problem.vehicles[k].depot for k in p.vehicles} == set(p.depots)
        for i in p.customers:
            node = problem.customers[i].node
            nearest = min(problem.depots, key=lambda q: (d[q, node] + d[node, q], q))
            assert nearest in p.depots


def test_a_piece_keeps_the_facilities_its_trucks_would_unload_at(problem):
    # Each point's nearest facility and the one on its cheapest way home stay; a
    # facility no point or depot of the piece would use is left to the others.
    d = problem.duration
    for p in pieces(problem):
        kept = sub_problem(problem, p).facilities
        assert kept == near_facilities(problem, p)
        assert set(kept) <= set(problem.facilities)
        assert len(kept) == 1  # here: its own township's station, not the other one
        nodes = [problem.customers[i].node for i in p.customers] + list(p.depots)
        for n in nodes:
            assert min(d[n, f] for f in kept) == min(d[n, f] for f in problem.facilities)
            for q in p.depots:
                best = min(int(d[n, f]) + int(d[f, q]) for f in problem.facilities)
                assert min(int(d[n, f]) + int(d[f, q]) for f in kept) == best


def test_a_depot_short_of_trucks_is_solved_with_its_neighbour(problem):
    first = problem.vehicles[0].depot
    # One truck on one day for the first depot: far fewer than its points need.
    mine = [k for k, v in enumerate(problem.vehicles) if v.depot == first]
    vehicles = tuple(
        dataclasses.replace(v, days=(0,))
        for k, v in enumerate(problem.vehicles)
        if v.depot != first or k == mine[0]
    )
    short = dataclasses.replace(problem, vehicles=vehicles)
    assert any(n.trucks > n.have for n in fleet_needs(short))
    parts = pieces(short)
    assert len(parts) == 1 and len(parts[0].customers) == len(problem.customers)


def test_auto_cuts_large_months_only_and_whole_never(problem):
    assert not should_cut(problem, "auto")  # 36 points
    assert should_cut(problem, "depots")
    assert not should_cut(problem, "whole")
    many = dataclasses.replace(problem, customers=problem.customers * (AUTO_MIN_POINTS // 36 + 1))
    assert should_cut(many, "auto")
    with pytest.raises(ValueError, match="decompose mode"):
        should_cut(problem, "townships")


def test_piece_seeds_differ_per_piece_and_follow_the_run_seed(problem):
    a, b = pieces(problem)
    assert piece_seed(0, a) != piece_seed(0, b)
    assert piece_seed(0, a) != piece_seed(1, a)
    assert piece_seed(3, a) == piece_seed(3, a)


def test_cut_month_passes_the_checker_and_is_byte_identical(region: Path, tmp_path: Path):
    scenario = load_scenario(region)
    cut = plan_month(scenario, tmp_path / "cut", time_limit=4, seed=2, decompose="depots")
    again = plan_month(scenario, tmp_path / "again", time_limit=4, seed=2, decompose="depots")
    whole = plan_month(scenario, tmp_path / "whole", time_limit=4, seed=2, decompose="whole")
    assert cut.check_violations == () and whole.check_violations == ()
    assert cut.path.read_bytes() == again.path.read_bytes()
    assert cut.path.read_bytes() != whole.path.read_bytes()
    # Every required visit is made or listed as unserved, in the cut plan as in the whole.
    for result in (cut, whole):
        made = sum(len(r.collects) for r in result.plan.runs)
        assert made + len(result.plan.unserved) == sum(scenario.visits.values())


def _month(region: Path, workers: int):
    scenario = load_scenario(region)
    sp = build_problem(scenario, build_travel(scenario))
    win = scenario.settings.windows
    month = solve_month(
        sp,
        width_min=win.width_min,
        budget=Budget(3),
        seed=1,
        engine="pyvrp",
        bounds=(minutes_of(win.earliest), minutes_of(win.latest)),
        timing=lookups_for(scenario, sp),
        decompose="depots",
        workers=workers,
    )
    return scenario, sp, month


def test_pieces_in_worker_processes_give_the_same_month_as_one_after_another(region: Path):
    _, _, alone = _month(region, workers=1)
    _, _, two = _month(region, workers=2)
    assert two.solution == alone.solution
    assert two.windows == alone.windows
    assert {d: p.customers for d, p in two.day_problems.items()} == {
        d: p.customers for d, p in alone.day_problems.items()
    }


def _drop_day(sp, month, day: int):
    """The month with every route of ``day`` removed: its visits unrouted."""
    sol = month.solution
    visits = day_visits(month.day_problems.get(day, sp.problem), sol.patterns, day)
    days = list(sol.days)
    days[day] = DaySolution(day, (), tuple(range(len(visits))))
    return dataclasses.replace(month, solution=dataclasses.replace(sol, days=tuple(days)))


def test_mend_puts_a_lost_day_back_on_the_trucks_and_the_plan_passes_the_checker(region: Path):
    scenario, sp, month = _month(region, workers=1)
    busiest = max(month.solution.days, key=lambda ds: len(ds.routes)).day
    broken = _drop_day(sp, month, busiest)
    lost = len(broken.solution.days[busiest].unrouted)
    assert lost > 0
    mended = mend(sp, broken, lookups_for(scenario, sp))
    sol = mended.solution
    assert sum(len(ds.unrouted) for ds in sol.days) < sum(
        len(ds.unrouted) for ds in broken.solution.days
    )
    # Every route is feasible under the problem its day is routed with, the cost is the
    # days' cost, and the announced windows hold every arrival.
    assert sol.cost == pytest.approx(
        month_cost(sp.problem, sol.patterns, sol.days, mended.day_problems)
    )
    for ds in sol.days:
        prob = mended.day_problems.get(ds.day, sp.problem)
        visits = day_visits(prob, sol.patterns, ds.day)
        for r in ds.routes:
            sched = schedule_route(prob, ds.day, visits, r)
            assert sched.feasible
            for st in sched.steps:
                if st.kind == "visit":
                    lo, hi = mended.windows[sp.customer_points[visits[st.visit].customer]]
                    assert lo <= st.start <= hi
    plan = build_plan(scenario, sp, sol, windows=mended.windows, day_problems=mended.day_problems)
    travel = _TravelLookup(build_travel(scenario), scenario)
    assert check_plan(plan, scenario, travel=travel).violations == ()


def test_mend_leaves_a_month_without_unserved_visits_as_it_is(region: Path):
    scenario, sp, month = _month(region, workers=1)
    clean = dataclasses.replace(
        month,
        solution=dataclasses.replace(
            month.solution,
            days=tuple(dataclasses.replace(ds, unrouted=()) for ds in month.solution.days),
        ),
    )
    assert mend(sp, clean, lookups_for(scenario, sp)) is clean
