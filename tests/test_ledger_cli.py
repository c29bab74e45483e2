"""``planner ledger``: the loop from the command line; bad input exits 2 without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from planner.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["ledger", *args])
    return r.exit_code, r.output


def test_the_loop(planned_tiny: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    sim = tmp_path / "sim"
    code, text = _run("simulate", str(planned_tiny), "-o", str(sim), "--seed", "2")
    assert code == 0 and "SYNTHETIC" in text
    files = [str(p) for p in sorted(sim.glob("*.csv"))]
    code, text = _run("import", *files, "--plan", str(planned_tiny), "--db", db, "--who", "t")
    assert code == 0 and "recorded as import" in text
    code, text = _run("import", *files, "--db", db)
    assert code == 0 and text.count("already imported") == len(files)
    code, first = _run("report", "--month", "2026-12", "--db", db, "--json")
    assert code == 0
    doc = json.loads(first)
    assert doc["format"] == "steppe-ledger-report/1" and doc["total"]["actual"]["sold_kg"] > 0
    assert _run("report", "--month", "2026-12", "--db", db, "--json")[1] == first
    code, text = _run("reconcile", "--month", "2026-12", "--db", db)
    assert code == 0 and "stop_unrecorded" in text and "price" in text
    code, text = _run("household", "H1", "--db", db)
    assert code == 0 and "balance" in text
    code, text = _run("cards", str(planned_tiny), "-o", str(tmp_path / "cards"))
    assert code == 0 and "<svg" in next((tmp_path / "cards").glob("*.html")).read_text("utf-8")
    assert _run("log", "--db", db)[0] == 0


def test_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    bad = tmp_path / "bad.tally.csv"
    bad.write_text("run_id,point,household,stream,category,kg\nT9,P1,H1,sell,pet_bottles,-1\n")
    cases = [
        ("import", str(bad), "--db", db),
        ("import", str(tmp_path / "missing.csv"), "--db", db),
        ("report", "--month", "2026-13", "--db", db),
        ("report", "--month", "2031-01", "--db", db),
        ("household", "H999", "--db", db),
        ("report", "--month", "2026-12", "--db", "mysql://x"),
        ("report", "--month", "2026-12", "--db", "sqlite:////no/such/folder/l.sqlite"),
        ("plan", str(tmp_path), "--db", db),
    ]
    for args in cases:
        code, text = _run(*args)
        assert code == 2, (args, text)
        assert "Traceback" not in text, text
        assert "error" in text or "rejected" in text, text
