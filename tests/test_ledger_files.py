"""Tally and close files: reading (CSV, Excel), bad files, and the forms written for drivers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner.ledger.errors import LedgerError
from planner.ledger.forms import close_form_rows, safe_text, write_csv, write_forms, write_xlsx
from planner.ledger.plans import load_plan
from planner.ledger.tallyfile import CLOSE_COLUMNS, TALLY_COLUMNS, read_tally_file

DATA = Path(__file__).parent / "data" / "ledger"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("NotUtf8.csv", "expected UTF-8 text"),  # saved as GBK or Latin-1
        ("WrongHeader.csv", "row 1: expected a tally header"),  # someone else's CSV
        ("RepeatedColumn.csv", "expected each column once"),  # kg twice
        ("NotAWorkbook.xlsx", "expected an Excel .xlsx workbook"),  # renamed text
    ],
)
def test_unreadable_files_say_why(name: str, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        read_tally_file(DATA / name)


def test_bad_cells_are_listed_with_row_and_column() -> None:
    parsed = read_tally_file(DATA / "DuplicateAndBadCells.csv")
    got = {(p.row, p.column) for p in parsed.problems}
    assert (3, "household") in got  # the same household and category twice
    assert (4, "compost_declared") in got  # 'maybe'
    assert (5, "stream") in got  # 'gift'
    assert len(parsed.entries) == 1
    closes = read_tally_file(DATA / "BadClose.csv")
    got = {(p.row, p.column) for p in closes.problems}
    assert got == {(2, "value"), (3, "ref"), (4, "field")}


def test_missing_file() -> None:
    with pytest.raises(LedgerError, match="cannot read the file"):
        read_tally_file(DATA / "nothing-here.csv")


def test_formula_looking_text_is_written_as_text(tmp_path: Path) -> None:
    rows = [{"run_id": "T1", "note": '=HYPERLINK("http://x")', "kg": "1.5", "household": "+1"}]
    path = tmp_path / "t.csv"
    write_csv(path, TALLY_COLUMNS, rows, {"run_id", "note", "household"})
    text = path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",'+1," in text
    book = tmp_path / "t.xlsx"
    write_xlsx(book, [("tally", TALLY_COLUMNS, rows)])
    ws = load_workbook(book)["tally"]
    note = ws.cell(row=2, column=TALLY_COLUMNS.index("note") + 1)
    assert note.data_type == "s" and note.value == '=HYPERLINK("http://x")'
    assert safe_text("-3") == "'-3" and safe_text("H1") == "H1"


def test_forms_list_every_household_and_read_back(planned_tiny: Path, tmp_path: Path) -> None:
    source = load_plan(planned_tiny)
    made = write_forms(source, tmp_path, balances={"H1": 12.0})
    run = source.plan.runs[0]
    with (tmp_path / f"{run.id}.tally.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stops = {st.place for st in run.collects}
    want = {h.id for h in source.scenario.households if h.point in stops}
    assert {r["household"].rpartition("-")[0] for r in rows} == want
    assert all(r["kg"] == "" for r in rows) and rows[0]["forecast_kg"]
    assert {r["points_balance"] for r in rows if r["household"].startswith("H1-")} <= {"12"}
    # the unfilled form records nothing; the workbook has both sheets
    assert read_tally_file(tmp_path / f"{run.id}.tally.csv").entries == []
    wb = load_workbook(tmp_path / f"{run.id}.xlsx", read_only=True)
    assert wb.sheetnames == ["tally", "close"]
    wb.close()
    assert len(made) == 3 * len(source.plan.runs)
    close = close_form_rows(source, run.id)
    assert [r["field"] for r in close][:4] == [
        "cash_float_out_cny",
        "cash_returned_cny",
        "odometer_start_km",
        "odometer_end_km",
    ]
    assert set(close[0]) <= set(CLOSE_COLUMNS)


def test_a_filled_workbook_imports_like_its_csv(planned_tiny: Path, tmp_path: Path) -> None:
    source = load_plan(planned_tiny)
    run = source.plan.runs[0]
    write_forms(source, tmp_path, runs=[run.id])
    wb = load_workbook(tmp_path / f"{run.id}.xlsx")
    ws = wb["tally"]
    header = [c.value for c in ws[1]]
    kg = header.index("kg") + 1
    filled = 0
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=header.index("stream") + 1).value == "sell":
            ws.cell(row=row, column=kg).value = 1.5  # a number cell, as Excel keeps it
            filled += 1
    wc = wb["close"]
    wc.cell(row=2, column=CLOSE_COLUMNS.index("value") + 1).value = 200
    wb.save(tmp_path / "filled.xlsx")
    parsed = read_tally_file(tmp_path / "filled.xlsx")
    assert not parsed.problems
    assert len(parsed.entries) == filled and {e.kg for _, e in parsed.entries} == {1.5}
    assert parsed.closes[0][1].cash_float_out_cny == 200


def test_export_writes_the_tally_files_beside_the_sheets(planned_tiny: Path, tmp_path: Path):
    import shutil

    from planner.export.bundle import read_bundle
    from planner.export.writer import ExportOptions, export_plan

    folder = tmp_path / "plan"
    shutil.copytree(planned_tiny, folder)
    export_plan(read_bundle(folder), folder, ExportOptions(pdf=False, only=("sheets",)))
    runs = {p.name.split(".")[0] for p in (folder / "sheets").glob("*.html")}
    assert {
        p.name.removesuffix(".tally.csv") for p in (folder / "sheets").glob("*.tally.csv")
    } == runs
    assert len(list((folder / "sheets").glob("*.close.csv"))) == len(runs)


def test_control_characters_are_refused_with_row_and_column(tmp_path: Path) -> None:
    # A NUL cannot be stored by PostgreSQL; an ESC is never what a clerk typed.
    good = {"run_id": "T1", "point": "P1", "household": "H1", "stream": "sell"}
    good |= {"category": "paper", "kg": "2", "note": "two\nlines\tand a tab"}
    rows = [good, good | {"household": "H2", "note": "bad\x00note"}]
    rows.append(good | {"household": "H3", "point": "P\x1b1"})
    path = tmp_path / "t.csv"
    write_csv(path, TALLY_COLUMNS, rows, set())
    parsed = read_tally_file(path)
    got = {(p.row, p.column): p.found for p in parsed.problems}
    assert got == {
        (3, "note"): "control character U+0000 in 'bad\\x00note'",
        (4, "point"): "control character U+001B in 'P\\x1b1'",
    }
    assert "expected printable text" in str(parsed.problems[0])
    assert [n for n, _ in parsed.entries] == [2]
