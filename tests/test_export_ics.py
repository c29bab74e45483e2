"""ICS calendars: parsed back with icalendar and compared to plan.json."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.ics import gacha_calendar, write_calendars


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


@pytest.fixture(scope="module")
def out(bundle: PlanBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ics-out")
    write_calendars(bundle, folder)
    return folder / "calendars"


def _read(path: Path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def _local(stamp: str, bundle: PlanBundle) -> dt.datetime:
    tz = ZoneInfo(bundle.plan.to_json_dict()["period"]["timezone"])
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M").replace(tzinfo=tz)


def _events(cal: Calendar) -> list[Event]:
    return [c for c in cal.walk("VEVENT") if isinstance(c, Event)]


def _check_tz(event: Event, bundle: PlanBundle) -> None:
    zone = bundle.plan.to_json_dict()["period"]["timezone"]
    for prop in ("DTSTART", "DTEND"):
        assert event[prop].params["TZID"] == zone


def test_truck_calendar_has_one_event_per_run_at_plan_times(bundle: PlanBundle, out: Path) -> None:
    plan = bundle.plan.to_json_dict()
    places = {p["id"]: p for p in plan["places"]}
    for vehicle in plan["vehicles"]:
        cal = _read(out / f"truck-{vehicle['id']}.ics")
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [plan["period"]["timezone"]]
        runs = [r for r in plan["runs"] if r["vehicle"] == vehicle["id"]]
        events = _events(cal)
        assert len(events) == len(runs)
        for run, ev in zip(runs, events, strict=True):
            _check_tz(ev, bundle)
            assert ev.decoded("DTSTART") == _local(run["steps"][0]["departure"], bundle)
            assert ev.decoded("DTEND") == _local(run["steps"][-1]["arrival"], bundle)
            collects = [s for s in run["steps"] if s["type"] == "collect"]
            assert vehicle["id"] in str(ev["SUMMARY"])
            assert f"{len(collects)}个收集点" in str(ev["SUMMARY"])
            assert str(ev["LOCATION"]) == places[run["steps"][0]["place"]]["name"]
            # The description lists every step in order, with its arrival time.
            text = str(ev["DESCRIPTION"])
            at = -1
            for step in run["steps"]:
                line = f"{places[step['place']]['name']}"
                found = text.find(line, at + 1)
                assert found > at, (step, text)
                assert step["arrival"][11:] in text
                at = found
        uids = [str(ev["UID"]) for ev in events]
        assert len(set(uids)) == len(uids)


def test_one_gacha_calendar_per_gacha_with_its_visits(bundle: PlanBundle, out: Path) -> None:
    plan = bundle.plan.to_json_dict()
    places = {p["id"]: p for p in plan["places"]}
    windows = {p["id"]: p["window"] for p in plan["points"]}
    codes = {p.gacha_code for p in bundle.scenario.points}
    assert sorted(p.name for p in out.glob("gacha-*.ics")) == sorted(
        f"gacha-{c}.ics" for c in codes
    )
    for code in codes:
        members = {p.id for p in bundle.scenario.points if p.gacha_code == code}
        expected = sorted(
            (step["arrival"][:10], step["place"])
            for run in plan["runs"]
            for step in run["steps"]
            if step["type"] == "collect" and step["place"] in members
        )
        events = _events(_read(out / f"gacha-{code}.ics"))
        by_visit = {}
        for ev in events:
            _check_tz(ev, bundle)
            pid = next(p for p in members if str(ev["SUMMARY"]).endswith(places[p]["name"]))
            by_visit[ev.decoded("DTSTART").date().isoformat(), pid] = ev
        assert sorted(by_visit) == expected
        assert len(events) == len(expected)
        for (day, pid), ev in by_visit.items():
            bounds = bundle.scenario.settings.windows
            w = [max(windows[pid][0], bounds.earliest), min(windows[pid][1], bounds.latest)]
            assert ev.decoded("DTSTART") == _local(f"{day}T{w[0]}", bundle)
            assert ev.decoded("DTEND") == _local(f"{day}T{w[1]}", bundle)
            assert str(ev["SUMMARY"]) == f"流动回收车 · {places[pid]['name']}"
            assert tuple(ev.decoded("GEO")) == pytest.approx(
                (places[pid]["lat"], places[pid]["lon"])
            )


def test_stamps_come_from_the_plan_and_files_repeat_byte_for_byte(
    bundle: PlanBundle, tmp_path: Path
) -> None:
    one = write_calendars(bundle, tmp_path / "a")
    two = write_calendars(bundle, tmp_path / "b")
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    start = dt.date.fromisoformat(bundle.plan.to_json_dict()["period"]["start"])
    for path in one:
        for ev in _events(_read(path)):
            assert ev.decoded("DTSTAMP") == dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)


def test_unknown_gacha_is_a_plan_error(bundle: PlanBundle) -> None:
    with pytest.raises(PlanError, match="nope"):
        gacha_calendar(bundle, "nope")


def test_truck_events_carry_cash_and_goods_from_the_summary(bundle: PlanBundle, out: Path) -> None:
    if bundle.summary is None:
        pytest.skip("the plan folder has no summary.json")
    events = {
        str(ev["UID"]).split(".")[0].removeprefix("run-"): ev
        for path in out.glob("truck-*.ics")
        for ev in _events(_read(path))
    }
    for carry in bundle.summary["runs"]:
        text = str(events[carry["run_id"]]["DESCRIPTION"])
        assert f"备用现金：{carry['cash_float_cny']:.0f} 元" in text
        for g in carry["goods"]:
            if g["load"]:
                assert f"{g['name']} {int(g['load'])}{g['unit']}" in text


def test_stop_numbers_are_the_run_sheets(bundle: PlanBundle) -> None:
    # Points and stations numbered 1, 2, … as on the sheet; start, lunch and return not.
    from planner.export.ics import run_event

    for run in bundle.runs:
        lines = str(run_event(bundle, run)["DESCRIPTION"]).splitlines()
        stops = bundle.stops(run)
        for stop, line in zip(stops, lines, strict=False):
            if stop.number is None:
                assert not line[0].isdigit() or line[2] == ":", line  # a time, no number
            else:
                assert line.startswith(f"{stop.number}. "), line
