"""The monthly notice each gacha receives: when the truck comes, what it buys and trades.

A notice is plain UTF-8 text in Chinese, short enough to paste into a chat group.
It lists every planned visit at the gacha's points with the announced window,
the buy prices and exchange points from the scenario, the goods on offer, and a
reminder to sort. Visits the plan could not make are said so, not left out.

This module also holds what the calendars share with the notices: which gacha a
point belongs to (:func:`gacha_of`) and the month's visits per gacha
(:func:`gacha_visits`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export.bundle import PlanBundle, Stop
from planner.plan.model import Run
from planner.scenario.model import CollectionPoint
from planner.scenario.settings import GoodsItem

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
NO_GACHA_KEY = "no-gacha"


@dataclass(frozen=True)
class Gacha:
    """A gacha (or the stand-in group of points that have none) and its points.

    Attributes
    ----------
    key
        File-name key: the NBS gacha code, else the cleaned gacha name, else
        ``township-<code or name>`` for points with a township only, else ``no-gacha``.
    name
        The name a person reads (gacha name, or a description of the group).
    township
        Township name ('' when the points name none).
    title
        The heading of its notice: township and gacha name.
    points
        Point ids in scenario order.
    """

    key: str
    name: str
    township: str
    title: str
    points: tuple[str, ...]


@dataclass(frozen=True)
class Visit:
    """One planned visit at a collection point, with its announced time."""

    point: str
    name: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    arrival: dt.datetime
    departure: dt.datetime
    run_id: str
    vehicle: str
    lon: float
    lat: float


def file_key(text: str) -> str:
    """``text`` made safe as a file name: word characters (Chinese too), ``-`` and ``.``."""
    cleaned = re.sub(r"[^\w.-]+", "-", text.strip()).strip("-.")
    return cleaned or "unnamed"


def gacha_of(point: CollectionPoint) -> tuple[str, str]:
    """The ``(key, name)`` of the gacha a point belongs to.

    Points without a gacha are grouped under their township, so that the
    township can still pass the notice on; with no township either, they share
    the ``no-gacha`` group.
    """
    if point.gacha_code:
        return point.gacha_code, point.gacha or point.gacha_code
    if point.gacha:
        return file_key(point.gacha), point.gacha
    if point.township_code or point.township:
        key = f"township-{point.township_code or file_key(point.township)}"
        return key, f"{point.township or point.township_code}（未划入嘎查的收集点）"
    return NO_GACHA_KEY, "未划入嘎查的收集点"


def stops_of(bundle: PlanBundle, run: Run) -> list[Stop]:
    """:meth:`PlanBundle.stops` (a step naming an unknown place is a :class:`PlanError`)."""
    return bundle.stops(run)


def gachas(bundle: PlanBundle) -> dict[str, Gacha]:
    """Every gacha with at least one point in the plan, by key (in scenario order).

    Raises
    ------
    PlanError
        The plan names a point the scenario does not have.
    """
    planned = {p.id for p in bundle.plan.points}
    unknown = sorted(planned - set(bundle.points))
    if unknown:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: points: expected collection points of scenario "
            f"{bundle.scenario.name!r}, found unknown id(s) {', '.join(unknown[:5])}"
        )
    members: dict[str, list[str]] = defaultdict(list)
    first: dict[str, CollectionPoint] = {}
    for p in bundle.scenario.points:
        if p.id in planned:
            members[gacha_of(p)[0]].append(p.id)
            first.setdefault(gacha_of(p)[0], p)
    out = {}
    for key, ids in members.items():
        p = first[key]
        name = gacha_of(p)[1]
        title = f"{p.township}{name}" if p.gacha else name
        out[key] = Gacha(key, name, p.township, title, tuple(ids))
    return out


def announced(bundle: PlanBundle, stop: Stop) -> tuple[dt.datetime, dt.datetime]:
    """The announced window on the stop's date; arrival..departure when there is none.

    A window the arrival falls outside of (a hand-edited plan) is widened to
    cover the stay, so that nobody is told to come after the truck has left; then
    it is kept inside the scenario's ``windows.earliest``..``windows.latest``, as far
    as it still starts before the truck leaves and ends after it comes.
    """
    window = bundle.windows.get(stop.place)
    if not window:
        return stop.arrival, stop.departure
    day = stop.arrival.date()
    try:
        start, end = (
            dt.datetime.combine(day, dt.time.fromisoformat(t), tzinfo=bundle.tz) for t in window
        )
    except (TypeError, ValueError):
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: points: window of {stop.place}: expected "
            f'["HH:MM", "HH:MM"], found {list(window)!r}'
        ) from None
    if not start <= stop.arrival <= end:
        start, end = min(start, stop.arrival), max(end, stop.departure)
    bounds = bundle.scenario.settings.windows
    earliest = dt.datetime.combine(day, dt.time.fromisoformat(bounds.earliest), tzinfo=bundle.tz)
    latest = dt.datetime.combine(day, dt.time.fromisoformat(bounds.latest), tzinfo=bundle.tz)
    # Nobody is told to come after the truck has left, nor to leave before it came.
    start = min(max(start, earliest), stop.departure)
    end = max(min(end, latest), stop.arrival)
    return start, end


def gacha_visits(bundle: PlanBundle) -> dict[str, list[Visit]]:
    """The month's visits per gacha key, by announced start time then point name.

    Every key of :func:`gachas` is present (with an empty list when the plan
    makes no visit there).
    """
    keys = {pid: g.key for g in gachas(bundle).values() for pid in g.points}
    out: dict[str, list[Visit]] = {k: [] for k in dict.fromkeys(keys.values())}
    for run in bundle.runs:
        for stop in stops_of(bundle, run):
            if stop.type != "collect" or stop.place not in keys:
                continue
            start, end = announced(bundle, stop)
            out[keys[stop.place]].append(
                Visit(
                    point=stop.place,
                    name=stop.name or stop.place,
                    date=stop.arrival.date(),
                    start=start,
                    end=end,
                    arrival=stop.arrival,
                    departure=stop.departure,
                    run_id=stop.run_id,
                    vehicle=run.vehicle,
                    lon=stop.lon,
                    lat=stop.lat,
                )
            )
    for visits in out.values():
        visits.sort(key=lambda v: (v.start, v.end, v.name, v.point, v.run_id))
    return out


def day_zh(day: dt.date) -> str:
    """``12月2日（周三）``."""
    return f"{day.month}月{day.day}日（{WEEKDAYS_ZH[day.weekday()]}）"


def span_zh(start: dt.datetime, end: dt.datetime) -> str:
    """``08:15—09:15``."""
    return f"{start:%H:%M}—{end:%H:%M}"


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _period_zh(bundle: PlanBundle) -> str:
    first, last = bundle.plan.period.start, bundle.plan.period.end
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year}年{first.month}月"
    return f"{first.year}年{first.month}月{first.day}日至{last.year}年{last.month}月{last.day}日"


def landmark(bundle: PlanBundle, point_id: str) -> str:
    """Where the truck stops at a point: its ``landmark``, else the scenario's default."""
    point = bundle.points.get(point_id)
    own = point.landmark if point is not None else ""
    return own or bundle.scenario.settings.notices.default_landmark


