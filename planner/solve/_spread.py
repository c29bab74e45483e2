"""The last step of 定时: no point's arrivals spread wider than the cap (2 h).

After the scored rounds of :func:`planner.solve.timing.time_month` a few points
still arrive hours apart (same truck, a different place in a long route). Herders
cannot be told "between 09:00 and 14:00", so each such point is moved, at whatever
it costs, into one window: the announced width if every off-window visit can be
moved into it, else the cap. Points a little over the width are moved into it
when that costs no more than their late visits are scored at. A visit is moved by
taking it out of its route and inserting it where it fits with the window as a
hard limit (on any route of the day, or alone on a free truck) while every other
visit of that day stays within its own window (or the span of its arrivals where
that is wider) -- so no other point's spread or announced window grows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from planner.solve._clock import Meter
from planner.solve._template import Engine, engine_routes, insert_left, visits_under, with_kept
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route
from planner.solve.schedule import schedule_route

Window = tuple[int, int]
DayState = tuple[DaySolution, dict[int, Window]]  # routes, customer → hard window kept


@dataclass(frozen=True)
class Grid:
    """Window widths and where windows may lie."""

    width: int
    cap: int
    bounds: Window
    step: int


def month_arrivals(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, DayState],
) -> dict[int, list[tuple[int, int]]]:
    """Per customer, (day, service start) of each visit, days in order."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for d in sorted(days):
        sol, kept = days[d]
        prob = with_kept(problem, kept)
        vis = visits_under(prob, visits[d])
        for r in sol.routes:
            for st in schedule_route(prob, d, vis, r).steps:
                if st.kind == "visit":
                    out[visits[d][st.visit].customer].append((d, st.start))
    return out


