"""Benchmark the monthly plan: the Otog default, and a synthetic banner five times larger.

Reports wall time, peak memory, distance, driver hours, truck-days, unserved visits,
the arrival-time spread per point, and — in the same run — the cost with the
calendar held fixed after the first assignment, to show what the calendar–route
improvement gains. A script, not a test:

    python benchmarks/bench_plan.py                      # Otog default, 90 s
    python benchmarks/bench_plan.py --large              # + 1,800 points, 30 trucks
    python benchmarks/bench_plan.py --json benchmarks/results/monthly_plan.json
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from planner.app.pipeline import plan_month
from planner.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _measure(scenario_path: Path, time_limit: float, seed: int, improve: bool) -> dict:
    t0 = time.monotonic()
    scenario = load_scenario(scenario_path)
    with tempfile.TemporaryDirectory() as out:
        result = plan_month(
            scenario, Path(out), time_limit=time_limit, seed=seed, improve_calendar=improve
        )
    wall = time.monotonic() - t0
    s = result.plan.summary.model_dump()
    spread = list(result.spread_min.values())
    return {
        "scenario": scenario.name,
        "points": len(scenario.points),
        "trucks": len(scenario.fleet),
        "calendar_improved": improve,
        "wall_s": round(wall, 1),
        "distance_km": s["distance_km"],
        "hours": round(s["duration_min"] / 60.0, 1),
        "truck_days": s["runs"],
        "visits": s["visits"],
        "unserved": s["unserved"],
        "cost_cny": s["cost_cny"],
        "spread_le_60_pct": round(100.0 * sum(v <= 60 for v in spread) / max(1, len(spread)), 1),
        "spread_median_min": sorted(spread)[len(spread) // 2] if spread else 0,
        "check_violations": len(result.check_violations),
    }


def _large_scenario(folder: Path, seed: int) -> Path:
    from planner.synth import generate_region, synthetic_params

    # Five times Otog's points and households on Otog's outline and area, 30 trucks.
    params = synthetic_params(
        points=1800,
        households=110_000,
        townships=6,
        area_km2=20_000.0,
        trucks=30,
        seed=seed,
        outline="otog",
    )
    generate_region(params, folder / "data", folder / "large.toml")
    return folder / "large.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=90.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--large", action="store_true", help="also the 5x synthetic banner")
    ap.add_argument("--large-time-limit", type=float, default=480.0)
    ap.add_argument("--skip-otog", action="store_true", help="only the large banner")
    ap.add_argument("--json", type=Path, help="write the rows here")
    args = ap.parse_args()

    rows = []
    otog = ROOT / "scenarios" / "otog.toml"
    if not args.skip_otog:
        rows.append(_measure(otog, args.time_limit, args.seed, improve=True))
        rows.append(_measure(otog, args.time_limit, args.seed, improve=False))
    if args.large:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(
                _measure(
                    _large_scenario(Path(tmp), args.seed),
                    args.large_time_limit,
                    args.seed,
                    improve=True,
                )
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cols = list(rows[0])
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))
    print(f"peak memory of this process: {peak_mb:,.0f} MB")
    if not args.skip_otog and rows[1]["cost_cny"]:
        gain = 100.0 * (rows[1]["cost_cny"] - rows[0]["cost_cny"]) / rows[1]["cost_cny"]
        print(f"calendar improvement saves {gain:.1f}% of the fixed-calendar cost")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "peak_mb": peak_mb}, indent=1))


if __name__ == "__main__":
    main()
