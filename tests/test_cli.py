"""The command line: exit codes and messages as a user sees them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_validate_ok():
    res = runner.invoke(app, ["validate", str(DATA / "tiny.toml")])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output


def test_validate_bad_file_exits_2_without_traceback():
    res = runner.invoke(app, ["validate", str(DATA / "bad" / "points_gbk_encoded.toml")])
    assert res.exit_code == 2
    assert "GBK" in res.output
    assert "Traceback" not in res.output


def test_info_prints_the_region():
    res = runner.invoke(app, ["info", str(DATA / "tiny.toml")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())  # rich wraps at the terminal width
    assert "测试镇" in text and "sell" in text and "reach each other" in text


def test_run_then_check(tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["run", str(DATA / "tiny.toml"), "-o", str(out), "--time-limit", "3", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    # The fleet estimate per depot, as planner info prints it, with what binds it.
    info = " ".join(runner.invoke(app, ["info", str(DATA / "tiny.toml")]).output.split())
    assert "Smallest fleet the month needs" in text and "hours:" in text
    estimate = text[text.index("Smallest fleet") :]
    assert estimate.split("hours:")[0] in info
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["format"] == "rural-waste-plan/1"
    res = runner.invoke(app, ["check", str(out)])
    assert res.exit_code == 0, res.output
    assert "OK" in res.output


def test_check_finds_a_tampered_plan(tmp_path):
    out = tmp_path / "out"
    runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", str(out), "--time-limit", "3"])
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    plan["runs"][0]["steps"][1]["leg_km"] += 5.0
    (out / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    res = runner.invoke(app, ["check", str(out)])
    assert res.exit_code == 1
    assert "leg" in res.output


def test_synth_random_region(tmp_path):
    res = runner.invoke(
        app,
        [
            "synth",
            "random",
            "--out",
            str(tmp_path / "r"),
            "--scenario",
            str(tmp_path / "r.toml"),
            "--points",
            "12",
            "--households",
            "200",
            "--townships",
            "2",
            "--trucks",
            "2",
            "--area-km2",
            "500",
        ],
    )
    assert res.exit_code == 0, res.output
    # The summary a user reads, not a dataclass repr.
    said = " ".join(res.output.split())
    assert "12 points, 200 households" in said and "2 trucks" in said
    assert "RegionSummary(" not in said
    res = runner.invoke(app, ["validate", str(tmp_path / "r.toml")])
    assert res.exit_code == 0, res.output


def test_unknown_region_name_is_refused(tmp_path):
    res = runner.invoke(app, ["synth", "mars", "--out", str(tmp_path)])
    assert res.exit_code == 2


def test_impossible_region_parameters_exit_2(tmp_path):
    res = runner.invoke(
        app, ["synth", "random", "--out", str(tmp_path), "--townships", "3", "--trucks", "1"]
    )
    assert res.exit_code == 2
    assert "trucks" in res.output and "Traceback" not in res.output


# -- options are checked before any work (exit 2, one line naming the option) -------------


def _no_planning(monkeypatch):
    import planner.app.pipeline as pipeline

    def refuse(*_args, **_kwargs):
        raise AssertionError("planning started before the options were checked")

    monkeypatch.setattr(pipeline, "plan_month", refuse)


BAD_RUN_OPTIONS = [
    # (extra arguments, the option named, what it says it found)
    (["--engine", "foo"], "--engine", "found 'foo'"),  # unknown engine
    (["--time-limit", "nan"], "--time-limit", "found nan"),  # not a number of seconds
    (["--time-limit", "inf"], "--time-limit", "found inf"),  # never ends
    (["--time-limit", "-5"], "--time-limit", "found -5.0"),  # negative
    (["--time-limit", "0"], "--time-limit", "found 0.0"),  # nothing to search with
    (["--wall-limit", "0"], "--wall-limit", "found 0.0"),  # an opt-in that cannot run
    (["--lang", "fr"], "--lang", "found 'fr'"),  # no French sheets
]


@pytest.mark.parametrize(("extra", "option", "found"), BAD_RUN_OPTIONS)
def test_bad_run_option_exits_2_before_planning(tmp_path, monkeypatch, extra, option, found):
    _no_planning(monkeypatch)
    res = runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", str(tmp_path), *extra])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: expected "), lines
    assert found in lines[0]
    assert "Traceback" not in res.output


def test_output_that_is_a_file_exits_2_before_planning(tmp_path, monkeypatch):
    _no_planning(monkeypatch)
    target = tmp_path / "plan.txt"
    target.write_text("not a folder", encoding="utf-8")
    for out in (target, target / "out"):  # the folder itself, or a folder inside a file
        res = runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", str(out)])
        assert res.exit_code == 2, res.output
        assert res.output.startswith("error: --out: expected a folder")
        assert "which is a file" in res.output and len(res.output.strip().splitlines()) == 1
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_output_under_dev_null_exits_2(monkeypatch):
    _no_planning(monkeypatch)
    res = runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", "/dev/null/out"])
    assert res.exit_code == 2, res.output
    assert "--out: expected a folder path, found /dev/null/out" in res.output


def test_output_not_writable_exits_2(tmp_path, monkeypatch):
    _no_planning(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions do not stop writing")
        for out in (locked, locked / "new"):
            res = runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", str(out)])
            assert res.exit_code == 2, res.output
            assert "--out: expected a folder you can write to" in res.output
    finally:
        locked.chmod(0o700)


def test_not_writable_is_found_by_access(tmp_path, monkeypatch):
    # The same check where permissions cannot be taken away (root): as os.access says.
    import planner.cli as cli

    _no_planning(monkeypatch)
    monkeypatch.setattr(cli, "_writable", lambda folder: Path(folder) != tmp_path)
    res = runner.invoke(app, ["run", str(DATA / "tiny.toml"), "-o", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert f"--out: expected a folder you can write to, found {tmp_path}, not writable" in (
        res.output
    )


def test_bad_options_of_export_and_compare_exit_2(tmp_path, monkeypatch):
    _no_planning(monkeypatch)
    res = runner.invoke(app, ["export", str(tmp_path), "--lang", "fr"])
    assert res.exit_code == 2 and res.output.startswith("error: --lang: expected one of zh, en")
    tiny = str(DATA / "tiny.toml")
    for extra, option in (
        (["--engine", "x"], "--engine"),
        (["--time-limit", "nan"], "--time-limit"),
    ):
        res = runner.invoke(app, ["compare", tiny, tiny, "-o", str(tmp_path), *extra])
        assert res.exit_code == 2 and res.output.startswith(f"error: {option}: expected"), (
            res.output
        )


# -- input text is printed as it is, never as rich markup or emoji codes -----------------


def _tiny_copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "tiny", tmp_path / "tiny")
    shutil.copy(DATA / "tiny.toml", tmp_path / "tiny.toml")
    return tmp_path / "tiny.toml"


def test_markup_in_a_csv_cell_is_printed_not_interpreted(tmp_path):
    scenario = _tiny_copy(tmp_path)
    points = tmp_path / "tiny" / "points.csv"
    text = points.read_text(encoding="utf-8").replace("108.021", "[/bold]", 1)
    points.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["validate", str(scenario)])
    assert res.exit_code == 2, res.output
    assert "[/bold]" in res.output and "MarkupError" not in res.output
    assert "Traceback" not in res.output


def test_emoji_codes_and_brackets_in_names_are_printed_as_they_are(tmp_path):
    scenario = _tiny_copy(tmp_path)
    text = scenario.read_text(encoding="utf-8")
    text = text.replace('name = "tiny"', 'name = "root:x:0:0 [red]x[/red]"')
    scenario.write_text(text, encoding="utf-8")
    points = tmp_path / "tiny" / "points.csv"
    points.write_text(
        points.read_text(encoding="utf-8").replace("测试镇", "[bold]镇:x:", 1), encoding="utf-8"
    )
    res = runner.invoke(app, ["info", str(scenario)])
    assert res.exit_code == 0, res.output
    assert "root:x:0:0 [red]x[/red]" in res.output
    assert "[bold]镇:x:" in res.output
    assert "❌" not in res.output


@pytest.mark.parametrize("group", ["ledger", "forecast", "sweep"])
def test_the_subcommands_print_input_text_as_it_is(tmp_path, group):
    """An id or path quoted in a message is never read as markup (it raised MarkupError)."""
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    hostile = "H[/bold]x:0:0"
    if group == "ledger":
        args = ["ledger", "household", "--db", db, hostile]
    elif group == "forecast":
        args = ["forecast", "--db", db, "--scenario", str(tmp_path / f"{hostile}.toml")]
        args += ["--month", "2027-01"]
    else:
        args = ["sweep", str(DATA / "tiny.toml"), "--vary", "fleet.per_depot=1,2"]
        args += ["-o", str(tmp_path / hostile), "--dry-run"]
    res = runner.invoke(app, args)
    assert res.exit_code == (0 if group == "sweep" else 2), res.output
    assert hostile in res.output and "❌" not in res.output
    assert "Traceback" not in res.output and "MarkupError" not in res.output


def test_the_package_exports_what_its_docstring_promises() -> None:
    import importlib.metadata

    import planner

    assert planner.__version__ == importlib.metadata.version("steppe-planner")
    for name in planner.__all__:
        assert getattr(planner, name) is not None, name
    assert planner.plan_month.__module__ == "planner.app.pipeline"
    assert planner.Plan.read.__qualname__ == "Plan.read"
