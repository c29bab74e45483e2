"""The typed plan: reads and writes rural-waste-plan/1 exactly, refuses what is not one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planner._errors import PlanError
from planner.plan.model import Plan

PLANS = Path(__file__).parent / "data" / "plans"


def test_the_planned_month_round_trips(planned_tiny: Path) -> None:
    text = (planned_tiny / "plan.json").read_text(encoding="utf-8")
    plan = Plan.read(planned_tiny)
    assert plan.to_json() == text
    # Typed access agrees with the document.
    doc = json.loads(text)
    assert [r.id for r in plan.runs] == [r["id"] for r in doc["runs"]]
    assert plan.summary.visits == sum(len(r.collects) for r in plan.runs)
    first = plan.runs[0].steps[1]
    assert first.arrival.strftime("%Y-%m-%dT%H:%M") == doc["runs"][0]["steps"][1]["arrival"]
    assert first.arrival_min == first.arrival.hour * 60 + first.arrival.minute


def test_fields_added_by_another_writer_are_kept(planned_tiny: Path) -> None:
    doc = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
    doc["made_by"] = "another office tool"
    doc["runs"][0]["driver"] = "王师傅"
    doc["runs"][0]["steps"][0]["note"] = None
    plan = Plan.from_json_dict(doc)
    assert plan.to_json_dict() == doc


def test_int_and_float_numbers_keep_their_form(planned_tiny: Path) -> None:
    doc = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
    doc["vehicles"][0]["max_duration_min"] = 600
    doc["runs"][0]["distance_km"] = 12.0
    out = json.dumps(Plan.from_json_dict(doc).to_json_dict())
    assert '"max_duration_min": 600}' in out and '"distance_km": 12.0' in out


def test_money_figures_are_added_without_touching_the_route_totals(planned_tiny: Path) -> None:
    plan = Plan.read(planned_tiny)
    more = plan.with_summary(net_cost_cny=1.5)
    assert more.summary.net_cost_cny == 1.5 and more.summary.runs == plan.summary.runs
    assert plan.summary.net_cost_cny != 1.5 or plan is more  # the original is unchanged


def test_the_model_is_frozen(planned_tiny: Path) -> None:
    plan = Plan.read(planned_tiny)
    with pytest.raises(Exception, match="frozen"):
        plan.runs[0].steps[0].place = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # a step type outside the contract
        (lambda d: d["runs"][0]["steps"][1].update(type="lunch"), "type"),
        # a time that is not a time
        (lambda d: d["runs"][0]["steps"][1].update(arrival="noon"), "arrival"),
        # a negative leg
        (lambda d: d["runs"][0]["steps"][1].update(leg_km=-1), "leg_km"),
    ],
)
def test_a_broken_plan_is_refused_naming_the_field(
    planned_tiny: Path, tmp_path: Path, edit, expected: str
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(planned_tiny, folder)
    doc = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    edit(doc)
    (folder / "plan.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(PlanError, match=expected):
        Plan.read(folder)
    with pytest.raises(PlanError, match=expected):
        Plan.from_json_dict(doc)


def test_fixture_plans_that_pass_the_schema_round_trip() -> None:
    from planner.plan.io import read_plan, validate_schema

    seen = 0
    for path in sorted(PLANS.glob("*.json")):
        try:
            doc = read_plan(path)
        except PlanError:
            continue
        if validate_schema(doc):
            continue
        assert Plan.from_json_dict(doc).to_json_dict() == doc, path.name
        seen += 1
    assert seen >= 2
