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

Gap % is ``(cost - BKS) / BKS * 100``. A cost counts as *at* the BKS when it is
within half a unit of the BKS's last printed digit (Solomon values are printed
with two decimals; the optimum of C101 is 828.9368…, printed 828.94).
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import planner
from planner._atomic import atomic_writer
from planner._errors import PlannerError
from planner._progress import ProgressDisplay
from planner.bench.evaluate import evaluate
from planner.bench.pvrpif import read_pvrpif
from planner.bench.solomon import read_solomon
from planner.bench.solution_io import BenchInstance, solution_to_json, write_solution_json
from planner.bench.vrplib_format import read_vrplib

DEFAULT_ENGINE = "pyvrp"
ENGINES = ("pyvrp", "ortools")
REFERENCES = ("ref-pyvrp", "ref-vroom")

CSV_COLUMNS: tuple[str, ...] = ("instance", "engine", "cost", "bks", "proven_optimal")
CSV_COLUMNS += ("gap_pct", "seconds", "feasible", "first_violation", "solution", "note")


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


@dataclass(frozen=True)
class Reference:
    """The best-known value an instance is compared with.

    Parameters
    ----------
    text
        The value as printed (its decimals set the tolerance of "at the BKS").
    proven_optimal
        The published proven-optimal flag (``None`` when the set has none).
    lower_bound
        The published lower bound, if any.
    note
        Why the value differs from the BKS file, if it does.
    """

    text: str
    proven_optimal: bool | None = None
    lower_bound: float | None = None
    note: str = ""

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def tolerance(self) -> float:
        """Half a unit of the last printed digit."""
        _, _, decimals = self.text.partition(".")
        return 0.5 * 10.0 ** -len(decimals)


@dataclass(frozen=True)
class BenchRow:
    """One instance solved by one engine, as the evaluator judged it."""

    instance: str
    engine: str
    cost: float | None
    bks: float | None
    proven_optimal: bool | None
    gap_pct: float | None
    seconds: float
    feasible: bool
    first_violation: str
    solution: str
    note: str = ""
    bks_corrected: bool = False
    at_or_below_bks: bool = False
    below_bks: bool = False
    below_lower_bound: bool = False


@dataclass(frozen=True)
class EngineSummary:
    """Per-engine totals over the rows of one run.

    ``mean_gap_pct`` is over the feasible rows that have a BKS. The two
    ``proven_*`` counts are set for pvrpif only: instances flagged proven optimal,
    and those of them solved at their optimum.
    """

    engine: str
    runs: int
    feasible: int
    mean_gap_pct: float | None
    at_or_below_bks: int
    below_bks: tuple[str, ...]
    below_lower_bound: tuple[str, ...]
    proven_optimal: int | None = None
    proven_optima_reached: int | None = None


