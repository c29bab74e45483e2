"""planner replan on a small synthetic month: facts kept, windows kept, checked, repeatable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from icalendar import Calendar
from replan_region import planned_region
from typer.testing import CliRunner

from planner.app.pipeline import check_written_plan
from planner.cli import app
from planner.plan.model import Plan
from planner.replan import read_inputs, replan_month, write_replan

START = "2026-12-10"
CLOSED = "2026-12-16"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replan")
    plan = planned_region(root, export=True)
    res = CliRunner().invoke(
        app,
        [
            "replan",
            str(plan),
            "--from",
            START,
            "--truck-out",
            "T03",
            "--closed-day",
            CLOSED,
            "-o",
            str(root / "v2"),
            "--no-pdf",
        ],
    )
    assert res.exit_code == 0, res.output
    return root


def test_runs_before_from_are_the_predecessors_byte_for_byte(region: Path) -> None:
    old, new = (json.loads((region / d / "plan.json").read_text("utf-8")) for d in ("plan", "v2"))
    past = [r for r in old["runs"] if r["date"] < START]
    assert past and [r for r in new["runs"] if r["date"] < START] == past
    old_sheets = {p.name for p in (region / "plan" / "sheets").iterdir()}
    for run in past:  # their sheets and tracks are the predecessor's files
        name = f"{run['id']}.html"
        assert name in old_sheets
        assert (region / "v2/sheets" / name).read_bytes() == (
            region / "plan/sheets" / name
        ).read_bytes()


def test_the_disruption_is_respected_and_the_plan_passes_its_check(region: Path) -> None:
    plan = Plan.read(region / "v2")
    assert plan.version == 2 and plan.predecessor is not None
    assert plan.predecessor.path == "../plan/plan.json" and plan.predecessor.version == 1
    assert plan.replan is not None and plan.replan["closed_days"] == [CLOSED]
    assert not [r for r in plan.runs if r.vehicle == "T03" and str(r.date) >= START]
    assert not [r for r in plan.runs if str(r.date) == CLOSED]
    text, ok = check_written_plan(region / "v2", None)
    assert ok, text
    old = Plan.read(region / "plan")
    assert plan.summary.visits + plan.summary.unserved == old.summary.visits + old.summary.unserved


def test_every_visit_keeps_its_window_and_every_change_is_listed(region: Path) -> None:
    old, new = Plan.read(region / "plan"), Plan.read(region / "v2")
    doc = json.loads((region / "v2/changes.json").read_text("utf-8"))
    listed = {(v["point"], v["old"]["date"]) for v in doc["visits"]}
    widened = {v["point"] for v in doc["visits"] if v["status"] == "window"}
    before = {(st.place, str(r.date)): (st.arrival, r.vehicle) for r, st in old.collect_steps()}
    after = {(st.place, str(r.date)): (st.arrival, r.vehicle) for r, st in new.collect_steps()}
    for (point, _day), (arrival, _) in after.items():
        lo, hi = new.points_by_id[point].window_min or (0, 24 * 60)
        assert lo <= arrival.hour * 60 + arrival.minute <= hi
        if point not in widened:
            assert new.points_by_id[point].window == old.points_by_id[point].window
    for key, was in before.items():
        if key[1] >= START and after.get(key) != was:
            assert key in listed, f"{key} changed but is not in changes.json"
    moved = [v for v in doc["visits"] if v["status"] == "moved"]
    assert moved and all(v["old"]["date"] == CLOSED for v in moved)
    assert all(v["new"]["window"] == v["old"]["window"] for v in moved)
    rows = (region / "v2/changes.csv").read_text("utf-8").splitlines()
    assert rows[0].startswith("point,name,gacha,status,old_date") and len(rows) == 1 + len(listed)
    figures = doc["figures"]
    assert (
        figures["kept_date_and_window"] + figures["moved"] + figures["unserved"]
        <= figures["remaining_visits"]
    )


def test_only_the_gachas_whose_visits_moved_get_a_new_notice(region: Path) -> None:
    doc = json.loads((region / "v2/changes.json").read_text("utf-8"))
    scenario_gacha = {p["point"]: p["gacha"] for p in doc["visits"]}
    touched = {
        scenario_gacha[v["point"]]
        for v in doc["visits"]
        # A retimed visit changes its notice too when the truck now leaves before the
        # window's start (the notice never tells people to come after the truck left).
        if v["status"] in ("moved", "window", "unserved", "retimed")
    }
    notices = [f for f in doc["outputs"]["changed"] if f.startswith("notices/")]
    assert notices and len(notices) <= len(touched)
    unchanged = set(p.name for p in (region / "plan/notices").iterdir()) - {
        Path(f).name for f in notices
    }
    assert unchanged
    for name in unchanged:
        assert (region / "v2/notices" / name).read_bytes() == (
            region / "plan/notices" / name
        ).read_bytes()


def test_changed_calendar_events_get_sequence_and_cancelled_runs_stay_cancelled(
    region: Path,
) -> None:
    cal = Calendar.from_ical((region / "v2/calendars/truck-T03.ics").read_bytes())
    later = [ev for ev in cal.walk("VEVENT") if ev.decoded("dtstart").date().isoformat() >= START]
    assert later and all(
        str(ev["status"]) == "CANCELLED" and int(ev["sequence"]) == 1 for ev in later
    )
    earlier = [ev for ev in cal.walk("VEVENT") if ev not in later]
    assert all("sequence" not in ev for ev in earlier)
    changed = {
        f for f in json.loads((region / "v2/changes.json").read_text("utf-8"))["outputs"]["changed"]
    }
    for path in (region / "v2/calendars").glob("*.ics"):
        if f"calendars/{path.name}" not in changed:
            assert path.read_bytes() == (region / "plan/calendars" / path.name).read_bytes()


def test_same_inputs_give_the_same_bytes(region: Path) -> None:
    again = region / "v2-again"
    inputs = read_inputs(region / "plan", again, START, ["T03"], [CLOSED])
    _, violations = write_replan(replan_month(inputs), lang="zh", pdf=False)
    assert not violations
    for name in (
        "plan.json",
        "changes.json",
        "changes.csv",
        "tallies.csv",
        "calendars/truck-T01.ics",
    ):
        assert (again / name).read_bytes() == (region / "v2" / name).read_bytes(), name
    shutil.rmtree(again)


def test_a_closed_point_is_unserved_with_a_reason(region: Path, tmp_path: Path) -> None:
    plan = Plan.read(region / "plan")
    point = next(st.place for r, st in plan.collect_steps() if str(r.date) >= START)
    inputs = read_inputs(region / "plan", tmp_path / "v", START, points_closed=[point])
    result = replan_month(inputs)
    gone = [u for u in result.plan.unserved if u.point == point]
    assert gone and all(f"point {point} is closed" in u.reason for u in gone)
    assert all("shorten the minimum gap or add a service day" in u.reason for u in gone)
    _, violations = write_replan(result, export=False)
    assert not violations


def test_a_failed_check_writes_nothing(
    region: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.app.pipeline as pipeline

    monkeypatch.setattr(pipeline, "check_written_plan", lambda *_a: ("[window] broken", False))
    inputs = read_inputs(region / "plan", tmp_path / "v", START, ["T03"])
    folder, violations = write_replan(replan_month(inputs), export=False)
    assert violations == ["[window] broken"]
    assert not folder.exists() and not list(tmp_path.iterdir())
