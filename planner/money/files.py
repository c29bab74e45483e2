"""Write the month's money files: tallies.csv, goods.csv and summary.json (atomically)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from operator import attrgetter
from pathlib import Path

from planner._atomic import atomic_writer, write_json_atomic
from planner._errors import PlanError
from planner.money.summary import MonthMoney
from planner.money.tallies import Tally

TALLY_HEADER = (
    "run_id",
    "date",
    "point",
    "household",
    "stream",
    "category",
    "quantity",
    "unit",
    "value_cny",
)
# The columns both files start with (after them each has its own).
_KEYS = attrgetter("run_id", "date", "point", "household")
GOODS_HEADER = ("run_id", "date", "point", "household", "item", "count", "points", "value_cny")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: ``'`` before a formula-like start.

    OWASP's CSV-injection advice: a cell starting with ``= + - @``, a tab or a carriage
    return gets a leading apostrophe; so does one already starting with ``'``, so that
    :func:`csv_text_read` gives back exactly what was written. Numbers are not text
    cells and never pass through here.
    """
    return "'" + value if value.startswith((*_FORMULA_START, "'")) else value


def csv_text_read(cell: str) -> str:
    """The text :func:`csv_text` was given."""
    return cell[1:] if cell.startswith("'") else cell


def _keys(row: object) -> tuple[str, ...]:
    return tuple(csv_text(str(k)) for k in _KEYS(row))


def _num(x: float, nd: int) -> str:
    # Fixed decimals, no "-0.000", no exponent: what spreadsheet users and checkers expect.
    return f"{round(x, nd) + 0.0:.{nd}f}"


def write_money(out_dir: Path, money: MonthMoney) -> list[Path]:
    """Write ``tallies.csv`` (PLAN_FORMAT.md), ``goods.csv`` and ``summary.json``."""
    tallies = out_dir / "tallies.csv"
    _write_csv(
        tallies,
        TALLY_HEADER,
        (
            (
                *_keys(t),
                t.stream,
                csv_text(t.category),
                _num(t.quantity, 3),
                csv_text(t.unit),
                _num(t.value_cny, 2),
            )
            for t in money.tallies.rows
        ),
    )
    goods = out_dir / "goods.csv"
    _write_csv(
        goods,
        GOODS_HEADER,
        (
            (*_keys(h), csv_text(h.item), h.count, _num(h.points, 3), _num(h.value_cny, 2))
            for h in money.tallies.handouts
        ),
    )
    summary = out_dir / "summary.json"
    write_json_atomic(summary, money.summary)
    return [tallies, goods, summary]


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[Sequence[object]]) -> None:
    with atomic_writer(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def read_tallies(path: Path) -> list[Tally]:
    """Read ``tallies.csv``; a missing file gives no rows.

    Raises
    ------
    PlanError
        The header or a row is not as PLAN_FORMAT.md says (names the row).
    """
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    streams = {"sell", "exchange", "compost"}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = tuple(next(reader, ()))
            if header != TALLY_HEADER:
                raise PlanError(
                    f"{path}: expected the header {','.join(TALLY_HEADER)}, "
                    f"found {','.join(header)}"
                )
            for n, rec in enumerate(reader, start=2):
                if len(rec) != len(TALLY_HEADER):
                    raise PlanError(
                        f"{path}: row {n}: expected {len(TALLY_HEADER)} columns, found {len(rec)}"
                    )
                run_id, date, point, household, stream, category, qty, unit, value = rec
                run_id, date, point, household, category, unit = map(
                    csv_text_read, (run_id, date, point, household, category, unit)
                )
                if stream not in streams:
                    raise PlanError(
                        f"{path}: row {n}, column stream: expected sell, exchange or compost, "
                        f"found {stream!r}"
                    )
                try:
                    q, v = float(qty), float(value)
                except ValueError:
                    col, found = ("quantity", qty) if not _is_number(qty) else ("value_cny", value)
                    raise PlanError(
                        f"{path}: row {n}, column {col}: expected a number, found {found!r}"
                    ) from None
                rows.append(Tally(run_id, date, point, household, stream, category, q, unit, v))
    except UnicodeDecodeError:
        raise PlanError(f"{path}: expected UTF-8 text, found other bytes") from None
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
