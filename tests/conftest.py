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
