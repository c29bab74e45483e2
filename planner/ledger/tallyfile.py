"""Read filled tally files: CSV (UTF-8, with or without BOM) or Excel (.xlsx).

Two kinds of table, told apart by their header (``docs/ledger.md``):

* the **tally**: one row per household, visit and category (or goods item), the
  rows of the printed form — :data:`TALLY_COLUMNS`;
* the **close**: the end-of-run box, one row per figure — :data:`CLOSE_COLUMNS`.

A CSV holds one table; a workbook holds a ``tally`` and/or a ``close`` sheet.
Rows whose measured cells (kg, items, cash, goods quantity, points, compost) are
all empty are the form's unfilled rows and are skipped. Everything else becomes a
valid :class:`~planner.ledger.records.TallyEntry` (as its
:class:`~planner.ledger.records.TallyLine`; most rows by the fast reader of
``tallyrows.py``) or :class:`~planner.ledger.records.RunClose`, or a
:class:`~planner.ledger.errors.Problem` naming the file, row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner._text import CONTROL, CONTROL_BYTES, control_character
from planner.ledger.errors import LedgerError, Problem
from planner.ledger.records import NATURAL_FIELDS, STREAMS, RunClose, TallyEntry, TallyLine
from planner.ledger.tallyrows import NO, YES, LineReader

TALLY_COLUMNS: tuple[str, ...] = (
    "run_id",
    "date",
    "stop",
    "point",
    "point_name",
    "household",
    "household_name",
    "stream",
    "category",
    "category_name",
    "forecast_kg",
    "price_cny_kg",
    "kg",
    "items",
    "cash_cny",
    "goods_item",
    "goods_qty",
    "points_redeemed",
    "compost_declared",
    "points_balance",
    "goods_due",
    "note",
    "key",
)
TALLY_REQUIRED = ("run_id", "point", "household", "stream", "category", "kg")
# Cells the driver fills in; a row with all of them empty was not filled.
MEASURED = ("kg", "items", "cash_cny", "goods_qty", "points_redeemed", "compost_declared")
_NUMBERS: dict[str, type] = {"kg": float, "items": float, "price_cny_kg": float, "cash_cny": float}
_NUMBERS |= {"points_redeemed": float, "goods_qty": int}
_INPUT = set(TallyEntry.model_fields)

CLOSE_COLUMNS: tuple[str, ...] = (
    "run_id",
    "field",
    "ref",
    "ref_name",
    "planned",
    "value",
    "ticket",
    "note",
)
CLOSE_REQUIRED = ("run_id", "field", "ref", "value")
# field -> (what ref names, number type)
CLOSE_FIELDS: dict[str, tuple[str, type]] = {
    "cash_float_out_cny": ("", float),
    "cash_returned_cny": ("", float),
    "odometer_start_km": ("", float),
    "odometer_end_km": ("", float),
    "goods_loaded": ("goods item", int),
    "goods_returned": ("goods item", int),
    "weigh_ticket_kg": ("station", float),
    "delivered_kg": ("buyer or plant", float),
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ParsedFile:
    """What one file holds, before it is checked against the ledger."""

    name: str
    sha256: str
    entries: list[tuple[int, TallyLine]] = field(default_factory=list)
    closes: list[tuple[dict[str, int], RunClose]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def file_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """A file's bytes and their SHA-256 (hex), read once; ``(None, None)`` if it cannot
    be read (:func:`read_tally_file` then says why)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None, None
    return data, hashlib.sha256(data).hexdigest()


