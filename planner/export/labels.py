"""Words printed on run sheets, in Chinese (default) and English.

Place names stay as the scenario spells them; only the sheet's own words and the
category and goods names change with the language.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from planner._errors import PlanError

if TYPE_CHECKING:
    from planner.export.bundle import PlanBundle

LANGS = ("zh", "en")

_ZH: dict[str, str] = {
    "title": "收运路线单",
    "run": "路线",
    "date": "日期",
    "truck": "车辆",
    "driver": "司机",
    "depot": "车库",
    "departure": "出发",
    "return": "返回",
    "distance": "里程",
    "duration": "时长",
    "stops": "停靠顺序",
    "col_no": "序号",
    "col_time": "到达–离开",
    "col_window": "公告时段",
    "col_place": "地点",
    "col_leg": "距上一站",
    "col_what": "事项",
    "start": "从车库出发",
    "collect": "收运",
    "unload": "卸车",
    "break": "午休",
    "end": "返回车库",
    "unloaded": "卸下",
    "expected_load": "预计收运",
    "households_n": "户",
    "carry": "随车携带",
    "cash_float": "备用现金",
    "purchases": "预计收购款",
    "goods_value": "兑换物品价值",
    "goods": "兑换物品",
    "goods_item": "物品",
    "goods_unit": "单位",
    "goods_expected": "预计发放",
    "goods_load": "装车数量",
    "not_computed": "未计算（缺少 summary.json）",
    "not_in_summary": "未计算（summary.json 中无此路线）",
    "from_tallies": "据 tallies.csv",
    "demand": "预计量来源",
    "demand_ledger": "台账记录 {k}/{n} 站，其余按假设",
    "carry_basis": "现金与物品",
    "carry_ledger": "按预测上限（短缺概率 {p}）",
    "goods_fit_no": "注意：物品体积超出车厢余量",
    "map": "路线示意图",
    "map_synthetic": "位置与道路为合成数据",
    "legend_depot": "车库",
    "legend_station": "中转站",
    "legend_stop": "收运点",
    "form": "收购登记表",
    "arrive": "到达",
    "household": "户号",
    "name": "户主",
    "people": "人口",
    "expected": "预计",
    "exp_sell_kg": "卖出 kg",
    "exp_cash": "现金 元",
    "exp_points": "兑换积分",
    "actual_kg": "实收 kg（请填写）",
    "cash_paid": "实付现金 元",
    "goods_given": "发放物品",
    "signature": "户主签字",
    "total": "合计",
    "no_households": "无住户名单：请逐户登记。",
    "stream_sell": "卖",
    "stream_exchange": "换",
    "page": "页",
    "yuan": "元",
    "km": "公里",
    "min": "分钟",
    "none": "—",
}

_EN: dict[str, str] = {
    "title": "Collection run sheet",
    "run": "Run",
    "date": "Date",
    "truck": "Truck",
    "driver": "Driver",
    "depot": "Depot",
    "departure": "Departure",
    "return": "Return",
    "distance": "Distance",
    "duration": "Duration",
    "stops": "Stops in order",
    "col_no": "#",
    "col_time": "Arrive–leave",
    "col_window": "Announced",
    "col_place": "Place",
    "col_leg": "From previous",
    "col_what": "What",
    "start": "Leave depot",
    "collect": "Collect",
    "unload": "Unload",
    "break": "Break",
    "end": "Back at depot",
    "unloaded": "unload",
    "expected_load": "Expected",
    "households_n": "households",
    "carry": "To carry",
    "cash_float": "Cash float",
    "purchases": "Expected purchases",
    "goods_value": "Goods value",
    "goods": "Exchange goods",
    "goods_item": "Item",
    "goods_unit": "Unit",
    "goods_expected": "Expected",
    "goods_load": "Load",
    "not_computed": "not computed (no summary.json)",
    "not_in_summary": "not computed (run missing from summary.json)",
    "from_tallies": "from tallies.csv",
    "demand": "expected kg",
    "demand_ledger": "ledger history at {k} of {n} stops, the rest assumed",
    "carry_basis": "cash and goods",
    "carry_ledger": "forecast upper bound ({p} chance of running short)",
    "goods_fit_no": "Note: the goods do not fit the free box volume",
    "map": "Route map",
    "map_synthetic": "positions and roads are synthetic",
    "legend_depot": "depot",
    "legend_station": "station",
    "legend_stop": "stop",
    "form": "Tally form",
    "arrive": "arrive",
    "household": "Household",
    "name": "Name",
    "people": "People",
    "expected": "Expected",
    "exp_sell_kg": "sell kg",
    "exp_cash": "cash CNY",
    "exp_points": "exch. points",
    "actual_kg": "Actual kg (fill in)",
    "cash_paid": "Cash paid CNY",
    "goods_given": "Goods given",
    "signature": "Signature",
    "total": "Total",
    "no_households": "No household list: write each household in.",
    "stream_sell": "sell",
    "stream_exchange": "exchange",
    "page": "page",
    "yuan": "CNY",
    "km": "km",
    "min": "min",
    "none": "—",
}

_WEEKDAYS = {
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
# Not strftime("%b"): that follows the machine's locale.
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_lang(lang: str) -> str:
    """Return ``lang`` if the sheets speak it.

    Raises
    ------
    PlanError
        ``lang`` is not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise PlanError(f"lang: expected one of {', '.join(LANGS)}, found {lang!r}")
    return lang


def labels(lang: str) -> dict[str, str]:
    """The sheet's words in ``lang`` (``"zh"`` or ``"en"``)."""
    return _ZH if check_lang(lang) == "zh" else _EN


def long_date(day: dt.date, lang: str) -> str:
    """``2026年12月1日 星期二`` or ``Tue 1 Dec 2026``."""
    weekday = _WEEKDAYS[check_lang(lang)][day.weekday()]
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日 {weekday}"
    return f"{weekday} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


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


def category_name(bundle: PlanBundle, cat_id: str, lang: str) -> str:
    """A category's name in the sheet language (the id if the scenario lacks it)."""
    for c in bundle.scenario.settings.categories:
        if c.id == cat_id:
            return (c.name_en or c.name) if lang == "en" else c.name
    return cat_id


def goods_name(bundle: PlanBundle, item: str, fallback: str, lang: str) -> str:
    """An exchange good's name in the sheet language (``fallback`` if unknown)."""
    for g in bundle.scenario.settings.goods:
        if g.id == item:
            return (g.name_en or g.name) if lang == "en" else g.name
    return fallback or item
