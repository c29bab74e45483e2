"""The re-planned month as a new version of the plan, and the list of what changed.

Runs before ``--from`` are copied from the predecessor object for object, so they
are written byte for byte as they were. A later run whose stops and loads did not
change is copied too (its times were right and stay announced); every other run
is built from its route by :func:`~planner.plan.build.build_plan`, times from
:func:`~planner.solve.schedule.schedule_route`. A point keeps its announced window
unless one of its visits had to move outside it; the window then widens just
enough (to the quarter hour) to hold every arrival of the month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from planner.plan.build import build_plan
from planner.plan.model import Plan, PointPlan, Predecessor, Run, Summary, Unserved
from planner.replan.month import Month
from planner.replan.repair import Outcome
from planner.scenario.model import Scenario
from planner.solve.problem import DaySolution, PeriodicSolution
from planner.solve.schedule import schedule_route

_STEP = 15  # minutes: windows are announced to the quarter hour


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _r(x: float, nd: int) -> float:
    return round(x + 0.0, nd)


def _same(a: Run, b: Run) -> bool:
    """Same truck, stops and loads (times aside; the lunch break follows the times)."""

    def key(run: Run) -> list[tuple[str, str, Any]]:
        return [(s.type, s.place, s.collected) for s in run.steps if s.type != "break"]

    return a.vehicle == b.vehicle and key(a) == key(b)


def new_runs(scenario: Scenario, month: Month) -> tuple[Run, ...]:
    """Every run of the re-planned month, by date and truck."""
    problem = month.problem()
    sp = replace(month.sp, problem=problem)
    days = []
    for d in month.future_days():
        visits = month.visits(problem, d)
        routes = tuple(month.to_routes(visits, month.routes.get(d, [])))
        for r in routes:
            sched = schedule_route(problem, d, visits, r)
            if not sched.feasible:  # the re-plan keeps every route feasible
                raise AssertionError(f"day {d}: {sched.violations}")
        days.append(DaySolution(d, routes))
    built = build_plan(scenario, sp, PeriodicSolution(month.patterns(), tuple(days), 0.0))
    old = {(r.date, r.vehicle): r for r in month.plan.runs}
    start = month.disruption.start
    runs = [r for r in month.plan.runs if r.date < start]
    for run in built.runs:
        was = old.get((run.date, run.vehicle))
        runs.append(was if was is not None and _same(was, run) else run)
    return tuple(sorted(runs, key=lambda r: (r.date, r.vehicle)))


def announced(plan: Plan, runs: tuple[Run, ...]) -> tuple[PointPlan, ...]:
    """Each point's window: the old one, widened only to hold an arrival outside it."""
    arrivals: dict[str, list[int]] = defaultdict(list)
    for run in runs:
        for st in run.collects:
            arrivals[st.place].append(st.arrival_min)
    out = []
    for p in plan.points:
        w = p.window_min
        times = arrivals.get(p.id, [])
        if w is None or all(w[0] <= t <= w[1] for t in times):
            out.append(p)
            continue
        lo = min(w[0], min(times) // _STEP * _STEP)
        hi = max(w[1], -(-max(times) // _STEP) * _STEP)
        out.append(p.model_copy(update={"window": (_hhmm(lo), _hhmm(hi))}))
    return tuple(out)


def summary_of(scenario: Scenario, runs: tuple[Run, ...], unserved: int) -> Summary:
    """The route totals, as :func:`~planner.plan.build.build_plan` adds them up."""
    fleet = {v.id: v for v in scenario.settings.fleet}
    cost = 0.0
    for run in runs:
        spec = fleet[run.vehicle]
        cost += spec.cost_per_km * run.distance_km + spec.cost_per_hour * (run.duration_min / 60.0)
    return Summary(
        distance_km=_r(sum(r.distance_km for r in runs), 2),
        duration_min=_r(sum(r.duration_min for r in runs), 1),
        runs=len(runs),
        visits=sum(len(r.collects) for r in runs),
        unserved=unserved,
        cost_cny=_r(cost, 2),
        collected_kg=_r(sum(st.collected_kg for r in runs for st in r.steps), 1),
    )


def replanned_plan(
    scenario: Scenario, month: Month, outcome: Outcome, predecessor: Predecessor
) -> Plan:
    """The new version of the plan (money totals are added by the caller)."""
    plan = month.plan
    runs = new_runs(scenario, month)
    gone = [
        Unserved(point=month.sp.customer_points[c], date=month.dates[d], reason=why)
        for (c, d), why in sorted(outcome.unserved.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    unserved = (*plan.unserved, *gone)
    return plan.model_copy(
        update={
            "points": announced(plan, runs),
            "runs": runs,
            "unserved": unserved,
            "summary": summary_of(scenario, runs, len(unserved)),
            "version": predecessor.version + 1,
            "predecessor": predecessor,
            "replan": month.disruption.to_json(),
        }
    )


# -- what changed -------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitChange:
    """One visit of the predecessor from ``--from`` on whose date, time, truck or window moved."""

    point: str
    name: str
    gacha: str
    status: str  # moved, window, retimed, unserved
    old_date: dt.date
    old_time: str
    old_truck: str
    old_window: str
    new_date: dt.date | None
    new_time: str
    new_truck: str
    new_window: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "point": self.point,
            "name": self.name,
            "gacha": self.gacha,
            "status": self.status,
            "old": {
                "date": self.old_date.isoformat(),
                "time": self.old_time,
                "truck": self.old_truck,
                "window": self.old_window,
            },
            "new": None
            if self.new_date is None
            else {
                "date": self.new_date.isoformat(),
                "time": self.new_time,
                "truck": self.new_truck,
                "window": self.new_window,
            },
            "reason": self.reason,
        }


def _stops(plan: Plan, start: dt.date) -> dict[tuple[str, dt.date], tuple[str, str]]:
    """(point, date) -> (arrival HH:MM, truck) of every visit from ``start`` on."""
    return {
        (st.place, run.date): (f"{st.arrival:%H:%M}", run.vehicle)
        for run, st in plan.collect_steps()
        if run.date >= start
    }


def _window_text(p: PointPlan | None) -> str:
    return "–".join(p.window) if p is not None and p.window else ""


def visit_changes(
    scenario: Scenario, month: Month, outcome: Outcome, new: Plan
) -> list[VisitChange]:
    """Every visit from ``--from`` on that changed, by old date and point."""
    old = month.plan
    start = month.disruption.start
    before, after = _stops(old, start), _stops(new, start)
    names = {p.id: p for p in scenario.points}
    out = []
    for (c, d0), d1 in sorted(outcome.new_day.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        point = month.sp.customer_points[c]
        day0 = month.dates[d0]
        t0, v0 = before[point, day0]
        w0, w1 = (
            _window_text(old.points_by_id.get(point)),
            _window_text(new.points_by_id.get(point)),
        )
        cause = outcome.cause.get((c, d0), "")
        if d1 is None:
            status, day1, t1, v1 = "unserved", None, "", ""
            reason = outcome.unserved.get((c, d0), cause)
        else:
            day1 = month.dates[d1]
            t1, v1 = after[point, day1]
            if day1 != day0:
                status = "moved"
                reason = f"{cause}; moved to {day1}" if cause else f"moved to {day1}"
            elif w1 != w0:
                status = "window"
                reason = cause or f"the point's window widened to {w1} to hold a moved visit"
            elif (t1, v1) != (t0, v0):
                status = "retimed"
                reason = cause or (
                    f"its run on {day0} was re-planned around the disruption; the truck still "
                    f"comes inside the announced window"
                )
                if cause and v1 != v0:
                    reason = f"{cause}; truck {v1} comes instead, inside the announced window"
            else:
                continue
        p = names.get(point)
        out.append(
            VisitChange(
                point=point,
                name=p.name if p else point,
                gacha=p.gacha if p else "",
                status=status,
                old_date=day0,
                old_time=t0,
                old_truck=v0,
                old_window=w0,
                new_date=day1,
                new_time=t1,
                new_truck=v1,
                new_window=w1 if day1 is not None else "",
                reason=reason,
            )
        )
    return out
