"""Tally entries and run closes: what a valid record is, and household codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from planner.ledger.codes import ALPHABET, check_char, household_code, parse_household
from planner.ledger.records import RunClose, TallyEntry

BASE = {"run_id": "T1-2026-12-10", "point": "P1", "household": "H1"}


def test_a_sell_line_and_its_natural_key() -> None:
    e = TallyEntry(**BASE, stream="sell", category="pet_bottles", kg=2.5, price_cny_kg=1.0)
    assert e.entry_key == "T1-2026-12-10|P1|H1|sell|pet_bottles|"
    assert TallyEntry(**BASE, stream="sell", category="x", kg=1, key="abc").entry_key == "abc"


@pytest.mark.parametrize(
    ("fields", "fault"),
    [
        ({"stream": "sell", "kg": 1.0}, "category"),  # sold what?
        ({"stream": "sell", "category": "pet_bottles"}, "kg"),  # sold how much?
        ({"stream": "sell", "category": "pet_bottles", "kg": -1.0}, "kg"),  # negative kg
        ({"stream": "sell", "category": "c", "kg": 1, "goods_item": "soap", "goods_qty": 1}, ""),
        ({"stream": "exchange"}, "category"),  # neither waste nor goods
        ({"stream": "exchange", "goods_item": "soap"}, "goods_qty"),  # item without quantity
        ({"stream": "exchange", "category": "batteries"}, "kg"),  # no kg, no items
        ({"stream": "exchange", "goods_item": "soap", "goods_qty": -2}, "goods_qty"),
        ({"stream": "exchange", "kg": 1.0, "goods_item": "soap", "goods_qty": 1}, "category"),
        ({"stream": "compost", "category": "kitchen"}, "compost_declared"),  # nothing said
        ({"stream": "burn", "category": "kitchen", "kg": 1}, "stream"),  # not a stream
        ({"stream": "sell", "category": "c", "kg": 1, "colour": "red"}, "colour"),  # unknown
    ],
)
def test_invalid_entries_are_refused(fields: dict[str, object], fault: str) -> None:
    with pytest.raises(ValidationError) as info:
        TallyEntry.model_validate({**BASE, **fields})
    assert fault in str(info.value)


def test_control_characters_are_refused_in_records() -> None:
    # The web views send records straight to the model: no file check before it.
    with pytest.raises(ValidationError, match=r"(?s)note.*control character U\+0000"):
        TallyEntry(**BASE, stream="sell", category="c", kg=1, note="a\x00b")
    with pytest.raises(ValidationError, match=r"control character U\+001B"):
        RunClose(run_id="T\x1b1")
    assert TallyEntry(**BASE, stream="sell", category="c", kg=1, note="a\nb\tc").note == "a\nb\tc"


def test_run_close_odometer_runs_forward() -> None:
    with pytest.raises(ValidationError, match="odometer_end_km"):
        RunClose(run_id="T1", odometer_start_km=100, odometer_end_km=90)
    assert RunClose(run_id="T1", odometer_start_km=100, odometer_end_km=160).distance_km == 60


def test_codes_resolve_and_refuse_a_wrong_check() -> None:
    known = {"H01975", "H1"}
    code = household_code("H01975")
    assert parse_household(code, known) == ("H01975", "")
    assert parse_household("H01975", known) == ("H01975", "")
    wrong = "H01975-" + next(c for c in ALPHABET if c != code[-1])
    hid, why = parse_household(wrong, known)
    assert hid is None and "check character" in why
    assert parse_household("H99999", known)[0] is None


@given(st.from_regex(r"H[0-9]{5}", fullmatch=True), st.integers(1, 5), st.sampled_from(ALPHABET))
def test_every_single_mistyped_character_is_caught(hid: str, pos: int, new: str) -> None:
    if hid[pos] == new:
        return
    typo = hid[:pos] + new + hid[pos + 1 :]
    assert check_char(typo) != check_char(hid)
