"""ICS calendars: parsed back with icalendar and compared to plan.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.ics import gacha_calendar, write_calendars
from planner.export.notices import issue_date
from planner.plan.model import Plan


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
    issued = issue_date(bundle)  # the date the notices print, not the clock
    for path in one:
        for ev in _events(_read(path)):
            assert ev.decoded("DTSTAMP") == dt.datetime.combine(issued, dt.time(0), tzinfo=dt.UTC)
            assert "SEQUENCE" not in ev  # a first version: 0


def test_every_event_reminds_the_evening_before_and_an_hour_before(
    bundle: PlanBundle, out: Path
) -> None:
    settings = bundle.scenario.settings.calendars
    assert (settings.evening_reminder, settings.reminder_min) == ("19:00", 60)  # the defaults
    events = [ev for path in sorted(out.glob("*.ics")) for ev in _events(_read(path))]
    assert events
    for ev in events:
        alarms = ev.walk("VALARM")
        assert [str(a["ACTION"]) for a in alarms] == ["DISPLAY", "DISPLAY"]
        start = ev.decoded("DTSTART")
        evening, hour = (start + a.decoded("TRIGGER") for a in alarms)
        assert evening.astimezone(start.tzinfo).replace(tzinfo=None) == dt.datetime.combine(
            start.date() - dt.timedelta(days=1), dt.time(19, 0)
        )
        assert start - hour == dt.timedelta(minutes=60)
        assert all(str(a["DESCRIPTION"]) for a in alarms)


def test_reminders_follow_the_scenario_and_can_be_switched_off(
    bundle: PlanBundle, tmp_path: Path
) -> None:
    def with_calendars(**values: object) -> PlanBundle:
        settings = bundle.scenario.settings
        changed = settings.model_copy(
            update={"calendars": settings.calendars.model_copy(update=values)}
        )
        return replace(bundle, scenario=replace(bundle.scenario, settings=changed))

    paths = write_calendars(
        with_calendars(evening_reminder="20:30", reminder_min=15), tmp_path / "a"
    )
    ev = next(e for p in paths for e in _events(_read(p)))
    start = ev.decoded("DTSTART")
    evening, early = (start + a.decoded("TRIGGER") for a in ev.walk("VALARM"))
    assert (evening.astimezone(start.tzinfo).time(), start - early) == (
        dt.time(20, 30),
        dt.timedelta(minutes=15),
    )
    paths = write_calendars(with_calendars(evening_reminder="", reminder_min=0), tmp_path / "b")
    assert all(not e.walk("VALARM") for p in paths for e in _events(_read(p)))


def _next_version(bundle: PlanBundle, old_dir: Path, new_dir: Path) -> tuple[PlanBundle, str, str]:
    """A version 2 of ``bundle``'s plan: one run 1 km longer, one point's window moved,
    the last run gone; returns it, the changed run and the moved point."""
    doc = bundle.plan.to_json_dict()
    runs = doc["runs"]
    changed_run, gone = runs[0]["id"], runs[-1]["id"]
    assert changed_run != gone
    runs[0]["distance_km"] = float(runs[0]["distance_km"]) + 1.0
    doc["runs"] = runs[:-1]
    moved = next(p for p in doc["points"] if p.get("window"))
    lo, hi = moved["window"]
    moved["window"] = [f"{int(lo[:2]) - 1:02d}{lo[2:]}", hi]
    doc["version"] = 2
    doc["predecessor"] = {
        "path": f"../{old_dir.name}/plan.json",
        "sha256": hashlib.sha256((old_dir / "plan.json").read_bytes()).hexdigest(),
        "version": 1,
    }
    doc["replan"] = {"from": doc["period"]["start"], "trucks_out": [], "closed_days": []}
    new_dir.mkdir()
    v2 = replace(bundle, out_dir=new_dir, plan=Plan.from_json_dict(doc))
    return v2, changed_run, moved["id"]


def _by_uid(folder: Path) -> dict[str, Event]:
    return {str(ev["UID"]): ev for p in sorted(folder.glob("*.ics")) for ev in _events(_read(p))}


def test_a_new_version_bumps_sequence_only_for_events_it_changes(
    bundle: PlanBundle, tmp_path: Path
) -> None:
    old_dir = tmp_path / "v1"
    shutil.copytree(bundle.out_dir, old_dir)
    write_calendars(replace(bundle, out_dir=old_dir), old_dir)
    v2, changed_run, moved_point = _next_version(bundle, old_dir, tmp_path / "v2")
    paths = write_calendars(v2, v2.out_dir)
    before, after = _by_uid(old_dir / "calendars"), _by_uid(v2.out_dir / "calendars")
    assert set(before) == set(after)  # the same UIDs: phones update events in place
    stamp = dt.datetime.combine(v2.plan.period.start, dt.time(0), tzinfo=dt.UTC)
    gone = bundle.runs[-1].id
    bumped = set()
    for uid, ev in after.items():
        if int(ev.get("SEQUENCE", 0)):
            bumped.add(uid)
            assert int(ev["SEQUENCE"]) == 1 and ev.decoded("DTSTAMP") == stamp
        else:
            assert ev.to_ical() == before[uid].to_ical()  # untouched, stamp and all
    expected = {f"run-{changed_run}", f"run-{gone}"}
    assert {u.split(".")[0] for u in bumped if u.startswith("run-")} == expected
    last = bundle.runs[-1]
    dropped = {f"visit-{st.place}-{last.date:%Y%m%d}" for st in last.collects}
    visits = {u.split(".")[0] for u in bumped if u.startswith("visit-")}
    moved = {v for v in visits if v.startswith(f"visit-{moved_point}-")}
    assert moved and visits == moved | dropped
    cancelled = {
        str(ev["UID"]).split(".")[0]
        for ev in after.values()
        if str(ev.get("STATUS", "")) == "CANCELLED"
    }
    assert cancelled == {f"run-{gone}"} | dropped
    # A calendar none of whose events changed is the predecessor's file, byte for byte.
    for path in paths:
        names = {str(ev["UID"]) for ev in _events(_read(path))}
        if not names & bumped:
            assert path.read_bytes() == (old_dir / "calendars" / path.name).read_bytes()
    # Written again, the same bytes.
    again = write_calendars(v2, tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_without_the_predecessor_every_event_takes_the_versions_sequence(
    bundle: PlanBundle, tmp_path: Path
) -> None:
    old_dir = tmp_path / "v1"
    shutil.copytree(bundle.out_dir, old_dir)
    v2, _, _ = _next_version(bundle, old_dir, tmp_path / "v2")
    (old_dir / "plan.json").write_text("{}", encoding="utf-8")  # no longer the recorded plan
    write_calendars(v2, v2.out_dir)
    after = _by_uid(v2.out_dir / "calendars")
    assert after and all(int(ev["SEQUENCE"]) == 1 for ev in after.values())


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
