"""Write every output of a plan folder, staged so that nothing is ever half there.

All products are written into a hidden staging folder first; only when every one
has been made do they replace the previous ones (a folder at a time, then the
single files). An interrupted or failed export leaves the old outputs as they
were, and folders of a previous plan never keep files of runs that no longer exist.
A killed export's staging folder is removed by the next export into the folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from planner._errors import PlanError
from planner._folder import claim_folder
from planner.export.bundle import PlanBundle

LANGS = ("zh", "en")
# What `planner run` / `planner export` leave in the plan folder, in the order made.
PRODUCTS = (
    "notices",
    "calendars",
    "gpx",
    "workbook",
    "gis",
    "maps",
    "sheets",
    "report",
)


@dataclass(frozen=True)
class ExportOptions:
    """Choices for :func:`export_plan`."""

    lang: str = "zh"
    pdf: bool = True
    only: tuple[str, ...] = PRODUCTS


Progress = Callable[[str, float, float], None]


def export_plan(
    bundle: PlanBundle,
    out_dir: Path,
    options: ExportOptions | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the chosen products for ``bundle`` into ``out_dir``; return the paths made.

    Raises
    ------
    PlanError
        An unknown language or product, or a product that cannot be made from the
        plan (the message names the file and what is wrong).
    """
    opts = options or ExportOptions()
    if opts.lang not in LANGS:
        raise PlanError(f"--lang: expected one of {', '.join(LANGS)}, found {opts.lang!r}")
    unknown = [p for p in opts.only if p not in PRODUCTS]
    if unknown:
        raise PlanError(
            f"expected products among {', '.join(PRODUCTS)}, found {', '.join(unknown)}"
        )
    # The folder's lock: one export at a time, and staging folders and temporary
    # files that killed runs left behind are removed first (planner._folder).
    with claim_folder(out_dir):
        stage = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
        try:
            made = _make(bundle, stage, opts, progress)
            return _publish(stage, out_dir, made)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _make(
    bundle: PlanBundle, stage: Path, opts: ExportOptions, progress: Progress | None
) -> list[Path]:
    # Imports here: each product pulls in its own libraries (WeasyPrint, matplotlib…).
    from planner.export import gis, gpx, ics, maps, notices, report, runsheet, workbook
    from planner.ledger.forms import write_bundle_forms  # the fillable tallies beside each sheet

    def tell(name: str, done: float, total: float) -> None:
        if progress is not None:
            progress(name, done, total)

    steps: dict[str, Callable[[], list[Path]]] = {
        "notices": lambda: notices.write_notices(bundle, stage),
        "calendars": lambda: ics.write_calendars(bundle, stage),
        "gpx": lambda: gpx.write_gpx(bundle, stage),
        "workbook": lambda: [workbook.write_workbook(bundle, stage)],
        "gis": lambda: gis.write_gis(bundle, stage),
        "maps": lambda: maps.write_maps(bundle, stage),
        "sheets": lambda: (
            runsheet.write_run_sheets(
                bundle,
                stage,
                lang=opts.lang,
                pdf=opts.pdf,
                progress=lambda done, total: tell("run sheets", done, total),
            )
            + write_bundle_forms(bundle, stage)
        ),
        "report": lambda: [report.write_report(bundle, stage, lang=opts.lang)],
    }
    made: list[Path] = []
    chosen = [p for p in PRODUCTS if p in opts.only]
    for k, name in enumerate(chosen):
        tell("outputs", k, len(chosen))
        made += steps[name]()
    tell("outputs", len(chosen), len(chosen))
    return made


def _publish(stage: Path, out_dir: Path, made: list[Path]) -> list[Path]:
    """Move the staged products into ``out_dir``: whole folders, then single files."""
    tops = sorted({p.relative_to(stage).parts[0] for p in made})
    for top in tops:
        src, dst = stage / top, out_dir / top
        if src.is_dir():
            old = None
            if dst.exists():
                old = dst.with_name(f".{top}.old-{os.getpid()}")
                os.replace(dst, old)
            os.replace(src, dst)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(src, dst)
    return [out_dir / p.relative_to(stage) for p in made]
