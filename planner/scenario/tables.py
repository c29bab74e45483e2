"""CSV tables: decoding, header checks and row validation with located messages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from planner._errors import Issue, issue
from planner._text import control_character

RowT = TypeVar("RowT", bound=BaseModel)

# Stop listing row errors of one file after this many: the rest are likely the same.
MAX_ROW_ISSUES = 20
# Control characters (tab and newlines aside): no name or id needs one, and XML outputs
# (GPX, KML, Excel) cannot carry them.


def read_bytes(path: Path, issues: list[Issue], what: str = "file") -> bytes | None:
    """The bytes of ``path``, or ``None`` with an issue saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        issues.append(issue(path, "", f"{what} not found"))
    except OSError as exc:
        issues.append(issue(path, "", f"cannot read the {what} ({exc.strerror})"))
    return None


def decode_text(path: Path, issues: list[Issue]) -> str | None:
    """Read ``path`` as UTF-8 text; a GBK file (Chinese Excel's default) gets its own message."""
    raw = read_bytes(path, issues)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            issues.append(
                issue(path, f"line {line}", "expected UTF-8 text, found bytes that are not UTF-8")
            )
        else:
            issues.append(
                issue(
                    path,
                    f"line {line}",
                    "expected UTF-8, found GBK-encoded Chinese text (as Chinese Excel saves CSV); "
                    "save it as 'CSV UTF-8' or convert it with: iconv -f GBK -t UTF-8",
                )
            )
        return None


def read_rows(path: Path, model: type[RowT], issues: list[Issue]) -> list[RowT]:
    """Validate every row of CSV ``path`` as ``model``; problems go to ``issues``.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    Empty cells count as missing, so optional columns may be left blank.
    """
    text = decode_text(path, issues)
    if text is None:
        return []
    if not text.strip():
        issues.append(issue(path, "", "expected a header row and data rows, found an empty file"))
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [n for n in required if n not in header]
    if missing:
        issues.append(
            issue(
                path,
                "header",
                f"expected columns {', '.join(missing)}, found only {', '.join(header) or 'none'}",
            )
        )
        return []
    rows: list[RowT] = []
    nbad = 0
    for rowno, raw in enumerate(reader, start=2):
        if None in raw:
            issues.append(issue(path, f"row {rowno}", f"expected {len(header)} cells, found more"))
            nbad += 1
            continue
        values = {k: v.strip() for k, v in raw.items() if v is not None and v.strip() != ""}
        if not values:
            continue  # blank line at the end of a spreadsheet export
        control = [(k, v, c) for k, v in values.items() if (c := control_character(v))]
        for col, v, found in control:
            issues.append(
                issue(
                    path,
                    f"row {rowno}, column {col}",
                    f"expected printable text, found {found} in {v!r}",
                )
            )
        if control:
            nbad += 1
            continue
        try:
            rows.append(model.model_validate(values))
        except ValidationError as exc:
            for err in exc.errors():
                col = ".".join(str(x) for x in err["loc"]) or "?"
                found = values.get(col, "nothing")
                issues.append(
                    issue(
                        path, f"row {rowno}, column {col}", f"{plain_message(err)}, found {found!r}"
                    )
                )
            nbad += 1
        if nbad >= MAX_ROW_ISSUES:
            issues.append(issue(path, "", f"stopped after {nbad} bad rows"))
            break
    if not rows and nbad == 0:
        issues.append(issue(path, "", "expected data rows, found only the header"))
    return rows


# Pydantic error types whose wording needs no context.
_FIXED_MESSAGES = {
    "missing": "expected a value",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_too_short": "expected a non-empty value",
    "extra_forbidden": "unknown key (a typo?)",
    "date_from_datetime_parsing": "expected a date as YYYY-MM-DD",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_type": "expected a date as YYYY-MM-DD",
}
# Pydantic error types worded from one value of the error's context.
_BOUND_MESSAGES = {
    "greater_than_equal": ("expected a value >= {}", "ge"),
    "greater_than": ("expected a value > {}", "gt"),
    "less_than_equal": ("expected a value <= {}", "le"),
    "literal_error": ("expected one of {}", "expected"),
}


def plain_message(err: object) -> str:
    """A pydantic error as 'expected ...' wording."""
    e = err if isinstance(err, dict) else {}
    kind = e.get("type", "")
    ctx = e.get("ctx") or {}
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        template, key = _BOUND_MESSAGES[kind]
        return template.format(ctx.get(key))
    if kind == "string_pattern_mismatch":
        return _pattern_message(str(ctx.get("pattern", "")))
    if kind == "value_error":
        return str(e.get("msg", "")).removeprefix("Value error, ")
    msg = str(e.get("msg", "invalid value"))
    return "expected " + msg[0].lower() + msg[1:] if msg else "invalid value"


def _pattern_message(pattern: str) -> str:
    if ":[0-5]" in pattern:
        return "expected a time as HH:MM"
    if pattern.startswith("^\\d{4}-"):
        return "expected a month as YYYY-MM"
    return f"expected text matching {pattern}"
