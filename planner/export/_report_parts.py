"""Pieces of the HTML report: words in two languages, style, script, tables.

Kept apart from :mod:`planner.export.report` so that the report module reads as
the list of its sections. Everything here returns HTML text that is already
escaped; callers only join it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from planner._errors import PlanError
from planner.export.bundle import PlanBundle
from planner.scenario.settings import VehicleSpec

LANGS = ("zh", "en")

# One entry per piece of text the report shows; {} fields are filled with str.format.
WORDS: dict[str, dict[str, str]] = {
    "title": {"zh": "收运计划报告", "en": "Collection plan report"},
    "source": {
        "zh": "由 plan.json 生成（SHA-256 {}）",
        "en": "Generated from plan.json (SHA-256 {})",
    },
    "period": {"zh": "计划期", "en": "Period"},
    "timezone": {"zh": "时区", "en": "Time zone"},
    "scope": {
        "zh": "{} 个收运点 · {} 户 · {} 辆车 · {} 个服务日",
        "en": "{} points · {} households · {} trucks · {} service days",
    },
    "synthetic": {
        "zh": "位置与道路为合成数据，仅供演示。",
        "en": "Positions and roads are synthetic, for demonstration only.",
    },
    "nav_summary": {"zh": "概况", "en": "Summary"},
    "nav_money": {"zh": "费用与收益", "en": "Money"},
    "nav_calendar": {"zh": "收运日历", "en": "Calendar"},
    "nav_map": {"zh": "地图", "en": "Map"},
    "nav_runs": {"zh": "趟次与出车单", "en": "Runs and run sheets"},
    "nav_unserved": {"zh": "未到访", "en": "Unserved visits"},
    "nav_assumptions": {"zh": "假设", "en": "Assumptions"},
    "runs": {"zh": "趟次", "en": "Runs"},
    "visits": {"zh": "到访", "en": "Visits"},
    "visits_of": {"zh": "应到访 {}", "en": "of {} required"},
    "unserved": {"zh": "未到访", "en": "Unserved"},
    "km": {"zh": "里程 km", "en": "Distance km"},
    "hours": {"zh": "工时 h", "en": "Hours"},
    "cost": {"zh": "车辆费用 元", "en": "Truck cost CNY"},
    "stream_sell": {"zh": "一卖 回收 kg", "en": "Sold kg"},
    "stream_exchange": {"zh": "一换 兑换 kg", "en": "Exchanged kg"},
    "stream_compost": {"zh": "一堆 堆肥 kg", "en": "Composted kg"},
    "compost_note": {"zh": "留在户内堆肥", "en": "stays in household pits"},
    "collected_note": {"zh": "由车辆收运", "en": "taken by the trucks"},
    "net_cost": {"zh": "净成本 元", "en": "Net cost CNY"},
    "cash_paid": {"zh": "付给农牧户现金 元", "en": "Cash paid CNY"},
    "goods_value": {"zh": "兑换物品价值 元", "en": "Goods handed out CNY"},
    "fee_balance": {"zh": "农维费结余 元", "en": "Fee balance CNY"},
    "reward_months": {"zh": "奖励基金可用月数", "en": "Reward fund lasts, months"},
    "reward_of": {"zh": "基金 {} 元", "en": "fund {} CNY"},
    "no_money": {
        "zh": "费用数字尚未计算：此计划目录中没有 summary.json。",
        "en": "The money figures were not computed: this plan folder has no summary.json.",
    },
    "by_township": {"zh": "按苏木镇", "en": "By township"},
    "by_gacha": {"zh": "按嘎查", "en": "By gacha"},
    "goods": {"zh": "兑换物品", "en": "Exchange goods"},
    "per_household": {
        "zh": "每户平均：一卖 {} kg · 一换 {} kg · 一堆 {} kg · 现金 {} 元 · 物品 {} 元",
        "en": "Per household: sold {} kg · exchanged {} kg · composted {} kg · "
        "cash {} CNY · goods {} CNY",
    },
    "township": {"zh": "苏木镇", "en": "Township"},
    "gacha": {"zh": "嘎查", "en": "Gacha"},
    "total": {"zh": "合计", "en": "Total"},
    "grp_kg": {"zh": "收运 kg", "en": "Waste kg"},
    "grp_cny": {"zh": "金额 元", "en": "Money CNY"},
    "grp_fee": {"zh": "农维费 元", "en": "Maintenance fee CNY"},
    "households": {"zh": "户数", "en": "Households"},
    "people": {"zh": "人口", "en": "People"},
    "sold_kg": {"zh": "一卖", "en": "Sold"},
    "exchanged_kg": {"zh": "一换", "en": "Exch."},
    "composted_kg": {"zh": "一堆", "en": "Comp."},
    "cash_paid_cny": {"zh": "付现金", "en": "Cash paid"},
    "resale_revenue_cny": {"zh": "转售收入", "en": "Resale"},
    "goods_value_cny": {"zh": "物品", "en": "Goods"},
    "fuel_cny": {"zh": "油耗", "en": "Fuel"},
    "driver_cny": {"zh": "司机", "en": "Driver"},
    "net_cost_cny": {"zh": "净成本", "en": "Net cost"},
    "fee_budget_cny": {"zh": "预算", "en": "Budget"},
    "fee_balance_cny": {"zh": "结余", "en": "Balance"},
    "item": {"zh": "物品", "en": "Item"},
    "unit": {"zh": "单位", "en": "Unit"},
    "handed_out": {"zh": "发放数量", "en": "Handed out"},
    "value_cny": {"zh": "价值 元", "en": "Value CNY"},
    "cal_note": {
        "zh": "每格：车辆与预计到达时间；✕ 为未到访（悬停查看原因）。",
        "en": "Each cell: truck and expected arrival; ✕ marks an unserved visit "
        "(hover for the reason).",
    },
    "filter": {"zh": "筛选点位、嘎查或车辆…", "en": "Filter points, gachas or trucks…"},
    "point": {"zh": "收运点", "en": "Point"},
    "undated": {"zh": "未排期", "en": "No date"},
    "arrival": {"zh": "到达", "en": "arrives"},
    "window": {"zh": "时段", "en": "window"},
    "n_points": {"zh": "{} 个点", "en": "{} points"},
    "legend": {"zh": "车辆", "en": "Trucks"},
    "map_alt": {
        "zh": "收运点、车库、中转站与路线地图",
        "en": "Map of points, depots, stations and runs",
    },
    "no_map": {"zh": "地图未能生成：{}", "en": "The map could not be made: {}"},
    "date": {"zh": "日期", "en": "Date"},
    "truck": {"zh": "车辆", "en": "Truck"},
    "driver": {"zh": "司机", "en": "Driver"},
    "times": {"zh": "出发–返回", "en": "Out – back"},
    "stops": {"zh": "收运点", "en": "Stops"},
    "run_km": {"zh": "里程 km", "en": "km"},
    "run_h": {"zh": "时长 h", "en": "Hours"},
    "run_kg": {"zh": "收运 kg", "en": "Collected kg"},
    "unload_at": {"zh": "卸货", "en": "Unloads at"},
    "cash_float": {"zh": "备现金 元", "en": "Cash float CNY"},
    "sheet": {"zh": "出车单", "en": "Run sheet"},
    "sheet_web": {"zh": "网页", "en": "HTML"},
    "reason": {"zh": "原因", "en": "Reason"},
    "none_unserved": {"zh": "所有应到访均已安排。", "en": "Every required visit is planned."},
    "no_assumptions": {
        "zh": "没有 summary.json，因此没有列出假设。",
        "en": "No summary.json, so no assumptions are listed.",
    },
    "footer": {
        "zh": "本报告为单一文件，离线可读。出车单位于 sheets/ 目录。",
        "en": "This report is one file and reads offline. Run sheets are in sheets/.",
    },
}

WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def truck_css(count: int) -> str:
    """Classes ``.c0``… with a light background per truck.

    Hues step by the golden ratio through blue, green, yellow and violet, leaving
    out red, which marks unserved visits; alternate lightness parts close hues.
    """
    return "".join(
        f".c{k}{{background:hsl({30 + (0.6 + 0.618034 * k) % 1 * 300:.0f} 70% "
        f"{90 if k % 2 == 0 else 84}%)}}"
        for k in range(count)
    )


# Money table columns: summary key and decimals shown (raw value kept in data-v).
MONEY_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("households", "", 0),
    ("people", "", 0),
    ("visits", "", 0),
    ("sold_kg", "grp_kg", 1),
    ("exchanged_kg", "grp_kg", 1),
    ("composted_kg", "grp_kg", 1),
    ("cash_paid_cny", "grp_cny", 0),
    ("resale_revenue_cny", "grp_cny", 0),
    ("goods_value_cny", "grp_cny", 0),
    ("fuel_cny", "grp_cny", 0),
    ("driver_cny", "grp_cny", 0),
    ("net_cost_cny", "grp_cny", 0),
    ("fee_budget_cny", "grp_fee", 0),
    ("fee_balance_cny", "grp_fee", 0),
)

# Latin faces first (their digits), then CJK faces of each desktop system.
FONT_STACK = (
    '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", '
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", '
    '"Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", '
    '"SimHei", "Noto Sans CJK TC", sans-serif'
)

CSS = """
:root { --ink:#1f2933; --mute:#616e7c; --line:#d9e2ec; --soft:#f5f7fa; --accent:#1d4e89;
  --bad:#b42318; --good:#067647; }
* { box-sizing:border-box; }
html { font-family: FONTS; color:var(--ink); background:#fff; font-size:14px; line-height:1.45; }
body { margin:0; }
header.top { background:var(--accent); color:#fff; padding:22px 32px 18px; }
header.top h1 { margin:0 0 4px; font-size:24px; font-weight:600; letter-spacing:.02em; }
header.top .sub { opacity:.9; font-size:13px; }
header.top .sub span + span::before { content:"·"; margin:0 .6em; opacity:.7; }
nav { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line);
  padding:8px 32px; font-size:13px; }
nav a { color:var(--accent); text-decoration:none; margin-right:18px; }
main { padding:8px 32px 32px; max-width:1500px; }
section { margin-top:26px; }
h2 { font-size:18px; font-weight:600; margin:0 0 10px; padding-bottom:6px;
  border-bottom:2px solid var(--accent); }
h3, details > summary { font-size:15px; font-weight:600; margin:18px 0 8px; }
details > summary { cursor:pointer; }
p.note { color:var(--mute); margin:6px 0; font-size:13px; }
p.warn { color:var(--bad); }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(150px, 1fr)); gap:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:10px 12px;
  background:var(--soft); }
