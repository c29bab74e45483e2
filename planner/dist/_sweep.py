"""``planner sweep``: a grid of scenario variants, each planned as one task.

:func:`prepare_sweep` expands the grid, writes every variant as a scenario file in
its cell folder (``DIR/cells/c001_…/scenario.toml``, data paths pointing at the
base scenario's files) and validates it with the loader, so a bad cell is reported
before anything runs. :func:`run_sweep` plans the valid cells and writes
``DIR/sweep.csv``, ``DIR/sweep.xlsx`` and ``DIR/sweep.png``.
"""

from __future__ import annotations

import csv
import io
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from planner._atomic import write_text_atomic
from planner._errors import ScenarioError
from planner.dist._grid import Axis, Variant, expand, parse_axes
from planner.dist._run import Cluster, execute
from planner.dist._tables import fill_outcome, write_chart, write_csv, write_xlsx
from planner.dist._task import FIGURES, CellResult, CellTask

REGION_FILES = ("points", "households", "depots", "stations", "facilities", "roads", "boundary")


@dataclass(frozen=True)
class Cell:
    """A written variant: its folder and scenario, and the task (``None`` if invalid)."""

    variant: Variant
    folder: Path
    scenario: Path
    task: CellTask | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sweep:
    """A prepared sweep: the axes and every cell, valid or not."""

    base: Path
    out_dir: Path
    axes: tuple[Axis, ...]
    cells: tuple[Cell, ...]

    @property
    def invalid(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.task is None)


def prepare_sweep(
    base: Path,
    vary: list[str],
    out_dir: Path,
    *,
    time_limit: float = 90.0,
    seed: int = 0,
    engine: str = "pyvrp",
    export: bool = False,
) -> Sweep:
    """Expand, write and validate every cell of the grid (nothing is planned yet).

    Raises
    ------
    ScenarioError
        When the base scenario is invalid or a ``--vary`` option is malformed
        (every faulty option listed). Invalid *cells* do not raise: they come back
        with their problems.
    """
    from planner.scenario.load import load_scenario

    base = Path(base)
    load_scenario(base)  # the base itself must be valid
    data = tomllib.loads(base.read_bytes().decode("utf-8-sig"))
    axes = parse_axes(vary, data)
    out_dir = Path(out_dir).resolve()
    cells = []
    for variant in expand(data, axes):
        folder = out_dir / "cells" / variant.folder
        scenario = write_variant(variant, base, folder)
        try:
            sc = load_scenario(scenario)
        except ScenarioError as exc:
            cells.append(Cell(variant, folder, scenario, None, tuple(map(str, exc.issues))))
            continue
        task = CellTask(
            cell=variant.cell_id,
            scenario=scenario,
            out_dir=folder,
            scenario_hash=sc.content_hash,
            time_limit=time_limit,
            seed=seed,
            engine=engine,
            export=export,
        )
        cells.append(Cell(variant, folder, scenario, task))
    return Sweep(base, out_dir, axes, tuple(cells))


def write_variant(variant: Variant, base: Path, folder: Path) -> Path:
    """Write the cell's ``scenario.toml`` (and its stations file if it adds any).

    The file is rewritten only when its text changes, so a rerun finds the same
    scenario hash.
    """
    import tomli_w

    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = dict(variant.data)
    region = dict(data.get("region", {}))
    base_dir = base.parent.resolve()
    for key in REGION_FILES:
        if isinstance(region.get(key), str):
            region[key] = _relative(base_dir / region[key], folder)
    if variant.new_stations and isinstance(region.get("stations"), str):
        stations = folder / "stations.csv"
        source = base_dir / variant.data["region"]["stations"]
        _write_text_if_changed(stations, _stations_with(source, variant))
        region["stations"] = stations.name
    data["region"] = region
    _share_cache(base_dir, folder)
    data["name"] = f"{data.get('name', base.stem)} {variant.cell_id}"
    head = (
        f"# Sweep cell {variant.cell_id} of {base.name} (planner sweep): {variant.label}\n"
        "# Data paths point at the base scenario's files.\n\n"
    )
    path = folder / "scenario.toml"
    _write_text_if_changed(path, head + tomli_w.dumps(data))
    return path


def _share_cache(base_dir: Path, folder: Path) -> None:
    """Point the cell's matrix cache at the base scenario's: cache files are keyed by
    a hash of their inputs and written atomically, so cells with the same places
    share one file and the others add theirs."""
    cache, link = base_dir / ".planner-cache", folder / ".planner-cache"
    if link.exists() or link.is_symlink():
        return
    cache.mkdir(exist_ok=True)
    try:
        link.symlink_to(_relative(cache, folder), target_is_directory=True)
    except OSError:
        pass  # no symlinks here (say, Windows without rights): each cell has its own cache


def _relative(target: Path, folder: Path) -> str:
    return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()


def _write_text_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)


def _stations_with(source: Path, variant: Variant) -> str:
    """The base stations CSV with the variant's new stations appended."""
    text = source.read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)), [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for st in variant.new_stations:
        values = {
            "id": st.id,
            "name": f"new station {st.id[3:]} (sweep)",
            "lon": f"{st.lon:.6f}",
            "lat": f"{st.lat:.6f}",
        }
        w.writerow([values.get(col.strip(), "") for col in header])
    return text.rstrip("\n") + "\n" + buf.getvalue()


def sweep_rows(
    sweep: Sweep, results: dict[str, CellResult]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of ``sweep.csv``: one row per cell, invalid ones included."""
    columns = ["cell", *(a.key for a in sweep.axes), "status"]
    columns += [k for k, _ in FIGURES] + ["seconds", "skipped", "folder", "note"]
    rows = []
    for cell in sweep.cells:
        v = cell.variant
        row: dict[str, Any] = {"cell": v.cell_id, **v.values}
        fill_outcome(row, results.get(v.cell_id), cell.problems if cell.task is None else None)
        row["folder"] = cell.folder.relative_to(sweep.out_dir).as_posix()
        rows.append(row)
    return columns, rows


def run_sweep(
    sweep: Sweep,
    cluster: Cluster,
    *,
    console: Console | None = None,
    progress: bool = False,
    on_result: Callable[[CellResult], None] | None = None,
) -> tuple[list[CellResult], list[Path]]:
    """Plan every valid cell (finished ones are skipped) and write the comparison.

    Returns the results of the valid cells and the files written
    (``sweep.csv``, ``sweep.xlsx``, ``sweep.png``).
    """
    tasks = [c.task for c in sweep.cells if c.task is not None]
    results = execute(tasks, cluster, console=console, progress=progress, on_result=on_result)
    columns, rows = sweep_rows(sweep, {r.cell: r for r in results})
    out = sweep.out_dir
    chart_rows = [
        {
            **r,
            "label": " ".join(
                [r["cell"], *(f"{a.key.rsplit('.', 1)[-1]}={r[a.key]}" for a in sweep.axes)]
            ),
        }
        for r in rows
    ]
    files = [
        write_csv(out / "sweep.csv", columns, rows),
        write_xlsx(out / "sweep.xlsx", "sweep", columns, rows),
        write_chart(out / "sweep.png", f"sweep of {sweep.base.name}", chart_rows, "label"),
    ]
    return results, files
