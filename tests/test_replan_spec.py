"""Bad input to planner replan: exit 2 with one message naming the option, before any work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from replan_region import planned_region
from typer.testing import CliRunner

from planner._errors import PlanError
from planner.cli import app
from planner.plan.model import Plan
from planner.replan.spec import parse_disruption

runner = CliRunner()


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planned_region(tmp_path_factory.mktemp("replan-spec"))


@pytest.mark.parametrize(
    ("start", "trucks", "days", "points", "message"),
    [
        # --from before the month
        ("2026-11-30", [], ["2026-12-15"], [], "--from: expected a date of the plan's month"),
        # --from after the month
        ("2027-01-04", [], [], [], "after the month"),
        # --from not a date
        ("12/10/2026", ["T01"], [], [], "--from: expected a date YYYY-MM-DD, found '12/10/2026'"),
        # a truck the plan does not have
        ("2026-12-10", ["T99"], [], [], "--truck-out: expected a truck of the plan (T01, T02"),
        # a range without its second date
        ("2026-12-10", ["T01:2026-12-11"], [], [], "--truck-out: expected T01:YYYY-MM-DD..YYYY"),
        # a range that ends before it starts
        ("2026-12-10", ["T01:2026-12-20..2026-12-11"], [], [], "ends before it starts"),
        # a range reaching into the past
        ("2026-12-10", ["T01:2026-12-01..2026-12-11"], [], [], "earlier runs are facts"),
        # a range outside the month
        ("2026-12-10", ["T01:2026-12-11..2027-01-05"], [], [], "expected a date of the plan's"),
        # a closed day that is not a service date (a Saturday)
        ("2026-12-10", [], ["2026-12-12"], [], "--closed-day: expected a service date"),
        # a closed day before --from
        ("2026-12-10", [], ["2026-12-08"], [], "--closed-day: expected a date from --from"),
        # a point the plan does not have
        ("2026-12-10", [], [], ["P999"], "--point-closed: expected a collection point"),
        # nothing to work around
        ("2026-12-10", [], [], [], "nothing to re-plan"),
    ],
)
def test_bad_options_name_the_option(
    plan_dir: Path, start: str, trucks: list[str], days: list[str], points: list[str], message: str
) -> None:
    plan = Plan.read(plan_dir)
    with pytest.raises(PlanError, match=None) as exc:
        parse_disruption(plan, start, trucks, days, points)
    assert message in str(exc.value)


def test_outages_default_to_the_rest_of_the_month(plan_dir: Path) -> None:
    plan = Plan.read(plan_dir)
    d = parse_disruption(plan, "2026-12-10", ["T03", "T01:2026-12-14..2026-12-15"], [], ["P004"])
    assert [(o.what, str(o.first), str(o.last)) for o in d.trucks_out] == [
        ("T01", "2026-12-14", "2026-12-15"),
        ("T03", "2026-12-10", "2026-12-31"),
    ]
    assert not d.truck_works("T03", plan.period.end)
    assert d.truck_works("T01", plan.period.end)
    assert not d.point_open("P004", plan.period.end)


def _cli(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["replan", *args])
    return res.exit_code, res.output + (res.stderr if res.stderr_bytes else "")


def test_cli_exits_2_before_any_work(plan_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "new"
    code, text = _cli(str(plan_dir), "--from", "2026-12-10", "--truck-out", "T9", "-o", str(out))
    assert code == 2 and "--truck-out: expected a truck of the plan" in text
    assert "Traceback" not in text and not out.exists()


def test_cli_rejects_folders_without_a_plan_or_its_run_record(
    plan_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, text = _cli(str(empty), "--from", "2026-12-10", "--truck-out", "T01", "-o", "x")
    assert code == 2 and "PLAN_DIR: expected" in text and "plan.json" in text
    copy = tmp_path / "copy"
    shutil.copytree(plan_dir, copy)
    (copy / "run.json").unlink()
    code, text = _cli(str(copy), "--from", "2026-12-10", "--truck-out", "T01", "-o", "x")
    assert code == 2 and "run.json" in text


def test_cli_rejects_the_plan_folder_itself_and_a_changed_scenario(
    plan_dir: Path, tmp_path: Path
) -> None:
    code, text = _cli(
        str(plan_dir), "--from", "2026-12-10", "--truck-out", "T01", "-o", str(plan_dir)
    )
    assert code == 2 and "-o: expected a new folder" in text
    copy = tmp_path / "copy"
    shutil.copytree(plan_dir, copy)
    meta = json.loads((copy / "run.json").read_text(encoding="utf-8"))
    meta["scenario_hash"] = "0" * 64
    (copy / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    code, text = _cli(str(copy), "--from", "2026-12-10", "--truck-out", "T01", "-o", "y")
    assert code == 2 and "changed since the plan was made" in text


def test_cli_rejects_unknown_engine(plan_dir: Path) -> None:
    code, text = _cli(str(plan_dir), "--from", "2026-12-10", "-o", "z", "--engine", "foo")
    assert code == 2 and "--engine: expected one of pyvrp, ortools, found 'foo'" in text
