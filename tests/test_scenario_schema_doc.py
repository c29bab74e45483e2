"""The scenario reference in docs/ is what the models say."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema

from planner.scenario.schema_doc import render_scenario_doc, scenario_json_schema

ROOT = Path(__file__).resolve().parents[1]


def test_docs_are_current():
    # Regenerate with: planner docs
    assert (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8") == render_scenario_doc()
    committed = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert committed == scenario_json_schema()


def test_every_key_is_documented():
    text = render_scenario_doc()
    for key in (
        "payload_kg",
        "box_m3",
        "lunch_min",
        "min_gap_days",
        "service_weekdays",
        "exchange_points_per_kg",
        "fee_per_gacha_year_cny",
        "road_speeds_kmh",
    ):
        assert f"`{key}`" in text


def test_example_scenarios_match_the_schema():
    schema = scenario_json_schema()
    for path in [
        ROOT / "tests" / "data" / "tiny.toml",
        *sorted((ROOT / "scenarios").glob("*.toml")),
    ]:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
