"""The office workbook ``OUT/plan.xlsx``: runs, stops, tallies and money per area.

Sheets: ``runs``, ``stops``, ``tallies``, ``gachas``, ``townships``, ``unserved``.
Headers are Chinese with English (``日期 date``); every sheet has a frozen header
row, an autofilter, number formats (kg ``0.0``, money ``¥#,##0.00``, times
``hh:mm``) and column widths; text cells are always text, never formulas. The
sheets are written by :mod:`planner.export._xlsx` (openpyxl took seconds for the
month's half a million cells). The file is byte-identical for the same plan: the
document dates and the zip entries' times are the plan's first day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner._atomic import atomic_writer
from planner.export._xlsx import Sheet, xlsx_bytes
from planner.export.bundle import PlanBundle

KG = "0.0"
KM = "0.0"
MIN = "0"
CNY = '"¥"#,##0.00'
TIME = "hh:mm"
DATE = "yyyy-mm-dd"
INT = "0"

STEP_ZH = {"start": "出发", "collect": "收运", "unload": "卸车", "break": "休息", "end": "返回"}
STREAM_ZH = {"sell": "卖", "exchange": "换", "compost": "堆"}

# summary.json money fields shown per gacha and township: (key, header, format).
MONEY = (
    ("sold_kg", "售出 sold kg", KG),
    ("exchanged_kg", "兑换 exchanged kg", KG),
    ("composted_kg", "堆肥 composted kg", KG),
    ("cash_paid_cny", "现金支付 cash paid", CNY),
    ("goods_value_cny", "兑换物品 goods value", CNY),
    ("resale_revenue_cny", "回收收入 resale revenue", CNY),
    ("fuel_cny", "燃油 fuel", CNY),
    ("driver_cny", "司机 driver", CNY),
    ("net_cost_cny", "净成本 net cost", CNY),
    ("fee_budget_cny", "农维费预算 fee budget", CNY),
    ("fee_balance_cny", "结余 balance", CNY),
)


@dataclass(frozen=True)
class Col:
    """A sheet column: header text and Excel number format (None: general)."""

    header: str
    fmt: str | None = None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _runs(bundle: PlanBundle) -> tuple[list[Col], list[list[Any]]]:
    fleet = {v.id: v for v in bundle.scenario.fleet}
    has_summary = bundle.summary is not None
    cols = [
        Col("车次 run"),
        Col("日期 date", DATE),
        Col("车辆 truck"),
        Col("车名 truck name"),
        Col("司机 driver"),
        Col("车库 depot"),
        Col("出发 start", TIME),
        Col("返回 end", TIME),
        Col("里程 km", KM),
        Col("时长 minutes", MIN),
        Col("收运点 stops", INT),
        Col("卸车 unloads", INT),
        Col("收运量 collected kg", KG),
        Col("燃油 fuel", CNY),
        Col("司机 driver cost", CNY),
        Col("运行费用 run cost", CNY),
    ]
    if has_summary:
        cols += [
            Col("收购款 purchases", CNY),
            Col("备用现金 cash float", CNY),
            Col("兑换物品 goods value", CNY),
            Col("物品体积 goods m³", "0.00"),
            Col("物品装得下 goods fit"),
        ]
    rows = []
    for run in bundle.runs:
        steps = run.steps
        v = fleet.get(run.vehicle)
        km = float(run.distance_km)
        minutes = float(run.duration_min)
        # Same rates the plan's cost_cny uses: per km, and per hour of the run.
        fuel = round(km * v.cost_per_km, 2) if v else None
        driver = round(minutes / 60.0 * v.cost_per_hour, 2) if v else None
        row: list[Any] = [
            run.id,
            run.date,
            run.vehicle,
            v.name if v else "",
            v.driver if v else "",
            v.depot if v else "",
            steps[0].departure.time(),
            steps[-1].arrival.time(),
            km,
            minutes,
            sum(1 for s in steps if s.type == "collect"),
            sum(1 for s in steps if s.type == "unload"),
            round(sum(s.collected_kg for s in steps), 3),
            fuel,
            driver,
            round(fuel + driver, 2) if fuel is not None and driver is not None else None,
        ]
        if has_summary:
            carry = bundle.run_carry(run.id) or {}
            fit = carry.get("goods_fit")
            row += [
                carry.get("purchases_cny"),
                carry.get("cash_float_cny"),
                carry.get("goods_value_cny"),
                carry.get("goods_m3"),
                None if fit is None else ("是 yes" if fit else "否 no"),
            ]
        rows.append(row)
    return cols, rows


def _categories(bundle: PlanBundle) -> list[tuple[str, str]]:
    """Collected categories (id, header name) in scenario order, then any others in the plan."""
    known = [(c.id, c.name) for c in bundle.scenario.settings.categories if c.stream != "compost"]
    seen = {cid for cid, _ in known}
    extra = sorted({k for r in bundle.runs for s in r.steps for k in (s.collected or {})} - seen)
    return known + [(k, k) for k in extra]


def _stops(bundle: PlanBundle) -> tuple[list[Col], list[list[Any]]]:
    cats = _categories(bundle)
    cols = [
        Col("车次 run"),
        Col("日期 date", DATE),
        Col("车辆 truck"),
        Col("司机 driver"),
        Col("序号 stop no.", INT),
        Col("类型 type"),
        Col("步骤 step"),
        Col("地点 place"),
        Col("名称 name"),
        Col("嘎查 gacha"),
        Col("苏木镇 township"),
        Col("到达 arrival", TIME),
        Col("离开 departure", TIME),
        Col("路段 leg km", KM),
        Col("路段 leg min", MIN),
        *[Col(f"{name} {cid} kg", KG) for cid, name in cats],
        Col("收运 collected kg", KG),
        Col("卸下 unloaded kg", KG),
        Col("车载 load kg", KG),
    ]
    rows = []
    fleet = {v.id: v for v in bundle.scenario.fleet}
    for run in bundle.runs:
        v = fleet.get(run.vehicle)
        for stop, st in zip(bundle.stops(run), run.steps, strict=True):
            collected = st.collected or {}
            rows.append(
                [
                    run.id,
                    run.date,
                    run.vehicle,
                    v.driver if v else "",
                    stop.number,
                    stop.type,
                    STEP_ZH.get(stop.type, stop.type),
                    stop.place,
                    stop.name,
                    stop.gacha,
                    stop.township,
                    st.arrival.time(),
                    st.departure.time(),
                    stop.leg_km,
                    stop.leg_min,
                    *[collected.get(cid) for cid, _ in cats],
                    round(sum(collected.values()), 3) if collected else None,
                    round(sum(st.unloaded.values()), 3) if st.unloaded else None,
                    st.load_after.get("kg"),
                ]
            )
    return cols, rows


def _tallies(bundle: PlanBundle) -> tuple[list[Col], list[list[Any]]]:
    """One row per household and visit with its totals per stream.

    tallies.csv has a row per household, visit and category (three quarters of a
    million for the banner's month): too many for a sheet people filter by hand.
    The per-category rows stay in the CSV.
    """
    cols = [
        Col("车次 run"),
        Col("日期 date", DATE),
        Col("收运点 point"),
        Col("点名 point name"),
        Col("嘎查 gacha"),
        Col("农户 household"),
        Col("卖 sell kg", KG),
        Col("现金 cash paid", CNY),
        Col("换 exchange kg", KG),
        Col("兑换物品 goods value", CNY),
        Col("件 items", INT),
        Col("堆 compost kg", KG),
    ]
    sums: dict[tuple[str, str, str], list[Any]] = {}
    for t in bundle.tallies:
        key = (t.run_id, t.point, t.household)
        rec = sums.get(key)
        if rec is None:
            place = bundle.places.get(t.point)
            point = bundle.points.get(t.point)
            rec = sums[key] = [
                t.run_id,
                _date(t.date),
                t.point,
                place.name if place else "",
                point.gacha if point else "",
                t.household,
                0.0,
                0.0,
                0.0,
                0.0,
                0,
                0.0,
            ]
        if t.unit == "item":
            rec[10] += round(t.quantity)
        elif t.stream == "sell":
            rec[6] += t.quantity
            rec[7] += t.value_cny
        elif t.stream == "exchange":
            rec[8] += t.quantity
            rec[9] += t.value_cny
        else:
            rec[11] += t.quantity
    rows = []
    for rec in sums.values():
        for k in (6, 8, 11):
            rec[k] = round(rec[k], 3)
        for k in (7, 9):
            rec[k] = round(rec[k], 2)
        rows.append(rec)
    return cols, rows


def _area_base(bundle: PlanBundle, key: str) -> dict[str, dict[str, Any]]:
    """Points, households, people, visits and collected kg per gacha code or township."""
    out: dict[str, dict[str, Any]] = {}
    for p in bundle.scenario.points:
        k = (p.gacha_code or p.gacha) if key == "gacha" else (p.township_code or p.township)
        rec = out.setdefault(
            k,
            {
                "name": p.gacha if key == "gacha" else p.township,
                "code": k,
                "township": p.township,
                "points": 0,
                "households": 0,
                "people": 0,
                "visits": 0,
                "collected": 0.0,
                "unserved": 0,
            },
        )
        rec["points"] += 1
        rec["households"] += p.households
        rec["people"] += p.people
    area_of = {
        p.id: ((p.gacha_code or p.gacha) if key == "gacha" else (p.township_code or p.township))
        for p in bundle.scenario.points
    }
    for run in bundle.runs:
        for st in run.steps:
            if st.type == "collect" and st.place in area_of:
                rec = out[area_of[st.place]]
                rec["visits"] += 1
                rec["collected"] += st.collected_kg
    for u in bundle.plan.unserved:
        if u.point in area_of:
            out[area_of[u.point]]["unserved"] += 1
    return out


def _areas(bundle: PlanBundle, key: str) -> tuple[list[Col], list[list[Any]]]:
    base = _area_base(bundle, key)
    summary_key = "gachas" if key == "gacha" else "townships"
    money: dict[str, dict[str, Any]] = {}
    for rec in (bundle.summary or {}).get(summary_key, []):
        code = rec.get(f"{key}_code") or rec.get(key, "")
        money[code] = rec
        money.setdefault(rec.get(key, ""), rec)
    cols = (
        [Col("嘎查 gacha"), Col("代码 gacha code"), Col("苏木镇 township")]
        if key == "gacha"
        else [Col("苏木镇 township"), Col("代码 township code")]
    )
    cols += [
        Col("收运点 points", INT),
        Col("户数 households", INT),
        Col("人口 people", INT),
        Col("收运次数 visits", INT),
        Col("未收运 unserved", INT),
        Col("收运量 collected kg", KG),
    ]
    with_money = bundle.summary is not None
    if with_money:
        cols += [Col(header, fmt) for _, header, fmt in MONEY]
    rows = []
    for code, rec in sorted(base.items(), key=lambda kv: kv[0]):
        row: list[Any] = [rec["name"], code] + ([rec["township"]] if key == "gacha" else [])
        row += [
            rec["points"],
            rec["households"],
            rec["people"],
            rec["visits"],
            rec["unserved"],
            round(rec["collected"], 3),
        ]
        if with_money:
            m = money.get(code) or money.get(rec["name"]) or {}
            row += [m.get(field) for field, _, _ in MONEY]
        rows.append(row)
    if rows:
        rows.append(_totals_row(rows, 3 if key == "gacha" else 2))
    return cols, rows


TOTAL = "合计 total"


def _totals_row(rows: list[list[Any]], first_number: int) -> list[Any]:
    """The sum of every number column of ``rows``; the first cell says it is the total."""
    out: list[Any] = [TOTAL] + [""] * (first_number - 1)
    for j in range(first_number, len(rows[0])):
        values = [r[j] for r in rows if isinstance(r[j], int | float)]
        total = sum(values) if values else None
        out.append(round(total, 3) if isinstance(total, float) else total)
    return out


def _unserved(bundle: PlanBundle) -> tuple[list[Col], list[list[Any]]]:
    cols = [
        Col("收运点 point"),
        Col("名称 name"),
        Col("嘎查 gacha"),
        Col("苏木镇 township"),
        Col("日期 date", DATE),
        Col("原因 reason"),
    ]
    rows = []
    for u in bundle.plan.unserved:
        place = bundle.places.get(u.point)
        point = bundle.points.get(u.point)
        rows.append(
            [
                u.point,
                place.name if place else "",
                point.gacha if point else "",
                point.township if point else "",
                u.date,
                u.reason,
            ]
        )
    return cols, rows


def _width(value: Any, fmt: str | None) -> int:
    if isinstance(value, dt.time):
        return 5
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}") + (2 if fmt == CNY else 0)
    text = "" if value is None else str(value)
    # CJK characters take about two columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet(title: str, cols: Sequence[Col], rows: list[list[Any]]) -> Sheet:
    """A worksheet with widths from its widest cell per column (capped)."""
    widths = [
        min(max(max([_width(col.header, None), *(_width(r[j], col.fmt) for r in rows)]) + 2, 6), 60)
        for j, col in enumerate(cols)
    ]
    return Sheet(
        title=title,
        headers=[c.header for c in cols],
        formats=[c.fmt for c in cols],
        widths=widths,
        rows=rows,
    )


def workbook_bytes(bundle: PlanBundle) -> bytes:
    """The workbook as bytes (see the module docstring for its sheets)."""
    start = bundle.plan.period.start
    sheets = [
        _sheet("runs", *_runs(bundle)),
        _sheet("stops", *_stops(bundle)),
        _sheet("tallies", *_tallies(bundle)),
        _sheet("gachas", *_areas(bundle, "gacha")),
        _sheet("townships", *_areas(bundle, "township")),
        _sheet("unserved", *_unserved(bundle)),
    ]
    return xlsx_bytes(
        sheets,
        title=f"{bundle.plan.scenario} {start.isoformat()}",
        creator="planner",
        stamp=dt.datetime.combine(start, dt.time(0)),
    )


def write_workbook(bundle: PlanBundle, out_dir: Path) -> Path:
    """Write ``OUT/plan.xlsx`` atomically and return its path.

    Parameters
    ----------
    bundle
        The plan folder read with :func:`planner.export.read_bundle`.
    out_dir
        The output folder.
    """
    path = Path(out_dir) / "plan.xlsx"
    data = workbook_bytes(bundle)
    with atomic_writer(path, "wb") as fh:
        fh.write(data)
    return path


__all__ = ["workbook_bytes", "write_workbook"]
