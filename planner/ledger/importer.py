"""Record filled tallies and run closes: all-or-nothing, idempotent, concurrency-safe.

:func:`import_file` reads one file (:mod:`planner.ledger.tallyfile`) and records it
in **one transaction**: every row is checked against the registered plans first
(run, stop, household, category, goods item, plausible kg) and a single problem
rejects the whole file, the database untouched. :func:`import_entries` is the same
door for records that arrive from the web views.

* **Idempotent.** A file already imported (same SHA-256) records nothing; records
  whose key and values are already recorded are left alone.
* **Corrections supersede.** A record with a known key but other values replaces
  the earlier one, which stays in the table with ``active = false`` and
  ``superseded_by``; with ``replace_stops`` (files), a stop's earlier records that
  the new file no longer has are removed the same way. Each change is written to
  the audit table (who, when, before, after).
* **Serialised.** Every import locks the single ``ledger_lock`` row (PostgreSQL)
  or holds SQLite's write lock from its first statement, and the active-key unique
  index backs this up: two imports at once never double-count.
* **Crash-safe.** Nothing is visible before the commit; a killed import leaves the
  database as it was.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from planner.ledger._checks import (
    ENTRY_ROW,
    ENTRY_VALUES,
    NATURAL_COLUMNS,
    VALUES_AT,
    EntryRow,
    Reference,
    check_records,
    chunks,
    natural_of,
)
from planner.ledger.bulk import insert_tuples
from planner.ledger.db import Ledger
from planner.ledger.errors import LedgerError, Problem
from planner.ledger.readahead import Checked, ReadAhead, can_fork, collector_paused
from planner.ledger.records import RunClose, TallyEntry, TallyLine, natural_key
from planner.ledger.schema import (
    Audit,
    Base,
    Close,
    CloseDelivery,
    CloseGoods,
    CloseTicket,
    Entry,
    ImportRow,
    LedgerLock,
    table,
)
from planner.ledger.sums import add_first_runs, refresh_runs
from planner.ledger.tallyfile import ParsedFile, file_bytes, read_tally_file

# Test hook: hold the finished transaction open this many seconds before committing
# (the kill -9 tests kill the import there). Never set in normal use.
HOLD_ENV = "PLANNER_LEDGER_TEST_HOLD_S"


@dataclass(frozen=True)
class ImportResult:
    """What one import did.

    ``status``: ``recorded``, ``unchanged`` (every record already there), ``already
    imported`` (these very bytes) or ``empty`` (no filled row).
    """

    source: str
    sha256: str
    status: str
    import_id: int | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    closes: int = 0
    warnings: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        if self.status == "already imported":
            return f"{self.source}: already imported (import {self.import_id}); nothing new"
        if self.status == "empty":
            return f"{self.source}: no filled rows; nothing recorded"
        if self.status == "unchanged":
            return f"{self.source}: every record already in the ledger; nothing new"
        parts = [f"{self.added} added"]
        if self.changed:
            parts.append(f"{self.changed} corrected")
        if self.removed:
            parts.append(f"{self.removed} removed")
        if self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        if self.closes:
            parts.append(f"{self.closes} run close(s)")
        return f"{self.source}: recorded as import {self.import_id}: " + ", ".join(parts)


def who_default() -> str:
    """The importing user's name (``$PLANNER_USER`` or the login name)."""
    try:
        return os.environ.get("PLANNER_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def import_file(ledger: Ledger, path: Path, *, who: str | None = None) -> ImportResult:
    """Validate and record one tally / run-close file (CSV or XLSX) in one transaction.

    Raises
    ------
    LedgerError
        The file has problems; ``problems`` lists each (file, row, column, expected,
        found) and nothing was recorded.
    """
    data, sha = file_bytes(path)
    if sha is not None:
        seen = _already_imported(ledger, str(path), sha)
        if seen is not None:
            return seen
    return _record_parsed(ledger, read_tally_file(path, data, sha), who)


def import_files(
    ledger: Ledger, paths: Sequence[Path], *, who: str | None = None, ahead: bool = True
) -> Iterator[tuple[Path, ImportResult | LedgerError]]:
    """Import ``paths`` in order, each as :func:`import_file` does (its own transaction).

    With ``ahead`` (and fork available), a worker process reads, parses and checks the
    files while this one records them (:mod:`planner.ledger.readahead`). Files whose
    bytes were imported before are not parsed. Yields each path with its result or
    the error that rejected it; other errors propagate. Closing the iterator early
    ends the worker.
    """
    with ledger.sessions() as s:
        known = {sha: i for i, sha in s.execute(select(ImportRow.id, ImportRow.sha256))}
    if not (ahead and len(paths) > 1 and can_fork()):
        for path in paths:
            yield path, _import_one(ledger, path, who)
        return
    with ReadAhead(ledger, paths, set(known)) as worker:
        for path, (kind, got) in zip(paths, worker, strict=True):
            result: ImportResult | LedgerError
            if kind == "known":
                result = ImportResult(str(path), got, "already imported", known[got])
            elif kind == "error":
                result = got
            elif kind == "parsed":
                result = _or_error(partial(_record_parsed, ledger, got, who))
            elif kind == "checked":
                with collector_paused():
                    result = _record_checked(ledger, path, got, who)
            else:  # the worker failed on this file or is gone: read it here
                result = _import_one(ledger, path, who)
            yield path, result


def _import_one(ledger: Ledger, path: Path, who: str | None) -> ImportResult | LedgerError:
    return _or_error(lambda: import_file(ledger, path, who=who))


def _or_error(do: Callable[[], ImportResult]) -> ImportResult | LedgerError:
    try:
        return do()
    except LedgerError as exc:
        return exc


def _record_checked(
    ledger: Ledger, path: Path, checked: Checked, who: str | None
) -> ImportResult | LedgerError:
    """Record what the worker checked, or read the file here if the plans changed since."""

    def verified(s: Session) -> _Checks:
        if Reference.version_of(s) != checked.version:
            raise _Stale
        return checked.rows, checked.closes, list(checked.problems)

    try:
        return _or_error(
            lambda: _record(
                ledger,
                source=checked.name,
                sha256=checked.sha256,
                check=verified,
                who=who or who_default(),
                replace_stops=True,
            )
        )
    except _Stale:
        return _import_one(ledger, path, who)


class _Stale(Exception):
    """A plan was registered after the worker checked the file."""


def _record_parsed(ledger: Ledger, parsed: ParsedFile, who: str | None) -> ImportResult:
    if parsed.problems:
        raise LedgerError(parsed.problems)
    if not parsed.entries and not parsed.closes:
        return ImportResult(parsed.name, parsed.sha256, "empty")
    return _record(
        ledger,
        source=parsed.name,
        sha256=parsed.sha256,
        check=_checks_of(ledger, parsed.name, parsed.entries, parsed.closes),
        who=who or who_default(),
        replace_stops=True,
    )


def import_entries(
    ledger: Ledger,
    entries: Sequence[TallyEntry] = (),
    closes: Sequence[RunClose] = (),
    *,
    source: str = "api",
    who: str | None = None,
    replace_stops: bool = False,
) -> ImportResult:
    """Record validated records (the web views' door) in one transaction.

    Rows in messages are 1-based positions in ``entries`` (and in ``closes``).
    Without ``replace_stops`` a stop's other records are kept; only records with
    the same key are superseded.
    """
    canon = json.dumps(
        [
            [e.model_dump(mode="json") for e in entries],
            [c.model_dump(mode="json") for c in closes],
        ],
        sort_keys=True,
    )
    sha = hashlib.sha256(canon.encode()).hexdigest()
    if not entries and not closes:
        return ImportResult(source, sha, "empty")
    lines = [(n, e.line()) for n, e in enumerate(entries, start=1)]
    numbered = [({"close": k}, c) for k, c in enumerate(closes, start=1)]
    return _record(
        ledger,
        source=source,
        sha256=sha,
        check=_checks_of(ledger, source, lines, numbered),
        who=who or who_default(),
        replace_stops=replace_stops,
    )


def _already_imported(ledger: Ledger, name: str, sha: str) -> ImportResult | None:
    """The earlier import of this very file (same bytes), found without parsing it."""
    with ledger.sessions() as s:
        got = s.execute(select(ImportRow.id).where(ImportRow.sha256 == sha)).scalar_one_or_none()
    return None if got is None else ImportResult(name, sha, "already imported", got)


# --- the transaction ---------------------------------------------------------------
# The checked rows (ENTRY_ROW tuples), run closes and problems of one import.
_Checks = tuple[list[EntryRow], list[dict[str, Any]], list[Problem]]


def _checks_of(
    ledger: Ledger,
    source: str,
    entries: list[tuple[int, TallyLine]],
    closes: list[tuple[dict[str, int], RunClose]],
) -> Callable[[Session], _Checks]:
    """The check of ``entries`` and ``closes`` against the plans, made under the lock."""

    def check(s: Session) -> _Checks:
        _, rows, close_rows, problems = check_records(s, ledger.memo, source, entries, closes)
        return rows, close_rows, problems

    return check


_IMPORTS = table(ImportRow)
_CLOSES = table(Close)
_LOCK = select(table(LedgerLock).c.id).where(table(LedgerLock).c.id == 1).with_for_update()


def _record(
    ledger: Ledger,
    *,
    source: str,
    sha256: str,
    check: Callable[[Session], _Checks],
    who: str,
    replace_stops: bool,
) -> ImportResult:
    with ledger.begin() as s:
        s.execute(_LOCK)
        before = s.execute(
            select(ImportRow.id).where(ImportRow.sha256 == sha256)
        ).scalar_one_or_none()
        if before is not None:
            return ImportResult(source, sha256, "already imported", before)
        rows, close_rows, problems = check(s)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise LedgerError(errors)
        warnings = tuple(p for p in problems if p.severity != "error")
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        # Core statements on the tables: the ORM's bulk machinery cost more than the row
        import_id = s.execute(
            _IMPORTS.insert()
            .values(
                sha256=sha256,
                name=source[-500:],
                imported_by=who[:100],
                imported_at=now,
                added=0,
                changed=0,
                removed=0,
                unchanged=0,
            )
            .returning(_IMPORTS.c.id)
        ).scalar_one()
        stats = _apply_entries(s, import_id, rows, replace_stops, who, now)
        n_closes = _apply_closes(s, import_id, close_rows, who, now)
        if not (stats.added or stats.changed or stats.removed or n_closes):
            s.rollback()
            return ImportResult(source, sha256, "unchanged", unchanged=stats.unchanged)
        s.execute(
            _IMPORTS.update()
            .where(_IMPORTS.c.id == import_id)
            .values(
                added=stats.added,
                changed=stats.changed,
                removed=stats.removed,
                unchanged=stats.unchanged,
            )
        )
        _test_hold()
        return ImportResult(
            source,
            sha256,
            "recorded",
            import_id,
            stats.added,
            stats.changed,
            stats.removed,
            stats.unchanged,
            n_closes,
            warnings,
        )


def _test_hold() -> None:
    hold = os.environ.get(HOLD_ENV)
    if hold:
        marker = os.environ.get(HOLD_ENV + "_MARKER")
        if marker:
            Path(marker).write_text("holding\n", encoding="utf-8")
        time.sleep(float(hold))


@dataclass
class _Stats:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


def _apply_entries(
    s: Session,
    import_id: int,
    rows: list[EntryRow],
    replace_stops: bool,
    who: str,
    now: dt.datetime,
) -> _Stats:
    """Record the checked rows (:data:`ENTRY_ROW` tuples): new, changed, removed."""
    stats = _Stats()
    if not rows:
        return stats
    run_at, point_at = ENTRY_ROW.index("run_id"), ENTRY_ROW.index("point_id")
    scope = {(r[run_at], r[point_at]) for r in rows}
    old, first = _active_entries(s, rows, scope)
    if not old:  # nothing to replace or remove: every row is added, no audit
        stats.added = len(rows)
        _write_entry_changes(s, import_id, [], rows, [])
        if first:
            add_first_runs(s, rows)
        else:
            refresh_runs(s, {run for run, _ in scope})
        return stats
    # corrections: every change is audited, additions too
    new_rows: list[EntryRow] = []
    gone: list[int] = []
    touched: set[str] = set()
    audit: list[dict[str, Any]] = []
    for r in rows:
        key = r[0] or natural_of(r)
        prev = old.pop(key, None)
        if prev is not None:
            if tuple(prev[_PREV_VALUES_AT:]) == r[VALUES_AT:]:
                stats.unchanged += 1
                continue
            gone.append(prev.id)
            touched.add(prev.run_id)
            stats.changed += 1
            audit.append(_audit(now, who, import_id, "changed", _key_text(key), prev, r))
        else:
            stats.added += 1
            audit.append(_audit(now, who, import_id, "added", _key_text(key), None, r))
        new_rows.append(r)
        touched.add(r[run_at])
    if replace_stops:
        for key, prev in old.items():
            if _natural(key) and (prev.run_id, prev.point_id) in scope:
                gone.append(prev.id)
                touched.add(prev.run_id)
                stats.removed += 1
                audit.append(_audit(now, who, import_id, "removed", _key_text(key), prev, None))
    _write_entry_changes(s, import_id, gone, new_rows, audit)
    refresh_runs(s, touched)
    return stats


# The columns read of an active entry: its id and key, then ENTRY_VALUES.
_PREV_COLUMNS = ("id", "key", *ENTRY_VALUES)
_PREV_VALUES_AT = 2
_PREV_NATURAL = itemgetter(*(_PREV_COLUMNS.index(c) for c in NATURAL_COLUMNS))

# An entry's key in memory: the key the file gave, or its natural key as a tuple of
# NATURAL_COLUMNS values (joined into text only for the audit trail).
_Key = str | tuple[str, ...]


def _natural(key: _Key) -> bool:
    """Whether ``key`` is a natural key (a stop's own line, not a key the file named):
    a phone sends natural keys as text."""
    return isinstance(key, tuple) or "|" in key


def _key_text(key: _Key) -> str:
    return key if isinstance(key, str) else natural_key(*key)


def _active_entries(
    s: Session, rows: list[EntryRow], scope: set[tuple[str, str]]
) -> tuple[dict[_Key, Any], bool]:
    """The active entries the rows may replace, by key (:data:`_Key`): those at the
    rows' stops, and those elsewhere with a key the file gave (a record moved to
    another stop); and whether the rows' runs had no active entry at all (nothing to
    replace anywhere)."""
    runs = sorted({run for run, _ in scope})
    old: dict[_Key, Any] = {}
    first = True
    cols = [getattr(Entry, c) for c in _PREV_COLUMNS]
    for chunk in chunks(runs):
        q = select(*cols).where(Entry.active == true(), Entry.run_id.in_(chunk))
        for rec in s.execute(q):
            first = False
            if (rec.run_id, rec.point_id) in scope:
                old[rec.key or _PREV_NATURAL(rec)] = rec
    outside = [r[0] for r in rows if r[0] and not _natural(r[0]) and r[0] not in old]
    for chunk in chunks(outside):
        q = select(*cols).where(Entry.active == true(), Entry.key != "", Entry.key.in_(chunk))
        for rec in s.execute(q):
            old[rec.key] = rec
            first = False
    return old, first


def _write_entry_changes(
    s: Session,
    import_id: int,
    gone: list[int],
    new_rows: list[EntryRow],
    audit: list[dict[str, Any]],
) -> None:
    """Supersede the replaced entries, insert the new ones and their audit trail."""
    for chunk in chunks(gone):
        s.execute(
            update(Entry)
            .where(Entry.id.in_(chunk))
            .values(active=False, superseded_by=import_id)
            .execution_options(synchronize_session=False)
        )
    if new_rows:
        same = {"import_id": import_id, "active": True, "superseded_by": None}
        insert_tuples(s, table(Entry), ENTRY_ROW, new_rows, same)
    if audit:
        s.execute(table(Audit).insert(), audit)


def _audit(
    now: dt.datetime,
    who: str,
    import_id: int,
    action: str,
    key: str,
    before: Any,
    after: EntryRow | None,
) -> dict[str, Any]:
    def values(x: Sequence[Any] | None, at: int) -> dict[str, Any] | None:
        if x is None:
            return None
        return {c: _jsonable(v) for c, v in zip(ENTRY_VALUES, x[at:], strict=True)}

    before_values = values(before, _PREV_VALUES_AT)
    after_values = values(after, VALUES_AT)
    return _audit_row(now, who, import_id, action, "entry", key, before_values, after_values)


def _audit_row(
    now: dt.datetime,
    who: str,
    import_id: int,
    action: str,
    record: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """One row of the audit table: who changed which record, when, from what to what."""
    return {
        "at": now,
        "who": who[:100],
        "import_id": import_id,
        "action": action,
        "record": record,
        "key": key,
        "before": before,
        "after": after,
    }


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _apply_closes(
    s: Session, import_id: int, closes: list[dict[str, Any]], who: str, now: dt.datetime
) -> int:
    """Record the checked run closes that are new or changed (Core statements: a close
    file is one run, and the ORM's unit of work cost more than its rows)."""
    done = 0
    prev_of = _active_closes(s, [c["key"] for c in closes])
    audit: list[dict[str, Any]] = []
    parts: dict[type[Base], list[dict[str, Any]]] = {
        CloseGoods: [],
        CloseTicket: [],
        CloseDelivery: [],
    }
    # a key seen earlier in this batch: the close just written (the later one wins)
    written: dict[str, tuple[int, dict[str, Any]]] = {}
    for c in closes:
        prev_id: int | None = None
        prev_doc: dict[str, Any] | None = None
        if c["key"] in written:
            prev_id, prev_doc = written[c["key"]]
        elif c["key"] in prev_of:
            prev = prev_of[c["key"]]
            prev_id, prev_doc = prev.id, close_document(s, prev)
        if prev_doc == c["doc"]:
            continue
        if prev_id is not None:
            s.execute(
                _CLOSES.update()
                .where(_CLOSES.c.id == prev_id)
                .values(active=False, superseded_by=import_id)
            )
        close_id = s.execute(
            _CLOSES.insert()
            .values(
                key=c["key"],
                import_id=import_id,
                superseded_by=None,
                active=True,
                run_id=c["run_id"],
                month=c["month"],
                **c["values"],
            )
            .returning(_CLOSES.c.id)
        ).scalar_one()
        written[c["key"]] = (close_id, c["doc"])
        parts[CloseGoods] += [{"close_id": close_id, **g} for g in c["goods"]]
        parts[CloseTicket] += [{"close_id": close_id, **t} for t in c["tickets"]]
        parts[CloseDelivery] += [{"close_id": close_id, **d} for d in c["deliveries"]]
        action = "changed" if prev_id is not None else "added"
        audit.append(_audit_row(now, who, import_id, action, "close", c["key"], prev_doc, c["doc"]))
        done += 1
    for model, rows in parts.items():
        if rows:
            s.execute(table(model).insert(), rows)
    if audit:
        s.execute(table(Audit).insert(), audit)
    return done


def _active_closes(s: Session, keys: list[str]) -> dict[str, Close]:
    found: dict[str, Close] = {}
    for chunk in chunks(keys):
        q = select(Close).where(Close.active == true(), Close.key.in_(chunk))
        found.update((c.key, c) for c in s.scalars(q))
    return found


def close_document(s: Session, close: Close) -> dict[str, Any]:
    """A recorded run close as plain JSON values (for audit and comparison)."""
    goods = s.scalars(select(CloseGoods).where(CloseGoods.close_id == close.id)).all()
    tickets = s.scalars(select(CloseTicket).where(CloseTicket.close_id == close.id)).all()
    deliv = s.scalars(select(CloseDelivery).where(CloseDelivery.close_id == close.id)).all()
    return {
        "run_id": close.run_id,
        "cash_out_fen": close.cash_out_fen,
        "cash_returned_fen": close.cash_returned_fen,
        "odometer_start_m": close.odometer_start_m,
        "odometer_end_m": close.odometer_end_m,
        "note": close.note,
        "goods": sorted([g.item, g.loaded, g.returned] for g in goods),
        "tickets": sorted([t.station, t.grams, t.ticket] for t in tickets),
        "deliveries": sorted([d.facility, d.grams, d.ticket] for d in deliv),
    }
