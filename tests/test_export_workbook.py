"""The office workbook, read back with openpyxl and compared to plan.json."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from planner.export import PlanBundle, read_bundle
from planner.export.workbook import write_workbook

SHEETS = ["runs", "stops", "tallies", "gachas", "townships", "unserved"]


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


@pytest.fixture(scope="module")
def book(bundle: PlanBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(bundle, tmp_path_factory.mktemp("xlsx"))


def _rows(path: Path, sheet: str) -> tuple[list[str], list[dict[str, Any]]]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _day(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()


def test_sheets_have_frozen_filtered_headers(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == SHEETS
    for ws in wb:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert all(ws.column_dimensions[c.column_letter].width for c in ws[1])
    stops = wb["stops"]
    header = [c.value for c in stops[1]]
    assert stops.cell(2, header.index("到达 arrival") + 1).number_format == "hh:mm"
    assert stops.cell(2, header.index("路段 leg km") + 1).number_format == "0.0"
    runs = wb["runs"]
    header = [c.value for c in runs[1]]
    assert "¥" in runs.cell(2, header.index("燃油 fuel") + 1).number_format


def _numbers(run: dict) -> list[int | None]:
    """Stop numbers as the run sheet prints them: points and stations 1, 2, …; no break."""
    out, n = [], 0
    for st in run["steps"]:
        n += st["type"] in ("collect", "unload")
        out.append(n if st["type"] in ("collect", "unload") else None)
    return out


def test_stops_sheet_has_every_step_in_order_with_its_times(book: Path, bundle: PlanBundle) -> None:
    _, rows = _rows(book, "stops")
    expected = [
        (run["id"], run["date"], n, st["type"], st["place"], st["arrival"], st["departure"])
        for run in bundle.plan.to_json_dict()["runs"]
        for st, n in zip(run["steps"], _numbers(run), strict=True)
    ]
    got = [
        (
            r["车次 run"],
            _day(r["日期 date"]),
            r["序号 stop no."],
            r["类型 type"],
            r["地点 place"],
            f"{_day(r['日期 date'])}T{r['到达 arrival']:%H:%M}",
            f"{_day(r['日期 date'])}T{r['离开 departure']:%H:%M}",
        )
        for r in rows
    ]
    assert got == expected
    steps = [st for run in bundle.plan.to_json_dict()["runs"] for st in run["steps"]]
    for r, st in zip(rows, steps, strict=True):
        assert r["路段 leg km"] == pytest.approx(st["leg_km"])
        for cid, kg in st.get("collected", {}).items():
            col = next(h for h in r if h.endswith(f" {cid} kg"))
            assert r[col] == pytest.approx(kg)


def test_runs_sheet_matches_plan_and_fleet_rates(book: Path, bundle: PlanBundle) -> None:
    _, rows = _rows(book, "runs")
    fleet = {v.id: v for v in bundle.scenario.fleet}
    assert [r["车次 run"] for r in rows] == [
        run["id"] for run in bundle.plan.to_json_dict()["runs"]
    ]
    for r, run in zip(rows, bundle.plan.to_json_dict()["runs"], strict=True):
        assert r["里程 km"] == pytest.approx(run["distance_km"])
        assert r["时长 minutes"] == pytest.approx(run["duration_min"])
        assert f"{r['出发 start']:%H:%M}" == run["steps"][0]["departure"][11:16]
        assert f"{r['返回 end']:%H:%M}" == run["steps"][-1]["arrival"][11:16]
        v = fleet[run["vehicle"]]
        assert r["燃油 fuel"] == pytest.approx(run["distance_km"] * v.cost_per_km, abs=0.01)
        assert r["收运点 stops"] == sum(1 for s in run["steps"] if s["type"] == "collect")


def test_area_sheets_add_up_to_the_scenario(book: Path, bundle: PlanBundle) -> None:
    households = sum(p.households for p in bundle.scenario.points)
    visits = sum(
        1
        for run in bundle.plan.to_json_dict()["runs"]
        for s in run["steps"]
        if s["type"] == "collect"
    )
    for sheet in ("gachas", "townships"):
        _, rows = _rows(book, sheet)
        # The last row is the totals row: the sum of the areas above it.
        *areas, total = rows
        first = "嘎查 gacha" if sheet == "gachas" else "苏木镇 township"
        assert total[first] == "合计 total"
        assert sum(r["户数 households"] for r in areas) == households == total["户数 households"]
        assert sum(r["收运次数 visits"] for r in areas) == visits == total["收运次数 visits"]
    _, rows = _rows(book, "unserved")
    assert len(rows) == len(bundle.plan.to_json_dict()["unserved"])


def test_tallies_sheet_sums_each_household_visit(book: Path, bundle: PlanBundle) -> None:
    _, rows = _rows(book, "tallies")
    keys = list(dict.fromkeys((t.run_id, t.point, t.household) for t in bundle.tallies))
    assert [(r["车次 run"], r["收运点 point"], r["农户 household"]) for r in rows] == keys
    columns = {
        ("sell", "kg"): "卖 sell kg",
        ("exchange", "kg"): "换 exchange kg",
        ("compost", "kg"): "堆 compost kg",
    }
    for (stream, unit), col in columns.items():
        want = sum(t.quantity for t in bundle.tallies if (t.stream, t.unit) == (stream, unit))
        assert sum(r[col] for r in rows) == pytest.approx(want, abs=0.01 * max(len(rows), 1))
    cash = sum(t.value_cny for t in bundle.tallies if t.stream == "sell" and t.unit == "kg")
    assert sum(r["现金 cash paid"] for r in rows) == pytest.approx(cash, abs=0.01 * len(rows))


def test_money_columns_come_from_summary_json(planned_tiny: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(planned_tiny, folder)
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    point = next(p for p in read_bundle(folder).scenario.points)
    summary = {
        "format": "rural-waste-summary/1",
        "gachas": [
            {
                "gacha": point.gacha,
                "gacha_code": point.gacha_code,
                "township": point.township,
                "cash_paid_cny": 12.5,
                "net_cost_cny": 99.0,
            }
        ],
        "townships": [
            {
                "township": point.township,
                "township_code": point.township_code,
                "fee_budget_cny": 50000.0,
            }
        ],
        "runs": [
            {
                "run_id": plan["runs"][0]["id"],
                "purchases_cny": 7.25,
                "cash_float_cny": 10.0,
                "goods_value_cny": 3.0,
                "goods_fit": True,
            }
        ],
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    book = write_workbook(read_bundle(folder), folder)
    _, gachas = _rows(book, "gachas")
    row = next(r for r in gachas if r["代码 gacha code"] == point.gacha_code)
    assert row["现金支付 cash paid"] == 12.5
    assert row["净成本 net cost"] == 99.0
    _, towns = _rows(book, "townships")
    assert towns[0]["农维费预算 fee budget"] == 50000.0
    _, runs = _rows(book, "runs")
    assert runs[0]["收购款 purchases"] == 7.25


def test_workbook_is_deterministic(bundle: PlanBundle, book: Path, tmp_path: Path) -> None:
    again = write_workbook(bundle, tmp_path)
    assert again.read_bytes() == book.read_bytes()
    props = openpyxl.load_workbook(again).properties
    start = dt.datetime.fromisoformat(bundle.plan.to_json_dict()["period"]["start"])
    assert props.created == start
    assert props.modified == start


# -- formula injection: text from the scenario stays text --------------------------------

EVIL = '=HYPERLINK("http://evil.invalid","click")'


@pytest.fixture(scope="module")
def evil_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny month with a place name and household ids that look like formulas."""
    from planner.app.pipeline import plan_month
    from planner.scenario.load import load_scenario

    root = tmp_path_factory.mktemp("evil")
    data = Path(__file__).parent / "data"
    shutil.copytree(data / "tiny", root / "tiny")
    shutil.copy(data / "tiny.toml", root / "tiny.toml")
    points = root / "tiny" / "points.csv"
    with points.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][1] = EVIL  # P1's name
    with points.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    hh = root / "tiny" / "households.csv"
    text = hh.read_text(encoding="utf-8")
    for old, new in (("H1,", "=1+1,"), ("H2,", "-2,"), ("H3,", "@SUM(A1),"), ("H4,", "+3,")):
        text = text.replace(f"\n{old}", f"\n{new}", 1)
    hh.write_text(text, encoding="utf-8")
    out = root / "out"
    plan_month(load_scenario(root / "tiny.toml"), out, time_limit=2, seed=1)
    return out


