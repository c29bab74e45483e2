"""Benchmark sweeps on Dask: an 8-cell sweep on 1 and 2 workers, the overhead per task,
and an on-paper estimate for a 100-banner province on a 32-worker cluster. A script,
not a test:

    python benchmarks/bench_sweep.py                       # 40-point region, 5 s a cell
    python benchmarks/bench_sweep.py --json benchmarks/results/sweep.json
    python benchmarks/bench_sweep.py --banner-s 66         # per-banner plan time (Otog)

Each sweep runs in a fresh folder (nothing is skipped); the cluster's start-up is
timed apart from the sweep. The overhead per task is measured twice: empty tasks
on the 2-worker cluster (the scheduler's own cost), and the sweep's wall time on one
worker minus the cells' own time, per cell (what our layer adds around each plan).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

GRID = ["visits.default=2,3", "windows.width_min=45,60", "fleet.per_depot=1,2"]


def _region(folder: Path, points: int, seed: int) -> Path:
    from planner.synth import generate_region, synthetic_params

    params = synthetic_params(
        points=points,
        households=points * 15,
        townships=2,
        area_km2=points * 40.0,
        trucks=max(2, points // 12),
        seed=seed,
    )
    return generate_region(params, folder / "data", folder / "base.toml").scenario_path


def _noop(i: int) -> int:
    return i


def _sweep_on(base: Path, out: Path, workers: int, limit: float) -> dict:
    import distributed

    from planner.dist._dask import run_tasks
    from planner.dist._sweep import prepare_sweep

    sweep = prepare_sweep(base, GRID, out, time_limit=limit)
    tasks = [c.task for c in sweep.cells if c.task is not None]
    t0 = time.monotonic()
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as lc,
        distributed.Client(lc, set_as_default=False) as client,
    ):
        started = time.monotonic()
        results = run_tasks(client, tasks)
        wall = time.monotonic() - started
        row = {
            "workers": workers,
            "cells": len(tasks),
            "cluster_start_s": round(started - t0, 2),
            "sweep_wall_s": round(wall, 2),
            "cell_s_sum": round(sum(r.seconds for r in results), 2),
            "cell_s_mean": round(statistics.mean(r.seconds for r in results), 2),
            "all_ok": all(r.ok for r in results),
            "plans": [
                (out / "cells" / c.variant.folder / "plan.json").read_bytes() for c in sweep.cells
            ],
        }
        if workers > 1:
            n = 400
            client.gather(client.map(_noop, range(20), pure=False))  # warm
            t = time.monotonic()
            client.gather(client.map(_noop, range(n), pure=False))
            row["empty_task_ms"] = round(1000 * (time.monotonic() - t) / n, 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=40, help="points of the test region")
    ap.add_argument("--time-limit", type=float, default=5.0, help="seconds per cell")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument(
        "--banner-s",
        type=float,
        default=66.0,
        help="plan time of one real banner (Otog at --time-limit 90: 66 s, docs/benchmarks.md)",
    )
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        base = _region(Path(tmp) / "region", args.points, args.seed)
        one = _sweep_on(base, Path(tmp) / "w1", 1, args.time_limit)
        two = _sweep_on(base, Path(tmp) / "w2", 2, args.time_limit)
    same = one.pop("plans") == two.pop("plans")
    speedup = one["sweep_wall_s"] / two["sweep_wall_s"]
    per_cell_overhead = (one["sweep_wall_s"] - one["cell_s_sum"]) / one["cells"]

    # On paper: 100 banners on 32 workers, each banner one task of --banner-s seconds.
    banners, workers = 100, 32
    waves = math.ceil(banners / workers)
    sched_s = banners * two["empty_task_ms"] / 1000.0
    overhead_s = banners * max(per_cell_overhead, 0.0) / workers
    estimate = {
        "banners": banners,
        "workers": workers,
        "banner_s": args.banner_s,
        "waves": waves,
        "lower_bound_s": round(banners * args.banner_s / workers, 1),
        "wave_bound_s": round(waves * args.banner_s, 1),
        "scheduler_s": round(sched_s, 2),
        "layer_overhead_s": round(overhead_s, 1),
        "estimate_s": round(waves * args.banner_s + overhead_s + sched_s, 1),
        "serial_s": round(banners * args.banner_s, 1),
    }
    load = os.getloadavg()
    out = {
        "machine": f"{os.cpu_count()} cores, load average {load[0]:.1f} at the end (shared)",
        "region_points": args.points,
        "time_limit_s": args.time_limit,
        "grid": GRID,
        "one_worker": one,
        "two_workers": two,
        "speedup": round(speedup, 2),
        "same_plans_1_vs_2_workers": same,
        "layer_overhead_per_cell_s": round(per_cell_overhead, 2),
        "province": estimate,
    }
    print(json.dumps(out, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
