"""``planner sweep`` and ``planner run-many``: read → plan on Dask → write, nothing else.

Registered on the main ``planner`` app by :mod:`planner.cli`. Exit codes as for
``planner run``: 0 done, 1 a plan failed its check, 2 bad input (a malformed
``--vary``, an invalid cell or region, a cell the planner could not plan); cells
that are fine still run when others are invalid.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.table import Table

from planner._console import err, out, say
from planner._errors import PlannerError, ScenarioError

if TYPE_CHECKING:
    from planner.dist._run import Cluster
    from planner.dist._task import CellResult, CellTask

_T = TypeVar("_T")

Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", help="Local Dask worker processes (default: one per core; 0: no Dask)."
    ),
]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="An existing Dask scheduler, tcp://HOST:8786.")
]
TimeLimit = Annotated[float, typer.Option(help="Seconds for the solver, each cell.")]
Seed = Annotated[int, typer.Option(help="Random seed: same seed, same plan.")]
Engine = Annotated[str, typer.Option(help="Routing engine: pyvrp or ortools.")]
Export = Annotated[
    bool, typer.Option(help="Also write every output but the PDFs in each plan folder.")
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Only write and validate the scenarios; plan nothing.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


def _problems(lines: list[str]) -> None:
    for line in lines:
        say(err, "error:", "bold red", line)


def _cluster(workers: int | None, scheduler: str | None) -> Cluster:
    from planner.dist._run import Cluster

    if workers is not None and scheduler:
        _problems(["expected --workers or --scheduler, found both"])
        raise typer.Exit(2)
    if workers is not None and workers < 0:
        _problems([f"--workers: expected 0 or more, found {workers}"])
        raise typer.Exit(2)
    return Cluster(workers, scheduler)


def _printer(quiet: bool) -> Any:
    """One line per finished cell where there is no progress bar (piped output)."""
    if quiet or sys.stderr.isatty():
        return None

    def show(res: CellResult) -> None:
        err.print(f"{res.cell}: {res.status} ({res.seconds:.1f} s)", highlight=False)

    return show


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


SHOWN = (
    ("status", "status"),
    ("trucks", "trucks"),
    ("unserved", "unserved"),
    ("distance_km", "km"),
    ("cost_cny", "cost CNY"),
    ("on_time_pct", "定时 %"),
    ("fee_balance_cny", "balance CNY"),
)


def _table(title: str, first: list[str], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in first:
        table.add_column(col)
    for _, head in SHOWN:
        table.add_column(head, justify="right")
    for row in rows:
        cells = [*(row.get(c) for c in first), *(row.get(k) for k, _ in SHOWN)]
        table.add_row(*(_fmt(v) for v in cells))
    return table


def _plan_line(tasks: list[CellTask], cluster: Cluster, dry_run: bool) -> str:
    from planner.dist._task import finished

    done = sum(finished(t) is not None for t in tasks)
    todo = len(tasks) - done
    where = "nothing (dry run)" if dry_run else cluster.describe() if todo else "nothing"
    return f"{done} already done, planning {todo} on {where}"


def _prepared_or_exit(prepare: Callable[[], _T]) -> _T:
    """What ``prepare`` returns; a bad scenario lists its problems and exits 2."""
    try:
        return prepare()
    except ScenarioError as exc:
        _problems([str(i) for i in exc.issues])
        raise typer.Exit(2) from None


def _run_or_exit(run: Callable[[], _T]) -> _T:
    """What ``run`` returns; a planner error is shown and exits 2."""
    try:
        return run()
    except PlannerError as exc:
        _problems([str(exc)])
        raise typer.Exit(2) from None


def _report_failures(what: str, results: list[CellResult]) -> None:
    for r in results:
        if r.status in ("failed", "check failed"):
            _problems([f"{what} {r.cell}: {r.status}: {r.message}"])


def _finish(table: Table, files: list[Path], rows: list[dict[str, Any]]) -> NoReturn:
    """Print the table and the files written; exit with the cells' worst status."""
    out.print(table)
    out.print("wrote " + ", ".join(map(str, files)), highlight=False, soft_wrap=True)
    raise typer.Exit(_exit_code([r["status"] for r in rows]))


