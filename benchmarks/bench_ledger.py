"""Ledger performance: a month of Otog actuals, then a year, on SQLite and PostgreSQL.

    python3 benchmarks/bench_ledger.py --plan /tmp/ledger-otog [--pg URL] [--history 11]

1. simulates the plan's month (``planner ledger simulate``, seed 0) once;
2. per database: registers the plan, imports every tally and close file (one
   transaction each) and times it (wall; CPU of this process and of the importer's
   read-ahead worker), imports them all again (nothing new), and times ``report``,
   ``household`` and ``reconcile``;
3. fills ``--history`` more months (the same month's entries copied under the run
   ids and dates of earlier Decembers, copied by the database with ``INSERT ...
   SELECT``, not through the importer; the per-stop sums rebuilt for them) and times
   the queries again, with the database size.

``--sim DIR`` reuses a simulated month; ``--before FILE`` keeps the results of the
previous code (the same script run with its ``PYTHONPATH``) in the output, so that
before and after are measured back to back on the same machine.

The figures go to stdout and ``benchmarks/results/ledger.json``. Without ``--pg``
(or ``$PLANNER_TEST_PG_URL``) only SQLite is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Date, cast, func, literal, select, true

from planner.ledger.accounts import household_account
from planner.ledger.db import open_ledger
from planner.ledger.importer import import_files
from planner.ledger.plans import PlanSource, load_plan, register_plan
from planner.ledger.reconcile import reconcile
from planner.ledger.report import month_report
from planner.ledger.schema import Entry, RunRow, StopKg, StopRow, table
from planner.ledger.simulate import simulate_month, write_simulation

try:  # the per-stop sums (absent before they existed: the same script times both)
    from planner.ledger.sums import refresh_runs
except ImportError:  # pragma: no cover
    refresh_runs = None  # type: ignore[assignment]


def _timed(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _db_size(ledger: Any, url: str) -> int:
    if ledger.dialect == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with ledger.sessions() as s:
        return int(s.execute(select(func.pg_database_size(func.current_database()))).scalar_one())


def _fresh_pg(server: str) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from ledger_support import fresh_pg_database

    return fresh_pg_database(server)


def _drop_pg(url: str) -> None:
    from ledger_support import drop_pg_database

    drop_pg_database(url)


def _shifted_date(dialect: str, years: int) -> Any:
    """``entries.date`` moved back ``years`` years, in the database's own SQL."""
    if dialect == "sqlite":
        return func.date(Entry.date, f"-{years} years")
    return cast(Entry.date - func.make_interval(years), Date)


def _copy_month(ledger: Any, source: PlanSource, year: int) -> int:
    """December's records again under ``year``'s run ids and dates (history filler).

    Runs and stops go through Python (a few thousand rows); the entries are copied by
    the database itself (``INSERT ... SELECT``), then the copied runs' sums rebuilt.
    """
    old, new = source.month, f"{year}-12"

    def shift(text: str) -> str:
        return text.replace(old, new)

    with ledger.begin() as s:
        runs = s.scalars(select(RunRow).where(RunRow.month == old)).all()
        s.execute(
            table(RunRow).insert(),
            [
                {c.name: getattr(r, c.name) for c in RunRow.__table__.columns}
                | {"id": shift(r.id), "month": new, "date": r.date.replace(year=year)}
                for r in runs
            ],
        )
        for model in (StopRow, StopKg):
            rows = s.scalars(select(model).where(model.run_id.in_([r.id for r in runs]))).all()
            s.execute(
                table(model).insert(),
                [
                    {c.name: getattr(x, c.name) for c in model.__table__.columns}
                    | {"run_id": shift(x.run_id)}
                    for x in rows
                ],
            )
        cols = [c.name for c in Entry.__table__.columns if c.name != "id"]
        changed = {
            "run_id": func.replace(Entry.run_id, old, new),
            "key": func.replace(Entry.key, old, new),
            "month": literal(new),
            "date": _shifted_date(ledger.dialect, 2026 - year),
        }
        picked = [changed.get(c, getattr(Entry, c)) for c in cols]
        q = select(*picked).where(Entry.month == old, Entry.active == true())
        s.execute(table(Entry).insert().from_select(cols, q))
        if refresh_runs is not None:
            refresh_runs(s, [shift(r.id) for r in runs])
        n = s.execute(select(func.count()).where(Entry.month == new)).scalar_one()
    return int(n)


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the importer's read-ahead worker)."""
    t = os.times()
    return t.children_user + t.children_system


