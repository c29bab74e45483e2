"""What happened to the month: the re-planning options, read and checked before any work.

Each option is checked against the plan it applies to, and the first problem is
raised as a :class:`~planner._errors.PlanError` naming the option, what was expected
and what was found (the CLI turns it into exit code 2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner._errors import PlanError
from planner.plan.model import Plan


@dataclass(frozen=True)
class Outage:
    """Something unavailable from ``first`` to ``last`` (inclusive): a truck or a point."""

    what: str
    first: dt.date
    last: dt.date

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def span(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


@dataclass(frozen=True)
class Disruption:
    """Everything the re-plan works around.

    Parameters
    ----------
    start
        The first date re-planned (``--from``); runs before it are facts.
    trucks_out
        Trucks that cannot run, each over a date range.
    closed_days
        Service dates on which no truck runs anywhere.
    points_closed
        Collection points that cannot be served, each over a date range.
    """

    start: dt.date
    trucks_out: tuple[Outage, ...] = ()
    closed_days: tuple[dt.date, ...] = ()
    points_closed: tuple[Outage, ...] = ()

    def truck_works(self, vehicle: str, day: dt.date) -> bool:
        if day in self.closed_days:
            return False
        return not any(o.what == vehicle and o.covers(day) for o in self.trucks_out)

    def point_open(self, point: str, day: dt.date) -> bool:
        if day in self.closed_days:
            return False
        return not any(o.what == point and o.covers(day) for o in self.points_closed)

    def to_json(self) -> dict[str, Any]:
        """The ``replan`` object of plan.json."""
        return {
            "from": self.start.isoformat(),
            "trucks_out": [_outage_json("vehicle", o) for o in self.trucks_out],
            "closed_days": [d.isoformat() for d in self.closed_days],
            "points_closed": [_outage_json("point", o) for o in self.points_closed],
        }


def _outage_json(key: str, o: Outage) -> dict[str, str]:
    return {key: o.what, "from": o.first.isoformat(), "to": o.last.isoformat()}


def _date(option: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise PlanError(f"{option}: expected a date YYYY-MM-DD, found {text!r}") from None


def _in_month(option: str, day: dt.date, start: dt.date, plan: Plan) -> None:
    p = plan.period
    if not p.start <= day <= p.end:
        raise PlanError(
            f"{option}: expected a date of the plan's month {p.start}..{p.end}, found {day}"
        )
    if day < start:
        raise PlanError(
            f"{option}: expected a date from --from {start} on (earlier runs are facts), "
            f"found {day}"
        )


def _outage(option: str, text: str, known: Sequence[str], start: dt.date, plan: Plan) -> Outage:
    """``ID`` or ``ID:DATE..DATE``; without dates, from ``start`` to the month's end."""
    what, sep, dates = text.partition(":")
    what = what.strip()
    if what not in known:
        kind = "truck" if option == "--truck-out" else "collection point"
        shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
        raise PlanError(f"{option}: expected a {kind} of the plan ({shown}), found {what!r}")
    if not sep:
        return Outage(what, start, plan.period.end)
    first_text, dots, last_text = dates.partition("..")
    if not dots or not first_text.strip() or not last_text.strip():
        raise PlanError(
            f"{option}: expected {what}:YYYY-MM-DD..YYYY-MM-DD (a date range), found {text!r}"
        )
    first, last = _date(option, first_text), _date(option, last_text)
    for day in (first, last):
        _in_month(option, day, start, plan)
    if last < first:
        raise PlanError(f"{option}: the range {first}..{last} ends before it starts")
    return Outage(what, first, last)


def parse_disruption(
    plan: Plan,
    start: str,
    trucks_out: Sequence[str] = (),
    closed_days: Sequence[str] = (),
    points_closed: Sequence[str] = (),
) -> Disruption:
    """Read the options of ``planner replan`` against ``plan``.

    Raises
    ------
    PlanError
        The first option that does not fit the plan, naming it and what was found.
    """
    first = _date("--from", start)
    p = plan.period
    if first < p.start:
        raise PlanError(
            f"--from: expected a date of the plan's month {p.start}..{p.end}, "
            f"found {first}, before the month"
        )
    if first > p.end:
        raise PlanError(
            f"--from: expected a date of the plan's month {p.start}..{p.end}, "
            f"found {first}, after the month"
        )
    if not any(d >= first for d in p.service_dates):
        raise PlanError(f"--from: no service date of the plan is on or after {first}")
    trucks = [v.id for v in plan.vehicles]
    points = [pt.id for pt in plan.points]
    out = tuple(_outage("--truck-out", t, trucks, first, plan) for t in trucks_out)
    shut = tuple(_outage("--point-closed", t, points, first, plan) for t in points_closed)
    days = []
    for text in closed_days:
        day = _date("--closed-day", text)
        _in_month("--closed-day", day, first, plan)
        if day not in p.service_dates:
            raise PlanError(
                f"--closed-day: expected a service date of the plan, found {day} "
                f"(no runs are planned on it anyway)"
            )
        days.append(day)
    if not (out or shut or days):
        raise PlanError(
            "nothing to re-plan: give at least one of --truck-out, --closed-day, --point-closed"
        )
    return Disruption(
        start=first,
        trucks_out=tuple(sorted(set(out), key=lambda o: (o.what, o.first))),
        closed_days=tuple(sorted(set(days))),
        points_closed=tuple(sorted(set(shut), key=lambda o: (o.what, o.first))),
    )
