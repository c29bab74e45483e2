"""planner.plan.io: plan files read and checked; the run record beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner._errors import PlanError
from planner.plan.io import read_plan, read_run_record


def test_run_record_names_the_scenario_planner_run_used(planned_tiny: Path) -> None:
    record = read_run_record(planned_tiny)
    assert record is not None
    scenario_path, meta = record
    assert scenario_path.name == "tiny.toml" and scenario_path.is_file()
    assert meta["seed"] == 3 and meta["scenario_hash"]


@pytest.mark.parametrize(
    "content", [None, "not json", '["a list"]', '{"seed": 0}', '{"scenario_path": null}']
)
def test_a_missing_or_unreadable_run_record_is_none(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "run.json").write_text(content, encoding="utf-8")
    assert read_run_record(tmp_path) is None


def test_a_plan_of_another_format_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format": "someone-else/2"}), encoding="utf-8")
    with pytest.raises(PlanError, match=r"plan\.json"):
        read_plan(path)
