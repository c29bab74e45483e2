"""Every output at once: what `planner run` and `planner export` leave in the plan folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
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

    def broken(*_args: object, **_kwargs: object) -> list[Path]:
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


# -- what killed runs leave behind -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PLANNER = "from planner.cli import app; app(prog_name='planner')"


def _planner(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", PLANNER, *args],
        capture_output=True, text=True, env=env, check=False, timeout=600, **kwargs,
    )  # fmt: skip


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_leftovers_match_only_the_planners_patterns(tmp_path: Path) -> None:
    from planner._folder import claim_folder, leftovers

    ours = [".export-ab12cd_3", ".sheets.old-4242"]
    temps = [".tallies.csv.x8k2m0qz.tmp", ".plan.json.a_b_c_d1.tmp"]
    theirs = [".export-mine", "export-ab12cd_3", ".tallies.csv.tmp", "notes.tmp", "sheets"]
    for name in [*ours, "sheets", ".export-mine", "export-ab12cd_3"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "f.pdf").write_bytes(b"x")
    for name in [*temps, ".tallies.csv.tmp", "notes.tmp"]:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in leftovers(tmp_path)) == sorted(ours + temps)
    with claim_folder(tmp_path):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)


@pytest.fixture(scope="module")
def sixteen_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned synthetic month of 16 runs: enough for parallel PDF workers."""
    root = tmp_path_factory.mktemp("r30")
    done = _planner(
        "synth", "random", "--out", str(root / "data"), "--scenario", str(root / "s.toml"),
        "--points", "30", "--households", "300", "--townships", "2",
        "--area-km2", "5000", "--trucks", "3", "--seed", "11",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = _planner("run", str(root / "s.toml"), "-o", str(root / "out"), "--time-limit", "2",
                    "--no-export", "-q")  # fmt: skip
    assert done.returncode == 0, done.stderr
    runs = json.loads((root / "out" / "plan.json").read_text(encoding="utf-8"))["runs"]
    assert len(runs) >= 12, len(runs)
    return root / "out"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_kill_9_during_pdfs_leaves_no_worker_and_the_next_run_cleans_up(
    sixteen_runs: Path,
) -> None:
    folder = sixteen_runs
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PLANNER, "export", str(folder), "-q"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            workers |= _children(proc.pid)
            time.sleep(0.05)
        assert workers, "the export never started its PDF workers"
        proc.kill()  # SIGKILL: the planner cannot tell its workers
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [w for w in workers if _alive(w)]
        assert not orphans, f"workers {orphans} outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    # The killed export left its staging folder; plant a killed write's temp file too.
    assert list(folder.glob(".export-*")), "expected the killed export's staging folder"
    (folder / ".tallies.csv.k1ll3d_9.tmp").write_bytes(b"half a file")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    done = _planner("export", str(folder), "--no-pdf", "-q")
    assert done.returncode == 0, done.stderr
    assert not list(folder.glob(".export-*")) and not list(folder.glob(".*.tmp"))
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_folder_in_use_is_refused_not_cleaned(tmp_path: Path) -> None:
    from planner._folder import claim_folder

    with claim_folder(tmp_path):
        (tmp_path / ".export-ab12cd_3").mkdir()  # a live run's staging folder
        with (
            pytest.raises(PlanError, match="no other planner is writing into"),
            claim_folder(tmp_path),
        ):
            pass
        assert (tmp_path / ".export-ab12cd_3").is_dir()
