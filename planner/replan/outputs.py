"""The people's outputs of a new plan version, made again only where something changed.

Per-run products (run sheets, GPX) are copied from the predecessor for every run
whose stops, loads, household tallies and cash/goods did not change, and made
with :func:`~planner.export.writer.export_plan` for the others; a run that no
longer exists loses its files. The month-wide products (notices, calendars,
workbook, GIS, maps, report) are made again from the whole plan: they are
deterministic, so a gacha whose visits did not change gets the same notice byte
for byte. Calendars get ``SEQUENCE`` and ``DTSTAMP`` per event against the
predecessor's as they are written (:mod:`planner.export._ics_versions`). The files
that differ from the predecessor's are listed in ``changes.json``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.money.files import read_tallies

if TYPE_CHECKING:
    from planner.replan.core import ReplanResult

PER_RUN = ("sheets", "gpx")
MONTHLY = ("notices", "calendars", "workbook", "gis", "maps", "report")
_SKIP = {"changes.json", "changes.csv"}


def changed_runs(result: ReplanResult) -> tuple[set[str], set[str]]:
    """Ids of runs whose outputs must be made again, and of runs that are gone."""
    old_dir = result.inputs.plan_dir
    old = {r.id: r for r in result.inputs.plan.runs}
    new = {r.id: r for r in result.plan.runs}
    tallies_old: dict[str, list[Any]] = defaultdict(list)
    tallies_path = old_dir / "tallies.csv"
    if tallies_path.exists():
        for t in read_tallies(tallies_path):
            tallies_old[t.run_id].append(t)
    tallies_new: dict[str, list[Any]] = defaultdict(list)
    for t in result.money.tallies.rows:
        tallies_new[t.run_id].append(t)
    carry_old = _carry(old_dir / "summary.json")
    carry_new = {r["run_id"]: r for r in result.money.summary.get("runs", [])}
    changed = {
        rid
        for rid, run in new.items()
        if old.get(rid) != run
        or tallies_old.get(rid) != tallies_new.get(rid)
        or carry_old.get(rid) != json.loads(json.dumps(carry_new.get(rid)))
    }
    return changed, set(old) - set(new)


def _carry(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {r["run_id"]: r for r in doc.get("runs", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def export_changed(
    result: ReplanResult, stage: Path, *, lang: str = "zh", pdf: bool = True
) -> dict[str, list[str]]:
    """Write the outputs of ``result`` into ``stage``; the files changed and removed."""
    from planner.export.bundle import PlanBundle
    from planner.export.writer import ExportOptions, export_plan
    from planner.plan.model import Plan

    inputs = result.inputs
    old_dir = inputs.plan_dir
    doc = result.plan.to_json_dict()
    tallies = list(result.money.tallies.rows)

    def bundle(runs: list[dict[str, Any]], where: Path) -> PlanBundle:
        return PlanBundle(
            out_dir=where,
            plan=Plan.from_json_dict({**doc, "runs": runs}),
            scenario=inputs.scenario,
            tallies=tallies,
            summary=result.money.summary,
            handouts=list(result.money.tallies.handouts),
        )

    changed, _ = changed_runs(result)
    ids = {r["id"] for r in doc["runs"]}
    fresh = {rid for rid in ids if rid in changed}
    for product in PER_RUN:
        if not (old_dir / product).is_dir():
            fresh = ids  # nothing to copy from: make every run's files
    for product in PER_RUN:
        src, dst = old_dir / product, stage / product
        dst.mkdir(exist_ok=True)
        if src.is_dir():
            for f in sorted(src.iterdir()):
                rid = f.name.split(".", 1)[0]
                if f.is_file() and rid in ids and rid not in fresh:
                    shutil.copyfile(f, dst / f.name)
    if fresh:
        tmp = Path(tempfile.mkdtemp(prefix=".runs-", dir=stage))
        try:
            runs = [r for r in doc["runs"] if r["id"] in fresh]
            export_plan(bundle(runs, tmp), tmp, ExportOptions(lang=lang, pdf=pdf, only=PER_RUN))
            for product in PER_RUN:
                for f in sorted((tmp / product).iterdir()):
                    shutil.move(f, stage / product / f.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    export_plan(bundle(doc["runs"], stage), stage, ExportOptions(lang=lang, pdf=pdf, only=MONTHLY))
    return _differences(old_dir, stage)


def _files(folder: Path) -> dict[str, Path]:
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _differences(old_dir: Path, new_dir: Path) -> dict[str, list[str]]:
    """Files of ``new_dir`` that are new or differ from ``old_dir``'s, and those gone."""
    old, new = _files(old_dir), _files(new_dir)
    changed = [
        name
        for name, p in new.items()
        if name not in _SKIP and (name not in old or old[name].read_bytes() != p.read_bytes())
    ]
    removed = [name for name in old if name not in new and name not in _SKIP]
    return {"changed": changed, "removed": removed}
