"""A tally file's rows validated straight into :class:`~planner.ledger.records.TallyLine`.

A month is some 370,000 rows, and validating each one through the pydantic model
cost more than reading the file. :class:`LineReader` makes the model's own checks
(each field's bounds, read from :class:`~planner.ledger.records.TallyEntry`, and the
shape of a sell, exchange or compost line) in plain Python, and gives a line only
when every one passes. Any other row returns None and goes the general way
(``tallyfile.py``: the cells one by one, then the model), so a refused row gets the
model's own messages. The tests hold the two ways equal on random rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from annotated_types import Ge, Le, MaxLen

from planner.ledger.records import STREAMS, TallyEntry, TallyLine

YES = frozenset({"yes", "y", "true", "1", "是", "有", "x", "✓"})
NO = frozenset({"no", "n", "false", "0", "否", "无"})


def _bound(name: str, kind: type) -> float:
    """The field's upper bound (``le`` or ``max_length``) as the model declares it."""
    for m in TallyEntry.model_fields[name].metadata:
        if kind is Le and isinstance(m, Le):
            return float(m.le)  # type: ignore[arg-type]
        if kind is MaxLen and isinstance(m, MaxLen):
            return float(m.max_length)
    raise LookupError(f"TallyEntry.{name} has no {kind.__name__}")


def _lower_bounds_are_zero() -> bool:
    numbers = ("kg", "items", "price_cny_kg", "cash_cny", "goods_qty", "points_redeemed")
    for name in numbers:
        ge = [m.ge for m in TallyEntry.model_fields[name].metadata if isinstance(m, Ge)]
        if ge != [0]:
            return False
    return True


# Upper bounds from the model; a lower bound other than 0 would need code here.
_ID = _bound("run_id", MaxLen)
_TEXT = _bound("category", MaxLen)
_NOTE = _bound("note", MaxLen)
_KEY = _bound("key", MaxLen)
_KG = _bound("kg", Le)
_ITEMS = _bound("items", Le)
_PRICE = _bound("price_cny_kg", Le)
_CASH = _bound("cash_cny", Le)
_QTY = _bound("goods_qty", Le)
_POINTS = _bound("points_redeemed", Le)
if not (
    _lower_bounds_are_zero()
    and _bound("point", MaxLen) == _bound("household", MaxLen) == _ID
    and _bound("goods_item", MaxLen) == _TEXT
):
    raise RuntimeError("TallyEntry's bounds changed: update planner/ledger/tallyrows.py")


class _Slow(Exception):
    """This row needs the general way (the model decides, and says why)."""


class LineReader:
    """Reads the rows of one tally header; ``line(cells)`` or None (the general way)."""

    __slots__ = ("_cells",)

    def __init__(self, picks: Sequence[int]):
        self._cells = itemgetter(*picks)

    @classmethod
    def for_header(cls, header: Sequence[str]) -> LineReader | None:
        """A reader for files with every input column; None otherwise (the general way)."""
        where = {c: i for i, c in enumerate(header)}
        if any(f not in where for f in TallyLine._fields):
            return None
        return cls([where[f] for f in TallyLine._fields])

    def line(self, cells: Sequence[str]) -> TallyLine | None:
        """The row's line if the model would accept it as it is; else None."""
        try:
            return self._line(self._cells(cells))
        except (_Slow, ValueError):
            return None

    def _line(self, cells: Any) -> TallyLine:
        # Inline on purpose (every row of a month comes here); blank cells, most of a
        # row, are passed over without a call.
        run_id, point, household, stream, category, kg, items, price = cells[:8]
        cash, goods_item, goods_qty, points, compost, note, key = cells[8:]
        run_id, point, household = run_id.strip(), point.strip(), household.strip()
        if (
            not (run_id and point and household)
            or len(run_id) > _ID
            or len(point) > _ID
            or len(household) > _ID
        ):
            raise _Slow
        stream = stream.strip().lower()
        if stream not in STREAMS:
            raise _Slow
        category = category.strip() or None if category else None
        goods_item = goods_item.strip() or None if goods_item else None
        key = key.strip() or None if key else None
        if (
            (category and len(category) > _TEXT)
            or (goods_item and len(goods_item) > _TEXT)
            or (key and len(key) > _KEY)
        ):
            raise _Slow
        kg = _number(kg, _KG) if kg else None
        items = _number(items, _ITEMS) if items else None
        price = _number(price, _PRICE) if price else None
        cash = _number(cash, _CASH) if cash else None
        qty = _whole(goods_qty, _QTY) if goods_qty else None
        points = _number(points, _POINTS) if points else None
        declared = _ANSWERS.get(compost, _ASK) if compost else None
        if declared is _ASK:
            declared = _yes_no(compost)
        if not note or note.isspace():
            note = ""
        elif note[0].isspace() or note[-1].isspace() or len(note) > _NOTE:
            raise _Slow  # the model strips it (its own idea of white space) or refuses it
        _shape(stream, category, kg, items, price, cash, goods_item, qty, declared)
        return _new_line(
            TallyLine,
            (
                run_id,
                point,
                household,
                stream,
                category,
                kg,
                items,
                price,
                cash,
                goods_item,
                qty,
                points,
                declared,
                note,
                key,
            ),
        )


# A compost cell as written most often -> its answer; other spellings go by _yes_no.
_ANSWERS: dict[str, bool] = {w: True for w in YES} | {w: False for w in NO}
_ASK: Any = object()

# NamedTuple's own __new__ is a Python function; tuple's is not.
_new_line = tuple.__new__


def _number(cell: str, highest: float) -> float | None:
    if not cell or cell.isspace():
        return None
    x = float(cell)
    if 0 <= x <= highest:  # NaN fails both
        return x
    raise _Slow


def _whole(cell: str, highest: float) -> int | None:
    if not cell or cell.isspace():
        return None
    x = float(cell)
    if x.is_integer() and 0 <= x <= highest:
        return int(x)
    raise _Slow


def _yes_no(cell: str) -> bool | None:
    if not cell or cell.isspace():
        return None
    low = cell.strip().lower()
    if low in YES:
        return True
    if low in NO:
        return False
    raise _Slow


def _shape(
    stream: str,
    category: str | None,
    kg: float | None,
    items: float | None,
    price: float | None,
    cash: float | None,
    goods_item: str | None,
    qty: int | None,
    declared: bool | None,
) -> None:
    """:meth:`TallyEntry._shape`'s conditions: raise where it would refuse the line."""
    goods = goods_item is not None or qty is not None
    if stream == "sell":
        if category is None or kg is None or goods or items is not None or declared is not None:
            raise _Slow
    elif stream == "exchange":
        waste = category is not None
        if (
            (goods_item is None) != (qty is None)
            or (waste and kg is None and items is None)
            or (not waste and not goods)
            or (not waste and (kg is not None or items is not None))
            or cash
            or price
            or declared is not None
        ):
            raise _Slow
    elif (
        category is None or (kg is None and declared is None) or goods or cash or items is not None
    ):
        raise _Slow
