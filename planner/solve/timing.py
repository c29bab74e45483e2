"""定时: one announced window per point that every visit of the month keeps.

The first phase routes the month with every point open all day. This phase then
gives each point a *target* window of the announced width and moves the days'
routes onto the targets, trading cost against visits kept on time:

1. **Targets.** Per point, the window on the 15-minute grid (inside the scenario's
   bounds) that holds the most of its current arrivals (ties: the one nearest the
   first visit's arrival).
2. **Retiming a fixed route.** A route's stops are kept; it is scheduled with the
   targets of its points added one by one as hard windows (kept when the route
   stays feasible), forwards and reversed trip by trip (a truck that served a
   village chain outwards on one day serves it outwards again, not inwards), and
   the cheaper of the two by the day's score is kept.
3. **Re-routing a day.** The engine routes the day with every target as a hard
   window; points it cannot place lose theirs; visits still left over are inserted
   where they cost least. The result is retimed as in 2 and replaces the day's
   routes when it scores better.
3b. **Driving a sibling day's routes** (:mod:`planner.solve._template`). The one
   or two days sharing most points with this one lend their routes: same truck
   (or a twin), same order, the points not due today skipped (the truck waits
   where that makes it early, so the shared points keep their minutes); the
   day's other points are routed by the engine on the trucks left free, then
   inserted where they cost least. Retimed as in 2, kept when it scores better.
4. **Same truck.** Routes are handed to interchangeable trucks (same depot,
   capacity, shift, speed, costs) so that each point keeps its usual truck; this
   changes no time and no cost.

A day's score is its cost plus :attr:`TimingLookups.late_weight` per visit off its
target plus :attr:`TimingLookups.truck_weight` per visit not made by the point's
usual truck. Rounds repeat 1–4 with targets from the routes so far. Last,
:mod:`planner.solve._spread` moves every point whose arrivals still spread over
:attr:`TimingBudget.cap` (2 h) into one window at any price, and points a little
over the width into it where that costs no more than their late visits' score.
Then (:mod:`planner.solve._polish`, given :attr:`TimingBudget.polish_work`) every
visit is held to its point's window as found and the routes are made cheaper
inside them; beyond :attr:`TimingLookups.aim` of points in one width, the points
whose window costs most may be widened to the cap.
The hard windows a day keeps are its day problem's, and the plan times the day
with them (a truck early for a window waits there). Everything is counted work
(engine iterations, a fixed number of rounds and moves): a seed gives the same
routes on any machine.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.scenario.settings import minutes_of
from planner.solve._clock import DaySize, Meter, WallLimit
from planner.solve._polish import Aim, polish, release
from planner.solve._spread import Grid, cap_spreads
from planner.solve._template import (
    Engine,
    hand_over,
    insert_left,
    project,
    route_left,
    siblings,
    usual_trucks,
    visits_under,
    with_kept,
)
from planner.solve.engines import bounded_engine
from planner.solve.problem import (
    DaySolution,
    DayVisit,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    day_visits,
)
from planner.solve.schedule import schedule_route

if TYPE_CHECKING:
    from planner.scenario.model import Scenario
    from planner.solve.budget import Budget
    from planner.solve.from_scenario import ScenarioProblem

Window = tuple[int, int]


@dataclass(frozen=True)
class TimingLookups:
    """What the window phase needs from the scenario side.

    Parameters
    ----------
    points
        The point id of each customer of the problem, in customer order.
    width
        The announced window's width (minutes).
    bounds
        No window opens before ``bounds[0]`` or closes after ``bounds[1]``.
    step
        Windows start on this grid (minutes from midnight).
    late_weight
        Score (CNY) of one visit outside its point's target window.
    truck_weight
        Score (CNY) of one visit not made by the point's usual truck.
    aim
        Share of points (0..1) to keep in one window of the width; the last step
        may widen the others' (the costliest first) to the cap.
    """

    points: tuple[str, ...]
    width: int
    bounds: Window
    step: int = 15
    late_weight: float = 300.0
    truck_weight: float = 5.0
    aim: float = 1.0


def lookups_for(scenario: Scenario, sp: ScenarioProblem) -> TimingLookups:
    """The window phase's look-ups from the scenario's ``[windows]`` settings."""
    win = scenario.settings.windows
    return TimingLookups(
        points=tuple(sp.customer_points),
        width=win.width_min,
        bounds=(minutes_of(win.earliest), minutes_of(win.latest)),
        late_weight=win.late_visit_cny,
        truck_weight=win.same_truck_cny,
        aim=win.aim_pct / 100.0,
    )


@dataclass(frozen=True)
class TimingBudget:
    """Work the phase may do: engine seconds of work per day route, rounds, and how
    many sibling days each day tries to drive the routes of; ``cap`` (minutes): the
    widest spread of a point's arrivals left after the rounds (``None``: no cap);
    ``polish_work``: work-seconds for the last step (0: none), whose engine call per
    day gets ``polish_seconds_per_day`` (``None``: ``seconds_per_day``); ``work``:
    work-seconds for every engine call before it -- each day's re-routing, its sibling
    days and the cap's re-routed days (``None``: unbounded). Days are re-routed, their
    siblings and the cap's fallback tried, only while work is left (a day past it
    keeps its first routes, retimed), so the phase keeps to its budget on any region."""

    engine: str
    seconds_per_day: float
    seed: int
    rounds: int = 2
    siblings: int = 2
    cap: int | None = 120
    polish_work: float = 0.0
    polish_seconds_per_day: float | None = None
    work: float | None = None

    @classmethod
    def of(cls, budget: Budget, engine: str, seed: int, num_days: int) -> TimingBudget:
        """The phase's work as ``budget`` splits it, for a month of ``num_days`` days."""
        return cls(
            engine=engine,
            seconds_per_day=budget.windows_day(num_days),
            seed=seed,
            rounds=budget.windows_rounds,
            polish_work=budget.windows_polish,
            polish_seconds_per_day=budget.windows_polish_day(num_days),
            work=budget.windows_work,
        )


