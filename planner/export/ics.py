"""iCalendar (RFC 5545) files: one per truck for its driver, one per gacha for its herders.

A truck's calendar has one event per run, from the departure to the return, with
the stops in order in the description. A gacha's calendar has one event per
visit at its points, over the announced window. Every event carries two
reminders (``[calendars]``: the evening before at a clock time, and some minutes
before it starts). UIDs are built from the run, point and date, so a re-planned
month updates events in place: a plan version with a predecessor
(``planner replan``) gives the events that changed ``SEQUENCE`` + 1 and keeps the
others as they were (:mod:`planner.export._ics_versions`). ``DTSTAMP`` is a date
of the plan (the notices' issue date; a re-plan's ``--from``), never the clock, so
the same plan always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export._ics_versions import (
    cancelled_copy,
    predecessor_calendars,
    set_version,
    versioned_bytes,
)
from planner.export.bundle import PlanBundle, Stop
from planner.export.notices import (
    Visit,
    day_zh,
    file_key,
    gacha_visits,
    gachas,
    issue_date,
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
    """DTSTAMP of a first version: the notices' issue date at 00:00 UTC (never the clock)."""
    return dt.datetime.combine(issue_date(bundle), dt.time(0), tzinfo=dt.UTC)


def _version_stamp(bundle: PlanBundle) -> dt.datetime:
    """DTSTAMP of the events a re-planned version changes: its ``--from`` at 00:00 UTC."""
    start = (bundle.plan.replan or {}).get("from")
    try:
        day = dt.date.fromisoformat(str(start))
    except ValueError:
        return _stamp(bundle)
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _version(bundle: PlanBundle) -> int:
    plan = bundle.plan
    if plan.version is not None:
        return plan.version
    return plan.predecessor.version + 1 if plan.predecessor is not None else 1


def _alarms(bundle: PlanBundle, start: dt.datetime, what: str) -> list[Alarm]:
    """The reminders of an event starting at ``start`` (local time), per ``[calendars]``."""
    settings = bundle.scenario.settings.calendars
    out = []
    if settings.evening_reminder:
        clock = dt.time.fromisoformat(settings.evening_reminder)
        evening = dt.datetime.combine(start.date() - dt.timedelta(days=1), clock, start.tzinfo)
        # A trigger relative to the start (the widest supported form); UTC so that a
        # change of clocks in between is counted.
        before = start.astimezone(dt.UTC) - evening.astimezone(dt.UTC)
        out.append(_alarm(f"明天 {start:%H:%M} {what}", -before))
    if settings.reminder_min:
        minutes = settings.reminder_min
        out.append(_alarm(f"{minutes} 分钟后 {what}", -dt.timedelta(minutes=minutes)))
    return out


def _alarm(text: str, trigger: dt.timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", trigger)
    return alarm


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
    for alarm in _alarms(bundle, stops[0].departure, f"出车：{truck}"):
        event.add_component(alarm)
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
        for alarm in _alarms(bundle, v.start, f"流动回收车到{v.name}"):
            event.add_component(alarm)
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
    return _write_versions(bundle, folder, cals)


def _write_versions(
    bundle: PlanBundle, folder: Path, cals: list[tuple[str, Calendar]]
) -> list[Path]:
    """Write the calendars with SEQUENCE/DTSTAMP against the predecessor version, if any.

    A first version writes its events at SEQUENCE 0. A later version compares each
    event with the predecessor's calendars (found as ``planner replan`` recorded
    them); when they cannot be found, every event gets the version's SEQUENCE
    (``version`` - 1), which a phone takes as newer than any copy it holds.
    """
    version = _version(bundle)
    previous = predecessor_calendars(bundle.out_dir, bundle.plan) if version > 1 else None
    stamp = _version_stamp(bundle) if version > 1 else _stamp(bundle)
    paths = []
    for name, cal in cals:
        if version > 1 and (previous is None or not (previous / name).is_file()):
            # No predecessor's copy to compare with: new to phones that have none.
            for event in cal.walk("VEVENT"):
                set_version(event, version - 1 if previous is None else 0, stamp)
        data = versioned_bytes(cal, previous / name if previous else None, stamp)
        paths.append(_write(folder / name, data))
    if previous is not None:
        made = {name for name, _ in cals}
        for before in sorted(previous.glob("*.ics")):
            if before.name not in made:  # e.g. a gacha none of whose points is planned now
                paths.append(_write(folder / before.name, cancelled_copy(before, stamp)))
    return paths


def _write(path: Path, data: bytes) -> Path:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)
    return path