.card .k { color:var(--mute); font-size:12px; }
.card .v { font-size:21px; font-weight:600; font-variant-numeric:tabular-nums; }
.card .d { color:var(--mute); font-size:11px; }
.card.bad .v { color:var(--bad); }
table { border-collapse:collapse; font-variant-numeric:tabular-nums; }
table.data { font-size:12.5px; width:100%; }
table.data th, table.data td { border-bottom:1px solid var(--line); padding:4px 7px; }
table.data thead th { background:var(--soft); text-align:left; font-weight:600;
  white-space:nowrap; vertical-align:bottom; }
table.data thead th.grp { text-align:center; border-bottom:1px solid #bcccdc; }
table.data td.n, table.data th.n { text-align:right; white-space:nowrap; }
table.data tr.total td { font-weight:600; border-top:2px solid #9fb3c8; background:var(--soft); }
table.data td.neg { color:var(--bad); }
table.sortable th[data-col] { cursor:pointer; }
table.data tbody tr:hover { background:#f0f4f8; }
a.sheet { color:var(--accent); text-decoration:none; margin-right:8px; }
a.sheet:hover { text-decoration:underline; }
.legend { display:flex; flex-wrap:wrap; gap:6px 14px; font-size:12px; margin:6px 0 8px;
  align-items:center; }
.legend i { display:inline-block; width:14px; height:14px; border-radius:3px;
  vertical-align:-2px; margin-right:4px; border:1px solid #bcccdc; }
.tools { display:flex; gap:12px; align-items:center; margin:6px 0; }
.tools input { font:inherit; font-size:13px; padding:4px 8px; width:260px;
  border:1px solid #bcccdc; border-radius:4px; }
.grid-wrap { overflow:auto; max-height:78vh; border:1px solid var(--line); border-radius:4px; }
table.cal { font-size:11px; line-height:1.2; }
table.cal th, table.cal td { border-right:1px solid #eef2f6; border-bottom:1px solid #eef2f6;
  padding:2px 3px; text-align:center; min-width:42px; height:28px; }
table.cal thead th { position:sticky; top:0; z-index:2; background:var(--soft); font-weight:600;
  border-bottom:1px solid #bcccdc; }
table.cal thead th small { display:block; font-weight:400; color:var(--mute); }
table.cal thead th.wk, table.cal td.wk { border-left:2px solid #bcccdc; }
table.cal th.pt { position:sticky; left:0; z-index:1; background:#fff; text-align:left;
  font-weight:500; min-width:190px; max-width:230px; white-space:nowrap; overflow:hidden;
  text-overflow:ellipsis; }
table.cal thead th.pt { z-index:3; background:var(--soft); }
table.cal th.pt small { color:var(--mute); font-weight:400; margin-left:4px; }
table.cal tr.grp th { position:sticky; left:0; background:#e4ebf2; text-align:left;
  font-weight:600; font-size:12px; height:22px; }
table.cal tr.grp th span { color:var(--mute); font-weight:400; margin-left:6px; }
table.cal td.v { font-weight:600; cursor:default; }
table.cal td.v b { display:block; font-weight:400; color:#334e68; }
table.cal td.miss { background:#fee4e2; color:var(--bad); font-weight:700; cursor:help; }
figure.map { margin:0; }
figure.map img { max-width:100%; max-height:1100px; width:auto; height:auto;
  border:1px solid var(--line); border-radius:4px; }
figure.map figcaption { color:var(--mute); font-size:12px; margin-top:4px; }
ul.assume { margin:4px 0; padding-left:22px; }
ul.assume li { margin:3px 0; }
footer { color:var(--mute); font-size:12px; border-top:1px solid var(--line);
  padding:12px 32px 24px; }
@media print {
  nav, .tools { display:none; }
  .grid-wrap { max-height:none; overflow:visible; border:0; }
  table.cal thead th, table.cal th.pt, table.cal tr.grp th { position:static; }
  section { break-inside:auto; }
  @page { size:A4 landscape; margin:12mm; }
}
""".replace("FONTS", FONT_STACK)

# Click a header to sort its table; type in the calendar filter to narrow the rows.
SCRIPT = """
(function () {
  function key(td) { var v = td.getAttribute('data-v');
    return v === null ? td.textContent.trim() : parseFloat(v); }
  document.querySelectorAll('table.sortable').forEach(function (t) {
    t.querySelectorAll('th[data-col]').forEach(function (th) {
      th.addEventListener('click', function () {
        var c = +th.getAttribute('data-col'), up = th.getAttribute('data-up') !== '1';
        th.setAttribute('data-up', up ? '1' : '0');
        var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows)
          .filter(function (r) { return !r.classList.contains('total'); });
        rows.sort(function (a, b) { var x = key(a.cells[c]), y = key(b.cells[c]);
          var r = (typeof x === 'number' && typeof y === 'number') ? x - y
            : String(x).localeCompare(String(y));
          return up ? r : -r; });
        rows.forEach(function (r) { body.insertBefore(r, body.querySelector('tr.total')); });
      });
    });
  });
  var box = document.getElementById('cal-filter');
  if (box) box.addEventListener('input', function () {
    var q = box.value.trim().toLowerCase(), grp = null, shown = 0;
    function close() { if (grp) grp.style.display = shown ? '' : 'none'; }
    document.querySelectorAll('table.cal tbody tr').forEach(function (r) {
      if (r.classList.contains('grp')) { close(); grp = r; shown = 0; return; }
      var hit = !q || (r.getAttribute('data-find') || '').indexOf(q) >= 0;
      r.style.display = hit ? '' : 'none'; if (hit) shown++;
    });
    close();
  });
})();
"""


def word(lang: str, key: str, *args: object) -> str:
    """The text ``key`` in ``lang``, with ``args`` filled in, HTML-escaped."""
    return escape(WORDS[key][lang].format(*args))


def num(x: float, decimals: int = 0) -> str:
    """A number with thousands separators."""
    return f"{x:,.{decimals}f}"


def nd(x: float, decimals: int = 0, *, cls: str = "n") -> str:
    """A right-aligned table cell keeping the raw value for sorting."""
    neg = " neg" if x < 0 else ""
    return f'<td class="{cls}{neg}" data-v="{x!r}">{num(x, decimals)}</td>'


def weekday(lang: str, day: dt.date) -> str:
    return WEEKDAYS[lang][day.weekday()]


def long_date(lang: str, day: dt.date) -> str:
    """``2026年12月1日 周二`` or ``Tue 1 Dec 2026``."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日 周{weekday(lang, day)}"
    return f"{weekday(lang, day)} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def short_date(lang: str, day: dt.date) -> str:
    """``12月1日 二`` or ``Tu 1 Dec``, for table rows."""
    if lang == "zh":
        return f"{day.month}月{day.day}日 {weekday(lang, day)}"
    return f"{weekday(lang, day)} {day.day} {MONTHS_EN[day.month - 1]}"


def month_label(lang: str, start: dt.date, end: dt.date) -> str:
    """The planning month (``2026年12月``), or the span when it is not one month."""
    if (start.year, start.month) == (end.year, end.month):
        if lang == "zh":
            return f"{start.year}年{start.month}月"
        return f"{MONTHS_EN[start.month - 1]} {start.year}"
    return f"{start.isoformat()} – {end.isoformat()}"


def figure(name: str, where: str, rec: dict[str, Any], key: str) -> float:
    """A number from ``summary.json``.

    Raises
    ------
    PlanError
        The key is missing or not a finite number (names file, record and key).
    """
    value = rec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"{name}: {where}: expected a number at {key!r}, found {value!r}")
    return float(value)


def records(name: str, summary: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A list of objects from ``summary.json`` (missing: empty).

    Raises
    ------
    PlanError
        The value is not a list of objects.
    """
    value = summary.get(key, [])
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise PlanError(f"{name}: expected a list of objects at {key!r}, found {value!r:.80}")
    return value


def card(label: str, value: str, detail: str = "", *, bad: bool = False) -> str:
    cls = "card bad" if bad else "card"
    extra = f'<div class="d">{detail}</div>' if detail else ""
    return (
        f'<div class="{cls}"><div class="k">{label}</div><div class="v">{value}</div>{extra}</div>'
    )


def money_table(
    lang: str,
    table_id: str,
    rows: Sequence[tuple[Sequence[str], dict[str, Any], str]],
    total: dict[str, Any] | None,
    name_heads: Sequence[str],
    source: str,
) -> str:
    """A money table: name columns, then :data:`MONEY_COLUMNS`, then a totals row.

    ``rows`` holds (name cells, record, where-in-file) triples.
    """
    lead = len(name_heads)
    groups: list[tuple[str, int]] = []
    for _, grp, _ in MONEY_COLUMNS:
        if groups and groups[-1][0] == grp:
            groups[-1] = (grp, groups[-1][1] + 1)
        else:
            groups.append((grp, 1))
    top = [f'<th colspan="{lead}"></th>']
    for grp, span in groups:
        label = word(lang, grp) if grp else ""
        top.append(f'<th class="grp" colspan="{span}">{label}</th>')
    heads = [f'<th data-col="{k}">{escape(h)}</th>' for k, h in enumerate(name_heads)]
    heads += [
        f'<th class="n" data-col="{lead + k}">{word(lang, key)}</th>'
        for k, (key, _, _) in enumerate(MONEY_COLUMNS)
    ]
    body = []
    for names, rec, where in rows:
        cells = "".join(f"<td>{escape(n)}</td>" for n in names)
        cells += "".join(nd(figure(source, where, rec, k), d) for k, _, d in MONEY_COLUMNS)
        body.append(f"<tr>{cells}</tr>")
    if total is not None:
        cells = f'<td colspan="{lead}">{word(lang, "total")}</td>'
        cells += "".join(nd(figure(source, "totals", total, k), d) for k, _, d in MONEY_COLUMNS)
        body.append(f'<tr class="total">{cells}</tr>')
    return (
        f'<table class="data sortable money" id="{table_id}"><thead>'
        f"<tr>{''.join(top)}</tr><tr>{''.join(heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def simple_table(
    table_id: str, heads: Iterable[tuple[str, bool]], rows: Iterable[str], *, sortable: bool = True
) -> str:
    """A data table; ``heads`` are (escaped label, numeric?) and ``rows`` ready ``<tr>`` text."""
    ths = "".join(
        f'<th class="{"n" if numeric else "t"}" data-col="{k}">{label}</th>'
        for k, (label, numeric) in enumerate(heads)
    )
    cls = "data sortable" if sortable else "data"
    return (
        f'<table class="{cls}" id="{table_id}"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def parse_date(text: Any, where: str) -> dt.date:
    """A ``YYYY-MM-DD`` date of plan.json.

    Raises
    ------
    PlanError
        Not such a date (names the key).
    """
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise PlanError(f"plan.json: {where}: expected a date YYYY-MM-DD, found {text!r}") from None


# --- the calendar grid --------------------------------------------------------------


def calendar_grid(bundle: PlanBundle, lang: str) -> str:
    """Points (grouped by township and gacha) × service dates; a cell per visit.

    A visit cell names the truck and the arrival time; an unserved visit is a ✕
    whose title gives the reason. Unserved visits without a date get a last column.
    """
    plan = bundle.plan
    dates = sorted(
        {d.isoformat() for d in plan.period.service_dates} | {r.date.isoformat() for r in plan.runs}
    )
    visits: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for r in plan.runs:
        for st in r.collects:
            visits[st.place, r.date.isoformat()].append((r.vehicle, f"{st.arrival:%H:%M}", r.id))
    missed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u in plan.unserved:
        missed[u.point, u.date.isoformat() if u.date else ""].append(u.reason)
    columns = dates + ([""] if any(d == "" for _, d in missed) else [])
    grid = _Grid(
        lang=lang,
        colour={v.id: k for k, v in enumerate(plan.vehicles)},
        trucks={v.id: truck_label(v) for v in bundle.scenario.fleet},
        visits=visits,
        missed=missed,
    )

    heads = [f'<th class="pt">{word(lang, "point")}</th>']
    week_starts = {""}
    for prev, text in zip([None, *dates], dates, strict=False):
        day = parse_date(text, "period.service_dates")
        wk = prev is not None and day.isocalendar()[:2] != parse_date(prev, "").isocalendar()[:2]
        if wk:
            week_starts.add(text)
        cls = ' class="wk"' if wk else ""
        heads.append(
            f'<th{cls} data-date="{text}" title="{long_date(lang, day)}">'
            f"{day.day}<small>{weekday(lang, day)}</small></th>"
        )
    if columns[-1] == "":
        heads.append(f'<th class="wk">{word(lang, "undated")}</th>')

    groups = point_groups(bundle)
    sizes = Counter(grp for grp, _ in groups)
    rows: list[str] = []
    for k, (grp, pid) in enumerate(groups):
        if k == 0 or grp != groups[k - 1][0]:
            label = " › ".join(escape(x) for x in grp if x) or "—"
            rows.append(
                f'<tr class="grp"><th colspan="{len(columns) + 1}">{label}'
                f"<span>{word(lang, 'n_points', sizes[grp])}</span></th></tr>"
            )
        place = bundle.places.get(pid)
        name = (place.name if place is not None else "") or pid
        win = bundle.windows.get(pid)
        win_text = f"{win[0]}–{win[1]}" if win else ""
        used = sorted({v for d in dates for v, _, _ in visits.get((pid, d), [])})
        find = " ".join([name, pid, *grp, *used]).lower()
        small = escape(pid) + (f" · {win_text}" if win_text else "")
        cells = "".join(
            grid.cell(pid, d, " wk" if d in week_starts else "", win_text) for d in columns
        )
        rows.append(
            f'<tr data-point="{escape(pid)}" data-find="{escape(find)}">'
            f'<th class="pt" title="{escape(name)} {small}">{escape(name)}<small>{small}</small>'
            f"</th>{cells}</tr>"
        )

    legend = "".join(
        f'<span><i class="c{grid.colour[v.id]}"></i>{escape(v.id)} '
        f"{escape(grid.trucks.get(v.id, ''))}</span>"
        for v in plan.vehicles
    )
    return (
        f'<p class="note">{word(lang, "cal_note")}</p>'
        f'<div class="legend"><b>{word(lang, "legend")}</b>{legend}</div>'
        f'<div class="tools"><input id="cal-filter" type="search" '
        f'placeholder="{word(lang, "filter")}"></div>'
        f'<div class="grid-wrap"><table class="cal" id="calendar-grid">'
        f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


@dataclass(frozen=True)
class _Grid:
    lang: str
    colour: dict[str, int]
    trucks: dict[str, str]
    visits: dict[tuple[str, str], list[tuple[str, str, str]]]
    missed: dict[tuple[str, str], list[str]]

    def cell(self, pid: str, date: str, wk: str, window: str) -> str:
        """One grid cell; ``date`` "" is the column of undated unserved visits."""
        visits = self.visits.get((pid, date), []) if date else []
        reasons = self.missed.get((pid, date), [])
        if not visits and not reasons:
            return '<td class="wk"></td>' if wk else "<td></td>"
        words = WORDS
        tips: list[str] = []
        text: list[str] = []
        for vehicle, arrival, run_id in visits:
            win = f" · {words['window'][self.lang]} {window}" if window else ""
            label = self.trucks.get(vehicle, "")
            tips.append(
                f"{vehicle} {label} · {words['arrival'][self.lang]} {arrival}{win} · {run_id}"
            )
            text.append(f"{escape(vehicle)}<b>{arrival}</b>")
        for reason in reasons:
            tips.append(f"{words['unserved'][self.lang]}: {reason}")
            text.append("✕")
        if visits:
            runs = " ".join(escape(r) for _, _, r in visits)
            head = f'class="v c{self.colour.get(visits[0][0], 0)}{wk}" data-run="{runs}"'
        else:
            head = f'class="miss{wk}" data-unserved="{len(reasons)}"'
        title = escape("\n".join(tips))
        return f'<td {head} data-date="{date}" title="{title}">{"".join(text)}</td>'


def point_groups(bundle: PlanBundle) -> list[tuple[tuple[str, str], str]]:
    """Plan points as ((township, gacha), id), by township and gacha code, then file order."""
    order = {p.id: k for k, p in enumerate(bundle.scenario.points)}
    keyed = []
    for k, rec in enumerate(bundle.plan.points):
        p = bundle.points.get(rec.id)
        names = (p.township_code, p.township, p.gacha_code, p.gacha) if p else ("", "", "", "")
        keyed.append(((*names, order.get(rec.id, len(order) + k)), rec.id))
    keyed.sort()
    return [((key[1], key[3]), pid) for key, pid in keyed]


def truck_label(spec: VehicleSpec | None) -> str:
    """``name · driver`` of a truck (empty when neither is set)."""
    if spec is None:
        return ""
    return " · ".join(x for x in (spec.name, spec.driver) if x)