@dataclass(frozen=True)
class Timed:
    """The final routes, each day's problem (with the windows it keeps) and the windows."""

    days: tuple[DaySolution, ...]
    day_problems: dict[int, PeriodicProblem]
    windows: dict[str, Window]


@dataclass
class _Day:
    """One day's routes and the visits (customer index → kept window) they keep."""

    solution: DaySolution
    kept: dict[int, Window]
    cost: float


def time_month(
    problem: PeriodicProblem,
    first: PeriodicSolution,
    lookups: TimingLookups,
    budget: TimingBudget,
    report: Callable[[str, float, float], None] | None = None,
    wall: WallLimit | None = None,
) -> Timed:
    """Move ``first``'s routes onto one window per point (see the module docstring).

    Parameters
    ----------
    problem
        The month's problem; every customer's window is the scenario's bounds.
    first
        The first phase's solution (its patterns are kept).
    lookups
        Point ids, width, bounds and score weights.
    budget
        Engine, work per day, seed and rounds.
    report
        Called as ``report("announced times", done, total)``.
    wall
        An explicit wall-clock limit (opt-in, not reproducible): once it has
        passed, the days left keep the routes they have.

    Returns
    -------
    Timed
        Routes no worse in unrouted visits than ``first``'s, day by day.
    """
    visits = {d: day_visits(problem, first.patterns, d) for d in range(problem.num_days)}
    days = {ds.day: _Day(ds, {}, 0.0) for ds in first.days}
    targets = _targets(problem, visits, days, lookups, first_pass=True)
    usual: dict[int, int] = {}
    total = budget.rounds * len(days)
    done = 0
    meter = Meter(math.inf if budget.work is None else Meter.seconds(budget.work))
    for rnd in range(budget.rounds):
        for d in sorted(days):
            if wall is not None and wall.passed():
                break
            cur = _retime(problem, d, visits[d], days[d].solution, targets, lookups)
            cand = None
            if meter.left():  # out of work, a day keeps its first routes, retimed
                cand = _reroute(problem, d, visits[d], targets, budget, lookups, meter)
            if cand is not None and (
                len(cand.solution.unrouted) <= len(days[d].solution.unrouted)
                and _score(cand, visits[d], targets, usual, lookups)
                < _score(cur, visits[d], targets, usual, lookups)
            ):
                cur = cand
            for src in siblings(visits, d, budget.siblings):
                if not meter.left():
                    break
                derived = _derived(
                    problem, d, visits, days[src].solution, targets, lookups, budget, meter
                )
                if derived is not None and _score(
                    derived, visits[d], targets, usual, lookups
                ) < _score(cur, visits[d], targets, usual, lookups):
                    cur = derived
            days[d] = _relocate_late(problem, d, visits[d], cur, targets, lookups)
            done += 1
            if report is not None:
                report("announced times", done, total)
        usual = usual_trucks(visits, {d: day.solution for d, day in days.items()})
        for d in sorted(days):
            days[d] = _handed(problem, visits[d], days[d], usual)
        usual = usual_trucks(visits, {d: day.solution for d, day in days.items()})
        if rnd + 1 < budget.rounds:
            targets = _targets(problem, visits, days, lookups, first_pass=False)
    if budget.cap is not None:
        grid = Grid(lookups.width, budget.cap, lookups.bounds, lookups.step)
        capped = cap_spreads(
            problem,
            visits,
            {d: (day.solution, day.kept) for d, day in days.items()},
            grid,
            lookups.late_weight,
            bounded_by(budget),
            meter,
        )
        days = {d: _Day(sol, kept, 0.0) for d, (sol, kept) in capped.items()}
        for d in sorted(days):
            days[d] = _handed(problem, visits[d], days[d], usual)
    days = _polished(problem, visits, days, lookups, budget, usual)
    day_problems = {d: with_kept(problem, day.kept) for d, day in days.items()}
    out_days = tuple(days[ds.day].solution for ds in first.days)
    windows = cover_windows(problem, visits, out_days, day_problems, lookups)
    return Timed(out_days, day_problems, windows)


