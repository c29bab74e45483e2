"""``planner replan``: read a plan folder, re-plan the rest of the month, write a new version.

:func:`read_inputs` checks everything the user gave before any work is done;
:func:`replan_month` re-plans (deterministically: work budgets, no clock);
:func:`write_replan` writes the new folder through a staging folder that replaces
the target only when every file is made and the plan passes :func:`check_written_plan`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._atomic import atomic_writer, write_json_atomic
from planner._errors import PlanError
from planner.money import MonthMoney, month_money
from planner.plan.io import read_run_record
from planner.plan.model import Plan, Predecessor
from planner.replan.assemble import VisitChange, replanned_plan, visit_changes
from planner.replan.month import Month
from planner.replan.repair import Outcome, Replanner
from planner.replan.spec import Disruption, parse_disruption
from planner.scenario.model import Scenario

CHANGES_FORMAT = "rural-waste-changes/1"
CSV_HEADER = [
    "point",
    "name",
    "gacha",
    "status",
    "old_date",
    "old_time",
    "old_truck",
    "old_window",
    "new_date",
    "new_time",
    "new_truck",
    "new_window",
    "reason",
]


@dataclass(frozen=True)
class ReplanInput:
    """A checked plan folder, its scenario, and the disruption to work around."""

    plan_dir: Path
    out_dir: Path
    plan: Plan
    plan_sha256: str
    meta: dict[str, Any]
    scenario: Scenario
    disruption: Disruption


@dataclass(frozen=True)
class ReplanResult:
    """The new version, its money, what changed and how long it took."""

    inputs: ReplanInput
    plan: Plan
    money: MonthMoney
    outcome: Outcome
    changes: tuple[VisitChange, ...]
    seconds: float

    @property
    def old_cost(self) -> float:
        return float(self.inputs.plan.summary.cost_cny or 0.0)

    @property
    def new_cost(self) -> float:
        return float(self.plan.summary.cost_cny or 0.0)

    def figures(self) -> dict[str, Any]:
        """Counts for people: remaining visits, kept, moved, unserved, added cost."""
        start = self.inputs.disruption.start
        remaining = sum(1 for r in self.inputs.plan.runs if r.date >= start for _ in r.collects)
        by: dict[str, int] = {}
        for ch in self.changes:
            by[ch.status] = by.get(ch.status, 0) + 1
        keep = remaining - by.get("moved", 0) - by.get("unserved", 0) - by.get("window", 0)
        return {
            "remaining_visits": remaining,
            "kept_date_and_window": keep,
            "kept_share": round(keep / remaining, 4) if remaining else 1.0,
            "retimed": by.get("retimed", 0),
            "window_widened": by.get("window", 0),
            "moved": by.get("moved", 0),
            "unserved": by.get("unserved", 0),
            "cost_before_cny": round(self.old_cost, 2),
            "cost_after_cny": round(self.new_cost, 2),
            "added_cost_cny": round(self.new_cost - self.old_cost, 2),
            "distance_km": self.plan.summary.distance_km,
            "runs": self.plan.summary.runs,
        }


def read_inputs(
    plan_dir: Path,
    out_dir: Path,
    start: str,
    trucks_out: Sequence[str] = (),
    closed_days: Sequence[str] = (),
    points_closed: Sequence[str] = (),
) -> ReplanInput:
    """Check the plan folder, the output folder and every option; no work yet.

    Raises
    ------
    PlanError, ScenarioError
        The first problem, naming the folder or option and what was found.
    """
    from planner.scenario.load import load_scenario

    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise PlanError(f"PLAN_DIR: expected a plan folder holding plan.json, found {plan_dir}")
    if not (plan_dir / "plan.json").is_file():
        raise PlanError(
            f"PLAN_DIR: expected {plan_dir / 'plan.json'} (from planner run), not found"
        )
    record = read_run_record(plan_dir)
    if record is None:
        raise PlanError(
            f"PLAN_DIR: expected {plan_dir / 'run.json'}, the run record naming the scenario "
            "file (written by planner run), not found or not readable"
        )
    scenario_path, meta = record
    _check_out_dir(plan_dir, Path(out_dir))
    plan_bytes = (plan_dir / "plan.json").read_bytes()
    plan = Plan.read(plan_dir / "plan.json")
    scenario = load_scenario(scenario_path)
    if plan.scenario != scenario.name:
        raise PlanError(
            f"PLAN_DIR: the plan is for scenario {plan.scenario!r}, but run.json names "
            f"{scenario_path} ({scenario.name!r})"
        )
    recorded = meta.get("scenario_hash")
    if recorded and recorded != scenario.content_hash:
        raise PlanError(
            f"PLAN_DIR: {scenario_path} changed since the plan was made (run.json records "
            f"hash {str(recorded)[:12]}…, the file now gives {scenario.content_hash[:12]}…); "
            "re-plan against the scenario the plan was made from"
        )
    disruption = parse_disruption(plan, start, trucks_out, closed_days, points_closed)
    return ReplanInput(
        plan_dir=plan_dir,
        out_dir=Path(out_dir),
        plan=plan,
        plan_sha256=hashlib.sha256(plan_bytes).hexdigest(),
        meta=meta,
        scenario=scenario,
        disruption=disruption,
    )


def _check_out_dir(plan_dir: Path, out_dir: Path) -> None:
    if out_dir.resolve() == plan_dir.resolve():
        raise PlanError(
            f"-o: expected a new folder, found the plan folder itself ({out_dir}); the plan "
            "being replaced stays as it is"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise PlanError(f"-o: expected a folder, found a file: {out_dir}")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "plan.json").exists():
        raise PlanError(
            f"-o: expected a new folder or a plan folder to replace, found {out_dir} "
            "holding other files"
        )
    parent = out_dir.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise PlanError(f"-o: cannot create {out_dir}: {parent} is not a writable folder")


def replan_month(
    inputs: ReplanInput, *, engine: str = "pyvrp", seed: int = 0, per_day: float = 1.0
) -> ReplanResult:
    """Re-plan the month from ``--from`` on; nothing is written."""
    from planner.app.pipeline import plan_money_figures
    from planner.network.travel import build_travel
    from planner.solve.from_scenario import build_problem

    t0 = time.monotonic()
    sc = inputs.scenario
    sp = build_problem(sc, build_travel(sc))
    month = Month(sp, inputs.plan, inputs.disruption)
    outcome = Replanner(sc, month, engine=engine, seed=seed, per_day=per_day).run()
    old = inputs.plan
    rel = os.path.relpath(inputs.plan_dir.resolve() / "plan.json", inputs.out_dir.resolve())
    pred = Predecessor(
        path=Path(rel).as_posix(), sha256=inputs.plan_sha256, version=old.version or 1
    )
    routed = replanned_plan(sc, month, outcome, pred)
    money = month_money(routed, sc)
    plan = routed.with_summary(**plan_money_figures(money.summary))
    changes = tuple(visit_changes(sc, month, outcome, plan))
    return ReplanResult(inputs, plan, money, outcome, changes, time.monotonic() - t0)


def changes_document(result: ReplanResult, outputs: dict[str, list[str]]) -> dict[str, Any]:
    """``changes.json``: the disruption, every changed visit and the files that changed."""
    plan = result.plan
    assert plan.predecessor is not None
    return {
        "format": CHANGES_FORMAT,
        "scenario": plan.scenario,
        "version": plan.version,
        "predecessor": plan.predecessor.model_dump(mode="json"),
        "replan": plan.replan,
        "figures": result.figures(),
        "visits": [c.to_json() for c in result.changes],
        "outputs": outputs,
    }


def changes_csv(changes: Sequence[VisitChange]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for c in changes:
        w.writerow(
            [
                c.point,
                c.name,
                c.gacha,
                c.status,
                c.old_date.isoformat(),
                c.old_time,
                c.old_truck,
                c.old_window,
                c.new_date.isoformat() if c.new_date else "",
                c.new_time,
                c.new_truck,
                c.new_window,
                c.reason,
            ]
        )
    return buf.getvalue()


def write_replan(
    result: ReplanResult,
    *,
    export: bool = True,
    lang: str = "zh",
    pdf: bool = True,
) -> tuple[Path, list[str]]:
    """Write the new plan folder atomically; returns it and the check's violations.

    Everything is made in a hidden staging folder beside ``out_dir``; the plan is
    checked there (as ``planner check`` would); only a plan that passes replaces
    ``out_dir``. A failed check leaves nothing behind and returns its lines.
    """
    from planner.app.pipeline import check_written_plan
    from planner.money.files import write_money

    inputs = result.inputs
    out_dir = inputs.out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replan-", dir=out_dir.parent))
    try:
        result.plan.write(stage / "plan.json")
        write_money(stage, result.money)
        pred = result.plan.predecessor
        meta = {**inputs.meta, "predecessor": pred.model_dump(mode="json") if pred else None}
        write_json_atomic(stage / "run.json", meta)
        outputs: dict[str, list[str]] = {"changed": [], "removed": []}
        if export:
            from planner.replan.outputs import export_changed

            outputs = export_changed(result, stage, lang=lang, pdf=pdf)
        write_json_atomic(stage / "changes.json", changes_document(result, outputs))
        with atomic_writer(stage / "changes.csv", newline="") as fh:
            fh.write(changes_csv(result.changes))
        report, ok = check_written_plan(stage, None)
        if not ok:
            return out_dir, report.splitlines()
        _swap(stage, out_dir)
        return out_dir, []
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _swap(stage: Path, out_dir: Path) -> None:
    """Put ``stage`` in place of ``out_dir`` (a rename each; the old folder then goes)."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(stage, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
