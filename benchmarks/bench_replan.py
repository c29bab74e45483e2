"""Benchmark planner replan on the default region: a truck out, and a closed day.

Plans the Otog month once (or reuses a plan folder), then re-plans it from
2026-12-10 for two disruptions:

- ``t03-out``: truck T03 out from 2026-12-10 to the month's end;
- ``closed-15``: 2026-12-15 closed for the whole banner (a blizzard).

For each it reports the share of remaining visits that keep their date and
window, the visits retimed inside their window, moved, with a wider window and
unserved (with their reasons), the added cost, the time to re-plan (the solve
alone, then with writing, checking and the outputs without PDF) and whether the
result passes ``planner check``. A script, not a test:

    planner run scenarios/otog.toml -o /tmp/replan-otog            # the default plan
    python benchmarks/bench_replan.py --plan /tmp/replan-otog --json benchmarks/results/replan.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from planner.app.pipeline import check_written_plan
from planner.replan import read_inputs, replan_month, write_replan

CASES: dict[str, dict[str, list[str]]] = {
    "t03-out": {"trucks_out": ["T03"]},
    "closed-15": {"closed_days": ["2026-12-15"]},
}


def measure(plan_dir: Path, out_dir: Path, name: str, start: str) -> dict[str, Any]:
    case = CASES[name]
    t0 = time.monotonic()
    inputs = read_inputs(plan_dir, out_dir, start, **case)
    result = replan_month(inputs)
    solved = time.monotonic() - t0
    _, violations = write_replan(result, lang="zh", pdf=False)
    total = time.monotonic() - t0
    text, ok = check_written_plan(out_dir, None)
    changes = json.loads((out_dir / "changes.json").read_text(encoding="utf-8"))
    return {
        "case": name,
        "from": start,
        **{k: v for k, v in case.items()},
        **result.figures(),
        "unserved_reasons": [
            {"point": v["point"], "date": v["old"]["date"], "reason": v["reason"]}
            for v in changes["visits"]
            if v["status"] == "unserved"
        ],
        "engine_days": len(set(result.outcome.engine_days)),
        "outputs_changed": len(changes["outputs"]["changed"]),
        "outputs_removed": len(changes["outputs"]["removed"]),
        "notices_changed": sum(f.startswith("notices/") for f in changes["outputs"]["changed"]),
        "solve_s": round(solved, 1),
        "total_s": round(total, 1),
        "check_ok": ok and not violations,
        "check": text.splitlines()[-1] if text else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=Path("/tmp/replan-otog"), help="plan folder")
    ap.add_argument("--from", dest="start", default="2026-12-10")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            row = measure(args.plan, Path(tmp) / name, name, args.start)
            rows.append(row)
            shown = {k: v for k, v in row.items() if k != "unserved_reasons"}
            print(json.dumps(shown, ensure_ascii=False))
            for u in row["unserved_reasons"]:
                print(f"  unserved {u['point']} {u['date']}: {u['reason']}")
    if args.json:
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