def _polished(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, _Day],
    lookups: TimingLookups,
    budget: TimingBudget,
    usual: dict[int, int],
) -> dict[int, _Day]:
    """Step 5 (:mod:`planner.solve._polish`): cheaper routes inside the windows found."""
    if budget.polish_work <= 0:
        return days
    sols = {d: day.solution for d, day in days.items()}
    probs = {d: with_kept(problem, day.kept) for d, day in days.items()}
    covers = _covers(problem, visits, list(sols.values()), probs, lookups)
    meter = Meter(Meter.seconds(budget.polish_work))
    per_day = budget.polish_seconds_per_day or budget.seconds_per_day
    sols = polish(problem, visits, sols, covers, meter, Engine(budget.engine, per_day, budget.seed))
    if lookups.aim < 1.0 and budget.cap is not None:
        aim = Aim(lookups.aim, lookups.width, budget.cap, lookups.bounds)
        sols, covers = release(problem, visits, sols, covers, aim, meter)
    out: dict[int, _Day] = {}
    for d, sol in sols.items():
        kept = {v.customer: covers[v.customer] for v in visits[d] if v.customer in covers}
        prob = with_kept(problem, kept)
        under = visits_under(prob, visits[d])
        if not all(schedule_route(prob, d, under, r).feasible for r in sol.routes):
            out[d] = days[d]  # a day that cannot keep the announced windows as a whole
            continue
        out[d] = _handed(problem, visits[d], _Day(sol, kept, 0.0), usual)
    return out


def _arrivals(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], route: Route
) -> dict[int, int]:
    """Customer index → service start on ``route`` with ``problem``'s windows (as the plan)."""
    sched = schedule_route(problem, day, visits_under(problem, visits), route)
    return {visits[s.visit].customer: s.start for s in sched.steps if s.kind == "visit"}


def _grid_window(t: int, lookups: TimingLookups) -> Window:
    """The grid window of the announced width centred as near ``t`` as the grid allows."""
    lo0, hi0 = lookups.bounds
    lo = round((t - lookups.width / 2) / lookups.step) * lookups.step
    lo = max(lo0, min(lo, hi0 - lookups.width))
    return (lo, lo + lookups.width)