def bench(url: str, source: PlanSource, files: list[Path], history: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with open_ledger(url) as ledger:
        out["backend"] = ledger.dialect
        t = time.perf_counter()
        register_plan(ledger, source, who="bench")
        out["register_plan_s"] = round(time.perf_counter() - t, 2)
        t, c, w = time.perf_counter(), time.process_time(), _children_cpu()
        results = [r for _, r in import_files(ledger, files, who="bench")]
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        worker_cpu = _children_cpu() - w
        rows = sum(r.added for r in results)
        out |= {
            "files": len(files),
            "rows": rows,
            "import_s": round(wall, 2),
            "import_cpu_s": round(cpu, 2),
            "import_worker_cpu_s": round(worker_cpu, 2),
            "rows_per_s": round(rows / wall),
        }
        t = time.perf_counter()
        again = [r for _, r in import_files(ledger, files, who="bench")]
        out["reimport_s"] = round(time.perf_counter() - t, 2)
        print(json.dumps(out), flush=True)
        # files with no filled row record nothing, the first time as the second
        assert {r.status for r in again} <= {"already imported", "unchanged", "empty"}
        hid = source.scenario.households[len(source.scenario.households) // 2].id
        month = source.month
        out["month"] = {
            "report_s": round(_timed(lambda: month_report(ledger, month)), 3),
            "household_s": round(_timed(lambda: household_account(ledger, hid)), 4),
            "reconcile_s": round(_timed(lambda: reconcile(ledger, month)), 3),
            "db_bytes": _db_size(ledger, url),
        }
        if history:
            t = time.perf_counter()
            copied = sum(_copy_month(ledger, source, 2026 - k) for k in range(1, history + 1))
            out["history_rows"] = copied
            out["history_fill_s"] = round(time.perf_counter() - t, 1)
            out["year"] = {
                "report_s": round(_timed(lambda: month_report(ledger, month)), 3),
                "household_s": round(_timed(lambda: household_account(ledger, hid)), 4),
                "reconcile_s": round(_timed(lambda: reconcile(ledger, month)), 3),
                "db_bytes": _db_size(ledger, url),
            }
    return out


def _subset(files: list[Path], rows: int) -> list[Path]:
    """The tally and close files of the first runs, up to about ``rows`` tally rows."""
    chosen: list[Path] = []
    n = 0
    for tally in sorted(f for f in files if f.name.endswith(".tally.csv")):
        if n >= rows:
            break
        n += sum(1 for _ in tally.open(encoding="utf-8-sig")) - 1
        chosen += [tally, tally.with_name(tally.name.replace(".tally.", ".close."))]
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, required=True, help="A planned Otog month.")
    ap.add_argument("--pg", default=os.environ.get("PLANNER_TEST_PG_URL"), help="PostgreSQL.")
    ap.add_argument("--history", type=int, default=11, help="Months of history to add.")
    ap.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    ap.add_argument(
        "--before", type=Path, default=None, help="Results of the previous code, kept alongside."
    )
    ap.add_argument("--sim", type=Path, default=None, help="Reuse a `ledger simulate` folder.")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ledger.json"))
    ap.add_argument(
        "--subset-rows",
        type=int,
        default=0,
        help="Only time importing the first runs' files holding about this many rows.",
    )
    args = ap.parse_args()
    source = load_plan(args.plan)
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    t = time.perf_counter()
    sim_dir = args.sim
    if sim_dir is None:
        sim_dir = work / "sim"
        sim = simulate_month(source, seed=0)
        write_simulation(sim, sim_dir)
        print(f"simulated in {time.perf_counter() - t:.1f} s", flush=True)
    files = sorted(sim_dir.glob("*.csv"))
    if args.subset_rows:
        files = _subset(files, args.subset_rows)
        args.history = 0
        args.out = args.out.with_name(args.out.stem + f"-{args.subset_rows}.json")
    results = {
        "plan": str(args.plan),
        "households": len(source.scenario.households),
        "runs": len(source.plan.runs),
        "cpus": os.cpu_count(),
        "load_avg_at_start": os.getloadavg()[0],
    }
    if args.only in (None, "sqlite"):
        results["sqlite"] = bench(
            f"sqlite:///{work / 'ledger.sqlite'}", source, files, args.history
        )
        print(json.dumps(results["sqlite"]), flush=True)
    if args.pg and args.only in (None, "postgresql"):
        url = _fresh_pg(args.pg)
        try:
            results["postgresql"] = bench(url, source, files, args.history)
        finally:
            _drop_pg(url)
        print(json.dumps(results["postgresql"]), flush=True)
    results["load_avg_at_end"] = os.getloadavg()[0]
    if args.before is not None:
        results["before"] = json.loads(args.before.read_text(encoding="utf-8"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