def _visit_sentences(bundle: PlanBundle, visits: list[Visit]) -> list[str]:
    """One sentence per point, points in order of their first visit."""
    per_point: dict[str, list[Visit]] = {}
    for v in visits:
        per_point.setdefault(v.point, []).append(v)
    lines = []
    for group in per_point.values():
        spans = {span_zh(v.start, v.end) for v in group}
        if len(spans) == 1:
            when = "、".join(day_zh(v.date) for v in group) + f"的{spans.pop()}"
        else:
            when = "、".join(f"{day_zh(v.date)}{span_zh(v.start, v.end)}" for v in group)
        where = landmark(bundle, group[0].point)
        at = f"{group[0].name}（停靠地点：{where}）" if where else group[0].name
        lines.append(f"本月流动回收车将于{when}到达{at}。")
    return lines


def _place_name(bundle: PlanBundle, pid: str) -> str:
    place = bundle.places.get(pid)
    return (place.name if place is not None else "") or pid


def stocked_goods(bundle: PlanBundle) -> list[GoodsItem]:
    """The catalogue's goods the trucks actually hand out this month, in catalogue order.

    From summary.json's goods (``handed_out`` > 0), else goods.csv; with neither, the
    whole catalogue (nothing says which are stocked).
    """
    catalogue = bundle.scenario.settings.goods
    given: set[str] | None = None
    if bundle.summary and bundle.summary.get("goods"):
        given = {str(g.get("item")) for g in bundle.summary["goods"] if g.get("handed_out")}
    elif any(bundle.goods_due.values()):
        given = {h.item for per in bundle.goods_due.values() for hs in per.values() for h in hs}
    return [g for g in catalogue if given is None or g.id in given]


def issue_date(bundle: PlanBundle) -> dt.date:
    """The date printed on the notices: ``[notices] lead_days`` before the first run."""
    dates = [r.date for r in bundle.runs] or list(bundle.plan.period.service_dates)
    first = min(dates) if dates else bundle.plan.period.start
    return first - dt.timedelta(days=bundle.scenario.settings.notices.lead_days)


BAD_WEATHER_ZH = (
    "遇暴雪、沙尘暴等恶劣天气不能出车时，当天的收集取消，改期会提前在嘎查群里通知，"
    "请把废品继续存放在家"
)


def closing_lines(bundle: PlanBundle) -> list[str]:
    """Bad weather, contact and the date of issue."""
    ns = bundle.scenario.settings.notices
    lines = [f"恶劣天气：{(ns.bad_weather or BAD_WEATHER_ZH).rstrip('。')}。"]
    contact = "，".join(x for x in (ns.contact, ns.phone) if x)
    if contact:
        lines.append(f"联系电话：{contact}。")
    day = issue_date(bundle)
    lines.append(f"发布日期：{day.year}年{day.month}月{day.day}日")
    return lines