def _targets(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: dict[int, _Day],
    lookups: TimingLookups,
    *,
    first_pass: bool,
) -> dict[int, Window]:
    """Per customer, the grid window holding most of its arrivals (ties: nearest the first)."""
    times: dict[int, list[int]] = defaultdict(list)
    for d in sorted(days):
        prob = with_kept(problem, days[d].kept)
        for r in days[d].solution.routes:
            for ci, t in _arrivals(prob, d, visits[d], r).items():
                times[ci].append(t)
    out: dict[int, Window] = {}
    lo0, hi0 = lookups.bounds
    w, step = lookups.width, lookups.step
    for ci, ts in times.items():
        if first_pass:
            out[ci] = _grid_window(ts[0], lookups)
            continue
        starts = range(lo0 // step * step, hi0 - w + 1, step)
        best = max(
            (lo for lo in starts if lo >= lo0),
            key=lambda lo: (
                sum(lo <= t <= lo + w for t in ts),
                -abs(lo + w / 2 - ts[0]),
            ),
        )
        out[ci] = (best, best + w)
    return out


def _reversed(route: Route, facilities: frozenset[int]) -> Route:
    """``route`` driven the other way round, trip by trip: each unload stays after its trip."""
    trips: list[list[tuple[int, int]]] = [[]]
    for node, vi in zip(route.stops, route.visits, strict=True):
        if vi == -1 and node in facilities:
            trips[-1].append((node, vi))
            trips.append([])
        else:
            trips[-1].append((node, vi))
    tail = trips.pop()  # stops after the last unload (a depot that unloads)
    out: list[tuple[int, int]] = list(reversed(tail))
    for trip in reversed(trips):
        *stops, unload = trip
        out += [*list(reversed(stops)), unload]
    if not out:
        return route
    nodes, vis = zip(*out, strict=True)
    return Route(route.vehicle, tuple(nodes), tuple(vis))


def _fit_route(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    route: Route,
    targets: dict[int, Window],
) -> tuple[dict[int, Window], float, bool]:
    """Greedily add the targets of ``route``'s visits as hard windows (in stop order)."""
    vis = list(visits)
    kept: dict[int, Window] = {}
    base = schedule_route(problem, day, vis, route)
    if not base.feasible:
        return kept, base.cost, False
    cost = base.cost
    for vi in route.visits:
        if vi < 0:
            continue
        ci = vis[vi].customer
        tw = targets.get(ci)
        if tw is None:
            continue
        old = vis[vi]
        vis[vi] = dataclasses.replace(old, window=tw)
        sched = schedule_route(problem, day, vis, route)
        if sched.feasible:
            kept[ci] = tw
            cost = sched.cost
        else:
            vis[vi] = old
    return kept, cost, True


def _retime(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    solution: DaySolution,
    targets: dict[int, Window],
    lookups: TimingLookups,
) -> _Day:
    """``solution``'s routes, each in its better direction, keeping what targets it can."""
    facilities = frozenset(problem.facilities)
    routes: list[Route] = []
    kept: dict[int, Window] = {}
    cost = 0.0
    for r in solution.routes:
        best: tuple[float, Route, dict[int, Window], float] | None = None
        for cand in (r, _reversed(r, facilities)):
            k, c, ok = _fit_route(problem, day, visits, cand, targets)
            if not ok:
                continue
            n_vis = sum(1 for v in cand.visits if v >= 0)
            score = c + lookups.late_weight * (n_vis - len(k))
            if best is None or score < best[0] - 1e-9:
                best = (score, cand, k, c)
        if best is None:  # infeasible either way: keep as it is
            routes.append(r)
            cost += schedule_route(problem, day, visits, r).cost
            continue
        routes.append(best[1])
        kept.update(best[2])
        cost += best[3]
    return _Day(dataclasses.replace(solution, routes=tuple(routes)), kept, cost)


def _score(
    day: _Day,
    visits: Sequence[DayVisit],
    targets: dict[int, Window],
    usual: dict[int, int],
    lookups: TimingLookups,
) -> float:
    routed = [
        (r.vehicle, visits[vi].customer) for r in day.solution.routes for vi in r.visits if vi >= 0
    ]
    late = sum(1 for _, ci in routed if ci in targets and ci not in day.kept)
    foreign = sum(1 for v, ci in routed if ci in usual and usual[ci] != v)
    return day.cost + lookups.late_weight * late + lookups.truck_weight * foreign


def bounded_by(budget: TimingBudget) -> Engine:
    """The engine, work per call and seed a sibling day's left-over visits are routed with."""
    return Engine(budget.engine, budget.seconds_per_day, budget.seed)


def _derived(
    problem: PeriodicProblem,
    day: int,
    visits: dict[int, tuple[DayVisit, ...]],
    source: DaySolution,
    targets: dict[int, Window],
    lookups: TimingLookups,
    budget: TimingBudget,
    meter: Meter,
) -> _Day | None:
    """``day`` driving ``source``'s routes (:mod:`planner.solve._template`), or ``None``."""
    routes, left = project(problem, day, visits[day], source, visits[source.day])
    if left:
        routes, left = route_left(
            problem, day, visits[day], routes, left, targets, bounded_by(budget), meter
        )
    full = insert_left(problem, day, visits[day], routes, left, targets, lookups.late_weight)
    if full is None:
        return None
    sol = DaySolution(day, tuple(full), ())
    return _retime(problem, day, visits[day], sol, targets, lookups)


def _reroute(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    targets: dict[int, Window],
    budget: TimingBudget,
    lookups: TimingLookups,
    meter: Meter,
) -> _Day | None:
    """The engine's routes for ``day`` with the targets as hard windows, or ``None``."""
    if not visits:
        return None
    size = DaySize.of(problem, day, visits)
    router = bounded_engine(budget.engine, budget.seconds_per_day, size)
    windows = {ci: tw for ci, tw in targets.items()}
    for _ in range(2):
        prob = with_kept(problem, {ci: windows[ci] for ci in windows})
        day_vis = tuple(
            dataclasses.replace(v, window=windows.get(v.customer, v.window)) for v in visits
        )
        meter.engine(budget.engine, budget.seconds_per_day, size)
        sol = router.route_day(
            prob, day, day_vis, time_limit=budget.seconds_per_day, seed=budget.seed
        )
        if not sol.unrouted:
            break
        for k in sol.unrouted:  # these points cannot keep their target today
            windows.pop(visits[k].customer, None)
    if sol.unrouted:
        sol = _insert_left(problem, day, visits, sol)
        if sol.unrouted:
            return None
    return _retime(problem, day, visits, sol, targets, lookups)


def _insert_left(
    problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], sol: DaySolution
) -> DaySolution:
    """Insert unrouted visits (open all day) where they cost least, while feasible."""
    routes = list(sol.routes)
    left: list[int] = []
    for k in sol.unrouted:
        best: tuple[float, int, Route] | None = None
        for ri, r in enumerate(routes):
            now = schedule_route(problem, day, visits, r).cost
            for pos in range(len(r.stops) + 1):
                cand = Route(
                    r.vehicle,
                    (*r.stops[:pos], visits[k].node, *r.stops[pos:]),
                    (*r.visits[:pos], k, *r.visits[pos:]),
                )
                sched = schedule_route(problem, day, visits, cand)
                if sched.feasible and (best is None or sched.cost - now < best[0]):
                    best = (sched.cost - now, ri, cand)
        if best is None:
            left.append(k)
        else:
            routes[best[1]] = best[2]
    return DaySolution(sol.day, tuple(routes), tuple(left))


