"""Words and formats of every output, in Chinese (default) and English.

One module for the run sheets, the report and the maps, so that a date or a number
reads the same on all of them: :func:`long_date` (``2026年12月1日 星期二`` /
``Tue 1 Dec 2026``), :func:`short_date`, :func:`weekday`, :func:`num`, :func:`fmt_kg`,
:func:`fmt_cny`. Place names stay as the scenario spells them; only the outputs' own
words and the category and goods names change with the language. No locale of the
machine is read (``strftime("%b")`` would follow it), so files are the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from planner._errors import PlanError

if TYPE_CHECKING:
    from planner.export.bundle import PlanBundle

LANGS = ("zh", "en")

WEEKDAYS = {
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
# One character (zh) or two letters (en), for calendar grids.
WEEKDAYS_SHORT = {"zh": "一二三四五六日", "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_lang(lang: str) -> str:
    """Return ``lang`` if the outputs speak it.

    Raises
    ------
    PlanError
        ``lang`` is not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise PlanError(f"lang: expected one of {', '.join(LANGS)}, found {lang!r}")
    return lang


def weekday(day: dt.date, lang: str, *, short: bool = False) -> str:
    """``星期二`` / ``Tue``; with ``short``: ``二`` / ``Tu``."""
    table = WEEKDAYS_SHORT if short else WEEKDAYS
    return table[check_lang(lang)][day.weekday()]


def long_date(day: dt.date, lang: str) -> str:
    """``2026年12月1日 星期二`` or ``Tue 1 Dec 2026``."""
    if check_lang(lang) == "zh":
        return f"{day.year}年{day.month}月{day.day}日 {weekday(day, lang)}"
    return f"{weekday(day, lang)} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def short_date(day: dt.date, lang: str) -> str:
    """``12月1日 二`` or ``Tu 1 Dec``, for table rows."""
    if check_lang(lang) == "zh":
        return f"{day.month}月{day.day}日 {weekday(day, lang, short=True)}"
    return f"{weekday(day, lang, short=True)} {day.day} {MONTHS_EN[day.month - 1]}"


def month_label(start: dt.date, end: dt.date, lang: str) -> str:
    """The planning month (``2026年12月`` / ``Dec 2026``), or the span when it is not one."""
    if (start.year, start.month) == (end.year, end.month):
        if check_lang(lang) == "zh":
            return f"{start.year}年{start.month}月"
        return f"{MONTHS_EN[start.month - 1]} {start.year}"
    return f"{start.isoformat()} – {end.isoformat()}"


def num(x: float, decimals: int = 0) -> str:
    """A number with thousands separators: ``12,345.6``."""
    return f"{x:,.{decimals}f}"


def fmt_kg(v: float) -> str:
    """Kilograms with sense: ``1234``, ``12.5``, ``0.06``."""
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_cny(v: float) -> str:
    """Yuan with fen: ``12.50``."""
    return f"{v:.2f}"


def duration(minutes: float, lang: str) -> str:
    """``7:05 h`` from an hour on, else ``45 分钟`` / ``45 min``."""
    m = round(minutes)
    if m >= 60:
        return f"{m // 60}:{m % 60:02d} h"
    return f"{m} {'分钟' if check_lang(lang) == 'zh' else 'min'}"


def category_name(bundle: PlanBundle, cat_id: str, lang: str) -> str:
    """A category's name in ``lang`` (the id if the scenario lacks it)."""
    for c in bundle.scenario.settings.categories:
        if c.id == cat_id:
            return (c.name_en or c.name) if lang == "en" else c.name
    return cat_id


def goods_name(bundle: PlanBundle, item: str, fallback: str, lang: str) -> str:
    """An exchange good's name in ``lang`` (``fallback`` if unknown)."""
    for g in bundle.scenario.settings.goods:
        if g.id == item:
            return (g.name_en or g.name) if lang == "en" else g.name
    return fallback or item


def sheet_words(lang: str) -> dict[str, str]:
    """The run sheet's words in ``lang``."""
    return {k: v[check_lang(lang)] for k, v in SHEET.items()}


