"""Benchmark results: the rows, the per-engine summary, the CSV and the machine.

A row is one instance solved by one engine as the independent evaluator judged it
(:class:`BenchRow`, made by :func:`make_row` from the evaluator's cost and the
best-known :class:`Reference`); :func:`summarize` adds them up per engine;
:func:`write_csv` writes them atomically; :func:`machine_info` says where they ran.

Gap % is ``(cost - BKS) / BKS * 100``. A cost counts as *at* the BKS when it is
within half a unit of the BKS's last printed digit (Solomon values are printed with
two decimals; the optimum of C101 is 828.9368…, printed 828.94).
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import planner
from planner._atomic import atomic_writer
from planner.bench.solution_io import BenchInstance

CSV_COLUMNS: tuple[str, ...] = ("instance", "engine", "cost", "bks", "proven_optimal")


CSV_COLUMNS += ("gap_pct", "seconds", "cpu_seconds", "feasible", "first_violation", "solution")
CSV_COLUMNS += ("note",)


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
    cpu_seconds: float | None = None  # the process's CPU seconds during the solve
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


def make_row(
    instance: BenchInstance,
    engine: str,
    ref: Reference | None,
    seconds: float,
    *,
    cost: float | None,
    violations: tuple[str, ...],
    solution: str = "",
    notes: tuple[str, ...] = (),
    cpu_seconds: float | None = None,
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
        cpu_seconds=cpu_seconds,
        bks_corrected=corrected,
        at_or_below_bks=at,
        below_bks=below,
        below_lower_bound=below_lb,
    )


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


def write_csv(path: Path, rows: list[BenchRow]) -> None:
    """Write the table atomically (a temporary file in the same folder, then a rename)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values: dict[str, object] = {
            **asdict(r),
            "gap_pct": None if r.gap_pct is None else round(r.gap_pct, 4),
            "seconds": round(r.seconds, 2),
            "cpu_seconds": None if r.cpu_seconds is None else round(r.cpu_seconds, 2),
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
