"""The planning seam: per-point kg per day in place of the waste model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.forecast.demand import run_stops, run_upper
from planner.forecast.estimate import fit_rates
from planner.forecast.observations import Observations
from planner.forecast.predict import forecast_month
from planner.network.travel import build_travel
from planner.plan.model import Plan
from planner.scenario.load import load_scenario
from planner.scenario.waste import collected_categories, point_daily_kg
from planner.solve.from_scenario import build_problem

DATA = Path(__file__).parent / "data"


def test_daily_kg_replaces_the_waste_model_for_the_points_it_names() -> None:
    sc = load_scenario(DATA / "tiny.toml")
    travel = build_travel(sc)
    plain = build_problem(sc, travel)
    doubled = {"P1": {c: 2 * kg for c, kg in point_daily_kg(sc)["P1"].items()}}
    sp = build_problem(sc, travel, daily_kg=doubled)
    assert sp.daily_kg["P1"] == pytest.approx(doubled["P1"])
    assert sp.daily_kg["P2"] == plain.daily_kg["P2"]
    i = sp.customer_points.index("P1")
    for a, b in zip(
        plain.problem.customers[i].patterns, sp.problem.customers[i].patterns, strict=True
    ):
        for da, db in zip(a.demands, b.demands, strict=True):
            assert all(abs(y - 2 * x) <= 2 for x, y in zip(da, db, strict=True))


def test_run_upper_is_above_the_expected_cash(planned_tiny: Path) -> None:
    sc = load_scenario(DATA / "tiny.toml")
    cats = [c.id for c in collected_categories(sc)]
    fc = forecast_month(fit_rates(Observations.empty(cats), sc), sc, "2026-12")
    plan = Plan.read(planned_tiny)
    for stops in run_stops(plan, sc).values():
        if not stops:
            continue
        mean = sum(fc.rates[p]["cash_cny"].visit_moments(d)[0] for p, d in stops)
        upper = run_upper(fc, stops, 0.05, 0.2)
        assert upper["cash_cny"] > mean
        assert upper["goods_factor"] >= 1
