"""Load headroom: plans on the forecast keep room in the truck for its spread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.forecast.demand import LedgerDemand
from planner.forecast.estimate import fit_rates
from planner.forecast.headroom import DIMENSIONS, LoadHeadroom
from planner.forecast.observations import Observations
from planner.forecast.predict import Forecast, forecast_month, gamma_quantile
from planner.network.travel import build_travel
from planner.plan.model import Plan
from planner.scenario.load import load_scenario
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories
from planner.solve.from_scenario import build_problem

DATA = Path(__file__).parent / "data"
DAY = dt.date(2026, 12, 10)


def _scenario_and_forecast() -> tuple[Scenario, Forecast]:
    sc = load_scenario(DATA / "tiny.toml")
    cats = [c.id for c in collected_categories(sc)]
    return sc, forecast_month(fit_rates(Observations.empty(cats), sc), sc, "2026-12")


SCENARIO, FORECAST = _scenario_and_forecast()
CAPACITY = {
    "kg": SCENARIO.settings.fleet[0].payload_kg,
    "m3": SCENARIO.settings.fleet[0].box_m3,
    "hazard_kg": SCENARIO.settings.fleet[0].hazard_kg,
}
POINTS = sorted(FORECAST.rates)


def _headroom(method: str = "tangent", p: float = 0.05) -> LoadHeadroom:
    return LoadHeadroom(FORECAST, SCENARIO, p, {"P1": DAY - dt.timedelta(days=20)}, method)


def test_visits_are_planned_above_their_mean_and_trucks_keep_room() -> None:
    room = _headroom()
    planned = room.visit_load("P2", DAY, 10, first=False)
    moments = room.stop_moments("P2", 10)
    for d in DIMENSIONS:
        mean, var = moments[d]
        if var > 0:
            assert planned[d] > mean
    reserve = room.capacity_reserve(CAPACITY)
    assert all(0 < reserve[d] < CAPACITY[d] for d in CAPACITY)


def test_a_smaller_accepted_chance_keeps_more_room() -> None:
    loose, tight = _headroom(p=0.2), _headroom(p=0.01)
    assert tight.full_trip_headroom()["kg"] > loose.full_trip_headroom()["kg"]
    assert (
        tight.visit_load("P2", DAY, 10, first=False)["kg"]
        > loose.visit_load("P2", DAY, 10, first=False)["kg"]
    )


def test_first_visit_counts_the_days_since_the_last_recorded_one() -> None:
    room = _headroom()
    # P1 was last visited 20 days before: the problem's 12 days are replaced.
    assert room.visit_load("P1", DAY, 12, first=True) == room.visit_load("P1", DAY, 20, False)
    # A recent last visit does not route less than the plan's collected kg count.
    recent = LoadHeadroom(FORECAST, SCENARIO, 0.05, {"P1": DAY - dt.timedelta(days=3)})
    assert recent.visit_load("P1", DAY, 12, first=True) == recent.visit_load("P1", DAY, 12, False)
    # Without a recorded visit the problem's count stands.
    assert room.visit_load("P2", DAY, 12, first=True) == room.visit_load("P2", DAY, 12, False)


@pytest.mark.parametrize("method", ["tangent", "quantile", "reserve"])
@settings(max_examples=60, deadline=None)
@given(stops=st.lists(st.tuples(st.sampled_from(POINTS), st.integers(1, 40)), min_size=1))
def test_a_trip_that_fits_the_planned_loads_overflows_with_at_most_the_accepted_chance(
    method: str, stops: list[tuple[str, int]]
) -> None:
    p = 0.05
    room = _headroom(method, p)
    reserve = room.capacity_reserve(CAPACITY)
    for d in DIMENSIONS:
        planned = sum(room.visit_load(pt, DAY, n, first=False)[d] for pt, n in stops)
        if planned > CAPACITY[d] - reserve[d]:
            continue  # the solver would not put these stops on one trip
        mean = sum(room.stop_moments(pt, n)[d][0] for pt, n in stops)
        var = sum(room.stop_moments(pt, n)[d][1] for pt, n in stops)
        assert gamma_quantile(mean, var, 1 - p) <= CAPACITY[d] * (1 + 1e-6)


def test_an_unknown_method_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="tangent"):
        _headroom("median")


def test_the_problem_routes_planned_loads_in_smaller_trucks_and_keeps_expected_kg() -> None:
    travel = build_travel(SCENARIO)
    plain = build_problem(SCENARIO, travel)
    room = LoadHeadroom(FORECAST, SCENARIO, 0.05)  # no recorded visits: same days as the problem
    sp = build_problem(SCENARIO, travel, daily_kg=FORECAST.daily_kg(), planned_load=room)
    for point, kg in plain.daily_kg.items():  # the plan's collected kg stay the means
        assert sp.daily_kg[point] == pytest.approx(kg)
    for a, b in zip(plain.problem.customers, sp.problem.customers, strict=True):
        for pa, pb in zip(a.patterns, b.patterns, strict=True):
            for da, db in zip(pa.demands, pb.demands, strict=True):
                assert all(x <= y for x, y in zip(da, db, strict=True))
    for va, vb in zip(plain.problem.vehicles, sp.problem.vehicles, strict=True):
        assert all(y < x for x, y in zip(va.capacity, vb.capacity, strict=True))


def test_plan_json_says_the_accepted_chance_and_the_headroom(planned_tiny: Path) -> None:
    plan = Plan.read(planned_tiny)
    demand = LedgerDemand(FORECAST, SCENARIO).describe(plan)
    assert demand.overload_probability == SCENARIO.settings.stations_settings.overload_probability
    assert demand.load_headroom is not None
    assert demand.load_headroom["m3"] > 0
    means_only = LedgerDemand(FORECAST, SCENARIO, headroom="none").describe(plan)
    assert means_only.load_headroom is None
    doc = plan.with_demand(means_only).to_json_dict()["demand"]
    assert "load_headroom" not in doc
    assert "overload_probability" not in doc
    doc = plan.with_demand(demand).to_json_dict()["demand"]
    assert Plan.from_json_dict(plan.with_demand(demand).to_json_dict()).demand == demand
    assert doc["load_headroom"]["m3"] == demand.load_headroom["m3"]
