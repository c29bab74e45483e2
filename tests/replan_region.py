"""A small synthetic region planned once for the replan tests (24 points, 3 trucks)."""

from __future__ import annotations

from pathlib import Path


def planned_region(root: Path, *, export: bool = False) -> Path:
    """Generate the region under ``root`` and plan its month (and its outputs, no PDF)."""
    from planner import synth
    from planner.app.pipeline import plan_month
    from planner.scenario.load import load_scenario

    params = synth.synthetic_params(
        points=24, households=600, townships=2, area_km2=1500.0, trucks=3, seed=5
    )
    synth.generate_region(params, root / "data", root / "region.toml")
    out = root / "plan"
    plan_month(load_scenario(root / "region.toml"), out, time_limit=3, seed=0)
    if export:
        from planner.export.bundle import read_bundle
        from planner.export.writer import ExportOptions, export_plan

        export_plan(read_bundle(out), out, ExportOptions(pdf=False))
    return out