def _relocate_late(
    problem: PeriodicProblem,
    day: int,
    visits: Sequence[DayVisit],
    state: _Day,
    targets: dict[int, Window],
    lookups: TimingLookups,
) -> _Day:
    """Move each visit off its target to where it keeps it, when that costs less than it gains.

    Every other visit keeps the window it keeps now; the move's price is exact
    (:func:`schedule_route` on both routes).
    """
    vis = [dataclasses.replace(v, window=state.kept.get(v.customer, v.window)) for v in visits]
    kept = dict(state.kept)
    routes = list(state.solution.routes)
    costs = [schedule_route(problem, day, vis, r).cost for r in routes]
    late = [vi for r in routes for vi in r.visits if vi >= 0 and visits[vi].customer in targets]
    for k in late:
        ci = visits[k].customer
        if ci in kept:
            continue
        ri = next(i for i, r in enumerate(routes) if k in r.visits)
        src = routes[ri]
        pos = src.visits.index(k)
        rest = Route(
            src.vehicle,
            src.stops[:pos] + src.stops[pos + 1 :],
            src.visits[:pos] + src.visits[pos + 1 :],
        )
        if all(v < 0 for v in rest.visits):
            rest = Route(src.vehicle, (), ())
        rest_sched = schedule_route(problem, day, vis, rest)
        if not rest_sched.feasible:
            continue
        old = vis[k]
        vis[k] = dataclasses.replace(old, window=targets[ci])
        best: tuple[float, int, Route] | None = None
        for rj, r in enumerate(routes):
            base = rest if rj == ri else r
            before = rest_sched.cost if rj == ri else costs[rj]
            for at in range(len(base.stops) + 1):
                cand = Route(
                    base.vehicle,
                    (*base.stops[:at], old.node, *base.stops[at:]),
                    (*base.visits[:at], k, *base.visits[at:]),
                )
                sched = schedule_route(problem, day, vis, cand)
                if not sched.feasible:
                    continue
                delta = sched.cost - before + (rest_sched.cost - costs[ri] if rj != ri else 0.0)
                if rj == ri:
                    delta = sched.cost - costs[ri]
                if best is None or delta < best[0] - 1e-9:
                    best = (delta, rj, cand)
        if best is None or best[0] >= lookups.late_weight:
            vis[k] = old
            continue
        _, rj, cand = best
        if rj != ri:
            routes[ri], costs[ri] = rest, rest_sched.cost
        routes[rj] = cand
        costs[rj] = schedule_route(problem, day, vis, cand).cost
        kept[ci] = targets[ci]
    routes = [r for r in routes if r.stops]
    solution = dataclasses.replace(state.solution, routes=tuple(routes))
    return _Day(solution, kept, sum(schedule_route(problem, day, vis, r).cost for r in routes))


