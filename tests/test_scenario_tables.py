"""planner.scenario.tables: CSV rows validated with one located message per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner._errors import Issue
from planner.scenario.tables import MAX_ROW_ISSUES, decode_text, plain_message, read_rows


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kg: float = Field(ge=0)
    people: int = Field(gt=0, le=9)
    active: bool = True
    stream: Literal["sell", "exchange"] = "sell"
    start: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    month: str = Field(default="2026-12", pattern=r"^\d{4}-\d{2}$")
    code: str = Field(default="A1", pattern=r"^[A-Z]\d$")


def _message(**values: object) -> str:
    doc = {"id": "P1", "kg": 1.0, "people": 3, **values}
    with pytest.raises(ValidationError) as info:
        _Row.model_validate(doc)
    errors = info.value.errors()
    assert len(errors) == 1, errors
    return plain_message(errors[0])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"kg": "heavy"}, "expected a number"),
        ({"people": "three"}, "expected a whole number"),
        ({"people": 2.5}, "expected a whole number"),
        ({"active": "maybe"}, "expected true or false"),
        ({"kg": -1}, "expected a value >= 0.0"),
        ({"people": 0}, "expected a value > 0"),
        ({"people": 12}, "expected a value <= 9"),
        ({"stream": "burn"}, "expected one of 'sell' or 'exchange'"),
        ({"id": ""}, "expected a non-empty value"),
        ({"start": "8am"}, "expected a time as HH:MM"),
        ({"month": "Dec"}, "expected a month as YYYY-MM"),
        ({"code": "a1"}, "expected text matching ^[A-Z]\\d$"),
        ({"colour": "red"}, "unknown key (a typo?)"),
    ],
)
def test_pydantic_errors_read_as_what_was_expected(
    values: dict[str, object], expected: str
) -> None:
    assert _message(**values) == expected


def test_missing_value_and_unknown_error_types() -> None:
    with pytest.raises(ValidationError) as info:
        _Row.model_validate({"kg": 1.0, "people": 3})
    assert plain_message(info.value.errors()[0]) == "expected a value"
    assert plain_message({"type": "value_error", "msg": "Value error, a gap of 2 days"}) == (
        "a gap of 2 days"
    )
    # A type it has no wording for: pydantic's own message, as an expectation.
    assert plain_message({"type": "new_kind", "msg": "Input is odd"}) == "expected input is odd"
    assert plain_message("not a pydantic error") == "expected invalid value"


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    # An empty spreadsheet row (",,") is skipped but still counted.
    path.write_text("id,kg,people\nP1,1.5,3\nP2,-2,3\n,,\nP3,1,0\n", encoding="utf-8")
    issues: list[Issue] = []
    rows = read_rows(path, _Row, issues)
    assert [r.id for r in rows] == ["P1"]
    text = [str(i) for i in issues]
    assert len(text) == 2
    assert "row 3, column kg" in text[0] and "expected a value >= 0.0, found '-2'" in text[0]
    assert "row 5, column people" in text[1] and "found '0'" in text[1]


def test_missing_columns_are_named_once(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("id,weight\nP1,3\n", encoding="utf-8")
    issues: list[Issue] = []
    assert read_rows(path, _Row, issues) == []
    assert len(issues) == 1
    assert "expected columns kg, people, found only id, weight" in str(issues[0])


def test_row_errors_stop_after_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    body = "".join(f"P{k},x,3\n" for k in range(MAX_ROW_ISSUES + 10))
    path.write_text("id,kg,people\n" + body, encoding="utf-8")
    issues: list[Issue] = []
    read_rows(path, _Row, issues)
    assert len(issues) == MAX_ROW_ISSUES + 1
    assert f"stopped after {MAX_ROW_ISSUES} bad rows" in str(issues[-1])


def test_gbk_text_gets_its_own_message(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes("id,name\nP1,乌兰镇\n".encode("gbk"))
    issues: list[Issue] = []
    assert decode_text(path, issues) is None
    assert "line 2" in str(issues[0]) and "GBK-encoded" in str(issues[0])


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_where_they_are(tmp_path: Path, char: str) -> None:
    # XML outputs (GPX, KML, Excel) cannot carry them, so the row is refused up front.
    path = tmp_path / "points.csv"
    path.write_text(f"id,kg,people\nP1,1,3\nP{char}2,1,3\n", encoding="utf-8")
    issues: list[Issue] = []
    rows = read_rows(path, _Row, issues)
    assert [r.id for r in rows] == ["P1"]
    assert len(issues) == 1
    text = str(issues[0])
    assert "row 3, column id" in text and f"U+{ord(char):04X}" in text


def test_tabs_inside_a_quoted_cell_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text('id,kg,people\n"P\t1",1,3\n', encoding="utf-8")
    issues: list[Issue] = []
    assert [r.id for r in read_rows(path, _Row, issues)] == ["P\t1"]
    assert issues == []
