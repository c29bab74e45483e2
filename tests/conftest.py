"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def planned_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the tiny scenario's planned month (plan.json and what run writes).

    Shared read-only: tests that change files copy the folder first.
    """
    from planner.app.pipeline import plan_month
    from planner.scenario.load import load_scenario

    out = tmp_path_factory.mktemp("tiny-plan")
    plan_month(load_scenario(DATA / "tiny.toml"), out, time_limit=4, seed=3)
    return out


@pytest.fixture(autouse=True)
def _plans_round_trip(request: pytest.FixtureRequest):
    """Every plan.json a test leaves under its tmp_path reads back into the typed model
    with nothing lost, and one the planner wrote (run.json beside it) writes out byte
    for byte."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    folder: Path = request.getfixturevalue("tmp_path")
    yield
    import json

    from planner._errors import PlanError
    from planner.plan.model import Plan

    for path in folder.rglob("plan.json"):
        try:
            text = path.read_text(encoding="utf-8")
            plan = Plan.read(path)
        except (PlanError, UnicodeDecodeError):
            continue  # a test's deliberately broken plan
        doc = json.loads(text)
        assert plan.to_json_dict() == doc, f"{path}: the typed plan lost or changed a field"
        written_by_planner = (path.parent / "run.json").exists()
        if written_by_planner and json.dumps(doc, ensure_ascii=False, indent=1) + "\n" == text:
            assert plan.to_json() == text, f"{path}: not written back byte for byte"
