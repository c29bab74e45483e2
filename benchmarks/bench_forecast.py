"""Benchmark the forecast: the backtest with 1, 3 and 6 months of simulated history.

The scenario's month is planned once on its assumptions (``--time-limit``), then
``planner.forecast.backtest.backtest`` runs for each history length on that plan:
simulated history (a truth that differs from the scenario) imported into a
throw-away SQLite ledger, the forecast, and a plan on the forecast. A script, not
a test:

    python benchmarks/bench_forecast.py                         # Otog, 1/3/6 months, seed 0
    python benchmarks/bench_forecast.py --months 3 --seed 1
    python benchmarks/bench_forecast.py --json benchmarks/results/forecast.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from planner.app.pipeline import plan_month
from planner.forecast.backtest import backtest
from planner.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def table(results: list[dict[str, Any]]) -> str:
    """The results as the markdown table of docs/benchmarks.md."""
    lines = [
        "| months | WAPE kg/stop: assumptions | forecast | reduction | 90 % coverage "
        "| WAPE cash/run: assumptions | forecast | overloaded runs before → after "
        "| cash short | goods short | plan cost CNY | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, a = r["consequences"]["before"], r["consequences"]["after"] or {}
        c = r["cash_per_run"]
        lines.append(
            f"| {r['months']} | {r['wape_assumptions']:.3f} | {r['wape_forecast']:.3f} "
            f"| {100 * r['wape_reduction']:.0f} % | {100 * r['coverage_90']:.1f} % "
            f"| {c['wape_assumptions']:.3f} | {c['wape_forecast']:.3f} "
            f"| {b['overloaded']}/{b['runs']} → {a.get('overloaded', '-')}/{a.get('runs', '-')} "
            f"| {b['cash_short']} → {a.get('cash_short', '-')} "
            f"| {b['goods_short']} → {a.get('goods_short', '-')} "
            f"| {_cny(b.get('cost_cny'))} → {_cny(a.get('cost_cny'))} "
            f"| {r['seconds']['total']:.0f} |"
        )
    return "\n".join(lines)


def _cny(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "otog.toml")
    ap.add_argument("--months", type=int, nargs="*", default=[1, 3, 6])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--headroom",
        default="tangent",
        choices=("tangent", "quantile", "reserve", "none"),
        help="how the plan on the forecast keeps room for its spread (none: the old means)",
    )
    args = ap.parse_args()
    scenario = load_scenario(args.scenario)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        base = plan_month(scenario, Path(tmp), time_limit=args.time_limit, seed=args.seed).plan
    plan_s = time.monotonic() - t0
    results = []
    for n in args.months:
        r = backtest(
            scenario,
            months=n,
            seed=args.seed,
            plan=base,
            time_limit=args.time_limit,
            headroom=args.headroom,
        )
        results.append(r)
        print(
            json.dumps(
                {k: r[k] for k in ("months", "wape_assumptions", "wape_forecast", "coverage_90")}
            ),
            flush=True,
        )
    doc = {
        "scenario": scenario.name,
        "seed": args.seed,
        "time_limit_s": args.time_limit,
        "headroom": args.headroom,
        "plan_assumptions_s": round(plan_s, 1),
        "results": results,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
