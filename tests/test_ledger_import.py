"""Importing tallies: all-or-nothing, idempotent, corrections audited, concurrency, kill -9.

Every test runs on a real SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import ledger_support
import pytest
from ledger_support import read_csv_rows, table_counts, write_csv_rows
from sqlalchemy import select, true

from planner.ledger.db import open_ledger
from planner.ledger.errors import LedgerError
from planner.ledger.importer import (
    HOLD_ENV,
    ImportResult,
    import_entries,
    import_file,
    import_files,
)
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.records import TallyEntry
from planner.ledger.report import month_report
from planner.ledger.schema import Audit, Entry

# The shared fixtures: a fresh database (SQLite, PostgreSQL) and the tiny simulation.
db_url = ledger_support.db_url
pg_server = ledger_support.pg_server
tiny_sim = ledger_support.tiny_sim
ROOT = Path(__file__).resolve().parents[1]


def _registered(url: str, plan_dir: Path) -> None:
    with open_ledger(url) as ledger:
        register_plan(ledger, load_plan(plan_dir))


def _tally_files(sim: Path) -> list[Path]:
    return sorted(sim.glob("*.csv"))


def _busiest(sim: Path) -> Path:
    return max(sim.glob("*.tally.csv"), key=lambda p: len(p.read_text(encoding="utf-8")))


def test_import_twice_records_once(db_url: str, planned_tiny: Path, tiny_sim: Path) -> None:
    _registered(db_url, planned_tiny)
    with open_ledger(db_url) as ledger:
        first = [import_file(ledger, p, who="tester") for p in _tally_files(tiny_sim)]
        once = table_counts(db_url)
        report_once = month_report(ledger, "2026-12").to_json()
        second = [import_file(ledger, p, who="tester") for p in _tally_files(tiny_sim)]
        assert {r.status for r in first} == {"recorded"}
        assert {r.status for r in second} == {"already imported"}
        assert table_counts(db_url) == once
        assert month_report(ledger, "2026-12").to_json() == report_once
        # the same records sent again by the web view are not new either
        parsed = [p for p in _tally_files(tiny_sim) if p.name.endswith(".tally.csv")]
        from planner.ledger.tallyfile import read_tally_file

        lines = [e for p in parsed for _, e in read_tally_file(p).entries]
        entries = [TallyEntry.model_validate(e._asdict()) for e in lines]
        again = import_entries(ledger, entries, source="phone", who="driver")
        assert again.status == "unchanged"
        assert table_counts(db_url) == once
    added = sum(r.added for r in first)
    assert once["entries"] == added > 0


def test_a_bad_row_rejects_the_whole_file(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _registered(db_url, planned_tiny)
    header, rows = read_csv_rows(_busiest(tiny_sim))
    col = {c: i for i, c in enumerate(header)}
    rows[0][col["kg"]] = "-3"  # negative
    rows[1][col["household"]] = "H999"  # nobody
    rows[2][col["kg"]] = "1,5"  # a comma
    bad = tmp_path / "bad.tally.csv"
    write_csv_rows(bad, header, rows)
    before = table_counts(db_url)
    with open_ledger(db_url) as ledger, pytest.raises(LedgerError) as info:
        import_file(ledger, bad)
    msgs = [str(p) for p in info.value.problems]
    assert any("row 2, column kg" in m and "'-3'" in m for m in msgs), msgs
    assert any("row 4, column kg" in m and "'1,5'" in m for m in msgs), msgs
    assert table_counts(db_url) == before  # the good rows were not recorded either
    # the household problem is found once the cell problems are fixed
    rows[0][col["kg"]] = "3"
    rows[2][col["kg"]] = "1.5"
    write_csv_rows(bad, header, rows)
    with open_ledger(db_url) as ledger, pytest.raises(LedgerError) as info:
        import_file(ledger, bad)
    assert "row 3, column household: expected a household id" in str(info.value)
    assert "'H999'" in str(info.value)
    assert table_counts(db_url) == before


def test_a_run_of_no_plan_and_an_implausible_kg_are_refused(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _registered(db_url, planned_tiny)
    header, rows = read_csv_rows(_busiest(tiny_sim))
    col = {c: i for i, c in enumerate(header)}
    sell = next(r for r in rows if r[col["stream"]] == "sell")
    sell[col["kg"]] = "5000"
    sell[col["cash_cny"]] = ""
    other = [list(r) for r in rows[:1]]
    other[0][col["run_id"]] = "T9-2030-01-01"
    path = tmp_path / "odd.tally.csv"
    write_csv_rows(path, header, [sell, *other])
    with open_ledger(db_url) as ledger, pytest.raises(LedgerError) as info:
        import_file(ledger, path)
    text = str(info.value)
    assert "column kg: expected at most" in text and "found 5000" in text
    assert "column run_id: expected a run of a registered plan" in text


def test_a_corrected_file_supersedes_with_an_audit_trail(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _registered(db_url, planned_tiny)
    original = _busiest(tiny_sim)
    header, rows = read_csv_rows(original)
    col = {c: i for i, c in enumerate(header)}
    with open_ledger(db_url) as ledger:
        first = import_file(ledger, original, who="clerk-a")
        k = next(i for i, r in enumerate(rows) if r[col["stream"]] == "sell")
        rows[k][col["kg"]] = f"{float(rows[k][col['kg']]) + 1:.1f}"
        rows[k][col["cash_cny"]] = ""
        dropped = rows.pop(-1)
        fixed = tmp_path / "fixed.tally.csv"
        write_csv_rows(fixed, header, rows)
        second = import_file(ledger, fixed, who="clerk-b")
        assert (second.changed, second.removed) == (1, 1)
        assert second.added == 0  # the corrected line replaces its old row…
        with ledger.sessions() as s:
            active = s.scalars(select(Entry).where(Entry.active == true())).all()
            old = s.scalars(select(Entry).where(Entry.active.is_(False))).all()
            audit = s.scalars(select(Audit).order_by(Audit.id)).all()
        assert len(active) == first.added - 1  # … replacing one, and one removed
        assert {e.superseded_by for e in old} == {second.import_id}
        actions = sorted(a.action for a in audit)
        assert actions == ["changed", "removed"]
        changed = next(a for a in audit if a.action == "changed")
        assert changed.who == "clerk-b" and changed.at is not None
        assert changed.before is not None and changed.after is not None
        assert changed.after["grams"] - changed.before["grams"] == 1000
        removed = next(a for a in audit if a.action == "removed")
        assert removed.key.split("|")[2] in dropped[col["household"]]
        # and the old file again changes nothing
        assert import_file(ledger, original).status == "already imported"


_WORKER = """
import sys
from planner.ledger.db import open_ledger
from pathlib import Path
from planner.ledger.importer import import_files
with open_ledger(sys.argv[1]) as ledger:
    for _, r in import_files(ledger, [Path(p) for p in sys.argv[2:]]):
        print(r.status, flush=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_two_imports_at_once_do_not_double_count(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _registered(db_url, planned_tiny)
    files = [str(p) for p in _tally_files(tiny_sim)]
    # a copy under another name: same bytes, so the same import
    twin = tmp_path / "twin"
    shutil.copytree(tiny_sim, twin)
    others = [str(p) for p in _tally_files(twin)][::-1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, db_url, *fs],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for fs in (files, others)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    statuses = [line for o, _ in outs for line in o.split()]
    assert statuses.count("recorded") == len(files)
    with open_ledger(db_url) as ledger:
        single = tmp_path / "single.sqlite"
        ref_url = f"sqlite:///{single}"
        _registered(ref_url, planned_tiny)
        with open_ledger(ref_url) as ref:
            for f in files:
                import_file(ref, Path(f))
            assert (
                month_report(ledger, "2026-12").to_json() == month_report(ref, "2026-12").to_json()
            )


@pytest.mark.slow
def test_kill_9_during_an_import_leaves_the_database_as_it_was(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    _registered(db_url, planned_tiny)
    before = table_counts(db_url)
    marker = tmp_path / "holding"
    env = _env() | {HOLD_ENV: "60", HOLD_ENV + "_MARKER": str(marker)}
    log = tmp_path / "worker.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, db_url, str(_busiest(tiny_sim))],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # every row is written, the transaction not committed: kill it there
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert table_counts(db_url) == before
    with open_ledger(db_url) as ledger:  # and the ledger works on
        assert import_file(ledger, _busiest(tiny_sim)).status == "recorded"
    assert table_counts(db_url)["entries"] > before["entries"]


def test_the_web_door_supersedes_by_key(db_url: str, planned_tiny: Path) -> None:
    _registered(db_url, planned_tiny)
    plan = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
    run = next(r for r in plan["runs"] if any(s["type"] == "collect" for s in r["steps"]))
    point = next(s["place"] for s in run["steps"] if s["type"] == "collect")
    with open_ledger(db_url) as ledger:
        from planner.ledger.schema import HouseholdRow

        with ledger.sessions() as s:
            hid = s.scalars(select(HouseholdRow.id).where(HouseholdRow.point_id == point)).first()
        assert hid is not None
        e = TallyEntry(
            run_id=run["id"],
            point=point,
            household=hid,
            stream="sell",
            category="pet_bottles",
            kg=2.0,
            key="phone-1",
        )
        assert import_entries(ledger, [e], who="driver").added == 1
        fixed = e.model_copy(update={"kg": 3.0})
        r = import_entries(ledger, [fixed], who="driver")
        assert (r.added, r.changed) == (0, 1)
        with ledger.sessions() as s:
            rows = s.scalars(select(Entry).where(Entry.key == "phone-1")).all()
        assert sorted((x.active, x.grams) for x in rows) == [(False, 2000), (True, 3000)]


def test_reading_ahead_records_what_one_file_at_a_time_records(
    db_url: str,
    planned_tiny: Path,
    tiny_sim: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """import_files (the CLI's door, reading ahead in a worker process) against
    import_file in a loop: the same results, rejections and tables, in file order."""
    good = _tally_files(tiny_sim)
    header, rows = read_csv_rows(_busiest(tiny_sim))
    rows[0][header.index("kg")] = "-3"
    bad = tmp_path / "bad.tally.csv"
    write_csv_rows(bad, header, rows)
    paths = [good[0], bad, tmp_path / "missing.csv", *good, good[1]]

    def outcome(r: ImportResult | LedgerError) -> object:
        if isinstance(r, LedgerError):
            return ("rejected", [str(p) for p in r.problems] or str(r))
        return (r.status, r.added, r.changed, r.removed, r.unchanged, r.closes)

    one_by_one = []
    _registered(db_url, planned_tiny)
    with open_ledger(db_url) as ledger:
        for p in paths:
            try:
                one_by_one.append(outcome(import_file(ledger, p, who="t")))
            except LedgerError as exc:
                one_by_one.append(outcome(exc))
    counts = table_counts(db_url)
    if db_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    else:
        other = ledger_support.pg_database_for(request)
    _registered(other, planned_tiny)
    with open_ledger(other) as ledger:
        ahead = [(p, outcome(r)) for p, r in import_files(ledger, paths, who="t")]
        assert [p for p, _ in ahead] == paths
        assert [o for _, o in ahead] == one_by_one
        # stopping early ends the worker
        stream = import_files(ledger, good, who="t")
        next(stream)
        stream.close()
    assert table_counts(other) == counts
    assert not [p for p in multiprocessing.active_children() if p.name == "ledger-read-ahead"]
    with open_ledger(f"sqlite:///{tmp_path / 'serial.sqlite'}") as ledger:  # without a worker
        register_plan(ledger, load_plan(planned_tiny))
        serial = [outcome(r) for _, r in import_files(ledger, paths, who="t", ahead=False)]
        assert serial == one_by_one
    assert one_by_one[1][0] == one_by_one[2][0] == "rejected"
    assert one_by_one[-1][0] == "already imported"


def test_a_run_close_sent_twice_in_one_batch_keeps_the_later_one(
    db_url: str, planned_tiny: Path
) -> None:
    from planner.ledger.records import RunClose
    from planner.ledger.schema import Close

    _registered(db_url, planned_tiny)
    plan = json.loads((planned_tiny / "plan.json").read_text(encoding="utf-8"))
    run_id = plan["runs"][0]["id"]
    first = RunClose(run_id=run_id, cash_returned_cny=10.0)
    later = RunClose(run_id=run_id, cash_returned_cny=12.5)
    with open_ledger(db_url) as ledger:
        assert import_entries(ledger, closes=[first, later], who="driver").closes == 2
        # and a correction afterwards supersedes the later one, with an audit row each
        fixed = RunClose(run_id=run_id, cash_returned_cny=13.0)
        assert import_entries(ledger, closes=[fixed], who="driver").closes == 1
        with ledger.sessions() as s:
            rows = s.execute(select(Close.active, Close.cash_returned_fen).order_by(Close.id))
            assert [tuple(r) for r in rows] == [(False, 1000), (False, 1250), (True, 1300)]
            actions = s.scalars(
                select(Audit.action).where(Audit.record == "close").order_by(Audit.id)
            ).all()
            assert actions == ["added", "changed", "changed"]
