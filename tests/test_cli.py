"""The command line: exit codes and messages as a user sees them."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_the_package_exports_what_its_docstring_promises() -> None:
    import importlib.metadata

    import planner

    assert planner.__version__ == importlib.metadata.version("steppe-planner")
    for name in planner.__all__:
        assert getattr(planner, name) is not None, name
    assert planner.plan_month.__module__ == "planner.app.pipeline"
    assert planner.Plan.read.__qualname__ == "Plan.read"
