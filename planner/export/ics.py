"""iCalendar (RFC 5545) files: one per truck for its driver, one per gacha for its herders.

A truck's calendar has one event per run, from the departure to the return, with
the stops in order in the description. A gacha's calendar has one event per
visit at its points, over the announced window. UIDs are built from the run,
point and date, and DTSTAMP from the plan's first day, so the same plan always
gives the same bytes and a re-planned month updates events in place when
imported again.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export.bundle import PlanBundle, Stop
from planner.export.notices import (
    Visit,
    day_zh,
    file_key,
    gacha_visits,
    gachas,
    offer_lines,
    span_zh,
    stops_of,
)
from planner.plan.model import Run

# Not a real domain on purpose (RFC 2606): UIDs only need to be unique.
UID_DOMAIN = "rural-waste-planner.invalid"
PRODID = "-//rural-waste-planner//planner//ZH"
STEP_ZH = {"start": "出发", "unload": "卸货", "break": "午休", "end": "返回"}


def _period(bundle: PlanBundle) -> tuple[dt.date, dt.date]:
    return bundle.plan.period.start, bundle.plan.period.end


def _stamp(bundle: PlanBundle) -> dt.datetime:
    """DTSTAMP: the plan's first day at 00:00 UTC (never the clock, for identical files)."""
    return dt.datetime.combine(_period(bundle)[0], dt.time(0), tzinfo=dt.UTC)


def _uid(kind: str, key: str, bundle: PlanBundle) -> str:
    return f"{kind}-{file_key(key)}.{file_key(bundle.scenario.name)}@{UID_DOMAIN}"


@functools.lru_cache(maxsize=8)
def _vtimezone(key: str, first: dt.date, last: dt.date) -> bytes:
    """The VTIMEZONE of zone ``key`` around the period (slow to build: made once)."""
    zone = Timezone.from_tzinfo(
        ZoneInfo(key),
        tzid=key,
        first_date=first - dt.timedelta(days=1),
        last_date=last + dt.timedelta(days=2),
    )
    return bytes(zone.to_ical())


def _calendar(bundle: PlanBundle, name: str, uid: str, events: list[Event]) -> Calendar:
    zone = Timezone.from_ical(_vtimezone(bundle.tz.key, *_period(bundle)))
    cal = Calendar.new(
        prodid=PRODID,
        name=name,
        uid=uid,
        method="PUBLISH",
        calscale="GREGORIAN",
        subcomponents=[zone, *events],
    )
    cal.add("x-wr-timezone", bundle.tz.key)
    return cal


def _truck_label(bundle: PlanBundle, vehicle: str) -> str:
    spec = next((v for v in bundle.scenario.fleet if v.id == vehicle), None)
    return f"{spec.name}（{vehicle}）" if spec and spec.name else vehicle


def _stop_line(stop: Stop) -> str:
    """``3. 09:10—09:40 一组（甲嘎查）``; steps without a stop number have none."""
    if stop.type == "collect":
        where = f"{stop.name}（{stop.gacha}）" if stop.gacha else stop.name
        return f"{stop.number}. {span_zh(stop.arrival, stop.departure)} {where}"
    when = (
        f"{stop.arrival:%H:%M}"
        if stop.type in ("start", "end")
        else span_zh(stop.arrival, stop.departure)
    )
    line = f"{when} {STEP_ZH.get(stop.type, stop.type)} {stop.name}"
    return f"{stop.number}. {line}" if stop.number is not None else line


def _carry_lines(bundle: PlanBundle, run_id: str) -> list[str]:
    """Cash and goods to take along, when summary.json is there."""
    carry = bundle.run_carry(run_id)
    if not carry:
        return []
    lines = []
    try:
        if "cash_float_cny" in carry:
            lines.append(f"备用现金：{float(carry['cash_float_cny']):.0f} 元")
        goods = [g for g in carry.get("goods", []) if g.get("load")]
        if goods:
            items = "、".join(
                f"{g.get('name', g.get('item', ''))} {int(g['load'])}{g.get('unit', '')}"
                for g in goods
            )
            lines.append(f"兑换物品：{items}")
    except (AttributeError, TypeError, ValueError):
        raise PlanError(
            f"{bundle.out_dir / 'summary.json'}: runs: {run_id}: expected cash_float_cny as a "
            f"number and goods as objects with name, unit and a whole load, found {carry!r}"
        ) from None
    return lines


