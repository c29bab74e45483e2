"""Calendar events that reach phones when a plan version changes them (RFC 5545).

A phone that subscribed to (or imported) a calendar replaces an event it knows by
its UID only when the new copy has a higher ``SEQUENCE``; ``DTSTAMP`` says when
that copy was made. Every event keeps its UID across versions (a run's or a
visit's, as :mod:`planner.export.ics` makes them). Comparing a new version's
calendar with its predecessor's, event by event:

- an event whose content did not change keeps its ``SEQUENCE`` and ``DTSTAMP``;
- an event that changed gets ``SEQUENCE`` + 1 and ``DTSTAMP`` of this version;
- an event that is gone (a cancelled run, a visit moved to another date, which
  has another UID) stays in the calendar as ``STATUS:CANCELLED`` with
  ``SEQUENCE`` + 1, so that a phone that imported it removes it;
- a calendar none of whose events changed is the predecessor's file, byte for byte.

Stamps are dates of the plan (never the clock), so the same plan gives the same files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from icalendar import Calendar, Component, Event

from planner.plan.model import Plan

_VOLATILE = (b"SEQUENCE:", b"DTSTAMP:")


def predecessor_calendars(plan_dir: Path, plan: Plan) -> Path | None:
    """The predecessor's ``calendars/`` folder as ``planner replan`` recorded it, or None.

    The predecessor's plan.json must be where ``predecessor.path`` (relative to this
    plan's folder) says and still have the recorded hash: calendars beside another
    plan would give wrong sequence numbers.
    """
    pred = plan.predecessor
    if pred is None:
        return None
    path = (Path(plan_dir) / pred.path).resolve()
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    folder = path.parent / "calendars"
    return folder if digest == pred.sha256 and folder.is_dir() else None


def _body(event: Component) -> bytes:
    """The event's text without SEQUENCE and DTSTAMP (what a person sees)."""
    lines = event.to_ical().splitlines()
    return b"\n".join(ln for ln in lines if not ln.startswith(_VOLATILE))


def _sequence(event: Component) -> int:
    value = event.get("sequence")
    return int(value) if value is not None else 0


def set_version(event: Component, sequence: int, stamp: dt.datetime) -> None:
    """Give ``event`` this ``DTSTAMP`` and ``SEQUENCE`` (none written when 0)."""
    for key in ("sequence", "dtstamp"):
        if key in event:
            del event[key]
    event.add("dtstamp", stamp)
    if sequence:
        event.add("sequence", sequence)


def revise(old: Calendar, new: Calendar, stamp: dt.datetime) -> bool:
    """Give ``new``'s events their SEQUENCE/DTSTAMP against ``old``; whether any changed."""
    before = {str(ev["uid"]): ev for ev in old.walk("VEVENT")}
    seen: set[str] = set()
    changed = False
    for ev in new.walk("VEVENT"):
        uid = str(ev["uid"])
        seen.add(uid)
        was = before.get(uid)
        if was is None:
            set_version(ev, 0, stamp)
            changed = True
        elif _body(was) == _body(ev):
            set_version(ev, _sequence(was), was.decoded("dtstamp"))
        else:
            set_version(ev, _sequence(was) + 1, stamp)
            changed = True
    for uid, was in before.items():
        if uid in seen:
            continue
        gone = Event.from_ical(was.to_ical())
        if str(gone.get("status", "")).upper() != "CANCELLED":
            set_version(gone, _sequence(was) + 1, stamp)
            if "status" in gone:
                del gone["status"]
            gone.add("status", "CANCELLED")
            changed = True
        new.add_component(gone)
    return changed


def versioned_bytes(cal: Calendar, before: Path | None, stamp: dt.datetime) -> bytes:
    """The bytes to write for ``cal`` given the predecessor's file ``before`` (if any)."""
    if before is None or not before.is_file():
        return bytes(cal.to_ical())
    old_bytes = before.read_bytes()
    if not revise(Calendar.from_ical(old_bytes), cal, stamp):
        return old_bytes  # nothing a person sees changed: the predecessor's file stands
    return bytes(cal.to_ical())


def cancelled_copy(before: Path, stamp: dt.datetime) -> bytes:
    """A predecessor's calendar that this version no longer makes: every event cancelled."""
    old = Calendar.from_ical(before.read_bytes())
    empty = Calendar.from_ical(old.to_ical())
    empty.subcomponents = [c for c in empty.subcomponents if c.name != "VEVENT"]
    revise(old, empty, stamp)
    return bytes(empty.to_ical())
