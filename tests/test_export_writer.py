"""Every output at once: what `planner run` and `planner export` leave in the plan folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner._errors import PlanError
from planner.cli import app
from planner.export.bundle import read_bundle
from planner.export.writer import ExportOptions, export_plan
from planner.money.balance import balance_violations
from planner.money.files import read_tallies
from planner.plan.model import Plan


@pytest.fixture(scope="module")
def exported(planned_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exported")
    shutil.copytree(planned_tiny, folder, dirs_exist_ok=True)
    export_plan(read_bundle(folder), folder, ExportOptions())
    return folder


def test_every_product_is_there(exported: Path) -> None:
    plan = json.loads((exported / "plan.json").read_text(encoding="utf-8"))
    runs = [r["id"] for r in plan["runs"]]
    assert sorted(p.stem for p in (exported / "sheets").glob("*.pdf")) == sorted(runs)
    assert sorted(p.stem for p in (exported / "sheets").glob("*.html")) == sorted(runs)
    assert sorted(p.stem for p in (exported / "gpx").glob("*.gpx")) == sorted(runs)
    assert (exported / "calendars" / "truck-T1.ics").exists()
    assert len(list((exported / "notices").glob("*.txt"))) == 2  # two gachas
    for name in ("gis/plan.gpkg", "plan.xlsx", "maps/month.png", "maps/month.svg", "report.html"):
        assert (exported / name).stat().st_size > 0, name
    # Nothing staged is left behind.
    assert not [p for p in exported.iterdir() if p.name.startswith(".")]


def test_a_failed_export_leaves_the_old_outputs(
    exported: Path, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(exported, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def broken(*args: object, **kwargs: object) -> list[Path]:
        raise PlanError("maps: the banner outline is empty")

    monkeypatch.setattr("planner.export.maps.write_maps", broken)
    with pytest.raises(PlanError, match="outline"):
        export_plan(read_bundle(folder), folder, ExportOptions())
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_export_after_a_hand_edit(exported: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(exported, folder)
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    dropped = plan["runs"].pop()  # the office cancels the month's last run
    plan["summary"]["runs"] -= 1
    (folder / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    res = CliRunner().invoke(app, ["export", str(folder), "--no-pdf", "-q"])
    assert res.exit_code == 0, res.output
    assert "made again from the plan" in res.output
    # Sheets and tracks of the dropped run are gone; the money files match the edit.
    assert not (folder / "sheets" / f"{dropped['id']}.html").exists()
    assert not (folder / "gpx" / f"{dropped['id']}.gpx").exists()
    assert balance_violations(Plan.from_json_dict(plan), read_tallies(folder / "tallies.csv")) == []
    assert dropped["id"] not in (folder / "report.html").read_text(encoding="utf-8")


def test_english_and_bad_language(exported: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(exported, folder)
    res = CliRunner().invoke(app, ["export", str(folder), "--lang", "fr", "-q"])
    assert res.exit_code == 2
    assert "--lang: expected one of zh, en, found 'fr'" in res.output
    export_plan(read_bundle(folder), folder, ExportOptions(lang="en", pdf=False, only=("sheets",)))
    text = next((folder / "sheets").glob("*.html")).read_text(encoding="utf-8")
    assert 'lang="en"' in text


def test_export_of_a_folder_without_a_plan(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["export", str(tmp_path), "-q"])
    assert res.exit_code == 2
    assert "plan file not found" in res.output
