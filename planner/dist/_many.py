"""``planner run-many``: every scenario of a folder (or a list file) planned as a task.

Each region is planned into ``DIR/<region>/`` exactly as ``planner run`` would; the
merged summary — per region and in total: households, trucks, runs, km, unserved,
cost, net cost against the 农维费 and the balance, 定时 share — goes to
``DIR/regions.csv``, ``DIR/regions.xlsx``, ``DIR/regions.png`` and
``DIR/summary.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from planner._atomic import write_json_atomic
from planner._errors import Issue, ScenarioError
from planner.dist._grid import free_id
from planner.dist._run import Cluster, execute
from planner.dist._tables import fill_outcome, write_chart, write_csv, write_xlsx
from planner.dist._task import FIGURES, CellResult, CellTask

# Figures that add up over regions (the others are recomputed for the total).
ADDITIVE = (
    "households", "trucks", "runs", "visits", "unserved", "distance_km", "hours", "cost_cny",
    "net_cost_cny", "fee_budget_cny", "fee_balance_cny", "points_visited", "points_on_time",
)  # fmt: skip


@dataclass(frozen=True)
class Region:
    """One scenario of the batch: its output folder and task (``None`` if invalid)."""

    name: str
    scenario: Path
    folder: Path
    task: CellTask | None
    problems: tuple[str, ...] = ()


def find_scenarios(source: Path) -> list[Path]:
    """The scenario files of ``source``: a folder's ``*.toml`` and ``*/*.toml`` files,
    or the paths listed in a text file (one a line, relative to it; ``#`` comments).

    Raises
    ------
    ScenarioError
        When ``source`` does not exist, lists a missing file or holds no scenario.
    """
    source = Path(source)
    if source.is_dir():
        found = sorted({*source.glob("*.toml"), *source.glob("*/*.toml")})
        paths = [p for p in found if not any(part.startswith(".") for part in p.parts[-2:])]
    elif source.is_file():
        paths, issues = [], []
        lines = source.read_text(encoding="utf-8-sig").splitlines()
        for n, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            path = Path(text) if Path(text).is_absolute() else source.parent / text
            if not path.is_file():
                issues.append(
                    Issue(str(source), f"line {n}", f"expected a scenario file, found no {text}")
                )
            paths.append(path)
        if issues:
            raise ScenarioError(issues)
    else:
        raise ScenarioError(
            [Issue(str(source), "", "expected a folder or a list file, found none")]
        )
    if not paths:
        raise ScenarioError(
            [Issue(str(source), "", "expected scenario files (*.toml), found none")]
        )
    return paths


def _region_name(path: Path, taken: set[str]) -> str:
    stem = path.parent.name if path.name == "scenario.toml" and path.parent.name else path.stem
    name = re.sub(r"[^\w.-]+", "-", stem).strip("-") or "region"
    return free_id(name, taken, sep="-")


def prepare_many(
    source: Path,
    out_dir: Path,
    *,
    time_limit: float = 90.0,
    seed: int = 0,
    engine: str = "pyvrp",
    export: bool = False,
) -> list[Region]:
    """Find and validate every scenario; invalid ones come back with their problems."""
    from planner.scenario.load import load_scenario

    out_dir = Path(out_dir).resolve()
    taken: set[str] = set()
    regions = []
    for path in find_scenarios(source):
        name = _region_name(path, taken)
        folder = out_dir / name
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            regions.append(Region(name, path, folder, None, tuple(map(str, exc.issues))))
            continue
        task = CellTask(
            cell=name,
            scenario=path.resolve(),
            out_dir=folder,
            scenario_hash=sc.content_hash,
            time_limit=time_limit,
            seed=seed,
            engine=engine,
            export=export,
        )
        regions.append(Region(name, path, folder, task))
    return regions


def many_rows(
    regions: list[Region], results: dict[str, CellResult]
) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """Columns, one row per region, and the total row."""
    columns = ["region", "status", *(k for k, _ in FIGURES), "seconds", "skipped", "scenario"]
    columns.append("note")
    rows = []
    for reg in regions:
        row: dict[str, Any] = {"region": reg.name, "scenario": str(reg.scenario)}
        fill_outcome(row, results.get(reg.name), reg.problems if reg.task is None else None)
        rows.append(row)
    planned = [r for r in rows if r["status"] in ("ok", "check failed")]
    total: dict[str, Any] = {"region": "total", "status": f"{len(planned)} of {len(rows)} planned"}
    for key in ADDITIVE:
        total[key] = round(sum(float(r.get(key, 0) or 0) for r in planned), 2)
        if float(total[key]).is_integer():
            total[key] = int(total[key])
    visited = total["points_visited"]
    total["on_time_pct"] = round(100.0 * total["points_on_time"] / visited, 1) if visited else 0.0
    total["seconds"] = round(sum(float(r.get("seconds", 0) or 0) for r in planned), 2)
    return columns, rows, total


def run_many(
    regions: list[Region],
    out_dir: Path,
    cluster: Cluster,
    *,
    console: Console | None = None,
    progress: bool = False,
    on_result: Callable[[CellResult], None] | None = None,
) -> tuple[list[CellResult], dict[str, Any], list[Path]]:
    """Plan every valid region (finished ones are skipped) and write the merged summary."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [r.task for r in regions if r.task is not None]
    results = execute(tasks, cluster, console=console, progress=progress, on_result=on_result)
    columns, rows, total = many_rows(regions, {r.cell: r for r in results})
    write_json_atomic(out_dir / "summary.json", {"regions": rows, "total": total})
    files = [
        write_csv(out_dir / "regions.csv", columns, [*rows, total]),
        write_xlsx(out_dir / "regions.xlsx", "regions", columns, [*rows, total]),
        write_chart(out_dir / "regions.png", f"{len(rows)} regions", rows, "region"),
        out_dir / "summary.json",
    ]
    return results, total, files