def _handed(
    problem: PeriodicProblem, visits: Sequence[DayVisit], day: _Day, usual: dict[int, int]
) -> _Day:
    """``day`` with its routes on the points' usual trucks (:func:`hand_over`)."""
    return _Day(hand_over(problem, visits, day.solution, usual), day.kept, day.cost)


def cover_windows(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: Sequence[DaySolution],
    day_problems: dict[int, PeriodicProblem],
    lookups: TimingLookups,
) -> dict[str, Window]:
    """Per point, the narrowest grid window of at least the width holding every arrival."""
    covers = _covers(problem, visits, days, day_problems, lookups)
    return {lookups.points[ci]: w for ci, w in covers.items()}


def _covers(
    problem: PeriodicProblem,
    visits: dict[int, tuple[DayVisit, ...]],
    days: Sequence[DaySolution],
    day_problems: dict[int, PeriodicProblem],
    lookups: TimingLookups,
) -> dict[int, Window]:
    """:func:`cover_windows` by customer index."""
    times: dict[int, list[int]] = defaultdict(list)
    for ds in days:
        prob = day_problems.get(ds.day, problem)
        for r in ds.routes:
            for ci, t in _arrivals(prob, ds.day, visits[ds.day], r).items():
                times[ci].append(t)
    lo0, hi0 = lookups.bounds
    w, step = lookups.width, lookups.step
    out: dict[int, Window] = {}
    for ci in sorted(times):
        ts = times[ci]
        lo, hi = min(ts) // step * step, -(-max(ts) // step) * step
        if hi - lo < w:
            lo -= (w - (hi - lo)) // 2 // step * step
            hi = lo + w
        if lo < lo0:
            lo, hi = lo0, max(hi, lo0 + w)
        if hi > hi0:
            lo, hi = min(lo, max(lo0, hi0 - w)), hi0
        out[ci] = (lo, hi)
    return out
