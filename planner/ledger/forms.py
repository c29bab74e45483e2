"""Write the fillable tally files that go out with each run sheet.

Per run, ``<run>.tally.csv`` (the rows of the printed tally form: one per
household, visit and category or goods item due), ``<run>.close.csv`` (the
end-of-run box) and ``<run>.xlsx`` (both as the sheets ``tally`` and ``close``).
The forecast, the price and the goods due are pre-filled, and so are the
households' names and points balances when the ledger is given; the driver fills
``kg``, ``items``, ``cash_cny``, ``goods_qty`` and ``compost_declared`` and the
close's ``value`` column. ``planner ledger import`` reads them back.

Text that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` …) is
written as text: with a leading apostrophe in CSV (the importer removes it) and as
a string cell in Excel.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from planner._atomic import atomic_writer
from planner.ledger.codes import household_code
from planner.ledger.plans import PlanSource
from planner.ledger.tallyfile import CLOSE_COLUMNS, FORMULA_START, TALLY_COLUMNS
from planner.money.tallies import MonthTallies

# Columns written as text (ids, names, notes); the rest are numbers we format.
_TEXT_TALLY = {"run_id", "point", "point_name", "household", "household_name", "category"}
_TEXT_TALLY |= {"category_name", "goods_item", "goods_due", "note", "key", "stream", "date"}
_TEXT_CLOSE = {"run_id", "field", "ref", "ref_name", "ticket", "note"}
_FORMULA_CHARS = "".join(FORMULA_START)


def safe_text(value: str) -> str:
    """``value`` with a leading apostrophe if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def tally_form_rows(
    source: PlanSource, run_id: str, balances: dict[str, float] | None = None
) -> list[dict[str, str]]:
    """The tally rows of one run, in stop order, household order and category order."""
    return _tally_rows(source, balances)[run_id]


def _tally_rows(
    source: PlanSource, balances: dict[str, float] | None
) -> dict[str, list[dict[str, str]]]:
    sc = source.scenario
    cats = {c.id: c for c in sc.settings.categories}
    order = {c.id: k for k, c in enumerate(sc.settings.categories)}
    goods = {g.id: g for g in sc.settings.goods}
    names = {p.id: p.name for p in sc.points}
    people = {h.id: h for h in sc.households}
    due: dict[tuple[str, str, str], list[tuple[str, int]]] = defaultdict(list)
    for ho in source.forecast.handouts:
        due[(ho.run_id, ho.point, ho.household)].append((ho.item, ho.count))
    kg: dict[tuple[str, str, str, str], float] = {}
    items: dict[tuple[str, str, str, str], float] = {}
    for t in source.forecast.rows:
        k = (t.run_id, t.point, t.household, t.category)
        (items if t.unit == "item" else kg)[k] = t.quantity
    members_at = _members(source)
    out: dict[str, list[dict[str, str]]] = {}
    for run in source.plan.runs:
        rows: list[dict[str, str]] = []
        seen: set[str] = set()
        for stop_no, st in enumerate(run.collects, start=1):
            if st.place in seen:
                continue
            seen.add(st.place)
            members = members_at.get(st.place, [])
            for hid in members:
                h = people[hid]
                text_due = " ".join(
                    f"{goods[i].name}x{n}" for i, n in due.get((run.id, st.place, hid), [])
                )
                bal = "" if balances is None else f"{balances.get(hid, 0.0):.0f}"
                base = {
                    "run_id": run.id,
                    "date": run.date.isoformat(),
                    "stop": str(stop_no),
                    "point": st.place,
                    "point_name": names.get(st.place, ""),
                    "household": household_code(hid),
                    "household_name": h.name,
                    "points_balance": bal,
                    "goods_due": text_due,
                }
                lines = []
                for cid in sorted(cats, key=order.__getitem__):
                    c = cats[cid]
                    f = kg.get((run.id, st.place, hid, cid))
                    if f is None:
                        continue
                    row = base | {
                        "stream": c.stream,
                        "category": cid,
                        "category_name": c.name,
                        "forecast_kg": f"{f:.2f}",
                    }
                    if c.stream == "sell":
                        row["price_cny_kg"] = f"{c.buy_price_cny_kg:g}"
                    lines.append(row)
                for item, n in due.get((run.id, st.place, hid), []):
                    lines.append(
                        base
                        | {
                            "stream": "exchange",
                            "goods_item": item,
                            "category_name": goods[item].name,
                            "forecast_kg": "",
                            "goods_due": f"{goods[item].name}x{n}",
                        }
                    )
                rows += lines
        out[run.id] = rows
    return out


def _members(source: PlanSource) -> dict[str, list[str]]:
    got: dict[str, list[str]] = defaultdict(list)
    for h in source.scenario.households:
        got[h.point].append(h.id)
    return got


