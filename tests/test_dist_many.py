"""run-many over a synthetic prefecture: every region planned, one summary per region
and in total; an invalid scenario in the folder reported without stopping the others."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.synth._prefecture import generate_prefecture

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_prefecture_is_seeded_and_listed(tmp_path):
    a = generate_prefecture(tmp_path / "a", banners=2, points=8, seed=7)
    generate_prefecture(tmp_path / "b", banners=2, points=8, seed=7)
    assert [s.name for s in a.banners] == ["banner-01", "banner-02"]
    assert a.list_file.read_text(encoding="utf-8").splitlines()[1:] == [
        "banner-01/scenario.toml",
        "banner-02/scenario.toml",
    ]
    for name in ("banner-01/points.csv", "banner-02/roads.gpkg", "banner-02/scenario.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with pytest.raises(ValueError, match="expected 1 to 200 banners"):
        generate_prefecture(tmp_path / "c", banners=0)


def test_run_many_merges_regions_and_reports_a_bad_one(tmp_path):
    synth = ["synth", "prefecture", "--banners", "2", "--points", "8", "--out", str(tmp_path / "p")]
    res = runner.invoke(app, synth)
    assert res.exit_code == 0, res.output
    bad = tmp_path / "p" / "broken"
    shutil.copytree(tmp_path / "p" / "banner-02", bad)
    text = (bad / "scenario.toml").read_text(encoding="utf-8")
    (bad / "scenario.toml").write_text(text.replace("width_min = 60", "width_min = 5"), "utf-8")
    out = tmp_path / "many"
    args = ["run-many", str(tmp_path / "p"), "-o", str(out), "--workers", "0", "--time-limit", "1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output  # the broken region is bad input; the others ran
    assert "region broken:" in res.output and "found 5" in res.output
    assert "Traceback" not in res.output
    rows = list(csv.DictReader((out / "regions.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["region"], r["status"]) for r in rows] == [
        ("banner-01", "ok"), ("banner-02", "ok"), ("broken", "invalid"),
        ("total", "2 of 3 planned"),
    ]  # fmt: skip
    total = json.loads((out / "summary.json").read_text(encoding="utf-8"))["total"]
    for key in ("households", "trucks", "unserved"):
        assert total[key] == sum(int(r[key]) for r in rows[:2])
    assert total["fee_balance_cny"] == pytest.approx(
        sum(float(r["fee_balance_cny"]) for r in rows[:2]), abs=0.02
    )
    for region in ("banner-01", "banner-02"):
        assert (out / region / "plan.json").is_file()
    # The list file names the same scenarios; both are done, so nothing is planned again.
    res = runner.invoke(app, [*args[:1], str(tmp_path / "p" / "regions.txt"), *args[2:]])
    assert res.exit_code == 0, res.output
    assert "2 already done, planning 0" in res.output
