"""The one wrapper around ``rich.progress``: live bars on a terminal, nothing elsewhere.

Two uses share it: a run's phases (``report(phase, done, total)``, one bar per
phase, kept on screen: :func:`progress_display`) and the benchmark runner's one live
line per instance and engine (:meth:`ProgressDisplay.start_task`,
:meth:`~ProgressDisplay.update_task`, :meth:`~ProgressDisplay.end_task`, removed
when done and replaced by a printed result line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn

Report = Callable[[str, float, float], None]


class ProgressDisplay:
    """A rich progress display, or nothing when ``enabled`` is false.

    Parameters
    ----------
    console
        Where it draws (``None``: rich's default console).
    enabled
        Draw at all (callers pass "is this a terminal, and not --quiet").
    phases
        One bar per phase with a percentage, kept on screen (a run), rather than
        transient lines with a short bar (the benchmark runner).
    """

    def __init__(self, console: Console | None, *, enabled: bool, phases: bool = True) -> None:
        self.enabled = enabled
        self._console = console
        self._phases = phases
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            columns: list[ProgressColumn] = []
            if self._phases:
                columns = [
                    TextColumn("{task.description:<16}"),
                    BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"),
                ]
            else:
                columns = [TextColumn("{task.description}"), BarColumn(bar_width=24)]
            self._progress = Progress(
                *columns,
                TimeElapsedColumn(),
                console=self._console,
                transient=not self._phases,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def report(self, phase: str, done: float, total: float) -> None:
        """Move ``phase``'s bar to ``done`` of ``total`` (a new bar on first sight)."""
        if self._progress is None:
            return
        if phase not in self._tasks:
            self._tasks[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(self._tasks[phase], completed=min(done, total), total=total)

    def start_task(self, label: str) -> None:
        """Open the one live line, labelled ``label``."""
        if self._progress is not None:
            self._task = self._progress.add_task(label, total=None)

    def update_task(self, description: str, done: float, total: float) -> None:
        """Relabel the live line and move its bar."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description, completed=done, total=total)

    def end_task(self, message: str) -> None:
        """Close the live line and print ``message`` (rich markup) in its place."""
        if self._progress is None or self._task is None:
            return
        self._progress.remove_task(self._task)
        self._task = None
        self._progress.console.print(message, highlight=False)


@contextmanager
def progress_display(enabled: bool, console: Console | None) -> Iterator[Report | None]:
    """A phase display fed by ``report(phase, done, total)`` calls (``None`` when off)."""
    with ProgressDisplay(console, enabled=enabled) as display:
        yield display.report if enabled else None
