"""The scaling curve: synthetic banners of 200 to 3,200 points, each planned once.

Every region is generated from fixed seeds on Otog's outline with Otog's density
(1,800 points on 20,000 km², 61 households a point, a township per 300 points);
its fleet is the smallest the planner itself says is enough (``planner info``'s
figure, :func:`planner.solve.fleet.fleet_needs`, the region made again with more
trucks until no depot is short). Each run is ``planner run --no-export`` in a child
process (wall and CPU seconds -- its worker processes included -- and peak RSS, the
largest of its processes, from its own rusage), then ``planner
check``; unserved visits and cost per visit come from its plan.json. A script:

    python benchmarks/bench_scale.py                         # 200..3,200, auto
    python benchmarks/bench_scale.py --sizes 200 400 800 --modes whole depots
    python benchmarks/bench_scale.py --sizes 1800 --trucks 36   # the 1,800-point target

Rows are appended to ``--json`` (default benchmarks/results/scale.json) as each run
ends, so a long curve keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANNER = [sys.executable, "-c", "from planner.cli import main; main()"]


def region_params(points: int, trucks: int, seed: int):  # type: ignore[no-untyped-def]
    from planner.synth import synthetic_params

    # Scaled from bench_plan's large banner (1,800 points, 110,000 households, 20,000 km²).
    return synthetic_params(
        points=points,
        households=round(110_000 * points / 1800),
        townships=max(2, round(points / 300)),
        area_km2=20_000.0 * points / 1800,
        trucks=trucks,
        seed=seed,
        outline="otog",
    )


def make_region(folder: Path, points: int, seed: int, trucks: int | None) -> tuple[Path, dict]:
    """The region's scenario and its fleet figures (smallest enough, unless ``trucks``)."""
    from planner.network.travel import build_travel
    from planner.scenario.load import load_scenario
    from planner.solve.fleet import fleet_needs
    from planner.solve.from_scenario import build_problem
    from planner.synth import generate_region

    toml = folder / "region.toml"
    fleet = trucks or max(2, round(points / 50))
    while True:
        if folder.exists():
            shutil.rmtree(folder)
        generate_region(region_params(points, fleet, seed), folder / "data", toml)
        scenario = load_scenario(toml)
        sp = build_problem(scenario, build_travel(scenario))
        needs = fleet_needs(sp.problem)
        short = sum(max(0, n.trucks - n.have) for n in needs)
        if trucks is not None or not short:
            break
        fleet += short
    if trucks is None:  # each depot keeps the trucks it needs, no more
        _keep_trucks(toml, {sp.node_ids[n.depot]: n.trucks for n in needs})
        scenario = load_scenario(toml)
        needs = fleet_needs(build_problem(scenario, build_travel(scenario)).problem)
    binding = sorted({n.reason.split(":")[0] for n in needs})
    unreachable = sum(len(n.unreachable) for n in needs)
    info = {
        "points": points,
        "depots": len(needs),
        "trucks": len(scenario.fleet),
        "trucks_needed": sum(n.trucks for n in needs),
        "needed_per_depot": [n.trucks for n in needs],
        "binding": ", ".join(binding) + (f"; {unreachable} unreachable" if unreachable else ""),
        "binding_detail": needs[0].reason if needs else "",
        "visits_required": sum(scenario.visits.values()),
    }
    return toml, info


def _keep_trucks(toml: Path, per_depot: dict[str, int]) -> None:
    """Drop each depot's last trucks from the scenario beyond ``per_depot``."""
    import tomllib

    text = toml.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    drop = set()
    for truck in tomllib.loads(text)["fleet"]:
        seen[truck["depot"]] = seen.get(truck["depot"], 0) + 1
        if seen[truck["depot"]] > per_depot.get(truck["depot"], 0):
            drop.add(truck["id"])
    blocks = text.split("\n[[fleet]]\n")
    kept = [blocks[0]]
    for block in blocks[1:]:
        truck_id = block.split("\n", 1)[0].removeprefix("id = ").strip('"')
        if truck_id not in drop:
            kept.append(block)
        elif "\n[" in block:  # the last truck's block runs into the next section
            kept[-1] += "\n[" + block.split("\n[", 1)[1]
    toml.write_text("\n[[fleet]]\n".join(kept), encoding="utf-8")


def run_once(toml: Path, out: Path, mode: str, time_limit: float, seed: int) -> dict:
    """One ``planner run --no-export`` as a child process, then ``planner check``."""
    cmd = [*PLANNER, "run", str(toml), "-o", str(out), "--no-export", "-q"]
    cmd += ["--time-limit", f"{time_limit:g}", "--seed", str(seed), "--decompose", mode]
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - t0
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"planner run failed ({child.returncode}): {stderr[-2000:]}")
    check = subprocess.run([*PLANNER, "check", str(out)], capture_output=True, text=True)
    summary = json.loads((out / "plan.json").read_text(encoding="utf-8"))["summary"]
    return {
        "mode": mode,
        "time_limit_s": time_limit,
        "seed": seed,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        # Workers included (waited for by the child); the target is at most 1.2 (+ matrix).
        "cpu_per_limit": round((usage.ru_utime + usage.ru_stime) / time_limit, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024.0),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "visits": summary["visits"],
        "unserved": summary["unserved"],
        "cost_cny": summary["cost_cny"],
        "cost_per_visit_cny": round(summary["cost_cny"] / max(1, summary["visits"]), 2),
        "check_passes": check.returncode == 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 800, 1600, 3200])
    ap.add_argument("--modes", nargs="+", default=["auto"], help="auto, depots, whole")
    ap.add_argument("--time-limit", type=float, default=90.0, help="planner run's default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trucks", type=int, help="a fixed fleet instead of the smallest enough")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_scale"))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/scale.json")
    ap.add_argument("--label", default="", help="a note stored with each row")
    args = ap.parse_args()

    doc = json.loads(args.json.read_text()) if args.json.exists() else {"rows": []}
    doc["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    for points in args.sizes:
        name = f"r{points}-s{args.seed}" + (f"-t{args.trucks}" if args.trucks else "")
        toml, info = make_region(args.work / name, points, args.seed, args.trucks)
        print(
            f"{points} points: {info['trucks']} trucks ({info['trucks_needed']} needed: "
            f"{info['binding']}; {info['binding_detail']})",
            flush=True,
        )
        for mode in args.modes:
            row = {
                **info,
                **run_once(toml, toml.parent / f"out-{mode}", mode, args.time_limit, args.seed),
                "label": args.label,
            }
            print(
                "  "
                + ", ".join(
                    f"{k}={row[k]}"
                    for k in (
                        "mode",
                        "wall_s",
                        "cpu_s",
                        "cpu_per_limit",
                        "peak_rss_mb",
                        "unserved",
                        "cost_per_visit_cny",
                        "check_passes",
                        "load_before",
                    )
                ),
                flush=True,
            )
            doc["rows"].append(row)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.json.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=1) + "\n")
            tmp.replace(args.json)


if __name__ == "__main__":
    main()