def _unserved_sentences(bundle: PlanBundle, gacha: Gacha, visited: set[str]) -> list[str]:
    """What the plan could not do at the gacha's points, in words for the herders."""
    names = {pid: _place_name(bundle, pid) for pid in gacha.points}
    missing: dict[str, list[dt.date | None]] = defaultdict(list)
    for u in bundle.plan.unserved:
        if u.point in names:
            missing[u.point].append(u.date)
    lines = []
    for pid in gacha.points:
        dates = missing.get(pid, [])
        known = [day_zh(d) for d in dates if d is not None]
        if known:
            lines.append(
                f"请注意：原定{'、'.join(known)}到{names[pid]}的收集本月未能安排，"
                "请把可卖、可换的废品妥善存放到下次收集。"
            )
        if len(dates) > len(known):
            lines.append(
                f"请注意：{names[pid]}本月还有{len(dates) - len(known)}次收集未能安排，"
                "请把可卖、可换的废品妥善存放到下次收集。"
            )
        if not dates and pid not in visited:
            lines.append(f"{names[pid]}本月没有安排流动回收车。")
    return lines


def offer_lines(bundle: PlanBundle) -> list[str]:
    """What the truck buys (一卖), trades (一换) and leaves (一堆), and the sorting reminder.

    Prices, points and goods are the scenario's categories and goods catalogue.
    """
    cats = bundle.scenario.settings.categories
    lines = []
    sell = [c for c in cats if c.stream == "sell"]
    if sell:
        prices = "、".join(f"{c.name}{_num(c.buy_price_cny_kg)}元/公斤" for c in sell)
        lines.append(f"一卖：回收车现场用现金收购可回收物：{prices}。")
    exchange = [c for c in cats if c.stream == "exchange"]
    if exchange:
        rates = []
        for c in exchange:
            rate = f"{c.name}每公斤{_num(c.exchange_points_per_kg)}分"
            if c.kg_per_item > 0:
                rate += f"（每件约{_num(c.exchange_points_per_kg * c.kg_per_item)}分）"
            rates.append(rate)
        lines.append(f"一换：有害垃圾可换积分：{'、'.join(rates)}。")
        goods = stocked_goods(bundle)
        if goods:
            offer = "、".join(f"{g.name}{_num(g.points)}分/{g.unit}" for g in goods)
            lines.append(
                f"积分可当场兑换生活用品：{offer}。"
                "不够换一件的积分记在本户名下，下次收集时累计使用，不会清零。"
            )
    compost = [c for c in cats if c.stream == "compost"]
    if compost:
        lines.append(
            f"一堆：{'、'.join(c.name for c in compost)}请在自家堆肥坑堆肥，不交给回收车。"
        )
    hazardous = [c.name for c in cats if c.hazardous]
    reminder = "温馨提示：请提前在家分类，可卖的、可换的、堆肥的分开放"
    if hazardous:
        reminder += (
            f"；{'、'.join(hazardous)}等有害垃圾要单独存放，不要混进其他垃圾，也不要焚烧或掩埋"
        )
    lines.append(reminder + "。")
    return lines


def notice_text(bundle: PlanBundle, gacha_key: str) -> str:
    """The notice of one gacha for the plan's month.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    gacha_key
        A key of :func:`gachas` (the NBS gacha code where the scenario has one).

    Returns
    -------
    str
        The notice, lines separated by ``\\n``, ending with a newline.

    Raises
    ------
    PlanError
        The plan has no point of that gacha, or its content is malformed.
    """
    all_gachas = gachas(bundle)
    if gacha_key not in all_gachas:
        known = ", ".join(list(all_gachas)[:5])
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: expected a gacha with planned points "
            f"(e.g. {known}), found {gacha_key!r}"
        )
    return _notice(bundle, all_gachas[gacha_key], gacha_visits(bundle)[gacha_key])


def _notice(bundle: PlanBundle, gacha: Gacha, visits: list[Visit]) -> str:
    lines = [f"【{gacha.title}】{_period_zh(bundle)}流动回收车收集通知", "", "各位牧民朋友："]
    if visits:
        lines += _visit_sentences(bundle, visits)
        lines.append("流动回收车定期、定点、定时收集，请在约定时间内把分好类的废品带到收集点。")
    lines += _unserved_sentences(bundle, gacha, {v.point for v in visits})
    lines.append("")
    lines += offer_lines(bundle)
    lines.append("")
    lines += closing_lines(bundle)
    return "\n".join(lines) + "\n"


def write_notices(bundle: PlanBundle, out_dir: Path) -> list[Path]:
    """Write ``OUT/notices/<gacha key>.txt`` for every gacha with planned points.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    out_dir
        The output folder; ``notices/`` is made inside it.

    Returns
    -------
    list of Path
        The files written, in scenario order of the gachas.
    """
    folder = Path(out_dir) / "notices"
    folder.mkdir(parents=True, exist_ok=True)
    visits = gacha_visits(bundle)
    paths = []
    for key, gacha in gachas(bundle).items():
        path = folder / f"{file_key(key)}.txt"
        with atomic_writer(path, "w") as fh:
            fh.write(_notice(bundle, gacha, visits[key]))
        paths.append(path)
    return paths
