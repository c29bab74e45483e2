"""The ``planner bench`` runner: one small instance per set end to end, and its errors."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from planner._errors import PlannerError
from planner.bench.evaluate import evaluate
from planner.bench.runner import (
    SETS,
    BenchError,
    BenchRow,
    Reference,
    default_data_folder,
    read_bks,
    run_bench,
    summarize,
)
from planner.cli import app

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
needs_bench = pytest.mark.skipif(
    not BENCH.is_dir(), reason=f"benchmark instances not found at {BENCH}"
)


def quiet_console() -> Console:
    """A console that is not a terminal (no progress), wide enough for the table."""
    return Console(file=io.StringIO(), width=200)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def instance_file(set_name: str, name: str) -> Path:
    where = {"pvrpif": "pvrpif/planning_horizon_4", "cvrp_x": "cvrp_x", "solomon": "solomon"}
    suffix = {"pvrpif": ".geojson", "cvrp_x": ".vrp", "solomon": ".txt"}
    return BENCH / where[set_name] / f"{name}{suffix[set_name]}"


# ------------------------------------------------------------------------ end to end


@needs_bench
@pytest.mark.parametrize(
    ("set_name", "name", "seconds"),
    [
        ("pvrpif", "Milano_020_4_0", 3),  # proven optimal, 20 bins, 4 days
        ("cvrp_x", "X-n101-k25", 2),  # the smallest X instance
        ("solomon", "C101", 2),  # clustered, tight windows
    ],
)
def test_row_and_solution_re_evaluate_to_the_same_cost(
    tmp_path: Path, set_name: str, name: str, seconds: float
) -> None:
    out = quiet_console()
    result = run_bench(
        set_name,
        data=BENCH / set_name,
        time_limit=seconds,
        engine="pyvrp",
        pattern=name,
        seed=1,
        results=tmp_path,
        references=False,
        console=out,
    )
    rows = read_rows(tmp_path / f"{set_name}.csv")
    assert [(r["instance"], r["engine"]) for r in rows] == [(name, "pyvrp")]
    (row,) = rows
    solution = tmp_path / "solutions" / set_name / f"{name}.json"
    assert row["solution"] == f"solutions/{set_name}/{name}.json"
    assert solution.is_file()

    again = evaluate(instance_file(set_name, name), solution)
    assert float(row["cost"]) == pytest.approx(again.cost, rel=1e-12)
    assert row["feasible"] == str(again.feasible)
    assert row["first_violation"] == (again.violations[0] if again.violations else "")
    data = json.loads(solution.read_text(encoding="utf-8"))
    assert data["instance"] == name
    assert all(r["nodes"][0] == r["nodes"][-1] for r in data["routes"])

    bks = float(row["bks"])
    if again.feasible:
        assert float(row["gap_pct"]) == pytest.approx((again.cost - bks) / bks * 100, abs=1e-4)
    assert result.rows[0].cost == again.cost

    meta = json.loads((tmp_path / f"{set_name}.meta.json").read_text(encoding="utf-8"))
    assert meta["arguments"]["pattern"] == name
    assert {"cpu", "cores", "python", "pyvrp", "ortools"} <= set(meta["machine"])
    assert meta["summary"][0]["engine"] == "pyvrp"
    assert meta["summary"][0]["runs"] == 1
    printed = out.file.getvalue()  # type: ignore[attr-defined]
    assert name in printed
    assert "summary" in printed


@needs_bench
@pytest.mark.skipif(importlib.util.find_spec("vroom") is None, reason="pyvroom not installed")
def test_references_get_their_own_rows_and_files(tmp_path: Path) -> None:
    run_bench(
        "cvrp_x",
        data=BENCH / "cvrp_x",
        time_limit=1,
        engine="pyvrp",
        pattern="X-n101-k25",
        seed=0,
        results=tmp_path,
        references=True,
        console=quiet_console(),
    )
    rows = read_rows(tmp_path / "cvrp_x.csv")
    assert [r["engine"] for r in rows] == ["pyvrp", "ref-pyvrp", "ref-vroom"]
    folder = tmp_path / "solutions" / "cvrp_x"
    names = ["X-n101-k25.json", "X-n101-k25.ref-pyvrp.json", "X-n101-k25.ref-vroom.json"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    for row in rows[1:]:
        again = evaluate(instance_file("cvrp_x", "X-n101-k25"), tmp_path / row["solution"])
        assert again.feasible
        assert float(row["cost"]) == again.cost


# ------------------------------------------------------------------------ BKS and summary


@needs_bench
def test_pvrpif_references_follow_the_readme_caveats() -> None:
    bks, notes = read_bks(SETS["pvrpif"], BENCH / "pvrpif")
    assert bks["Roma_020_4_2"].value == 545  # BKS.csv: 539, below its lower bound 545
    assert bks["Roma_050_4_2"].value == 697  # BKS.csv: 695, no solution backs it
    assert bks["Milano_020_4_0"].value == 562
    assert bks["Milano_020_4_0"].proven_optimal is True
    assert bks["Milano_050_4_0"].proven_optimal is False
    assert sum(r.proven_optimal is True for r in bks.values()) == 19
    assert len(notes) == 2


@needs_bench
def test_solomon_bks_are_distance_only_to_two_decimals() -> None:
    bks, _ = read_bks(SETS["solomon"], BENCH / "solomon")
    assert bks["C101"].value == 828.94
    assert bks["C101"].tolerance == pytest.approx(0.005)


def row(instance: str, cost: float, bks: float, *, proven: bool, lb: float) -> BenchRow:
    ref = Reference(str(bks), proven_optimal=proven, lower_bound=lb)
    return BenchRow(
        instance=instance,
        engine="pyvrp",
        cost=cost,
        bks=bks,
        proven_optimal=proven,
        gap_pct=(cost - bks) / bks * 100,
        seconds=1.0,
        feasible=True,
        first_violation="",
        solution="",
        at_or_below_bks=cost <= bks + ref.tolerance,
        below_bks=cost < bks - ref.tolerance,
        below_lower_bound=cost < lb - ref.tolerance,
    )


def test_summary_counts_optima_and_new_best_knowns() -> None:
    rows = [
        row("A", 100, 100, proven=True, lb=100),  # optimum reached
        row("B", 110, 100, proven=True, lb=100),  # 10 % above
        row("C", 95, 100, proven=False, lb=90),  # new best-known
        row("D", 85, 100, proven=False, lb=90),  # below the lower bound: suspect
    ]
    (s,) = summarize(rows, pvrpif=True)
    assert s.runs == 4
    assert s.feasible == 4
    assert s.mean_gap_pct == pytest.approx((0 + 10 - 5 - 15) / 4)
    assert s.proven_optimal == 2
    assert s.proven_optima_reached == 1
    assert s.at_or_below_bks == 3
    assert s.below_bks == ("C", "D")
    assert s.below_lower_bound == ("D",)


# ------------------------------------------------------------------------ errors


def test_unknown_set_names_the_sets(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"unknown benchmark set 'tsplib'; expected one of pvrpif"):
        run_bench("tsplib", results=tmp_path, console=quiet_console())


@needs_bench
def test_glob_matching_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlannerError, match=r"no cvrp_x instance in .* matches 'Y-\*'"):
        run_bench(
            "cvrp_x",
            data=BENCH / "cvrp_x",
            pattern="Y-*",
            results=tmp_path,
            console=quiet_console(),
        )
    assert not (tmp_path / "cvrp_x.csv").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "gurobi"}, "unknown engine 'gurobi'"),  # not an engine of the core
        ({"time_limit": 0}, "expected a time limit above 0"),  # nothing could run
        ({"data": Path("no/such/folder")}, "benchmark data folder not found"),  # typo in --data
    ],
)
def test_bad_arguments_are_one_line_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(BenchError, match=message) as info:
        run_bench("solomon", results=tmp_path, console=quiet_console(), **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


@needs_bench
def test_default_data_falls_back_to_the_repository_sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ../shared from here
    assert default_data_folder("solomon") == (BENCH / "solomon").resolve()


def test_cli_turns_bench_errors_into_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "tsplib", "--results", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown benchmark set" in result.output
