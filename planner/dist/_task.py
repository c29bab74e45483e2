"""One cell's work: the task a worker runs, and the marker that makes a rerun skip it.

:func:`run_cell` is what ``planner run SCENARIO -o DIR`` does — the same
:func:`~planner.scenario.load.load_scenario` and
:func:`~planner.app.pipeline.plan_month` calls with the same arguments — so a cell's
``plan.json`` is byte-identical to ``planner run`` on the cell's scenario file.
It imports nothing of Dask: the distributed layer (:mod:`planner.dist._dask`) only
ships it to workers.

A finished cell leaves ``cell.json`` beside its plan (written last, atomically): the
scenario's content hash, the planner version and the run options, with the cell's
figures. :func:`finished` reads it back when all of those still match.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MARKER = "cell.json"
ON_TIME_MIN = 60  # a point is on time (定时) when all its arrivals lie within this span

# The figures of a finished cell, in table order: (key, header).
FIGURES = (
    ("households", "households"),
    ("trucks", "trucks"),
    ("runs", "runs"),
    ("visits", "visits"),
    ("unserved", "unserved"),
    ("distance_km", "km"),
    ("hours", "hours"),
    ("cost_cny", "cost CNY"),
    ("net_cost_cny", "net cost CNY"),
    ("fee_budget_cny", "农维费 CNY"),
    ("fee_balance_cny", "balance CNY"),
    ("points_visited", "points visited"),
    ("points_on_time", "points 定时"),
    ("on_time_pct", "定时 %"),
)


@dataclass(frozen=True)
class CellTask:
    """What a worker needs to plan one cell (paths absolute; workers share the disk).

    ``scenario_hash`` is the hash the client saw when it validated the scenario:
    it goes into the marker, so a later rerun recognises the cell.
    """

    cell: str
    scenario: Path
    out_dir: Path
    scenario_hash: str
    time_limit: float = 90.0
    seed: int = 0
    engine: str = "pyvrp"
    export: bool = False

    def fingerprint(self) -> dict[str, Any]:
        """What must match for a finished cell to count as done."""
        from planner import __version__

        return {
            "scenario_hash": self.scenario_hash,
            "planner_version": __version__,
            "time_limit_s": self.time_limit,
            "seed": self.seed,
            "engine": self.engine,
            "export": self.export,
        }


@dataclass(frozen=True)
class CellResult:
    """A cell's outcome: ``status`` is ``ok``, ``check failed``, ``failed`` or ``invalid``."""

    cell: str
    status: str
    figures: dict[str, float] = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    worker: str = ""
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def figures_of(result: Any, trucks: int) -> dict[str, float]:
    """The sweep table's figures of a :class:`~planner.app.pipeline.PlanResult`."""
    s = result.plan.summary
    totals = result.summary["totals"]
    spread = list(result.spread_min.values())
    on_time = sum(v <= ON_TIME_MIN for v in spread)
    return {
        "households": int(totals["households"]),
        "trucks": trucks,
        "runs": s.runs,
        "visits": s.visits,
        "unserved": s.unserved,
        "distance_km": round(float(s.distance_km), 1),
        "hours": round(float(s.duration_min) / 60.0, 1),
        "cost_cny": round(float(s.cost_cny or 0.0), 2),
        "net_cost_cny": round(float(totals["net_cost_cny"]), 2),
        "fee_budget_cny": round(float(totals["fee_budget_cny"]), 2),
        "fee_balance_cny": round(float(totals["fee_balance_cny"]), 2),
        "points_visited": len(spread),
        "points_on_time": on_time,
        "on_time_pct": round(100.0 * on_time / max(1, len(spread)), 1),
    }


def run_cell(task: CellTask) -> CellResult:
    """Plan one cell exactly as ``planner run`` would, write its marker, return its figures.

    Planner errors (a road network that cannot reach a new station, say) come back
    as a ``failed`` result with the message; anything else propagates to the caller.
    """
    from planner._errors import PlannerError
    from planner.app.pipeline import plan_month
    from planner.scenario.load import load_scenario

    t0 = time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        sc = load_scenario(task.scenario)
        result = plan_month(
            sc,
            task.out_dir,
            time_limit=task.time_limit,
            seed=task.seed,
            engine=task.engine,
            progress=False,
        )
        if task.export:
            _export(sc, result, task.out_dir)
    except PlannerError as exc:
        return CellResult(task.cell, "failed", message=str(exc), worker=worker)
    status = "check failed" if result.check_violations else "ok"
    message = "; ".join(result.check_violations[:3])
    out = CellResult(
        task.cell,
        status,
        figures_of(result, len(sc.fleet)),
        message,
        round(time.monotonic() - t0, 2),
        worker,
    )
    _write_marker(task, out)
    return out


def _export(sc: Any, result: Any, out_dir: Path) -> None:
    """Every output but the PDFs, as ``planner run --no-pdf`` writes them."""
    from planner.export import PlanBundle
    from planner.export.writer import ExportOptions, export_plan

    bundle = PlanBundle(
        out_dir=out_dir,
        plan=result.plan,
        scenario=sc,
        tallies=list(result.tallies),
        summary=result.summary,
    )
    export_plan(bundle, out_dir, ExportOptions(lang="zh", pdf=False), None)


def _write_marker(task: CellTask, result: CellResult) -> None:
    from planner._atomic import write_json_atomic

    doc = {"cell": task.cell, **task.fingerprint(), "result": asdict(result)}
    write_json_atomic(task.out_dir / MARKER, doc)


def finished(task: CellTask) -> CellResult | None:
    """The cell's earlier result if it finished with the same fingerprint, else ``None``."""
    path = task.out_dir / MARKER
    if not path.is_file() or not (task.out_dir / "plan.json").is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        fp = task.fingerprint()
        if any(doc.get(k) != v for k, v in fp.items()):
            return None
        res = doc["result"]
        return CellResult(
            cell=task.cell,
            status=str(res["status"]),
            figures={k: v for k, v in res["figures"].items()},
            message=str(res.get("message", "")),
            seconds=float(res.get("seconds", 0.0)),
            worker=str(res.get("worker", "")),
            skipped=True,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_serial(
    tasks: Sequence[CellTask], on_result: Callable[[CellResult], None] | None = None
) -> list[CellResult]:
    """The same tasks in this process, one after the other (``--workers 0``; no Dask)."""
    out = []
    for task in tasks:
        res = run_cell(task)
        if on_result is not None:
            on_result(res)
        out.append(res)
    return out
