"""Tallies, goods, cash floats and the month's money, checked by hand and by property."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.money import household_tallies, month_money
from planner.money.balance import balance_violations
from planner.money.compare import compare
from planner.money.exchange import hand_out
from planner.money.files import read_tallies, write_money
from planner.money.tallies import apportion, split_units
from planner.plan.model import Plan
from planner.scenario.load import load_scenario
from planner.scenario.model import Household
from planner.scenario.settings import GoodsItem

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(DATA / "tiny.toml")


def _step(kind: str, place: str, date: str, **fields: Any) -> dict[str, Any]:
    # Times and legs do not matter to the money; they only make the step a valid one.
    at = f"{date}T09:00"
    return {
        "type": kind,
        "place": place,
        "arrival": at,
        "departure": at,
        "leg_km": 0.0,
        "leg_min": 0.0,
        **fields,
    }


def _run(rid: str, date: str, stops: list[tuple[str, dict[str, float]]], km: float = 10.0):
    empty = {"kg": 0.0, "m3": 0.0}
    steps = [_step("start", "D1", date, load_after=empty)]
    for place, kg in stops:
        steps.append(_step("collect", place, date, collected=kg, load_after={"kg": 1.0, "m3": 0.5}))
    steps.append(_step("end", "D1", date, load_after=empty))
    return {
        "id": rid,
        "date": date,
        "vehicle": "T1",
        "steps": steps,
        "distance_km": km,
        "duration_min": 120.0,
    }


def _doc(*runs: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "rural-waste-plan/1",
        "scenario": "tiny",
        "period": {
            "start": "2026-12-01",
            "end": "2026-12-31",
            "timezone": "Asia/Shanghai",
            "service_dates": [],
        },
        "places": [],
        "vehicles": [
            {"id": "T1", "depot": "D1", "capacity": {"kg": 1000.0}, "max_duration_min": 600}
        ],
        "points": [],
        "runs": list(runs),
        "unserved": [],
        "summary": {
            "distance_km": sum(r["distance_km"] for r in runs),
            "duration_min": sum(r["duration_min"] for r in runs),
            "runs": len(runs),
            "visits": 0,
            "unserved": 0,
        },
    }


def _plan(*runs: dict[str, Any]) -> Plan:
    return Plan.from_json_dict(_doc(*runs))


def _rows(tallies, household, stream=None, unit="kg"):
    return [
        t
        for t in tallies.rows
        if t.household == household and (stream is None or t.stream == stream) and t.unit == unit
    ]


def test_two_households_by_hand(tiny):
    # P2 has H4 (2 people) and H5 (3 people). Batteries earn 50 points/kg; soap costs 10
    # points and 3 CNY; PET is bought at 1.0 CNY/kg.
    plan = _plan(
        _run("R1", "2026-12-01", [("P2", {"pet_bottles": 5.0, "batteries": 0.3})]),
        _run("R2", "2026-12-15", [("P2", {"pet_bottles": 2.5, "batteries": 0.2})]),
    )
    t = household_tallies(plan, tiny)
    # Sell: 2/5 and 3/5 of each stop's kg, cash at the buy price.
    h4 = _rows(t, "H4", "sell")
    assert [(r.date, r.quantity, r.value_cny) for r in h4] == [
        ("2026-12-01", 2.0, 2.0),
        ("2026-12-15", 1.0, 1.0),
    ]
    h5 = _rows(t, "H5", "sell")
    assert [(r.quantity, r.value_cny) for r in h5] == [(3.0, 3.0), (1.5, 1.5)]
    # Compost: kitchen 0.1 kg/person/day. The first visit covers the steady-rhythm gap
    # from the month's last visit one month earlier (12-01 - 12-15 + 31 = 17 days); the
    # second covers 14 days.
    comp = [(r.quantity) for r in _rows(t, "H4", "compost")]
    assert comp == [pytest.approx(2 * 0.1 * 17), pytest.approx(2 * 0.1 * 14)]
    # Exchange: H5 gets 0.18 kg (9 points: no soap yet), then 0.12 kg (6 points:
    # balance 15, one soap for 10, 5 carried). The soap's 3 CNY sits on the second row.
    ex = _rows(t, "H5", "exchange")
    assert [(r.quantity, r.value_cny) for r in ex] == [(0.18, 0.0), (0.12, 3.0)]
    # H4: 0.12 + 0.08 kg = 6 + 4 points: 10 exactly buys a soap at the second visit.
    assert [(h.household, h.date, h.item, h.count) for h in t.handouts] == [
        ("H4", "2026-12-15", "soap", 1),
        ("H5", "2026-12-15", "soap", 1),
    ]
    assert t.balances["H5"] == pytest.approx(5.0)
    assert t.balances["H4"] == pytest.approx(0.0)
    assert balance_violations(plan, t.rows) == []


def test_previous_visit_days_sets_the_first_accumulation(tiny):
    month = tiny.settings.month
    settings_ = tiny.settings.model_copy(
        update={"month": month.model_copy(update={"previous_visit_days": 10})}
    )
    sc = dataclasses.replace(tiny, settings=settings_)
    plan = _plan(_run("R1", "2026-12-03", [("P4", {"pet_bottles": 1.0})]))
    t = household_tallies(plan, sc)
    assert _rows(t, "H8", "compost")[0].quantity == pytest.approx(2 * 0.1 * 10)


def test_apportion_adds_up_to_the_gram():
    parts = apportion(1.0, [1, 1, 1])
    assert parts == [0.334, 0.333, 0.333]
    assert split_units(7, [0, 0]) == [0, 7]
    assert apportion(0.0, [2, 3]) == [0.0, 0.0]


@given(
    total=st.floats(0, 5000, allow_nan=False),
    weights=st.lists(st.integers(1, 12), min_size=1, max_size=30),
)
def test_apportion_is_exact_and_proportional(total, weights):
    parts = apportion(total, weights)
    assert round(sum(parts) * 1000) == round(total * 1000)
    for p, w in zip(parts, weights, strict=True):
        assert abs(p - total * w / sum(weights)) <= 0.001 + 1e-9


def test_hand_out_whole_items_in_catalogue_order():
    cat = (
        GoodsItem(id="soap", name="肥皂", points=10, value_cny=3),
        GoodsItem(id="salt", name="食盐", points=8, value_cny=2.5),
        GoodsItem(id="towel", name="毛巾", points=25, value_cny=8),
    )
    given_, left, last = hand_out(cat, 30.0, -1)
    # soap (10), salt (8), towel too dear at 12 left, soap again (10): 2 left.
    assert [(g.id, n) for g, n in given_] == [("soap", 2), ("salt", 1)]
    assert left == pytest.approx(2.0) and last == 0
    big, left, _ = hand_out(cat, 10_000.0, -1)
    assert sum(g.points * n for g, n in big) + left == pytest.approx(10_000.0)
    assert left < 8


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_tallies_balance_with_any_plan(tiny, data):
    # Random households on the tiny points and random stops: households' kg always
    # add up to the stop's collected kg, and cash to kg x price.
    people = data.draw(st.lists(st.integers(1, 9), min_size=4, max_size=20))
    households = tuple(
        Household(id=f"X{k}", point=f"P{k % 4 + 1}", people=n) for k, n in enumerate(people)
    )
    sc = dataclasses.replace(tiny, households=households)
    kg = st.floats(0.001, 400, allow_nan=False).map(lambda x: round(x, 3))
    runs = []
    days = sorted(data.draw(st.sets(st.integers(1, 31), min_size=1, max_size=4)))
    for d in days:
        stops = data.draw(
            st.lists(st.sampled_from(["P1", "P2", "P3", "P4"]), min_size=1, max_size=4, unique=True)
        )
        runs.append(
            _run(
                f"R{d}",
                f"2026-12-{d:02d}",
                [(p, {"pet_bottles": data.draw(kg), "batteries": data.draw(kg)}) for p in stops],
            )
        )
    plan = _plan(*runs)
    t = household_tallies(plan, sc)
    assert balance_violations(plan, t.rows) == []
    for row in t.rows:
        if row.stream == "sell":
            assert row.value_cny == pytest.approx(row.quantity * 1.0, abs=0.006)
        assert row.quantity >= 0 and row.value_cny >= 0
    spent = sum(h.points for h in t.handouts)
    earned = sum(r.quantity * 50.0 for r in t.rows if r.stream == "exchange" and r.unit == "kg")
    assert spent + sum(t.balances.values()) == pytest.approx(earned, rel=1e-6, abs=1e-6)
    goods = sum(r.value_cny for r in t.rows if r.stream == "exchange")
    assert goods == pytest.approx(sum(h.value_cny for h in t.handouts), abs=0.001)


def test_budget_arithmetic(tiny):
    plan = _plan(
        _run(
            "R1",
            "2026-12-01",
            [("P1", {"pet_bottles": 8.0}), ("P3", {"pet_bottles": 6.0})],
            km=50.0,
        ),
    )
    s = month_money(plan, tiny).summary
    # 50,000 a year per gacha, 31 of 365 days, two gachas.
    per_gacha = 50000 * 31 / 365
    assert [g["fee_budget_cny"] for g in s["gachas"]] == [round(per_gacha, 2)] * 2
    t = s["totals"]
    assert t["fee_budget_cny"] == pytest.approx(2 * per_gacha, abs=0.01)
    # T1: 2 CNY/km and 40 CNY/h; 50 km and 2 h.
    assert t["fuel_cny"] == pytest.approx(100.0) and t["driver_cny"] == pytest.approx(80.0)
    # Cash 14 x 1.0; resale 14 x 1.8.
    assert t["cash_paid_cny"] == pytest.approx(14.0)
    assert t["resale_revenue_cny"] == pytest.approx(25.2)
    assert t["net_cost_cny"] == pytest.approx(100 + 80 + 14 - 25.2)
    assert t["fee_balance_cny"] == pytest.approx(2 * per_gacha - (100 + 80 + 14 - 25.2), abs=0.01)
    # Run cost shared by households at the stops: P1 has 3, P3 has 2.
    fuel = {g["gacha"]: g["fuel_cny"] for g in s["gachas"]}
    assert fuel == {"甲嘎查": pytest.approx(60.0), "乙嘎查": pytest.approx(40.0)}
    assert t["households"] == 8 and t["per_household"]["cash_cny"] == pytest.approx(
        14 / 8, abs=0.01
    )
    assert sum(g["net_cost_cny"] for g in s["gachas"]) == pytest.approx(t["net_cost_cny"], abs=0.02)


def test_cash_float_and_goods_to_load(tiny):
    plan = _plan(
        _run("R1", "2026-12-01", [("P3", {"pet_bottles": 30.0, "batteries": 2.0})]),
    )
    s = month_money(plan, tiny).summary
    run = s["runs"][0]
    # 30 CNY of purchases + 20 % = 36, rounded up to 50.
    assert run["purchases_cny"] == pytest.approx(30.0) and run["cash_float_cny"] == 50.0
    # 2 kg x 50 points = 100 points over H6 (4 people) and H7 (2): 66.67 and 33.33 points,
    # so 6 + 3 soaps; 9 x 1.2 = 10.8, loaded as 11 whole pieces.
    assert run["goods"] == [
        {"item": "soap", "name": "肥皂", "unit": "件", "expected": 9, "load": 11}
    ]
    assert run["goods_fit"] is True


def test_written_files_read_back(tiny, tmp_path):
    plan = _plan(_run("R1", "2026-12-01", [("P1", {"pet_bottles": 1.0, "batteries": 0.05})]))
    paths = write_money(tmp_path, month_money(plan, tiny))
    assert [p.name for p in paths] == ["tallies.csv", "goods.csv", "summary.json"]
    head = (tmp_path / "tallies.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head == "run_id,date,point,household,stream,category,quantity,unit,value_cny"
    rows = read_tallies(tmp_path / "tallies.csv")
    assert balance_violations(plan, rows) == []
    assert {r.stream for r in rows} == {"sell", "exchange", "compost"}
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["format"] == "rural-waste-summary/1"


def test_unbalanced_tallies_are_named(tiny):
    doc = _doc(_run("R1", "2026-12-01", [("P1", {"pet_bottles": 1.0})]))
    rows = household_tallies(Plan.from_json_dict(doc), tiny).rows
    doc["runs"][0]["steps"][1]["collected"]["pet_bottles"] = 1.5
    [msg] = balance_violations(Plan.from_json_dict(doc), rows)
    assert "run R1, point P1, pet_bottles" in msg and "1.500" in msg and "1.000" in msg


def test_compare_lines(tiny):
    one = _plan(_run("R1", "2026-12-01", [("P1", {"pet_bottles": 8.0})], km=50.0))
    two = _plan(
        _run("R1", "2026-12-01", [("P1", {"pet_bottles": 8.0})], km=50.0),
        _run("R2", "2026-12-09", [("P1", {"pet_bottles": 4.0})], km=50.0),
    )
    lines = {
        x.key: x
        for x in compare(
            (one, month_money(one, tiny).summary), (two, month_money(two, tiny).summary)
        )
    }
    assert lines["runs"].diff == 1 and lines["distance_km"].pct == pytest.approx(100.0)
    assert lines["fuel_cny"].a == pytest.approx(100.0) and lines["fuel_cny"].b == 200.0
    assert lines["sold_kg"].diff == pytest.approx(4.0)


def test_compare_command_on_two_tiny_scenarios(tmp_path):
    from typer.testing import CliRunner

    from planner.cli import app

    text = (DATA / "tiny.toml").read_text(encoding="utf-8").replace('"tiny/', f'"{DATA}/tiny/')
    a, b = tmp_path / "two.toml", tmp_path / "three.toml"
    a.write_text(text.replace('name = "tiny"', 'name = "two-visits"'), encoding="utf-8")
    b.write_text(
        text.replace('name = "tiny"', 'name = "three-visits"').replace(
            "default = 2", "default = 3"
        ),
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app, ["compare", str(a), str(b), "-o", str(tmp_path / "cmp"), "--time-limit", "3", "-q"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    visits = next(x for x in doc["lines"] if x["key"] == "visits")
    # P3 asks for 3 visits in both; the other three points go from 2 to 3.
    assert (visits["a"], visits["b"]) == (9, 12)
    assert "two-visits" in res.output and "three-visits" in res.output
    for name in ("two-visits", "three-visits"):
        assert (tmp_path / "cmp" / name / "tallies.csv").exists()


def test_month_accumulation_uses_plan_dates(tiny):
    plan = _plan(
        _run("R1", "2026-12-02", [("P4", {"pet_bottles": 1.0})]),
        _run("R2", "2026-12-22", [("P4", {"pet_bottles": 1.0})]),
    )
    t = household_tallies(plan, tiny)
    days = [r.quantity / (2 * 0.1) for r in _rows(t, "H8", "compost")]
    assert days == [
        pytest.approx((dt.date(2026, 12, 2) - dt.date(2026, 12, 22)).days + 31),
        pytest.approx(20),
    ]
