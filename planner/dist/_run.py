"""Run a batch of cells: skip the finished ones, run the rest, show progress.

Shared by ``planner sweep`` and ``planner run-many``. ``workers=0`` plans the cells
in this process without Dask; otherwise they go to a Dask cluster
(:mod:`planner.dist._dask`): a new local one, or the one at ``scheduler``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from planner.dist._task import CellResult, CellTask, finished, run_serial


@dataclass(frozen=True)
class Cluster:
    """Where cells run: ``workers`` local processes (0: here, no Dask), or a scheduler."""

    workers: int | None = None
    scheduler: str | None = None

    def describe(self) -> str:
        if self.scheduler:
            return f"the Dask cluster at {self.scheduler}"
        if self.workers == 0:
            return "this process (no Dask)"
        return f"a local Dask cluster ({self.workers or 'one per core'} workers)"


def execute(
    tasks: Sequence[CellTask],
    cluster: Cluster,
    *,
    console: Console | None = None,
    progress: bool = False,
    on_result: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Results of every task in order: earlier ones where a cell already finished
    with the same fingerprint (``skipped``), new ones for the rest."""
    earlier = {t.cell: finished(t) for t in tasks}
    todo = [t for t in tasks if earlier[t.cell] is None]
    with _Display(progress, console, len(tasks), len(tasks) - len(todo)) as display:

        def done(res: CellResult) -> None:
            display.advance(res)
            if on_result is not None:
                on_result(res)

        if not todo:
            fresh: list[CellResult] = []
        elif cluster.workers == 0 and not cluster.scheduler:
            fresh = run_serial(todo, done)
        else:
            from planner.dist._dask import dask_client, run_tasks

            with dask_client(cluster.workers, cluster.scheduler) as client:
                fresh = run_tasks(client, todo, done)
    by_cell = {r.cell: r for r in fresh}
    return [earlier[t.cell] or by_cell[t.cell] for t in tasks]


class _Display:
    """A rich progress bar over the cells (finished ones count from the start)."""

    def __init__(self, enabled: bool, console: Console | None, total: int, skipped: int):
        self.progress: Progress | None = None
        self.task = None
        if enabled:
            self.progress = Progress(
                TextColumn("cells"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[last]}"),
                TimeElapsedColumn(),
                console=console,
            )
            last = f"{skipped} already done" if skipped else ""
            self.task = self.progress.add_task("cells", total=total, completed=skipped, last=last)

    def __enter__(self) -> _Display:
        if self.progress is not None:
            self.progress.start()
        return self

    def advance(self, res: CellResult) -> None:
        if self.progress is not None and self.task is not None:
            last = f"{res.cell} {res.status} ({res.seconds:.1f} s)"
            self.progress.update(self.task, advance=1, last=last)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