# The run sheet's words (HTML and PDF): key -> {zh, en}.
SHEET: dict[str, dict[str, str]] = {
    "title": {"zh": "收运路线单", "en": "Collection run sheet"},
    "run": {"zh": "路线", "en": "Run"},
    "date": {"zh": "日期", "en": "Date"},
    "truck": {"zh": "车辆", "en": "Truck"},
    "driver": {"zh": "司机", "en": "Driver"},
    "depot": {"zh": "车库", "en": "Depot"},
    "departure": {"zh": "出发", "en": "Departure"},
    "return": {"zh": "返回", "en": "Return"},
    "distance": {"zh": "里程", "en": "Distance"},
    "duration": {"zh": "时长", "en": "Duration"},
    "contact": {"zh": "调度电话", "en": "Office phone"},
    "stops": {"zh": "停靠顺序", "en": "Stops in order"},
    "col_no": {"zh": "序号", "en": "#"},
    "col_time": {"zh": "到达–离开", "en": "Arrive–leave"},
    "col_window": {"zh": "公告时段", "en": "Announced"},
    "col_place": {"zh": "地点", "en": "Place"},
    "col_leg": {"zh": "距上一站", "en": "From previous"},
    "col_what": {"zh": "事项", "en": "What"},
    "start": {"zh": "从车库出发", "en": "Leave depot"},
    "collect": {"zh": "收运", "en": "Collect"},
    "unload": {"zh": "卸车", "en": "Unload"},
    "break": {"zh": "午休", "en": "Break"},
    "end": {"zh": "返回车库", "en": "Back at depot"},
    "households_n": {"zh": "户", "en": "households"},
    "carry": {"zh": "随车携带", "en": "To carry"},
    "cash_float": {"zh": "备用现金", "en": "Cash float"},
    "purchases": {"zh": "预计收购款", "en": "Expected purchases"},
    "goods_value": {"zh": "兑换物品价值", "en": "Goods value"},
    "goods": {"zh": "兑换物品", "en": "Exchange goods"},
    "goods_unit": {"zh": "单位", "en": "Unit"},
    "goods_expected": {"zh": "预计发放", "en": "Expected"},
    "goods_load": {"zh": "装车数量", "en": "Load"},
    "not_computed": {"zh": "未计算（缺少 summary.json）", "en": "not computed (no summary.json)"},
    "not_in_summary": {
        "zh": "未计算（summary.json 中无此路线）",
        "en": "not computed (run missing from summary.json)",
    },
    "from_tallies": {"zh": "据 tallies.csv", "en": "from tallies.csv"},
    "demand": {"zh": "预计量来源", "en": "expected kg"},
    "demand_ledger": {
        "zh": "台账记录 {k}/{n} 站，其余按假设",
        "en": "ledger history at {k} of {n} stops, the rest assumed",
    },
    "carry_basis": {"zh": "现金与物品", "en": "cash and goods"},
    "carry_ledger": {
        "zh": "按预测上限（短缺概率 {p}）",
        "en": "forecast upper bound ({p} chance of running short)",
    },
    "goods_fit_no": {
        "zh": "注意：物品体积超出车厢余量",
        "en": "Note: the goods do not fit the free box volume",
    },
    "map": {"zh": "路线示意图", "en": "Route map"},
    "map_synthetic": {"zh": "位置与道路为合成数据", "en": "positions and roads are synthetic"},
    "legend_depot": {"zh": "车库", "en": "depot"},
    "legend_station": {"zh": "中转站", "en": "station"},
    "legend_stop": {"zh": "收运点（按顺序编号）", "en": "stop (numbered in order)"},
    "legend_road": {"zh": "附近道路", "en": "roads nearby"},
    "form": {"zh": "收购登记表", "en": "Tally form"},
    "arrive": {"zh": "到达", "en": "arrive"},
    "household": {"zh": "户号", "en": "Household"},
    "name": {"zh": "户主", "en": "Name"},
    "people": {"zh": "人", "en": "Ppl"},
    "expected": {"zh": "预计", "en": "Expected"},
    "exp_sell_kg": {"zh": "卖 kg", "en": "sell kg"},
    "exp_cash": {"zh": "现金 元", "en": "cash"},
    "exp_points": {"zh": "积分", "en": "points"},
    "balance": {"zh": "积分余额", "en": "balance"},
    "goods_due": {"zh": "应发物品", "en": "Goods due"},
    "actual": {"zh": "实际（请填写）", "en": "Actual (fill in)"},
    "act_sell_kg": {"zh": "卖 kg", "en": "sell kg"},
    "act_exch_kg": {"zh": "换 kg", "en": "exch. kg"},
    "cash_paid": {"zh": "付现金 元", "en": "Cash paid"},
    "signature": {"zh": "户主签字", "en": "Signature"},
    "total": {"zh": "合计", "en": "Total"},
    "no_households": {
        "zh": "无住户名单：请逐户登记。",
        "en": "No household list: write each household in.",
    },
    "end_box": {"zh": "收车登记（返回车库时填写）", "en": "End of run (fill in back at the depot)"},
    "cash_returned": {"zh": "交回现金 元", "en": "Cash returned CNY"},
    "goods_returned": {"zh": "交回物品（名称 × 数量）", "en": "Goods returned (item × count)"},
    "weigh_ticket": {"zh": "中转站过磅单号 / 重量 kg", "en": "Station weigh ticket no. / kg"},
    "odometer": {"zh": "里程表 出发 / 返回 km", "en": "Odometer out / back km"},
    "driver_sign": {"zh": "司机签字", "en": "Driver's signature"},
    "checked_by": {"zh": "核收人签字", "en": "Checked by"},
    "page": {"zh": "页", "en": "page"},
    "yuan": {"zh": "元", "en": "CNY"},
    "km": {"zh": "公里", "en": "km"},
    "min": {"zh": "分钟", "en": "min"},
    "none": {"zh": "—", "en": "—"},
}


