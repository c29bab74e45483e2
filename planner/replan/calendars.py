"""Calendar events that reach phones when a plan version changes them (RFC 5545).

Every event keeps its UID (a run's or a visit's, as :mod:`planner.export.ics` makes
them). Comparing the new calendars with the predecessor's, event by event:

- an event whose content did not change keeps its ``SEQUENCE`` and ``DTSTAMP``;
- an event that changed gets ``SEQUENCE`` + 1 and ``DTSTAMP`` of this version;
- an event that is gone (a truck's cancelled run, a visit moved to another date,
  which has another UID) stays in the calendar as ``STATUS:CANCELLED`` with
  ``SEQUENCE`` + 1, so that a phone that imported it removes it;
- a calendar none of whose events changed is the predecessor's file, byte for byte.

``DTSTAMP`` of this version is a date of the re-plan (its ``--from`` at 00:00 UTC),
never the clock, so the same inputs give the same files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from icalendar import Calendar, Component, Event

from planner._atomic import atomic_writer

_VOLATILE = (b"SEQUENCE:", b"DTSTAMP:")


def _body(event: Component) -> bytes:
    """The event's text without SEQUENCE and DTSTAMP (what a person sees)."""
    lines = event.to_ical().splitlines()
    return b"\n".join(ln for ln in lines if not ln.startswith(_VOLATILE))


def _sequence(event: Component) -> int:
    value = event.get("sequence")
    return int(value) if value is not None else 0


def _set(event: Component, sequence: int, stamp: dt.datetime | object) -> None:
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
            _set(ev, 0, stamp)
            changed = True
        elif _body(was) == _body(ev):
            _set(ev, _sequence(was), was.decoded("dtstamp"))
        else:
            _set(ev, _sequence(was) + 1, stamp)
            changed = True
    for uid, was in before.items():
        if uid in seen:
            continue
        gone = Event.from_ical(was.to_ical())
        if str(gone.get("status", "")).upper() != "CANCELLED":
            _set(gone, _sequence(was) + 1, stamp)
            if "status" in gone:
                del gone["status"]
            gone.add("status", "CANCELLED")
            changed = True
        new.add_component(gone)
    return changed


def revise_calendars(old_dir: Path, new_dir: Path, stamp: dt.datetime) -> list[Path]:
    """Revise every ``.ics`` of ``new_dir`` against ``old_dir``'s; the files that changed."""
    out: list[Path] = []
    if not new_dir.is_dir():
        return out
    for path in sorted(new_dir.glob("*.ics")):
        before = old_dir / path.name
        if not before.is_file():
            out.append(path)
            continue
        old_bytes, new_bytes = before.read_bytes(), path.read_bytes()
        if old_bytes == new_bytes:
            continue
        new = Calendar.from_ical(new_bytes)
        if not revise(Calendar.from_ical(old_bytes), new, stamp):
            data = old_bytes  # only volatile fields differ: the predecessor's file stands
        else:
            data = new.to_ical()
            out.append(path)
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
    return out