def close_form_rows(source: PlanSource, run_id: str) -> list[dict[str, str]]:
    """The end-of-run box of one run: one row per figure, the plan's value beside it."""
    run = source.plan.run(run_id)
    if run is None:
        raise KeyError(run_id)
    carry = source.carry.get(run_id, {})
    places = source.plan.places_by_id
    cats = {c.id: c for c in source.scenario.settings.categories}
    base = {"run_id": run_id}

    def row(fname: str, ref: str = "", ref_name: str = "", planned: str = "") -> dict[str, str]:
        return base | {"field": fname, "ref": ref, "ref_name": ref_name, "planned": planned}

    rows = [
        row("cash_float_out_cny", planned=f"{carry.get('cash_float_cny', 0.0):.2f}"),
        row("cash_returned_cny"),
        row("odometer_start_km"),
        row("odometer_end_km", ref_name=f"plan: {float(run.distance_km):.1f} km driven"),
    ]
    for g in carry.get("goods", []):
        rows.append(row("goods_loaded", g["item"], g["name"], str(g["load"])))
    for g in carry.get("goods", []):
        rows.append(row("goods_returned", g["item"], g["name"], str(g["load"] - g["expected"])))
    unloaded: dict[str, float] = defaultdict(float)
    sold = hazardous = 0.0
    for st in run.steps:
        if st.type == "unload":
            unloaded[st.place] += float(sum((st.unloaded or {}).values()))
        for cid, q in (st.collected or {}).items():
            c = cats.get(cid)
            if c is not None and c.hazardous:
                hazardous += float(q)
            else:
                sold += float(q)
    for station, q in sorted(unloaded.items()):
        rows.append(row("weigh_ticket_kg", station, places[station].name, f"{q:.1f}"))
    for pl in source.plan.places:
        if pl.kind == "buyer":
            rows.append(row("delivered_kg", pl.id, pl.name, f"{sold:.1f}"))
        elif pl.kind == "plant":
            rows.append(row("delivered_kg", pl.id, pl.name, f"{hazardous:.1f}"))
    return rows


def write_forms(
    source: PlanSource,
    out_dir: Path,
    *,
    balances: dict[str, float] | None = None,
    xlsx: bool = True,
    runs: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``<run>.tally.csv``, ``<run>.close.csv`` (and ``<run>.xlsx``) per run."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tallies = _tally_rows(source, balances)
    made: list[Path] = []
    for run in source.plan.runs:
        if runs is not None and run.id not in runs:
            continue
        trows = tallies[run.id]
        crows = close_form_rows(source, run.id)
        t_path = out_dir / f"{run.id}.tally.csv"
        c_path = out_dir / f"{run.id}.close.csv"
        write_csv(t_path, TALLY_COLUMNS, trows, _TEXT_TALLY)
        write_csv(c_path, CLOSE_COLUMNS, crows, _TEXT_CLOSE)
        made += [t_path, c_path]
        if xlsx:
            x_path = out_dir / f"{run.id}.xlsx"
            write_xlsx(x_path, [("tally", TALLY_COLUMNS, trows), ("close", CLOSE_COLUMNS, crows)])
            made.append(x_path)
    return made


def write_csv(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    text_columns: set[str] | None = None,
) -> None:
    """Write a CSV (UTF-8 with BOM, for spreadsheets) with formula-looking text escaped."""
    text_columns = set(columns) if text_columns is None else text_columns
    flags = [c in text_columns for c in columns]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        cells = []
        for c, is_text in zip(columns, flags, strict=True):
            v = r.get(c, "")
            v = v if isinstance(v, str) else str(v)
            if is_text and v and v[0] in _FORMULA_CHARS:
                v = "'" + v
            cells.append(v)
        w.writerow(cells)
    with atomic_writer(path, "w", newline="") as fh:
        fh.write("\ufeff" + buf.getvalue())


def write_xlsx(
    path: Path, sheets: Sequence[tuple[str, Sequence[str], Sequence[dict[str, Any]]]]
) -> None:
    """Write a workbook; every cell is a string or a number, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(list(columns))
        for r in rows:
            cells: list[Any] = []
            for c in columns:
                v = r.get(c, "")
                if isinstance(v, str) and v.startswith(FORMULA_START):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(v)
            ws.append(cells)
    with atomic_writer(path, "wb") as fh:
        wb.save(fh)


def write_bundle_forms(bundle: Any, stage: Path) -> list[Path]:
    """The export hook: ``sheets/<run>.tally.csv`` and ``<run>.close.csv`` beside each sheet.

    ``bundle`` is the exporters' :class:`~planner.export.bundle.PlanBundle`; the forms
    carry no balances (the ledger is not known there: ``planner ledger forms --db``
    writes them with balances, and the Excel copies). The forecast and goods due are
    the bundle's own tallies and goods rows, the ones the run sheets print, not
    computed again.
    """
    source = PlanSource(
        plan_dir=Path(bundle.out_dir),
        plan=bundle.plan,
        scenario=bundle.scenario,
        plan_sha256="",
        tallies=MonthTallies(rows=list(bundle.tallies), handouts=list(bundle.handout_rows)),
    )
    return write_forms(source, Path(stage) / "sheets", xlsx=False)