# The report's words: key -> {zh, en}; {} fields are filled with str.format.
REPORT: dict[str, dict[str, str]] = {
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
    "nav_timing": {"zh": "定时", "en": "Fixed times"},
    "timing_note": {
        "zh": "每个收运点公告一个到达时段（定时）；目标是一小时。下表按时段宽度统计收运点。",
        "en": "Every point is announced one arrival window (定时); the target is one hour. "
        "Points by the width of their window:",
    },
    "window_width": {"zh": "公告时段宽度", "en": "Window width"},
    "points_n": {"zh": "收运点", "en": "Points"},
    "share": {"zh": "占比", "en": "Share"},
    "wide_windows": {"zh": "时段超过 1 小时", "en": "Window over 1 h"},
    "wide_of": {"zh": "共 {} 个收运点", "en": "of {} points"},
    "no_window": {"zh": "无公告时段", "en": "no window"},
    "goods_fit": {"zh": "物品装得下", "en": "Goods fit"},
    "goods_misfit": {"zh": "物品装不下的车次", "en": "Runs whose goods do not fit"},
    "goods_misfit_of": {"zh": "共 {} 车次", "en": "of {} runs"},
    "fit_yes": {"zh": "✓", "en": "✓"},
    "fit_no": {"zh": "⚠ 超出", "en": "⚠ over"},
    "township_maps": {"zh": "各苏木镇地图", "en": "Maps per township"},
}

# summary.json's assumptions are written in English by the money step; the report
# shows them in its own language (a sentence not listed here stays as written).
ASSUMPTIONS_ZH: dict[str, str] = {
    "a stop's collected kg is shared among the point's households in proportion to their "
    "people": "每次收运的重量按人口分摊到该点的各户",
    "compost is what a household generated since the point's previous visit": (
        "堆肥量为该户自上次收运以来产生的厨余等垃圾"
    ),
    "the buyer pays each category's resale_price_cny_kg for everything collected": (
        "回收企业按各品类的转售单价（resale_price_cny_kg）收购全部收运物"
    ),
    "a run's fuel and driver cost is shared among the gachas it serves by households at its "
    "stops": "每车次的油耗和司机费用按所经各点的户数分摊到各嘎查",
    "the 农维费 budget is the year's fee per gacha x days in the month / days in the year": (
        "农维费预算 = 每嘎查年度费用 × 本月天数 ÷ 全年天数"
    ),
    "households take exchange goods in catalogue order, one item at a time, and keep the "
    "points they cannot spend for the next visit (balances start the month at 0)": (
        "农牧户按物品目录顺序逐件兑换，不够兑换的积分留到下次（月初积分为 0）"
    ),
}


def assumption(text: str, lang: str) -> str:
    """An assumption sentence of summary.json in ``lang``."""
    return ASSUMPTIONS_ZH.get(text, text) if check_lang(lang) == "zh" else text