def read_tally_file(path: Path, data: bytes | None = None, sha256: str | None = None) -> ParsedFile:
    """Read and validate the rows of one file (no database needed).

    ``data``: the file's bytes, if the caller has read them already (and ``sha256``,
    their SHA-256 in hex, if it has it too).

    Raises
    ------
    LedgerError
        The file cannot be read at all (missing, not CSV/XLSX, not UTF-8, no header).
    """
    path = Path(path)
    name = str(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LedgerError(f"{name}: cannot read the file ({exc.strerror})") from None
    parsed = ParsedFile(name, sha256 or hashlib.sha256(data).hexdigest())
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        tables = _xlsx_tables(name, data)
    elif suffix in (".csv", ".txt"):
        tables = [_csv_table(name, data)]
    else:
        raise LedgerError(f"{name}: expected a .csv or .xlsx tally file, found {suffix or 'none'}")
    # A CSV without a control byte anywhere needs no look row by row.
    clean = suffix != ".xlsx" and CONTROL_BYTES.search(data) is None
    for label, header, rows in tables:
        kind = _kind(label, header)
        if not clean:
            rows = _printable(parsed, label, header, rows)
        if kind == "tally":
            _tally_rows(parsed, label, header, rows)
        else:
            _close_rows(parsed, label, header, rows)
    return parsed


# --- files to tables ---------------------------------------------------------------
Table = tuple[str, list[str], list[tuple[int, list[str]]]]


def _csv_table(name: str, data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LedgerError(
            f"{name}: expected UTF-8 text, found other bytes at byte {exc.start} "
            "(save the file as 'CSV UTF-8')"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LedgerError(f"{name}: expected a header row, found an empty file") from None
    except csv.Error as exc:
        raise LedgerError(f"{name}: row 1: not valid CSV ({exc})") from None
    rows = []
    # Only a file with an apostrophe somewhere can hold text forms.py protected.
    quoted = "'" in text
    strip = str.strip
    try:
        for n, rec in enumerate(reader, start=2):
            if any(map(strip, rec)):
                rows.append(
                    (n, [_untext(c) if c[:1] == "'" else c for c in rec] if quoted else rec)
                )
    except csv.Error as exc:
        raise LedgerError(f"{name}: row {reader.line_num}: not valid CSV ({exc})") from None
    return name, header, rows


def _xlsx_tables(name: str, data: bytes) -> list[Table]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LedgerError(f"{name}: expected an Excel .xlsx workbook, found {exc}") from None
    out = []
    try:
        for ws in wb.worksheets:
            if ws.title not in ("tally", "close"):
                continue
            it = ws.iter_rows(values_only=True)
            first = next(it, None)
            if first is None:
                continue
            header = [_cell(v).strip() for v in first]
            rows = []
            for n, values in enumerate(it, start=2):
                cells = [_cell(v) for v in values]
                if any(c.strip() for c in cells):
                    rows.append((n, cells))
            out.append((f"{name} [{ws.title}]", header, rows))
    finally:
        wb.close()
    if not out:
        raise LedgerError(f"{name}: expected a sheet named 'tally' or 'close', found none")
    return out


def _printable(
    parsed: ParsedFile, label: str, header: list[str], rows: list[tuple[int, list[str]]]
) -> list[tuple[int, list[str]]]:
    """The rows without control characters; each one found is listed as a problem."""
    out = []
    for n, cells in rows:
        if CONTROL.search("\n".join(cells)) is None:  # one search per row: most are clean
            out.append((n, cells))
            continue
        for i, c in enumerate(cells):
            if found := control_character(c):
                col = header[i] if i < len(header) else f"#{i + 1}"
                parsed.problems.append(
                    Problem(label, n, col, "printable text", f"{found} in {c!r}")
                )
    return out


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _untext(c: str) -> str:
    # forms.py writes text that looks like a formula with a leading apostrophe.
    if c.startswith("'") and c[1:2] in FORMULA_START:
        return c[1:]
    return c


def _kind(label: str, header: Sequence[str]) -> str:
    cols = set(header)
    for kind, required in (("tally", TALLY_REQUIRED), ("close", CLOSE_REQUIRED)):
        if set(required) <= cols:
            dup = sorted({h for h in header if h and header.count(h) > 1})
            if dup:
                raise LedgerError(f"{label}: row 1: expected each column once, found {dup}")
            return kind
    want = ",".join(TALLY_REQUIRED)
    raise LedgerError(
        f"{label}: row 1: expected a tally header with at least {want} "
        f"(or a run-close header with {','.join(CLOSE_REQUIRED)}), found {','.join(header)}"
    )


# --- tally rows ----------------------------------------------------------------------
def _tally_rows(
    parsed: ParsedFile, label: str, header: list[str], rows: Iterable[tuple[int, list[str]]]
) -> None:
    seen: dict[str | tuple[str, ...], int] = {}
    inputs = [(c, i, _KIND.get(c, "text")) for i, c in enumerate(header) if c in _INPUT]
    measured = itemgetter(*[i for i, c in enumerate(header) if c in MEASURED], 0)
    width = len(header)
    strip = str.strip
    fast = LineReader.for_header(header)
    for n, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        if not any(map(strip, measured(cells)[:-1])):
            continue
        line = fast.line(cells) if fast is not None else None
        if line is None:  # the general way: each cell, then the model (and its messages)
            values = _row_values(parsed, label, n, cells, inputs)
            if values is None:
                continue
            try:
                line = TallyEntry.model_validate(values).line()
            except ValidationError as exc:
                parsed.problems += _pydantic_problems(label, n, exc, _record(header, cells))
                continue
        key = line.key or _natural(line)  # the natural key as a tuple: no join per row
        if key in seen:
            parsed.problems.append(
                Problem(
                    label,
                    n,
                    "household",
                    f"one row per household, stream and category (row {seen[key]} has it)",
                    repr(f"{line.household} {line.stream} {line.category or line.goods_item}"),
                )
            )
            continue
        seen[key] = n
        parsed.entries.append((n, line))


# A line's natural key (records.natural_key) as its values, not joined.
_natural = itemgetter(*(TallyLine._fields.index(f) for f in NATURAL_FIELDS))

# How each input column's text is read (the rest are text: stripped, blank is None).
_KIND: dict[str, str] = {c: "number" for c in _NUMBERS}
_KIND |= {"compost_declared": "other", "stream": "other", "note": "note"}
_INF = (float("inf"), float("-inf"))


def _row_values(
    parsed: ParsedFile,
    label: str,
    n: int,
    cells: list[str],
    inputs: list[tuple[str, int, str]],
) -> dict[str, Any] | None:
    """One row's input cells as values (blank cells left out), or None with the
    problems of the cells that could not be read listed."""
    values: dict[str, Any] = {}
    bad = False
    for col, i, kind in inputs:
        text = cells[i]
        if not text or text.isspace():
            continue
        if kind == "text":
            values[col] = text.strip()
            continue
        if kind == "note":
            values[col] = text
            continue
        if kind == "number" and _NUMBERS[col] is float:
            # _number's float case, inline: this is most of the file's cells.
            try:
                x = float(text)
            except ValueError:
                x = _NAN
            if x == x and x not in _INF:
                values[col] = x
                continue
        ok, val, expected = _convert(col, text)
        if not ok:
            parsed.problems.append(Problem(label, n, col, expected, repr(text)))
            bad = True
        elif val is not None:
            values[col] = val
    return None if bad else values


_NAN = float("nan")


def _convert(col: str, text: str) -> tuple[bool, Any, str]:
    """(ok, value, what was expected) for one non-empty input cell."""
    kind = _NUMBERS.get(col)
    if kind is not None:
        ok, val = _number(text, kind)
        return ok, val, "a whole number" if kind is int else "a number such as 1.5"
    if col == "compost_declared":
        low = text.strip().lower()
        if low in YES:
            return True, True, ""
        if low in NO:
            return True, False, ""
        return False, None, "yes or no"
    if col == "stream":
        val = text.strip().lower()
        return val in STREAMS, val, "sell, exchange or compost"
    if col == "note":
        return True, text, ""
    return True, text.strip() or None, ""


def _record(header: list[str], cells: list[str]) -> dict[str, str]:
    return {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}


def _number(text: str, kind: type) -> tuple[bool, Any]:
    t = text.strip()
    if not t:
        return True, None
    try:
        x = float(t)
    except ValueError:
        return False, None
    if x != x or x in (float("inf"), float("-inf")):
        return False, None
    if kind is int:
        if not x.is_integer():
            return False, None
        return True, int(x)
    return True, x


def _pydantic_problems(
    label: str, row: int, exc: ValidationError, rec: dict[str, str]
) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if loc:
            col = loc[0]
            found = repr(rec.get(col, err.get("input")))
            out.append(Problem(label, row, col, _expected(msg), found))
        else:
            col, _, rest = msg.partition(": ")
            expected, _, found = rest.partition(", found ")
            out.append(
                Problem(label, row, col, expected.removeprefix("expected "), found or "that")
            )
    return out


def _expected(msg: str) -> str:
    low = msg[0].lower() + msg[1:] if msg else msg
    return low.replace("input should be", "a value").replace("string should", "text should")


# --- close rows ----------------------------------------------------------------------
def _close_value(
    parsed: ParsedFile, label: str, n: int, rec: dict[str, str]
) -> tuple[str, str, Any] | None:
    """One close row's field, ref and number; None if blank, or with its problem listed."""
    run_id = rec.get("run_id", "").strip()
    fname = rec.get("field", "").strip()
    ref = rec.get("ref", "").strip()
    text = rec.get("value", "")
    if not text.strip():
        return None
    if not run_id:
        parsed.problems.append(Problem(label, n, "run_id", "the run's id", "nothing"))
        return None
    if fname not in CLOSE_FIELDS:
        parsed.problems.append(
            Problem(label, n, "field", f"one of {', '.join(CLOSE_FIELDS)}", repr(fname))
        )
        return None
    refers, kind = CLOSE_FIELDS[fname]
    ok, val = _number(text, kind)
    if not ok or val < 0:
        what = "a whole number >= 0" if kind is int else "a number >= 0"
        parsed.problems.append(Problem(label, n, "value", what, repr(text)))
        return None
    if refers and not ref:
        parsed.problems.append(Problem(label, n, "ref", f"the {refers}", "nothing"))
        return None
    return fname, ref, val


def _store_close_value(
    rc: dict[str, Any], fname: str, ref: str, val: Any, rec: dict[str, str]
) -> None:
    """Put one checked value into its run's close document (and append its note)."""
    ticket = rec.get("ticket", "").strip()
    if fname.startswith("goods_"):
        rc["goods"].setdefault(ref, {"item": ref})[fname.removeprefix("goods_")] = val
    elif fname == "weigh_ticket_kg":
        rc["weigh_tickets"][ref] = {"station": ref, "kg": val, "ticket": ticket}
    elif fname == "delivered_kg":
        rc["deliveries"][ref] = {"facility": ref, "kg": val, "ticket": ticket}
    else:
        rc[fname] = val
    if rec.get("note", "").strip():
        rc["note"] = (rc.get("note", "") + " " + rec["note"].strip()).strip()[:500]


def _close_rows(
    parsed: ParsedFile, label: str, header: list[str], rows: Iterable[tuple[int, list[str]]]
) -> None:
    by_run: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"goods": {}, "weigh_tickets": {}, "deliveries": {}}
    )
    where: dict[str, dict[str, int]] = defaultdict(dict)
    for n, cells in rows:
        rec = _record(header, cells)
        run_id = rec.get("run_id", "").strip()
        value = _close_value(parsed, label, n, rec)
        if value is None:
            continue
        fname, ref, val = value
        rc = by_run[run_id]
        rc["run_id"] = run_id
        slot = f"{fname}:{ref}"
        if slot in where[run_id]:
            once = f"{fname} {ref} once (row {where[run_id][slot]} has it)"
            parsed.problems.append(Problem(label, n, "field", once, "it again"))
            continue
        where[run_id][slot] = n
        _store_close_value(rc, fname, ref, val, rec)
    for run_id, rc in by_run.items():
        doc = dict(rc)
        for k in ("goods", "weigh_tickets", "deliveries"):
            doc[k] = tuple(doc[k].values())
        try:
            close = RunClose.model_validate(doc)
        except ValidationError as exc:
            first = min(where[run_id].values())
            for p in _pydantic_problems(label, first, exc, {}):
                parsed.problems.append(p)
            continue
        parsed.closes.append((where[run_id], close))
