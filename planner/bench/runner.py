"""The ``planner bench`` runner: solve a benchmark set, re-check every solution, tabulate.

For each instance of a set (``pvrpif``, ``cvrp_x``, ``solomon``) and each engine
asked for, the core solves the instance, the solution is written in our JSON
format (:mod:`planner.bench.solution_io`) and read back by the independent
evaluator (:mod:`planner.bench.evaluate`). The table's cost is always the
evaluator's, never the solver's own claim. On ``cvrp_x`` and ``solomon`` plain
PyVRP and VROOM run at the same time limit as outside references
(:mod:`planner.bench.references`).

Written under ``results``::

    SET.csv                            one row per instance and engine
    SET.meta.json                      machine, versions, command line, summary
    solutions/SET/INSTANCE.json        the default engine's solution
    solutions/SET/INSTANCE.ENGINE.json any other engine's (ortools, ref-pyvrp, ref-vroom)

The rows, their summary and the CSV are :mod:`planner.bench.results`; the console
tables :mod:`planner.bench.tables`.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import math
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from planner._errors import PlannerError
from planner._progress import ProgressDisplay
from planner.bench.evaluate import evaluate
from planner.bench.pvrpif import read_pvrpif
from planner.bench.results import (
    BenchResult,
    BenchRow,
    EngineSummary,
    Reference,
    machine_info,
    make_row,
    summarize,
    write_csv,
)
from planner.bench.solomon import read_solomon
from planner.bench.solution_io import BenchInstance, solution_to_json, write_solution_json
from planner.bench.tables import fmt_cost, fmt_gap, print_summary, print_table
from planner.bench.vrplib_format import read_vrplib

__all__ = [
    "SETS",
    "BenchError",
    "BenchResult",
    "BenchRow",
    "EngineSummary",
    "Reference",
    "default_data_folder",
    "read_bks",
    "run_bench",
    "summarize",
]

DEFAULT_ENGINE = "pyvrp"
ENGINES = ("pyvrp", "ortools")
REFERENCES = ("ref-pyvrp", "ref-vroom")


class BenchError(PlannerError, ValueError):
    """A benchmark run cannot start: unknown set or engine, no data, no instance."""


@dataclass(frozen=True)
class _SetSpec:
    name: str
    subfolder: str  # where the instances sit inside the set folder ("" for the folder)
    suffix: str
    reader: Callable[[Path], BenchInstance]
    bks_column: str
    references: bool


SETS: dict[str, _SetSpec] = {
    "pvrpif": _SetSpec("pvrpif", "planning_horizon_4", ".geojson", read_pvrpif, "bks", False),
    "cvrp_x": _SetSpec("cvrp_x", "", ".vrp", read_vrplib, "bks", True),
    # Solomon text files only: RC208.vrp is the same instance as RC208.txt in VRPLIB form.
    "solomon": _SetSpec("solomon", "", ".txt", read_solomon, "bks_distance_only", True),
}

# Best-known values in pvrpif/BKS.csv that no solution on file backs (see the
# caveats in shared/benchmarks/README.md): (instance, value in BKS.csv) -> reference.
BKS_CORRECTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("Roma_020_4_2", "539"): (
        "545",
        "BKS.csv says 539, below its own lower bound 545; the only solution on file scores 545",
    ),
    ("Roma_050_4_2", "695"): (
        "697",
        "BKS.csv says 695, backed by no solution on file; the published one scores 697",
    ),
}


# ----------------------------------------------------------------------------- inputs


def _spec(set_name: str) -> _SetSpec:
    if set_name not in SETS:
        raise BenchError(f"unknown benchmark set {set_name!r}; expected one of {', '.join(SETS)}.")
    return SETS[set_name]


def _engines(engine: str) -> tuple[str, ...]:
    if engine == "all":
        return ENGINES
    if engine not in ENGINES:
        raise BenchError(f"unknown engine {engine!r}; expected pyvrp, ortools or all.")
    return (engine,)


def default_data_folder(set_name: str) -> Path:
    """Where a set's instances are looked for when no ``--data`` is given.

    ``../shared/benchmarks/SET`` relative to the working directory, else the
    repository's sibling ``shared/benchmarks/SET``.

    Raises
    ------
    BenchError
        When neither folder exists.
    """
    tried = [
        Path.cwd() / ".." / "shared" / "benchmarks" / set_name,
        Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / set_name,
    ]
    for folder in tried:
        if folder.is_dir():
            return folder.resolve()
    raise BenchError(
        f"benchmark data for {set_name!r} not found at {tried[0]} or {tried[1]}; pass --data DIR."
    )


def _data_folder(set_name: str, data: Path | None) -> Path:
    if data is None:
        return default_data_folder(set_name)
    if not Path(data).is_dir():
        raise BenchError(f"benchmark data folder not found: {data}.")
    return Path(data)


def _instances(spec: _SetSpec, folder: Path, pattern: str) -> list[Path]:
    where = folder / spec.subfolder if (folder / spec.subfolder).is_dir() else folder
    files = sorted(p for p in where.iterdir() if p.is_file() and p.suffix.lower() == spec.suffix)
    if not files:
        raise BenchError(f"no {spec.suffix} instance of set {spec.name!r} in {where}.")
    chosen = [p for p in files if fnmatchcase(p.stem, pattern)]
    if not chosen:
        raise BenchError(
            f"no {spec.name} instance in {where} matches {pattern!r} "
            f"({len(files)} instances, e.g. {files[0].stem})."
        )
    return chosen


def read_bks(spec: _SetSpec, folder: Path) -> tuple[dict[str, Reference], list[str]]:
    """The set's ``BKS.csv`` as references per instance, and notes on what was changed.

    A missing file gives no references (a note says so), not an error: the run
    still evaluates every solution.
    """
    path = next((p for p in (folder / "BKS.csv", folder.parent / "BKS.csv") if p.is_file()), None)
    if path is None:
        return {}, [f"no BKS.csv in {folder}: gaps left empty"]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and (spec.bks_column not in rows[0] or "instance" not in rows[0]):
        raise BenchError(f"{path}: expected columns 'instance' and {spec.bks_column!r}.")
    out: dict[str, Reference] = {}
    notes: list[str] = []
    for row in rows:
        name, text = row["instance"].strip(), row[spec.bks_column].strip()
        try:
            float(text)
        except ValueError:
            raise BenchError(
                f"{path}: instance {name}: expected a number, found {text!r}."
            ) from None
        proven = row.get("proven_optimal")
        lb = row.get("best_lb")
        note = ""
        if (name, text) in BKS_CORRECTIONS:
            text, note = BKS_CORRECTIONS[name, text]
            notes.append(f"{name}: reference {text} ({note})")
        out[name] = Reference(
            text=text,
            proven_optimal=None if proven is None else proven.strip().lower() == "true",
            lower_bound=float(lb) if lb not in (None, "") else None,
            note=note,
        )
    return out, notes


# ----------------------------------------------------------------------------- progress


class _Live:
    """One live line per run (instance × engine) on a terminal; nothing otherwise."""

    def __init__(self, console: Console, total: int):
        self.display = ProgressDisplay(console, enabled=console.is_terminal, phases=False)
        self.total = total
        self.done = 0
        self.label = ""

    def start(self, instance: str, engine: str) -> None:
        self.label = f"[{self.done + 1}/{self.total}] {instance} {engine}"
        self.display.start_task(self.label)

    def phase(self, phase: str, done: float, total: float) -> None:
        self.display.update_task(f"{self.label}: {phase}", done, total)

    def finish(self, row: BenchRow) -> None:
        self.done += 1
        if row.feasible:
            gap = "" if row.gap_pct is None else f", gap {fmt_gap(row.gap_pct)}%"
            text = (
                f"[green]✓[/] {escape(self.label)}: {fmt_cost(row.cost)}{gap}, {row.seconds:.1f} s"
            )
        else:
            text = f"[red]✗[/] {escape(self.label)}: {escape(row.first_violation)}"
        self.display.end_task(text)


# ----------------------------------------------------------------------------- running


def _solution_name(instance: str, engine: str) -> str:
    return f"{instance}.json" if engine == DEFAULT_ENGINE else f"{instance}.{engine}.json"


def _solve(
    instance: BenchInstance,
    set_name: str,
    engine: str,
    *,
    time_limit: float,
    seed: int,
    live: _Live,
) -> tuple[dict[str, Any], float, tuple[str, ...]]:
    """Our JSON solution of ``instance`` by ``engine``, the solver's wall seconds, and
    what the solver itself admits (visits it left unrouted, customers unassigned)."""
    start = time.perf_counter()
    notes: tuple[str, ...] = ()
    if engine == "ref-pyvrp":
        from planner.bench.references import solve_with_pyvrp

        cost, routes = solve_with_pyvrp(instance.path, set_name, time_limit, seed)
        data = {"instance": instance.name, "cost": cost, "routes": routes}
    elif engine == "ref-vroom":
        from planner.bench.references import solve_with_vroom

        cost, routes = solve_with_vroom(instance.path, set_name, time_limit, seed)
        data = {"instance": instance.name, "cost": cost, "routes": routes}
    else:
        from planner.solve.search import solve

        solution = solve(
            instance.problem, engine=engine, time_limit=time_limit, seed=seed, progress=live.phase
        )
        data = solution_to_json(instance, solution)
        unrouted = sum(len(d.unrouted) for d in solution.days)
        if solution.unassigned or unrouted:
            notes = (
                f"solver reports {len(solution.unassigned)} customers unassigned, "
                f"{unrouted} visits unrouted",
            )
    return data, time.perf_counter() - start, notes


def _run_one(
    instance: BenchInstance,
    set_name: str,
    engine: str,
    options: dict[str, Any],
    results: Path,
    ref: Reference | None,
    live: _Live,
) -> BenchRow:
    """Solve, write the solution, have the evaluator re-read the file, make the row.

    A solver's :class:`~planner._errors.PlannerError` becomes an infeasible row.
    """
    start = time.perf_counter()
    cpu = time.process_time()
    try:
        data, seconds, admitted = _solve(instance, set_name, engine, live=live, **options)
    except PlannerError as exc:
        seconds = time.perf_counter() - start
        return make_row(
            instance, engine, ref, seconds, cost=None, violations=(f"no solution: {exc}",)
        )
    cpu = time.process_time() - cpu
    relative = Path("solutions") / set_name / _solution_name(instance.name, engine)
    write_solution_json(results / relative, data)
    result = evaluate(instance.path, results / relative)
    notes = list(admitted)
    claimed = data.get("cost")
    if isinstance(claimed, int | float) and not math.isclose(
        claimed, result.cost, rel_tol=1e-9, abs_tol=1e-6
    ):
        notes.append(f"solver claimed {claimed:g}, evaluator {result.cost:g}")
    return make_row(
        instance,
        engine,
        ref,
        seconds,
        cost=result.cost,
        violations=result.violations,
        solution=relative.as_posix(),
        notes=tuple(notes),
        cpu_seconds=cpu,
    )


def run_bench(
    set_name: str,
    *,
    data: Path | None = None,
    time_limit: float = 60.0,
    engine: str = DEFAULT_ENGINE,
    pattern: str = "*",
    seed: int = 0,
    results: Path = Path("benchmarks/results"),
    references: bool = True,
    console: Console | None = None,
) -> BenchResult:
    """Solve, evaluate, print and save one benchmark set.

    Parameters
    ----------
    set_name
        ``"pvrpif"``, ``"cvrp_x"`` or ``"solomon"``.
    data
        The set's folder (with ``BKS.csv``); ``None`` looks in
        :func:`default_data_folder`.
    time_limit
        Seconds per instance and engine (references get the same).
    engine
        ``"pyvrp"``, ``"ortools"`` or ``"all"`` (both).
    pattern
        Glob on instance names (``"X-n1*"``).
    seed
        Random seed of the core and of plain PyVRP.
    results
        Folder for ``SET.csv``, ``SET.meta.json`` and ``solutions/SET/``.
    references
        Also run plain PyVRP and VROOM (``cvrp_x`` and ``solomon`` only; VROOM
        is skipped with a note when pyvroom is not installed).
    console
        Where the table, the summary and (on a terminal) the progress go.

    Returns
    -------
    BenchResult
        The rows, the per-engine summary and the paths written.

    Raises
    ------
    BenchError
        Unknown set or engine, a time limit not above 0, no data folder, or no
        instance matching ``pattern``. A solver that fails on one instance
        (:class:`~planner._errors.PlannerError`) gives an infeasible row instead.
    """
    console = console if console is not None else Console()
    spec = _spec(set_name)
    engines = list(_engines(engine))
    if not time_limit > 0:
        raise BenchError(f"expected a time limit above 0 seconds, found {time_limit:g}.")
    folder = _data_folder(set_name, data)
    files = _instances(spec, folder, pattern)
    bks, notes = read_bks(spec, folder)
    if references and spec.references:
        engines.append("ref-pyvrp")
        if importlib.util.find_spec("vroom") is None:
            notes.append("pyvroom is not installed: the ref-vroom reference is skipped")
        else:
            engines.append("ref-vroom")
    for note in notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)

    results = Path(results)
    (results / "solutions" / set_name).mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    rows: list[BenchRow] = []
    live = _Live(console, len(files) * len(engines))
    options = {"time_limit": time_limit, "seed": seed}
    with live.display:
        for path in files:
            instance = spec.reader(path)
            for eng in engines:
                live.start(instance.name, eng)
                row = _run_one(
                    instance, set_name, eng, options, results, bks.get(instance.name), live
                )
                rows.append(row)
                live.finish(row)

    summary = summarize(rows, pvrpif=set_name == "pvrpif")
    csv_path = results / f"{set_name}.csv"
    meta_path = results / f"{set_name}.meta.json"
    write_csv(csv_path, rows)
    arguments = {
        "data": str(folder),
        "time_limit": time_limit,
        "engine": engine,
        "pattern": pattern,
        "seed": seed,
        "references": references,
    }
    meta = {
        "set": set_name,
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "arguments": arguments,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        # 1/5/15-minute load averages: CPU is shared, wall seconds grow with the load.
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "notes": notes,
        "summary": [asdict(s) for s in summary],
    }
    write_solution_json(meta_path, meta)
    print_table(console, set_name, rows, time_limit)
    print_summary(console, set_name, summary, rows)
    console.print(
        f"wrote {escape(str(csv_path))} and {escape(str(meta_path))}",
        highlight=False,
        soft_wrap=True,
    )
    return BenchResult(set_name, tuple(rows), summary, csv_path, meta_path, tuple(notes))


# ----------------------------------------------------------------------------- outputs