def _best_window(times: Sequence[int], width: int, grid: Grid) -> Window:
    """The grid window of ``width`` inside the bounds holding most of ``times``."""
    lo0, hi0 = grid.bounds
    first = -(-lo0 // grid.step) * grid.step
    starts = range(first, max(first, hi0 - width) + 1, grid.step)
    mid = sorted(times)[len(times) // 2]
    best = max(
        starts,
        key=lambda lo: (sum(lo <= t <= lo + width for t in times), -abs(lo + width / 2 - mid)),
    )
    return best, best + width


def _hold(times: Sequence[int], grid: Grid) -> Window:
    """Where a point's arrivals may move without its window or spread growing.

    Within its current grid window when that is at most the announced width (the
    arrivals may move inside it), else within the span of its arrivals.
    """
    lo, hi = min(times), max(times)
    glo, ghi = lo // grid.step * grid.step, -(-hi // grid.step) * grid.step
    if ghi - glo > grid.width:
        return lo, hi
    glo -= (grid.width - (ghi - glo)) // 2 // grid.step * grid.step
    glo = max(grid.bounds[0], min(glo, grid.bounds[1] - grid.width))
    return min(glo, lo), max(glo + grid.width, hi)


def _candidates(times: Sequence[int], widths: Sequence[int], grid: Grid) -> list[Window]:
    """Windows to try, narrowest width first: the one holding most arrivals, then one
    around each arrival (a visit that cannot move may be the one to keep)."""
    out: list[Window] = []
    lo0, hi0 = grid.bounds
    for width in widths:
        out.append(_best_window(times, width, grid))
        for t in times:
            lo = (t - width // 2) // grid.step * grid.step
            lo = max(-(-lo0 // grid.step) * grid.step, min(lo, hi0 - width))
            if (lo, lo + width) not in out:
                out.append((lo, lo + width))
    return out


def _moved(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    state: DayState,
    ci: int,
    window: Window,
    holds: dict[int, Window],
    engine: Engine | None = None,
    meter: Meter | None = None,
) -> tuple[DayState, float] | None:
    """``state`` with customer ``ci``'s visit moved into ``window`` and what that adds.

    With ``engine``, where the visit fits no route as the routes are, the day is
    routed afresh instead (:func:`~planner.solve._template.engine_routes`).
    """
    sol, kept = state
    k = next(i for i, v in enumerate(visits) if v.customer == ci)
    before = with_kept(problem, kept)
    cost = sum(
        schedule_route(before, day, visits_under(before, visits), r).cost for r in sol.routes
    )
    routes: list[Route] = []
    for r in sol.routes:
        if k in r.visits:
            pos = r.visits.index(k)
            r = Route(
                r.vehicle, r.stops[:pos] + r.stops[pos + 1 :], r.visits[:pos] + r.visits[pos + 1 :]
            )
            if not any(v >= 0 for v in r.visits):
                continue
        routes.append(r)
    # A point with no visit routed all month has no arrivals: it keeps its own window.
    hold = {
        v.customer: kept.get(v.customer, holds[v.customer])
        for v in visits
        if v.customer in kept or v.customer in holds
    }
    hold[ci] = window
    prob = with_kept(problem, hold)
    held = visits_under(prob, visits)
    out = insert_left(problem, day, visits, routes, [k], hold, math.inf, only_wanted=True)
    if out is None and engine is not None and not sol.unrouted:
        if meter is not None and not meter.left():
            return None
        fresh = engine_routes(prob, day, held, engine, meter)  # the day routed afresh, all held
        out = None if fresh is None else list(fresh.routes)
    if out is None:
        return None
    scheds = [schedule_route(prob, day, held, r) for r in out]
    if not all(sc.feasible for sc in scheds):
        return None
    return (DaySolution(day, tuple(out), sol.unrouted), hold), sum(sc.cost for sc in scheds) - cost


def _try_point(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, DayState],
    arrivals: dict[int, list[tuple[int, int]]],
    ci: int,
    grid: Grid,
    price: float,
    engine: Engine | None = None,
    meter: Meter | None = None,
) -> dict[int, DayState] | None:
    """``days`` with ``ci`` in one window (the width, else the cap) for at most ``price``;
    with ``engine``, a day where the visit fits no route as they are is routed afresh."""
    times = [t for _, t in arrivals[ci]]
    holds = {c: _hold([t for _, t in a], grid) for c, a in arrivals.items()}
    widths = (grid.width, grid.cap) if max(times) - min(times) > grid.cap else (grid.width,)
    for window in _candidates(times, widths, grid):
        trial = dict(days)
        added = 0.0
        for d, t in arrivals[ci]:
            if window[0] <= t <= window[1]:
                continue
            moved = _moved(problem, d, visits[d], trial[d], ci, window, holds, engine, meter)
            if moved is None:
                break
            trial[d], extra = moved
            added += extra
        else:
            if added <= price:
                return trial
    return None


def cap_spreads(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, DayState],
    grid: Grid,
    late_weight: float,
    engine: Engine | None = None,
    meter: Meter | None = None,
) -> dict[int, DayState]:
    """``days`` with points' arrivals moved into one window; see the module docstring.

    With ``engine``, a point spread over the cap that no window can take by moving
    its visits has the days where a visit fits no route as they are routed afresh,
    every other visit held, while ``meter`` has work left (each call counted on it).

    Points spread over ``grid.cap`` are moved at any price (the announced width, else
    the cap); points spread over the width but not the cap are moved into the width
    when that adds at most ``late_weight`` per visit moved. Widest spread first (ties:
    customer order); a point that cannot be moved on every day it needs keeps its routes.
    """
    days = dict(days)
    arrivals = month_arrivals(problem, visits, days)

    def spread(ci: int) -> int:
        ts = [t for _, t in arrivals[ci]]
        return max(ts) - min(ts)

    for ci in sorted(
        (c for c in arrivals if spread(c) > grid.width), key=lambda c: (-spread(c), c)
    ):
        if spread(ci) <= grid.width:
            continue  # an earlier move already brought it in
        over = spread(ci) > grid.cap
        off = sum(1 for _, t in arrivals[ci] if not _within(t, arrivals[ci], grid))
        price = math.inf if over else late_weight * max(1, off)
        trial = _try_point(problem, visits, days, arrivals, ci, grid, price)
        if trial is None and over and engine is not None and (meter is None or meter.left()):
            # Only where no window can be reached by moves: a day routed afresh costs more.
            trial = _try_point(problem, visits, days, arrivals, ci, grid, price, engine, meter)
        if trial is not None:
            days = trial
            arrivals = month_arrivals(problem, visits, days)
    return days


def _within(t: int, arrivals: list[tuple[int, int]], grid: Grid) -> bool:
    """Whether ``t`` lies in the width's best window of these arrivals."""
    lo, hi = _best_window([a for _, a in arrivals], grid.width, grid)
    return lo <= t <= hi