def _exit_code(statuses: list[str]) -> int:
    if any(s in ("invalid", "failed") for s in statuses):
        return 2
    return 1 if "check failed" in statuses else 0


def sweep(
    base: Annotated[Path, typer.Argument(help="Base scenario file (.toml).")],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="KEY=V1,V2,… (dotted key of the scenario file, or fleet.per_depot / "
            "stations.add); repeat for more axes.",
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("sweep"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    time_limit: TimeLimit = 90.0,
    seed: Seed = 0,
    engine: Engine = "pyvrp",
    export: Export = False,
    dry_run: DryRun = False,
    quiet: Quiet = False,
) -> None:
    """Plan every cell of a grid of scenario variants as a Dask task; compare them."""
    from planner.dist._sweep import prepare_sweep, run_sweep, sweep_rows

    cluster = _cluster(workers, scheduler)
    prepared = _prepared_or_exit(
        lambda: prepare_sweep(
            base, vary, output, time_limit=time_limit, seed=seed, engine=engine, export=export
        )
    )
    for cell in prepared.invalid:
        v = cell.variant
        _problems([f"cell {v.cell_id} ({v.label}): {p}" for p in cell.problems])
    n, bad = len(prepared.cells), len(prepared.invalid)
    tasks = [c.task for c in prepared.cells if c.task is not None]
    err.print(
        f"{n} cells ({bad} invalid) in {prepared.out_dir}; " + _plan_line(tasks, cluster, dry_run),
        highlight=False,
    )
    if dry_run:
        raise typer.Exit(2 if bad else 0)
    results, files = _run_or_exit(
        lambda: run_sweep(
            prepared,
            cluster,
            console=err,
            progress=not quiet and sys.stderr.isatty(),
            on_result=_printer(quiet),
        )
    )
    _, rows = sweep_rows(prepared, {r.cell: r for r in results})
    _report_failures("cell", results)
    skipped = sum(r.skipped for r in results)
    title = f"sweep of {base.name}" + (f" ({skipped} cells already done)" if skipped else "")
    _finish(_table(title, ["cell", *(a.key for a in prepared.axes)], rows), files, rows)


def run_many(
    regions: Annotated[
        Path, typer.Argument(help="Folder of scenarios (*.toml, */*.toml) or a list file.")
    ],
    output: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("many"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    time_limit: TimeLimit = 90.0,
    seed: Seed = 0,
    engine: Engine = "pyvrp",
    export: Export = False,
    dry_run: DryRun = False,
    quiet: Quiet = False,
) -> None:
    """Plan every scenario of a folder as a Dask task; one summary per region and in total."""
    from planner.dist._many import many_rows, prepare_many
    from planner.dist._many import run_many as run_all

    cluster = _cluster(workers, scheduler)
    prepared = _prepared_or_exit(
        lambda: prepare_many(
            regions, output, time_limit=time_limit, seed=seed, engine=engine, export=export
        )
    )
    bad = [r for r in prepared if r.task is None]
    for reg in bad:
        _problems([f"region {reg.name}: {p}" for p in reg.problems])
    tasks = [r.task for r in prepared if r.task is not None]
    err.print(
        f"{len(prepared)} regions ({len(bad)} invalid); " + _plan_line(tasks, cluster, dry_run),
        highlight=False,
    )
    if dry_run:
        raise typer.Exit(2 if bad else 0)
    results, total, files = _run_or_exit(
        lambda: run_all(
            prepared,
            output,
            cluster,
            console=err,
            progress=not quiet and sys.stderr.isatty(),
            on_result=_printer(quiet),
        )
    )
    _, rows, _ = many_rows(prepared, {r.cell: r for r in results})
    _report_failures("region", results)
    _finish(_table(f"{len(rows)} regions", ["region"], [*rows, total]), files, rows)
