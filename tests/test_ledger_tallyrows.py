"""The fast tally-row reader (planner/ledger/tallyrows.py) agrees with the model's way.

Each random row is read twice from the same CSV: with the fast reader, and with it
turned off (every cell, then the pydantic model). Lines, problems and their messages
must be the same; the fast reader may only decline a row, never decide it otherwise.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.ledger import tallyfile
from planner.ledger.tallyfile import TALLY_COLUMNS, read_tally_file

NUMBERS = ["", " ", "0", "1", "2.5", "-1", "1e9", "nan", "abc", " 3 ", "1000000", "7.0"]
CELLS = {
    "run_id": ["T1-2026-12-10", "", " T1 ", "x" * 70],
    "point": ["P1", "", " P2"],
    "household": ["H1", "", "H2 "],
    "stream": ["sell", "exchange", "compost", "SELL", " sell", "burn", ""],
    "category": ["", "pet_bottles", "batteries", "kitchen", " cardboard ", "c" * 90],
    "kg": NUMBERS,
    "items": NUMBERS,
    "price_cny_kg": NUMBERS,
    "cash_cny": NUMBERS,
    "goods_item": ["", "salt", " soap "],
    "goods_qty": ["", "1", "2", "1.5", "-2", "x"],
    "points_redeemed": NUMBERS,
    "compost_declared": ["", "yes", "否", "maybe", " Y ", "1"],
    "note": ["", "ok", " padded ", "\x1cnote", "n" * 600],
    "key": ["", "k1", " k2 ", "k" * 300],
}


# Lines the model accepts, one per shape; each random row is one of them with up to
# three cells replaced by any of CELLS (so most rows are near the edge of valid).
VALID = [
    {"stream": "sell", "category": "pet_bottles", "kg": "2.5"},
    {"stream": "sell", "category": "pet_bottles", "kg": "2", "price_cny_kg": "1", "cash_cny": "2"},
    {"stream": "exchange", "category": "batteries", "kg": "0.5"},
    {
        "stream": "exchange",
        "category": "batteries",
        "items": "3",
        "goods_item": "salt",
        "goods_qty": "1",
    },
    {"stream": "exchange", "goods_item": "salt", "goods_qty": "2", "points_redeemed": "10"},
    {"stream": "compost", "category": "kitchen", "compost_declared": "yes"},
    {"stream": "compost", "category": "kitchen", "kg": "4", "note": "weighed"},
]
BASE = {"run_id": "T1-2026-12-10", "point": "P1", "household": "H1"}


@st.composite
def _row(draw: st.DrawFn) -> dict[str, str]:
    row = BASE | draw(st.sampled_from(VALID))
    for column in draw(st.lists(st.sampled_from(sorted(CELLS)), max_size=3)):
        row[column] = draw(st.sampled_from(CELLS[column]))
    return row


def _csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(TALLY_COLUMNS)
    for r in rows:
        w.writerow([r.get(c, "") for c in TALLY_COLUMNS])
    return buf.getvalue().encode("utf-8")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_row(), min_size=1, max_size=4))
def test_the_fast_reader_and_the_model_read_every_row_alike(
    rows: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _csv(rows)
    path = Path("random.csv")  # named only: the bytes are given
    fast = read_tally_file(path, data)
    with monkeypatch.context() as m:
        m.setattr(tallyfile.LineReader, "for_header", staticmethod(lambda _header: None))
        slow = read_tally_file(path, data)
    assert fast.entries == slow.entries
    assert fast.problems == slow.problems


@pytest.mark.parametrize("row", VALID)
def test_the_fast_reader_takes_every_valid_shape(row: dict[str, str]) -> None:
    """Not a vacuous agreement: the valid lines are read by the fast reader itself."""
    header = list(TALLY_COLUMNS)
    reader = tallyfile.LineReader.for_header(header)
    assert reader is not None
    line = reader.line([(BASE | row).get(c, "") for c in header])
    assert line is not None and line.stream == row["stream"]
    assert line.household == "H1" and line.category == row.get("category")
