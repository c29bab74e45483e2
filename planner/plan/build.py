"""Turn a solved month into plan.json (format ``rural-waste-plan/1``).

Times come from :func:`planner.solve.schedule.schedule_route` (the one truth of
timing); what each stop collects comes from the waste model, so loads are exact kg
rather than the solver's integer units.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from planner.plan.diagnose import unserved_reason
from planner.plan.model import (
    Period,
    Place,
    Plan,
    PointPlan,
    Run,
    Step,
    Summary,
    Unserved,
    Vehicle,
)
from planner.scenario.model import Scenario
from planner.solve.from_scenario import ScenarioProblem
from planner.solve.month import announce
from planner.solve.problem import PeriodicProblem, PeriodicSolution, day_visits
from planner.solve.schedule import RouteSchedule, schedule_route


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _at(date: dt.date, minutes: int) -> dt.datetime:
    # Runs end the same day; a minute count past midnight would still be a valid time.
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minutes)


def _r(x: float, nd: int = 3) -> float:
    return round(x + 0.0, nd)


def plan_dimensions(scenario: Scenario) -> tuple[str, ...]:
    """Load dimensions the plan reports: kg and m3 always, hazard_kg where trucks have a locker."""
    dims = ["kg", "m3"]
    if all(v.hazard_kg > 0 for v in scenario.fleet):
        dims.append("hazard_kg")
    return tuple(dims)


def build_plan(
    scenario: Scenario,
    sp: ScenarioProblem,
    solution: PeriodicSolution,
    *,
    windows: dict[str, tuple[int, int]] | None = None,
    day_problems: dict[int, PeriodicProblem] | None = None,
) -> Plan:
    """The plan for ``solution`` (money figures are added by the money step).

    ``windows`` are the announced arrival windows per point (minutes from midnight);
    points without one get ``null``. ``day_problems`` gives, per day, the problem
    (with the customer windows) that day was routed with; by default ``sp.problem``.
    """
    s = scenario.settings
    problem = sp.problem
    dims = plan_dimensions(scenario)
    fleet = {v.id: v for v in s.fleet}
    places = [
        Place(id=p.id, name=p.name, kind=scenario.place_kind(p.id), lon=p.lon, lat=p.lat)
        for p in scenario.places()
    ]
    vehicles = []
    for v in s.fleet:
        cap = {"kg": v.payload_kg, "m3": v.box_m3, "hazard_kg": v.hazard_kg}
        vehicles.append(
            Vehicle(
                id=v.id,
                depot=v.depot,
                capacity={d: cap[d] for d in dims},
                max_duration_min=v.max_work_min,
            )
        )
    windows = windows or {}
    points = []
    for p in scenario.points:
        k = scenario.visits[p.id]
        w = windows.get(p.id)
        points.append(
            PointPlan(
                id=p.id,
                required_visits=k,
                min_gap_days=s.visits.gap_for(k),
                window=(_hhmm(w[0]), _hhmm(w[1])) if w else None,
            )
        )

    runs: list[Run] = []
    unserved: list[Unserved] = []
    cost_cny = 0.0
    for ds in solution.days:
        date = sp.dates[ds.day]
        # Timing depends on the windows the day was routed with (a truck early for
        # one waits there), so the day's visits carry that problem's windows.
        day_problem = (day_problems or {}).get(ds.day, problem)
        visits = day_visits(day_problem, solution.patterns, ds.day)
        for route in ds.routes:
            if not route.stops:
                continue
            sched = schedule_route(day_problem, ds.day, visits, route)
            veh = problem.vehicles[route.vehicle]
            spec = fleet[veh.name]
            run = _run(sp, solution, date, sched, visits, spec.id, spec.depot, dims)
            runs.append(run)
            cost_cny += spec.cost_per_km * run.distance_km + spec.cost_per_hour * (
                run.duration_min / 60.0
            )
        for vi in ds.unrouted:
            point = sp.customer_points[visits[vi].customer]
            reason = unserved_reason(scenario, sp, visits[vi].customer, ds.day, visits[vi])
            unserved.append(Unserved(point=point, date=date, reason=reason))
    for ci, pi in enumerate(solution.patterns):
        point = sp.customer_points[ci]
        if pi is not None:
            continue
        need = scenario.visits[point]
        reason = sp.patterns_unfit.get(point) or (
            "no set of dates fits this point into the trucks' hours this month; "
            "add a truck or a service day"
        )
        unserved += [Unserved(point=point, date=None, reason=reason) for _ in range(need)]

    runs.sort(key=lambda r: (r.date, r.vehicle))
    return Plan(
        scenario=s.name,
        period=Period(
            start=s.month.first_day,
            end=s.month.last_day,
            timezone=s.month.timezone,
            service_dates=tuple(sp.dates),
        ),
        places=tuple(places),
        vehicles=tuple(vehicles),
        points=tuple(points),
        runs=tuple(runs),
        unserved=tuple(unserved),
        summary=Summary(
            distance_km=_r(sum(r.distance_km for r in runs), 2),
            duration_min=_r(sum(r.duration_min for r in runs), 1),
            runs=len(runs),
            visits=sum(len(r.collects) for r in runs),
            unserved=len(unserved),
            cost_cny=_r(cost_cny, 2),
            collected_kg=_r(sum(st.collected_kg for r in runs for st in r.steps), 1),
        ),
    )


def _run(
    sp: ScenarioProblem,
    solution: PeriodicSolution,
    date: dt.date,
    sched: RouteSchedule,
    visits: Any,
    vehicle_id: str,
    depot_id: str,
    dims: tuple[str, ...],
) -> Run:
    ids = sp.node_ids
    kinds = {"visit": "collect", "facility": "unload", "break": "break"}
    # (type, place, leg distance m, leg minutes, arrival, departure, sched step)
    rows: list[list[Any]] = [["start", depot_id, 0, 0, sched.start, sched.start, None]]
    for st in sched.steps:
        # Arrival is when service (or the break) starts: a truck early for a window waits
        # where it was, so herders see it come inside the announced window. A break on
        # arrival carries the drive to its place; the stop after it has a zero leg.
        rows.append(
            [kinds[st.kind], ids[st.node], st.distance, st.travel, st.start, st.departure, st]
        )
    rows.append(
        ["end", depot_id, sched.return_distance, sched.return_travel, sched.end, sched.end, None]
    )
    for i in range(1, len(rows)):
        due = rows[i - 1][5] + rows[i][3]
        if rows[i][4] > due:
            rows[i - 1][5] = rows[i][4] - rows[i][3]

    steps: list[Step] = []
    on_board: dict[str, float] = defaultdict(float)
    for kind, place, dist, travel, arr, dep, st in rows:
        collected = unloaded = None
        if kind == "collect":
            ci = visits[st.visit].customer
            chosen = solution.patterns[ci]
            if chosen is None:
                raise AssertionError("a routed visit always has a pattern")
            pat = sp.problem.customers[ci].patterns[chosen]
            kg = sp.visit_kg(place, pat.days, pat.days.index(sched.day))
            collected = {c: _r(q) for c, q in kg.items() if q > 0}
            for c, q in collected.items():
                on_board[c] += q
        elif kind == "unload":
            unloaded = {c: _r(q) for c, q in on_board.items() if q > 0}
            on_board.clear()
        load = sp.load_model.load(dict(on_board))
        steps.append(
            Step(
                type=kind,
                place=place,
                arrival=_at(date, arr),
                departure=_at(date, dep),
                leg_km=_r(dist / 1000.0),
                leg_min=float(travel),
                collected=collected,
                unloaded=unloaded,
                load_after={d: _r(load[d], 4) for d in dims},
            )
        )
    return Run(
        id=f"{vehicle_id}-{date.isoformat()}",
        date=date,
        vehicle=vehicle_id,
        steps=tuple(steps),
        distance_km=_r(sum(s.leg_km for s in steps), 3),
        duration_min=float(rows[-1][4] - rows[0][5]),
    )


def announced_windows(
    plan_runs: Sequence[Run],
    width_min: int,
    step_min: int = 15,
    *,
    cover: bool = True,
    bounds: tuple[int, int] | None = None,
) -> dict[str, tuple[int, int]]:
    """Per point, an announced window of ``width_min`` around the runs' arrivals.

    The rule is :func:`planner.solve.month.announce` (``cover=False``: the target
    around the first visit's arrival; ``cover=True``: around the median, widened to
    hold every arrival; ``bounds``, the scenario's ``windows.earliest`` and
    ``windows.latest`` in minutes, keep every window inside them), applied to a
    plan's runs in date order.
    """
    times: dict[str, list[int]] = defaultdict(list)
    for run in sorted(plan_runs, key=lambda r: (r.date, r.id)):
        for st in run.collects:
            times[st.place].append(st.arrival_min)
    return announce(times, width_min, step_min, cover=cover, bounds=bounds)