@dataclass(frozen=True)
class BenchResult:
    """What :func:`run_bench` did: its rows, per-engine summary and the files written."""

    set_name: str
    rows: tuple[BenchRow, ...]
    summary: tuple[EngineSummary, ...]
    csv_path: Path
    meta_path: Path
    notes: tuple[str, ...] = field(default=())


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
            gap = "" if row.gap_pct is None else f", gap {_fmt_gap(row.gap_pct)}%"
            text = (
                f"[green]✓[/] {escape(self.label)}: {_fmt_cost(row.cost)}{gap}, {row.seconds:.1f} s"
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


def _row(
    instance: BenchInstance,
    engine: str,
    ref: Reference | None,
    seconds: float,
    *,
    cost: float | None,
    violations: tuple[str, ...],
    solution: str = "",
    notes: tuple[str, ...] = (),
) -> BenchRow:
    """The table row of one run; gap and BKS records only for a feasible solution."""
    feasible = cost is not None and not violations
    bks = ref.value if ref is not None else None
    gap = None
    at = below = below_lb = False
    if ref is not None and bks is not None and cost is not None and feasible:
        gap = (cost - bks) / bks * 100.0
        at = cost <= bks + ref.tolerance
        below = cost < bks - ref.tolerance
        below_lb = ref.lower_bound is not None and cost < ref.lower_bound - ref.tolerance
    corrected = ref is not None and bool(ref.note)
    return BenchRow(
        instance=instance.name,
        engine=engine,
        cost=cost,
        bks=bks,
        proven_optimal=ref.proven_optimal if ref is not None else None,
        gap_pct=gap,
        seconds=seconds,
        feasible=feasible,
        first_violation=violations[0] if violations else "",
        solution=solution,
        note="; ".join((*notes, ref.note) if corrected and ref is not None else notes),
        bks_corrected=corrected,
        at_or_below_bks=at,
        below_bks=below,
        below_lower_bound=below_lb,
    )


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
    try:
        data, seconds, admitted = _solve(instance, set_name, engine, live=live, **options)
    except PlannerError as exc:
        seconds = time.perf_counter() - start
        return _row(instance, engine, ref, seconds, cost=None, violations=(f"no solution: {exc}",))
    relative = Path("solutions") / set_name / _solution_name(instance.name, engine)
    write_solution_json(results / relative, data)
    result = evaluate(instance.path, results / relative)
    notes = list(admitted)
    claimed = data.get("cost")
    if isinstance(claimed, int | float) and not math.isclose(
        claimed, result.cost, rel_tol=1e-9, abs_tol=1e-6
    ):
        notes.append(f"solver claimed {claimed:g}, evaluator {result.cost:g}")
    return _row(
        instance,
        engine,
        ref,
        seconds,
        cost=result.cost,
        violations=result.violations,
        solution=relative.as_posix(),
        notes=tuple(notes),
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
    _write_csv(csv_path, rows)
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
        "notes": notes,
        "summary": [asdict(s) for s in summary],
    }
    write_solution_json(meta_path, meta)
    _print_table(console, set_name, rows, time_limit)
    _print_summary(console, set_name, summary, rows)
    console.print(
        f"wrote {escape(str(csv_path))} and {escape(str(meta_path))}",
        highlight=False,
        soft_wrap=True,
    )
    return BenchResult(set_name, tuple(rows), summary, csv_path, meta_path, tuple(notes))


# ----------------------------------------------------------------------------- outputs


def summarize(rows: list[BenchRow], *, pvrpif: bool) -> tuple[EngineSummary, ...]:
    """Per engine, in order of first appearance: feasible count, mean gap, BKS records."""
    out = []
    for engine in dict.fromkeys(r.engine for r in rows):
        mine = [r for r in rows if r.engine == engine]
        gaps = [r.gap_pct for r in mine if r.feasible and r.gap_pct is not None]
        proven = [r for r in mine if r.proven_optimal]
        out.append(
            EngineSummary(
                engine=engine,
                runs=len(mine),
                feasible=sum(r.feasible for r in mine),
                mean_gap_pct=sum(gaps) / len(gaps) if gaps else None,
                at_or_below_bks=sum(r.at_or_below_bks for r in mine),
                below_bks=tuple(r.instance for r in mine if r.below_bks),
                below_lower_bound=tuple(r.instance for r in mine if r.below_lower_bound),
                proven_optimal=len(proven) if pvrpif else None,
                proven_optima_reached=sum(r.at_or_below_bks for r in proven) if pvrpif else None,
            )
        )
    return tuple(out)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _write_csv(path: Path, rows: list[BenchRow]) -> None:
    """Write the table atomically (a temporary file in the same folder, then a rename)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values: dict[str, object] = {
            **asdict(r),
            "gap_pct": None if r.gap_pct is None else round(r.gap_pct, 4),
            "seconds": round(r.seconds, 2),
        }
        writer.writerow([_csv_value(values[c]) for c in CSV_COLUMNS])
    with atomic_writer(path, newline="") as fh:
        fh.write(buffer.getvalue())


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU model, cores, OS, and the versions of Python and the solvers."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyvrp": _version("pyvrp"),
        "ortools": _version("ortools"),
        "pyvroom": _version("pyvroom"),
        "planner": planner.__version__,
    }


def _fmt_gap(gap: float | None) -> str:
    return "—" if gap is None else f"{gap:.2f}".replace("-0.00", "0.00")


def _fmt_cost(cost: float | None) -> str:
    if cost is None:
        return "—"
    return f"{cost:,.0f}" if float(cost).is_integer() else f"{cost:,.2f}"


def _print_table(console: Console, set_name: str, rows: list[BenchRow], limit: float) -> None:
    table = Table(title=f"{set_name}: {limit:g} s per instance, costs by the independent evaluator")
    table.add_column("instance")
    table.add_column("engine")
    for col in ("cost", "BKS", "gap %", "seconds"):
        table.add_column(col, justify="right")
    table.add_column("feasible", no_wrap=True, overflow="ellipsis")
    for r in rows:
        bks = _fmt_cost(r.bks) if r.bks is not None else "—"
        if r.proven_optimal:
            bks += " opt"
        elif r.bks_corrected:
            bks += " *"
        gap = _fmt_gap(r.gap_pct)
        if r.below_bks:
            gap = f"[bold green]{gap}[/]"
        if r.feasible:
            ok = "[green]yes[/]"
        else:
            violation = r.first_violation
            ok = f"[red]no[/]: {escape(violation[:70])}{'…' if len(violation) > 70 else ''}"
        table.add_row(
            escape(r.instance), r.engine, _fmt_cost(r.cost), bks, gap, f"{r.seconds:.1f}", ok
        )
    console.print(table)
    if any(r.bks_corrected for r in rows):
        console.print("* reference differs from BKS.csv: see the note column of the CSV")


def _print_summary(
    console: Console, set_name: str, summary: tuple[EngineSummary, ...], rows: list[BenchRow]
) -> None:
    pvrpif = set_name == "pvrpif"
    table = Table(title=f"{set_name}: summary per engine")
    table.add_column("engine")
    for col in ("feasible", "mean gap %", "≤ BKS"):
        table.add_column(col, justify="right")
    if pvrpif:
        table.add_column("proven optima reached", justify="right")
    for s in summary:
        gap = _fmt_gap(s.mean_gap_pct)
        cells = [s.engine, f"{s.feasible}/{s.runs}", gap, str(s.at_or_below_bks)]
        if pvrpif:
            cells.append(f"{s.proven_optima_reached}/{s.proven_optimal}")
        table.add_row(*cells)
    console.print(table)
    for r in rows:
        if r.below_lower_bound:
            console.print(
                f"[bold red]CHECK:[/] {escape(r.instance)} ({r.engine}) costs {_fmt_cost(r.cost)}, "
                "below the published lower bound: suspect the instance reading or the evaluator",
                highlight=False,
                soft_wrap=True,
            )
        elif r.below_bks:
            console.print(
                f"[bold green]NEW BEST-KNOWN:[/] {escape(r.instance)} ({r.engine}) "
                f"{_fmt_cost(r.cost)} < BKS {_fmt_cost(r.bks)} — solution in {escape(r.solution)}",
                highlight=False,
                soft_wrap=True,
            )
