"""The smallest fleet a month needs, per depot, and what binds it.

An estimate from the same truck-day groups the month's calendar starts from
(:func:`~planner.solve.group_calendar.make_groups`, filled to a whole shift): each
group of neighbouring points is one truck's day, once per visit of its points'
pattern, so a depot needs at least its groups' visits over its service days trucks
a day. What binds is said with the figures: the hours of a shift (the groups are cut
by driving, service and unloading minutes; heavy loads add trips to a station), or
a point no truck can reach and bring back within a shift (no fleet size helps).
Points count at their nearest depot: a neighbouring depot's spare trucks can take
some of them, so a depot one truck short may still be served (the search decides).

Over a month the groups' visits cannot fill every truck-day: a point's visits keep
their spacing, so the calendar leaves gaps. The estimate therefore keeps
:data:`MONTH_FILL` of the truck-days usable (one service day has no calendar to pack).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from planner.solve.engines.finish import close_route
from planner.solve.group_calendar import make_groups
from planner.solve.problem import DayVisit, PeriodicProblem, Route
from planner.solve.schedule import schedule_route

MONTH_FILL = 0.9
"""Share of a month's truck-days the groups can fill. Measured on a synthetic banner of
1,800 points (seed 0, six depots, ``--time-limit 90``): with the trucks of a full fill
(37) depots planned at 91-96 % of their truck-days left 19 of 3,824 visits unserved."""


@dataclass(frozen=True)
class FleetNeed:
    """One depot's estimate: ``trucks`` needed a service day against ``have``."""

    depot: int
    trucks: int
    have: int
    truck_days: int
    days: int
    reason: str
    unreachable: tuple[int, ...] = ()  # customers no truck can serve alone in a shift


def fleet_needs(problem: PeriodicProblem) -> list[FleetNeed]:
    """Per depot with trucks, the estimate; see the module docstring."""
    groups = make_groups(problem, fill=1.0)
    visits: dict[int, int] = defaultdict(int)
    for g in groups:
        visits[g.depot] += problem.customers[g.customers[0]].frequency
    alone = _unreachable(problem)
    out = []
    for depot in sorted({v.depot for v in problem.vehicles}):
        trucks = [v for v in problem.vehicles if v.depot == depot]
        days = len({d for v in trucks for d in v.days})
        shift = max(min(v.max_duration, v.shift[1] - v.shift[0]) - v.break_duration for v in trucks)
        fill = MONTH_FILL if days > 1 else 1.0
        need = math.ceil(visits[depot] / (days * fill) - 1e-9) if days else 0
        n = sum(1 for g in groups if g.depot == depot)
        reason = (
            f"hours: {visits[depot]} truck-days of {shift / 60:.1f} h ({n} groups of "
            f"neighbouring points, each one truck's full day, times their visits) over "
            f"{days} service days"
        )
        if fill < 1.0:
            reason += f", {fill:.0%} of them filled"
        mine = tuple(i for i in alone if _home(problem, i) == depot)
        if mine:
            reason += f"; {len(mine)} points no truck reaches and brings back within a shift"
        out.append(FleetNeed(depot, need, len(trucks), visits[depot], days, reason, mine))
    return out


def _home(problem: PeriodicProblem, i: int) -> int:
    node = problem.customers[i].node
    d = problem.duration
    return min({v.depot for v in problem.vehicles}, key=lambda q: d[q, node] + d[node, q])


def _unreachable(problem: PeriodicProblem) -> list[int]:
    """Customers that no truck can serve on their own on any of its days."""
    out = []
    for i, c in enumerate(problem.customers):
        if not c.patterns:
            continue
        demand = c.patterns[0].demands[0]
        visit = (DayVisit(i, c.node, demand, c.service, c.window),)
        ok = False
        for k, v in enumerate(problem.vehicles):
            if not v.days:
                continue
            route = close_route(problem, visit, Route(k, (c.node,), (0,)))
            if schedule_route(problem, v.days[0], visit, route).feasible:
                ok = True
                break
        if not ok:
            out.append(i)
    return out
