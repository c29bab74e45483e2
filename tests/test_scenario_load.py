"""The scenario loader: the tiny valid scenario, and one message per bad file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from planner._errors import ScenarioError
from planner.scenario.load import load_scenario

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"


def test_tiny_scenario_loads():
    sc = load_scenario(DATA / "tiny.toml")
    assert [p.id for p in sc.points] == ["P1", "P2", "P3", "P4"]
    assert len(sc.households) == 8
    # The rule default is 2; P3's own column says 3.
    assert sc.visits == {"P1": 2, "P2": 2, "P3": 3, "P4": 2}
    # December 2026 has 23 weekdays; the 25th is a holiday.
    assert len(sc.service_dates) == 22
    assert dt.date(2026, 12, 25) not in sc.service_dates
    assert sc.place_kind("S1") == "station" and sc.place_kind("B1") == "buyer"
    assert sc.warnings == ()
    assert len(sc.content_hash) == 64


def test_scenario_is_immutable():
    sc = load_scenario(DATA / "tiny.toml")
    with pytest.raises((AttributeError, TypeError, ValueError)):
        sc.points[0].lon = 1.0  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError, ValueError)):
        sc.settings.fleet[0].payload_kg = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fixture", "where", "words"),
    [
        # lat/lon exchanged in one row of points.csv
        ("points_swapped_latlon", "row 3 (id P2)", "look swapped"),
        # saved by Chinese Excel in GBK
        ("points_gbk_encoded", "points_gbk_encoded.csv", "GBK"),
        # P3 appears twice
        ("points_duplicate_ids", "id P3", "unique place ids"),
        # a point hundreds of km away
        ("points_far_outside", "row 5 (id P4)", "km outside"),
        # the lat column is gone
        ("points_missing_column", "header", "expected columns lat"),
        # Chinese text in a number column
        ("points_not_a_number", "row 2, column lat", "expected a number"),
        # zero bytes
        ("points_empty_file", "points_empty_file.csv", "empty file"),
        # household on point P9 which does not exist
        ("households_unknown_point", "row 9, column point", "unknown point 'P9'"),
        # a household of nobody
        ("households_zero_people", "row 9, column people", ">= 1"),
        # vehicle at a depot that is not in depots.csv
        ("vehicle_unknown_depot", "fleet[0].depot", "unknown depot 'D7'"),
        # negative payload
        ("negative_capacity", "fleet[0].payload_kg", "> 0"),
        # only Sundays, all closed
        ("no_service_day", "month", "at least one service day"),
        # misspelt key
        ("typo_key", "fleet[0].payload_kgs", "unknown key"),
        # unterminated string
        ("toml_syntax_error", "toml_syntax_error.toml", "valid TOML"),
        # the roads file does not exist
        ("roads_file_missing", "no_such_roads.gpkg", "no file"),
        # an exchange category that earns no points
        ("exchange_without_points", "categories[1].exchange_points_per_kg", "points > 0"),
        # a sell category the truck would buy at no price
        ("sell_without_price", "categories[0]", "buy_price_cny_kg or resale_price_cny_kg"),
        # a negative per-person rate
        ("negative_rate", "categories[0].kg_per_person_day", ">= 0"),
        # batteries earn points but there is nothing to exchange them for
        ("exchange_without_goods", "goods", "exchange-goods catalogue"),
        # a goods item that costs nothing
        ("goods_zero_points", "goods[0].points", "> 0"),
        # shift from evening to morning
        ("shift_ends_before_start", "fleet[0]", "shift_start before shift_end"),
        # a 07:30-09:00 shift with the default 11:30-13:30 lunch: a break that never fits
        ("lunch_outside_shift", "fleet[0]", "fits in the shift 07:30..09:00"),
        # the roads use class 'dirt' but the scenario gives it no speed
        ("road_class_without_speed", "region.road_speeds_kmh", "missing dirt"),
        # not an IANA zone
        ("unknown_timezone", "month.timezone", "IANA"),
        # the calendars' evening reminder is a clock time
        ("evening_reminder_not_a_time", "calendars.evening_reminder", "HH:MM, found '7pm'"),
        ("reminder_min_negative", "calendars.reminder_min", ">= 0, found -5"),
    ],
)
def test_bad_input_gets_one_clear_message(fixture, where, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BAD / f"{fixture}.toml")
    messages = [str(i) for i in info.value.issues]
    hits = [m for m in messages if where in m and words in m]
    assert hits, f"no message with {where!r} and {words!r} in {messages}"
    # Every message names a file: users fix their own files.
    assert all(i.file for i in info.value.issues)


def test_all_problems_reported_at_once():
    text = (BAD / "negative_capacity.toml").read_text()
    text = text.replace('depot = "D1"', 'depot = "D7"').replace('"Asia/Shanghai"', '"Mars/Base"')
    path = BAD / "_tmp_many_faults.toml"
    path.write_text(text)
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
    finally:
        path.unlink()
    text = str(info.value)
    assert "payload_kg" in text and "timezone" in text


def test_missing_scenario_file():
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(DATA / "nope.toml")
