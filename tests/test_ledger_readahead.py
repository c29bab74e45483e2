"""The importer's read-ahead worker: same results as one file at a time, whatever happens
to the worker, and never a stale check or an orphan process.

Every test runs on a real SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ledger_support
import pytest
from ledger_support import table_counts

import planner.ledger.importer as importer
import planner.ledger.readahead as readahead
from planner.ledger._checks import Reference
from planner.ledger.db import open_ledger
from planner.ledger.errors import LedgerError
from planner.ledger.importer import HOLD_ENV, ImportResult, import_file, import_files
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.tallyfile import ParsedFile

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server
tiny_sim = ledger_support.tiny_sim
ROOT = Path(__file__).resolve().parents[1]


def _outcome(r: ImportResult | LedgerError) -> object:
    if isinstance(r, LedgerError):
        return ("rejected", [str(p) for p in r.problems] or str(r))
    return (r.status, r.added, r.changed, r.removed, r.unchanged, r.closes, len(r.warnings))


def _one_by_one(url: str, plan: Path, paths: list[Path]) -> tuple[list[object], dict[str, int]]:
    with open_ledger(url) as ledger:
        register_plan(ledger, load_plan(plan))
        got = []
        for p in paths:
            try:
                got.append(_outcome(import_file(ledger, p, who="t")))
            except LedgerError as exc:
                got.append(_outcome(exc))
    return got, table_counts(url)


def _other_db(
    url: str, tmp_path: Path, request: pytest.FixtureRequest, name: str, plan: Path
) -> str:
    """Another fresh database of the same kind as ``url``, with ``plan`` registered."""
    if url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / (name + '.sqlite')}"
    else:
        other = ledger_support.pg_database_for(request)
    with open_ledger(other) as ledger:
        register_plan(ledger, load_plan(plan))
    return other


def _workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "ledger-read-ahead"]


def test_a_plan_registered_meanwhile_makes_the_importer_check_again(
    db_url: str,
    planned_tiny: Path,
    tiny_sim: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker checked against one version of the plans; the lock shows another:
    each file is read and checked again under the lock, with the same outcome."""
    paths = sorted(tiny_sim.glob("*.csv"))
    expected, counts = _one_by_one(db_url, planned_tiny, paths)
    other = _other_db(db_url, tmp_path, request, "other", planned_tiny)
    with open_ledger(other) as ledger:
        stream = import_files(ledger, paths, who="t")
        first = next(stream)  # the worker is forked and has checked the first file
        # from here on this process sees plans the worker never saw
        real = Reference.version_of
        monkeypatch.setattr(
            Reference, "version_of", staticmethod(lambda s: (*real(s), (10**6, "new")))
        )
        again: list[Path] = []
        plain = importer.import_file
        monkeypatch.setattr(
            importer, "import_file", lambda led, p, **kw: again.append(p) or plain(led, p, **kw)
        )
        got = [_outcome(first[1])] + [_outcome(r) for _, r in stream]
    assert got == expected
    assert again == [p for p, o in zip(paths[1:], expected[1:], strict=True) if o[0] == "recorded"]
    assert table_counts(other) == counts
    assert not _workers()


def test_a_failing_or_killed_worker_leaves_the_importer_to_read_the_files(
    db_url: str,
    planned_tiny: Path,
    tiny_sim: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = sorted(tiny_sim.glob("*.csv"))
    expected, counts = _one_by_one(db_url, planned_tiny, paths)
    # the worker breaks on the second file (an unexpected error, not a bad file)
    plain = readahead.read_tally_file

    def broken(path: Path, data: bytes | None = None, sha: str | None = None) -> ParsedFile:
        if path == paths[1]:
            raise RuntimeError("worker broke")
        return plain(path, data, sha)

    monkeypatch.setattr(readahead, "read_tally_file", broken)
    other = _other_db(db_url, tmp_path, request, "broken", planned_tiny)
    with open_ledger(other) as ledger:
        got = [_outcome(r) for _, r in import_files(ledger, paths, who="t")]
    assert got == expected
    assert table_counts(other) == counts
    # the worker is killed after the first file (the next ones take it a while): the
    # rest are read here

    def slow(path: Path, data: bytes | None = None, sha: str | None = None) -> ParsedFile:
        if path != paths[0]:
            time.sleep(0.5)
        return plain(path, data, sha)

    monkeypatch.setattr(readahead, "read_tally_file", slow)
    killed = _other_db(db_url, tmp_path, request, "killed", planned_tiny)
    with open_ledger(killed) as ledger:
        stream = import_files(ledger, paths, who="t")
        got = [_outcome(next(stream)[1])]
        (worker,) = _workers()
        os.kill(worker.pid or 0, signal.SIGKILL)
        got += [_outcome(r) for _, r in stream]
    assert got == expected
    assert table_counts(killed) == counts
    assert not _workers()


_CLI_IMPORT = """
import sys
from pathlib import Path
from planner.ledger.db import open_ledger
from planner.ledger.importer import import_files
with open_ledger(sys.argv[1]) as ledger:
    for _, r in import_files(ledger, [Path(p) for p in sys.argv[2:]]):
        print(getattr(r, "status", "rejected"), flush=True)
"""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text(encoding="ascii")
        found += [int(c) for c in text.split()]
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"  # ended, waiting to be reaped by init


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_kill_9_of_the_importer_ends_its_worker_and_records_nothing(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
    before = table_counts(db_url)
    marker = tmp_path / "holding"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        HOLD_ENV: "60",
        HOLD_ENV + "_MARKER": str(marker),
    }
    # enough files that the worker, a few files ahead at most, is still there
    files = [str(p) for p in sorted(tiny_sim.glob("*.tally.csv"))] * 200
    log = tmp_path / "import.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CLI_IMPORT, db_url, *files],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) == 1  # the read-ahead worker, forked before the first record
    assert not _gone(workers[0])
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while not _gone(workers[0]):
        assert time.monotonic() < deadline, "the worker outlived its importer"
        time.sleep(0.05)
    assert table_counts(db_url) == before
