"""planner.money.carry: the cash float and goods each truck takes out."""

from __future__ import annotations

import math
from pathlib import Path

from planner.money.carry import run_carry
from planner.money.tallies import household_tallies
from planner.plan.model import Plan
from planner.scenario.load import load_scenario

DATA = Path(__file__).parent / "data"


def test_float_is_the_smallest_round_sum_covering_purchases_and_margin(
    planned_tiny: Path,
) -> None:
    scenario = load_scenario(DATA / "tiny.toml")
    plan = Plan.read(planned_tiny / "plan.json")
    tallies = household_tallies(plan, scenario)
    carry = scenario.settings.carry
    rows = run_carry(plan, scenario, tallies)
    assert [r["run_id"] for r in rows] == [r.id for r in plan.runs]
    bought = {r.id: 0.0 for r in plan.runs}
    for t in tallies.rows:
        if t.stream == "sell":
            bought[t.run_id] += t.value_cny
    assert any(r["purchases_cny"] > 0 for r in rows)
    for r in rows:
        assert r["purchases_cny"] == round(bought[r["run_id"]], 2)
        need = r["purchases_cny"] * (1 + carry.cash_margin)
        steps = r["cash_float_cny"] / carry.cash_round_cny
        assert math.isclose(steps, round(steps))  # a whole number of rounding steps
        assert r["cash_float_cny"] >= need - 1e-6
        assert r["cash_float_cny"] - carry.cash_round_cny < need or need <= 0


def test_goods_cover_expected_hand_outs_and_fit_with_the_peak_load(planned_tiny: Path) -> None:
    scenario = load_scenario(DATA / "tiny.toml")
    plan = Plan.read(planned_tiny / "plan.json")
    carry = scenario.settings.carry
    goods = {g.id: g for g in scenario.settings.goods}
    rows = run_carry(plan, scenario, household_tallies(plan, scenario))
    assert any(r["goods"] for r in rows)
    for r in rows:
        volume = 0.0
        for line in r["goods"]:
            assert line["expected"] > 0
            assert line["load"] == math.ceil(line["expected"] * (1 + carry.goods_margin) - 1e-9)
            volume += line["load"] * goods[line["item"]].volume_m3
        assert math.isclose(r["goods_m3"], round(volume, 4))
        assert r["goods_fit"] == (volume + r["peak_load_m3"] <= r["box_m3"] + 1e-6)
        assert "carry_source" not in r  # planned on the scenario's assumptions