def test_formula_like_text_is_written_as_text_cells(evil_plan: Path) -> None:
    import zipfile

    book = write_workbook(read_bundle(evil_plan), evil_plan)
    with zipfile.ZipFile(book) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode("utf-8") for n in sheets)
    wb = openpyxl.load_workbook(book)
    texts = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value[:1] in "=+-@"
    ]
    found = {c.value for c in texts}
    assert EVIL in found and {"=1+1", "-2", "@SUM(A1)", "+3"} <= found
    assert all(c.data_type == "s" for c in texts)
    # Numbers stay numbers.
    numeric = [c for ws in wb.worksheets for row in ws.iter_rows(min_row=2) for c in row]
    assert any(c.data_type == "n" and isinstance(c.value, float) for c in numeric)


def test_formula_like_ids_are_escaped_in_the_csvs_and_read_back(evil_plan: Path) -> None:
    from planner.money.files import read_tallies

    with (evil_plan / "tallies.csv").open(encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    assert {"'=1+1", "'-2", "'@SUM(A1)", "'+3"} <= set(cells)
    households = {t.household for t in read_tallies(evil_plan / "tallies.csv")}
    assert {"=1+1", "-2", "@SUM(A1)", "+3"} <= households
    with (evil_plan / "goods.csv").open(encoding="utf-8", newline="") as fh:
        assert not any(c[:1] in ("=", "+", "-", "@") for row in csv.reader(fh) for c in row)