def run_event(bundle: PlanBundle, run: Run) -> Event:
    """One run as an event: departure to return, stops in order in the description."""
    stops = stops_of(bundle, run)
    if len(stops) < 2:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: run {run.id!r}: expected at least "
            f"a start and an end step, found {len(stops)} step(s)"
        )
    collects = sum(1 for s in stops if s.type == "collect")
    truck = _truck_label(bundle, run.vehicle)
    lines = [_stop_line(s) for s in stops]
    lines.append(f"共 {float(run.distance_km):.1f} km，{float(run.duration_min):.0f} 分钟")
    lines += _carry_lines(bundle, run.id)
    event = Event.new(
        uid=_uid("run", run.id, bundle),
        stamp=_stamp(bundle),
        start=stops[0].departure,
        end=stops[-1].arrival,
        summary=f"流动回收车 {truck} · {collects}个收集点",
        description="\n".join(lines),
        location=stops[0].name,
    )
    return event


def truck_calendar(bundle: PlanBundle, vehicle: str) -> Calendar:
    """The calendar of one truck: one event per run, in date order."""
    runs = sorted(
        (r for r in bundle.runs if r.vehicle == vehicle),
        key=lambda r: (r.date, r.id),
    )
    name = f"流动回收车 {_truck_label(bundle, vehicle)}"
    return _calendar(
        bundle, name, _uid("truck", vehicle, bundle), [run_event(bundle, r) for r in runs]
    )


def _visit_events(bundle: PlanBundle, title: str, visits: list[Visit]) -> list[Event]:
    offer = "\n".join(offer_lines(bundle))
    seen: Counter[tuple[str, dt.date]] = Counter()
    events = []
    for v in visits:
        seen[v.point, v.date] += 1
        n = seen[v.point, v.date]
        key = f"{v.point}-{v.date:%Y%m%d}" + (f"-{n}" if n > 1 else "")
        event = Event.new(
            uid=_uid("visit", key, bundle),
            stamp=_stamp(bundle),
            start=v.start,
            end=v.end,
            summary=f"流动回收车 · {v.name}",
            location=f"{v.name}（{title}）",
            description=(
                f"流动回收车{day_zh(v.date)}{span_zh(v.start, v.end)}到{v.name}，"
                f"请在约定时间内把分好类的废品带到收集点。\n{offer}"
            ),
        )
        event.add("geo", (v.lat, v.lon))
        events.append(event)
    return events


def gacha_calendar(bundle: PlanBundle, gacha_key: str) -> Calendar:
    """The calendar of one gacha: one event per visit at its points over the announced window.

    Raises
    ------
    PlanError
        No gacha with that key has points in the plan.
    """
    all_gachas = gachas(bundle)
    if gacha_key not in all_gachas:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: expected a gacha with planned points, "
            f"found {gacha_key!r}"
        )
    gacha = all_gachas[gacha_key]
    events = _visit_events(bundle, gacha.title, gacha_visits(bundle)[gacha_key])
    return _calendar(bundle, f"{gacha.title} 流动回收车", _uid("gacha", gacha_key, bundle), events)


def _vehicles(bundle: PlanBundle) -> list[str]:
    ids = [v.id for v in bundle.plan.vehicles]
    ids += [r.vehicle for r in bundle.runs]
    return list(dict.fromkeys(ids))


def write_calendars(bundle: PlanBundle, out_dir: Path) -> list[Path]:
    """Write ``calendars/truck-<vehicle>.ics`` and ``calendars/gacha-<gacha key>.ics``.

    Every vehicle of the plan gets a calendar (an idle one has only the time
    zone), and every gacha with planned points gets one.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    out_dir
        The output folder; ``calendars/`` is made inside it.

    Returns
    -------
    list of Path
        The truck calendars in plan order, then the gacha calendars in scenario order.
    """
    folder = Path(out_dir) / "calendars"
    folder.mkdir(parents=True, exist_ok=True)
    cals: list[tuple[str, Calendar]] = [
        (f"truck-{file_key(v)}.ics", truck_calendar(bundle, v)) for v in _vehicles(bundle)
    ]
    visits = gacha_visits(bundle)
    for key, gacha in gachas(bundle).items():
        events = _visit_events(bundle, gacha.title, visits[key])
        cal = _calendar(bundle, f"{gacha.title} 流动回收车", _uid("gacha", key, bundle), events)
        cals.append((f"gacha-{file_key(key)}.ics", cal))
    paths = []
    for name, cal in cals:
        path = folder / name
        with atomic_writer(path, "wb") as fh:
            fh.write(cal.to_ical())
        paths.append(path)
    return paths
