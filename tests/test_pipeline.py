"""The main job end to end: plans that pass the checker, unserved reasons, determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner._errors import NetworkError, ScenarioError
from planner.app.pipeline import check_written_plan, plan_month
from planner.plan.io import validate_schema
from planner.scenario.load import load_scenario

DATA = Path(__file__).parent / "data"


def _copy_tiny(tmp_path: Path, edit=None) -> Path:
    shutil.copytree(DATA / "tiny", tmp_path / "tiny")
    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    if edit is not None:
        text = edit(text)
    path = tmp_path / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_out")
    result = plan_month(load_scenario(DATA / "tiny.toml"), out, time_limit=4, seed=3)
    return result, out


def test_tiny_plan_is_complete_and_checked(tiny_plan):
    result, out = tiny_plan
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert validate_schema(plan) == []
    assert result.check_violations == ()
    # 2 + 2 + 3 + 2 required visits, all made.
    assert plan["summary"]["visits"] == 9 and plan["unserved"] == []
    visits: dict[str, list[str]] = {}
    for run in plan["runs"]:
        steps = run["steps"]
        assert steps[0]["type"] == "start" and steps[-1]["type"] == "end"
        assert steps[-2]["type"] == "unload"  # ends the day empty
        for s in steps:
            if s["type"] == "collect":
                visits.setdefault(s["place"], []).append(run["date"])
    assert {p: len(d) for p, d in visits.items()} == {"P1": 2, "P2": 2, "P3": 3, "P4": 2}
    # Every point has an announced window that holds all its arrivals.
    assert all(p["window"] is not None for p in plan["points"])


def test_check_command_agrees(tiny_plan):
    _, out = tiny_plan
    text, ok = check_written_plan(out, None)
    assert ok, text


def test_same_seed_same_plan(tiny_plan, tmp_path):
    _, out = tiny_plan
    again = plan_month(load_scenario(DATA / "tiny.toml"), tmp_path, time_limit=4, seed=3)
    first = (out / "plan.json").read_bytes()
    assert again.path.read_bytes() == first


def test_truck_smaller_than_one_visit_is_explained(tmp_path):
    path = _copy_tiny(tmp_path, lambda t: t.replace("payload_kg = 500.0", "payload_kg = 2.0"))
    result = plan_month(load_scenario(path), tmp_path / "out", time_limit=3, seed=0)
    plan = result.plan
    assert plan.unserved, "a 2 kg truck cannot take P1's visits"
    reasons = {u.reason for u in plan.unserved if u.point == "P1"}
    assert any("largest truck carries" in r for r in reasons), reasons
    assert result.check_violations == ()
    # Visits made plus visits unserved is what each point requires.
    made = sum(len(r.collects) for r in plan.runs)
    assert made + len(plan.unserved) == 9


def test_point_out_of_reach_in_a_shift_is_explained(tmp_path):
    def edit(t: str) -> str:
        return t.replace("max_work_min", "#").replace(
            "cost_per_km = 2.0",
            'shift_start = "08:00"\nshift_end = "08:20"\nlunch_min = 0\n'
            "max_work_min = 20\ncost_per_km = 2.0",
        )

    result = plan_month(load_scenario(_copy_tiny(tmp_path, edit)), tmp_path / "o", time_limit=3)
    reasons = [u.reason for u in result.plan.unserved]
    assert reasons and any("shift allows" in r or "window" in r for r in reasons), reasons


def test_unreachable_point_is_named(tmp_path):
    path = _copy_tiny(tmp_path)
    roads = json.loads((tmp_path / "tiny" / "roads.geojson").read_text(encoding="utf-8"))
    # An island road far from the rest, with a new point on it.
    roads["features"].append(
        {
            "type": "Feature",
            "properties": {"road_class": "dirt"},
            "geometry": {"type": "LineString", "coordinates": [[108.085, 39.05], [108.09, 39.05]]},
        }
    )
    (tmp_path / "tiny" / "roads.geojson").write_text(json.dumps(roads), encoding="utf-8")
    with open(tmp_path / "tiny" / "points.csv", "a", encoding="utf-8") as f:
        f.write("P5,孤岛,150624999202,乙嘎查,150624999,测试镇,108.087,39.0501,1,2,,true\n")
    with open(tmp_path / "tiny" / "households.csv", "a", encoding="utf-8") as f:
        f.write("H9,P5,2,,true\n")
    with pytest.raises(NetworkError, match="P5"):
        plan_month(load_scenario(path), tmp_path / "out", time_limit=2)


def test_month_of_holidays_is_refused(tmp_path):
    def edit(t: str) -> str:
        return t.replace(
            'service_weekdays = ["mon", "tue", "wed", "thu", "fri"]', 'service_weekdays = ["sat"]'
        ).replace(
            'holidays = ["2026-12-25"]',
            'holidays = ["2026-12-05", "2026-12-12", "2026-12-19", "2026-12-26"]',
        )

    with pytest.raises(ScenarioError, match="at least one service day"):
        load_scenario(_copy_tiny(tmp_path, edit))


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), points=st.integers(6, 14))
def test_random_regions_plan_cleanly(tmp_path_factory, seed, points):
    from planner.synth import generate_region, synthetic_params

    folder = tmp_path_factory.mktemp("region")
    params = synthetic_params(
        points=points, households=points * 20, townships=2, area_km2=600.0, trucks=2, seed=seed
    )
    generate_region(params, folder / "data", folder / "scenario.toml")
    scenario = load_scenario(folder / "scenario.toml")
    result = plan_month(scenario, folder / "out", time_limit=4, seed=seed)
    assert result.check_violations == ()
    plan = result.plan
    # What the households sell and exchange, read back from the file, is what the stops collect.
    from planner.money.balance import balance_violations
    from planner.money.files import read_tallies

    assert balance_violations(plan, read_tallies(folder / "out" / "tallies.csv")) == []
    made = sum(len(r.collects) for r in plan.runs)
    assert made + len(plan.unserved) == sum(scenario.visits.values())
    _assert_windows_inside(result.plan.to_json_dict(), "08:30", "17:00")


def _assert_windows_inside(plan: dict, earliest: str, latest: str) -> None:
    for p in plan["points"]:
        if p["window"] is not None:
            assert earliest <= p["window"][0] < p["window"][1] <= latest, (p["id"], p["window"])


def test_windows_are_announced_inside_the_scenario_bounds(tmp_path):
    # 08:40 is off the quarter-hour grid the windows are rounded to; 16:20 is early.
    path = _copy_tiny(
        tmp_path,
        lambda t: t.replace('earliest = "08:30"', 'earliest = "08:40"').replace(
            'latest = "17:00"', 'latest = "16:20"'
        ),
    )
    result = plan_month(load_scenario(path), tmp_path / "out", time_limit=3, seed=1)
    assert result.check_violations == ()
    _assert_windows_inside(result.plan.to_json_dict(), "08:40", "16:20")
    text, ok = check_written_plan(tmp_path / "out", None)
    assert ok, text


def test_check_fails_on_a_missing_tallies_csv_and_says_what_it_did_not_check(tiny_plan, tmp_path):
    _, out = tiny_plan
    folder = tmp_path / "killed"
    shutil.copytree(out, folder)
    (folder / "tallies.csv").unlink()  # what a kill during the writes leaves
    text, ok = check_written_plan(folder, None)
    assert not ok
    assert "FAILED: tallies.csv is missing" in text and "were not checked" in text
    assert "not checked:" in text and "kg each visit collects" in text
    # The verdict is the last line, and nothing above it says the whole is OK.
    assert text.splitlines()[-1].startswith("FAILED: tallies.csv") and "OK:" not in text


def test_check_fails_on_tallies_that_differ_from_the_plan(tiny_plan, tmp_path):
    _, out = tiny_plan
    folder = tmp_path / "edited"
    shutil.copytree(out, folder)
    tallies = folder / "tallies.csv"
    lines = tallies.read_text(encoding="utf-8").splitlines(keepends=True)
    tallies.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")  # one row lost
    text, ok = check_written_plan(folder, None)
    assert not ok
    last = text.splitlines()[-1]
    assert last.startswith("FAILED: tallies.csv: 1 stop where households"), text
    assert "OK:" not in text and "plan.json: passes every check" in text


def test_a_shift_with_no_room_at_all_says_why(tmp_path):
    # 07:30-09:00 with windows opening 08:30: a truck waits, serves and is back too late.
    # No run at all that day, so "hours taken by other visits" would be false.
    def edit(t: str) -> str:
        return t.replace(
            "cost_per_km = 2.0",
            'shift_start = "07:30"\nshift_end = "09:00"\nlunch_min = 0\ncost_per_km = 2.0',
        )

    result = plan_month(load_scenario(_copy_tiny(tmp_path, edit)), tmp_path / "o", time_limit=2)
    assert not result.plan.runs and result.plan.unserved
    for u in result.plan.unserved:
        assert "taken by other visits" not in u.reason, u.reason
        assert "waits for its window to open at 08:30" in u.reason, u.reason
        assert "after its shift ends at 09:00" in u.reason, u.reason
