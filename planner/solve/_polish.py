"""The last step of 定时: cheaper routes that keep every announced window.

Once :func:`planner.solve.timing.time_month` has fixed each point's window, every
visit of the month is held to its point's window (a hard limit) and the days'
routes are made cheaper under those limits only:

1. **Relocate.** Each visit, then each run of 2 and 3 neighbouring visits, is
   taken out of its route and put back where it costs least (any route of the day,
   any place, either way round), kept when the day gets cheaper.
2. **Release.** Where more points keep a one-width window than the scenario asks
   for (``[windows] aim_pct``), the points whose window costs most are given the
   cap's width (2 h, centred on their window) instead, one by one while the share
   stays at or above the aim, when relocating their visits within it saves more
   than :data:`RELEASE_MIN_CNY`.

No arrival leaves its point's window, so no announced window grows (a released
point's grows to the cap at most). All of it is counted work (:class:`Meter`): the
same seed gives the same routes on any machine.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from planner.solve._clock import Meter
from planner.solve._template import Engine, engine_routes, visits_under, with_kept
from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem, Route

Window = tuple[int, int]
DayState = tuple[DaySolution, dict[int, Window]]  # routes, customer → hard window kept
SEGMENTS = (1, 2, 3)  # how many neighbouring visits move together, in turn
RELEASE_MIN_CNY = 1.0  # a release must save at least this much to be worth a wider window


@dataclass(frozen=True)
class Aim:
    """What the release step may do: keep ``share`` (0..1) of points in one width."""

    share: float
    width: int
    cap: int
    bounds: Window


def _held(visits: Sequence[DayVisit], windows: Mapping[int, Window]) -> list[DayVisit]:
    return [dataclasses.replace(v, window=windows.get(v.customer, v.window)) for v in visits]


def _cut(route: Route, pos: int, length: int) -> Route:
    """``route`` without its stops ``pos .. pos + length - 1`` (no visit left: empty)."""
    rest = Route(
        route.vehicle,
        route.stops[:pos] + route.stops[pos + length :],
        route.visits[:pos] + route.visits[pos + length :],
    )
    return rest if any(v >= 0 for v in rest.visits) else Route(route.vehicle, (), ())


def _least_added(
    problem: PeriodicProblem, route: Route, where: int, way: Sequence[tuple[int, int]]
) -> float:
    """A lower bound on what putting ``way`` into ``route`` before stop ``where`` adds.

    The distance the detour adds is exact, and a stop more never shortens the
    day (travel times keep the triangle inequality), so the distance's cost bounds
    the whole. No bound (0) at the route's end, where the unloading station may
    change, in an empty route (which may cost a truck's day) or when the
    objective is time alone.
    """
    if problem.objective != "cost" or not route.stops or where == len(route.stops):
        return 0.0
    veh = problem.vehicles[route.vehicle]
    dist = problem.distance
    prev = route.stops[where - 1] if where > 0 else veh.depot
    nxt = route.stops[where]
    added = int(dist[prev, way[0][0]]) + int(dist[way[-1][0], nxt]) - int(dist[prev, nxt])
    for (a, _), (b, _) in pairwise(way):
        added += int(dist[a, b])
    return veh.cost_per_distance * added


def _move(
    problem: PeriodicProblem,
    day: int,
    vis: Sequence[DayVisit],
    routes: list[Route],
    costs: list[float],
    at: tuple[int, int, int],
    meter: Meter,
) -> float:
    """Move the visits at ``at`` (route, first stop, how many) to their cheapest place
    (either way round) under ``vis``'s windows; the saving (0: nothing moved)."""
    ri, pos, length = at
    src = routes[ri]
    seg = list(zip(src.stops[pos : pos + length], src.visits[pos : pos + length], strict=True))
    if len(seg) < length or any(v < 0 for _, v in seg):
        return 0.0
    rest = _cut(src, pos, length)
    rest_sched = meter.schedule(problem, day, vis, rest)
    if not rest_sched.feasible:
        return 0.0
    ways = [seg, seg[::-1]] if length > 1 else [seg]
    freed = costs[ri] - rest_sched.cost  # what taking the visits out saves
    best: tuple[float, int, Route, float] | None = None
    for rj, r in enumerate(routes):
        base = rest if rj == ri else r
        for where in range(len(base.stops) + 1):
            for way in ways:
                if rj == ri and where == pos and way is seg:
                    continue  # where it is now
                floor = best[0] if best is not None else 1e-6
                if freed - _least_added(problem, base, where, way) <= floor + 1e-9:
                    continue  # cannot save more than the best place found so far
                cand = Route(
                    base.vehicle,
                    (*base.stops[:where], *(n for n, _ in way), *base.stops[where:]),
                    (*base.visits[:where], *(v for _, v in way), *base.visits[where:]),
                )
                sched = meter.schedule(problem, day, vis, cand)
                if not sched.feasible:
                    continue
                gain = costs[ri] - sched.cost
                if rj != ri:
                    gain += costs[rj] - rest_sched.cost
                if best is None or gain > best[0] + 1e-9:
                    best = (gain, rj, cand, sched.cost)
    if best is None or best[0] <= 1e-6:
        return 0.0
    gain, rj, cand, cost = best
    if rj != ri:
        routes[ri], costs[ri] = rest, rest_sched.cost
    routes[rj], costs[rj] = cand, cost
    return gain


def relocate_day(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    solution: DaySolution,
    windows: Mapping[int, Window],
    meter: Meter,
    only: frozenset[int] | None = None,
    lengths: Sequence[int] = (1,),
) -> tuple[DaySolution, float]:
    """``solution`` with visits relocated (all held to ``windows``); the saving.

    ``only``: relocate just these customers' visits (others stay, held all the same);
    ``lengths``: how many neighbouring visits move together, in turn.
    """
    vis = _held(visits, windows)
    routes = list(solution.routes)
    scheds = [meter.schedule(problem, day, vis, r) for r in routes]
    if not all(sc.feasible for sc in scheds):
        return solution, 0.0  # the day does not keep the windows as it is: leave it
    costs = [sc.cost for sc in scheds]
    saved = 0.0
    for length in lengths:
        order = [k for r in solution.routes for k in r.visits if k >= 0]
        for k in order:
            if not meter.left():
                break
            if only is not None and visits[k].customer not in only:
                continue
            ri = next(i for i, r in enumerate(routes) if k in r.visits)
            at = (ri, routes[ri].visits.index(k), length)
            saved += _move(problem, day, vis, routes, costs, at, meter)
    kept = tuple(r for r in routes if r.stops)
    return dataclasses.replace(solution, routes=kept), saved


def _engine_day(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    windows: Mapping[int, Window],
    engine: Engine,
    meter: Meter,
) -> tuple[DaySolution, float] | None:
    """The engine's routes for ``day`` with every visit held to ``windows``, and their cost."""
    prob = with_kept(
        problem, {v.customer: windows[v.customer] for v in visits if v.customer in windows}
    )
    held = visits_under(prob, visits)
    sol = engine_routes(prob, day, held, engine, meter)
    if sol is None:
        return None
    scheds = [meter.schedule(prob, day, held, r) for r in sol.routes]
    if not all(sc.feasible for sc in scheds):
        return None
    return sol, sum(sc.cost for sc in scheds)


def polish(
    problem: PeriodicProblem,
    visits: Mapping[int, Sequence[DayVisit]],
    days: dict[int, DaySolution],
    windows: dict[int, Window],
    meter: Meter,
    engine: Engine | None = None,
) -> dict[int, DaySolution]:
    """Every day's routes made cheaper under ``windows`` (customer → announced window).

    Three passes over the month, each day in turn, while the meter has work left:
    single visits relocated; with ``engine``, the engine routing the day afresh
    under the same windows (its routes, relocated, replace the day's when cheaper);
    runs of 2 and 3 neighbouring visits relocated.
    """
    out = dict(days)
    for step in ("single", "engine", "runs"):
        for d in sorted(out):
            if not meter.left():
                return out
            if step == "single":
                out[d], _ = relocate_day(problem, d, visits[d], out[d], windows, meter)
            elif step == "runs":
                out[d], _ = relocate_day(
                    problem, d, visits[d], out[d], windows, meter, lengths=SEGMENTS[1:]
                )
            elif engine is not None and visits[d]:
                out[d] = _fresher(problem, d, visits[d], out[d], windows, engine, meter)
    return out


def _fresher(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    solution: DaySolution,
    windows: Mapping[int, Window],
    engine: Engine,
    meter: Meter,
) -> DaySolution:
    """The engine's routes for the day, relocated, where they cost less than ``solution``."""
    fresh = _engine_day(problem, day, visits, windows, engine, meter)
    if fresh is None:
        return solution
    vis = _held(visits, windows)
    now = [meter.schedule(problem, day, vis, r) for r in solution.routes]
    if not all(sc.feasible for sc in now):
        return solution
    cand, _ = relocate_day(
        problem, day, visits, dataclasses.replace(fresh[0], day=day), windows, meter
    )
    cost = sum(meter.schedule(problem, day, vis, r).cost for r in cand.routes)
    return cand if cost < sum(sc.cost for sc in now) - 1e-6 else solution


def _wider(window: Window, aim: Aim) -> Window:
    """``window`` widened to the cap, centred, moved inside the bounds."""
    lo = window[0] - (aim.cap - (window[1] - window[0])) // 2
    lo = max(aim.bounds[0], min(lo, aim.bounds[1] - aim.cap))
    return lo, lo + aim.cap


def release(
    problem: PeriodicProblem,
    visits: Mapping[int, Sequence[DayVisit]],
    days: dict[int, DaySolution],
    windows: dict[int, Window],
    aim: Aim,
    meter: Meter,
) -> tuple[dict[int, DaySolution], dict[int, Window]]:
    """Widen the costliest windows to the cap while the one-width share stays ≥ the aim.

    Each point in a one-width window is priced (its visits relocated within the
    wider window, every other visit held); points are released by saving, largest
    first (ties: customer order), each re-priced against the routes as they are
    then, while the share of one-width points stays at or above ``aim.share``.
    """
    on_days: dict[int, list[int]] = defaultdict(list)
    for d in sorted(visits):
        for v in visits[d]:
            on_days[v.customer].append(d)
    narrow = sorted(c for c, w in windows.items() if w[1] - w[0] <= aim.width and c in on_days)
    total = len([c for c in windows if c in on_days])
    spare = len(narrow) - int(-(-aim.share * total // 1))
    if spare <= 0:
        return days, windows
    prices: list[tuple[float, int]] = []
    for ci in narrow:
        if not meter.left():
            break
        trial = dict(windows) | {ci: _wider(windows[ci], aim)}
        saved = sum(
            relocate_day(problem, d, visits[d], days[d], trial, meter, frozenset({ci}))[1]
            for d in on_days[ci]
        )
        if saved > RELEASE_MIN_CNY:
            prices.append((-saved, ci))
    out, windows = dict(days), dict(windows)
    for _, ci in sorted(prices):
        if spare <= 0 or not meter.left():
            break
        trial = windows | {ci: _wider(windows[ci], aim)}
        moved = {
            d: relocate_day(problem, d, visits[d], out[d], trial, meter, frozenset({ci}))
            for d in on_days[ci]
        }
        if sum(s for _, s in moved.values()) > RELEASE_MIN_CNY:
            out.update({d: sol for d, (sol, _) in moved.items()})
            windows = trial
            spare -= 1
    return out, windows
