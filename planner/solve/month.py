"""A banner's month, both phases: the route search, then the announced times (定时).

Which calendar builder runs when:

- a banner month (:func:`solve_month`) starts from :func:`group_calendar`: truck-day
  groups of neighbouring points, one pattern per group (hundreds of points, a few
  depots);
- a benchmark instance (:func:`planner.solve.search.solve` without
  ``initial_patterns``) starts from :func:`~planner.solve.calendar.initial_calendar`:
  CP-SAT over single customers and their patterns (tens of customers).

The month is first solved with every point open from ``windows.earliest`` to
``windows.latest``. With the scenario's ``timing`` look-ups (what the pipeline
passes) the announced-window phase is :func:`planner.solve.timing.time_month`.
Without them (a bare problem, as the solver tests use) each point gets a target
window around its arrival on its first visit of the month (that day already keeps
it), and every day is routed again with those windows as hard limits. Points that
cannot keep theirs on a day get a wider one (then the whole day); a day that still
cannot serve everyone keeps its first routes. The windows returned are what the final routes keep.

Every budget is a share of one :class:`~planner.solve.budget.Budget`.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from planner.solve._clock import DaySize, WallLimit
from planner.solve.budget import Budget
from planner.solve.decompose import pieces, should_cut, solve_in_pieces
from planner.solve.engines import bounded_engine
from planner.solve.from_scenario import ScenarioProblem
from planner.solve.group_calendar import group_calendar
from planner.solve.problem import DaySolution, PeriodicProblem, PeriodicSolution, day_visits
from planner.solve.schedule import month_cost, schedule_route
from planner.solve.search import SearchOptions, solve
from planner.solve.timing import TimingBudget, TimingLookups, time_month

Report = Callable[[str, float, float], None]
Window = tuple[int, int]
WIDEN_MIN = 60  # how far a window that cannot be kept opens first, each side


@dataclass(frozen=True)
class MonthSolution:
    """What :func:`solve_month` found.

    ``windows`` are the announced windows per point (what the final routes keep);
    ``day_problems`` the problem each re-routed day was solved with (its customer
    windows); days missing from it kept the first phase's routes and ``problem``.
    """

    solution: PeriodicSolution
    first_cost: float
    windows: dict[str, Window]
    day_problems: dict[int, PeriodicProblem]


def solve_month(
    sp: ScenarioProblem,
    *,
    width_min: int,
    budget: Budget,
    seed: int,
    engine: str,
    report: Report | None = None,
    improve_calendar: bool = True,
    bounds: Window | None = None,
    wall: WallLimit | None = None,
    timing: TimingLookups | None = None,
    decompose: str = "auto",
    workers: int | None = None,
) -> MonthSolution:
    """Both phases for ``sp``'s month, within ``budget``; see the module docstring.

    ``bounds`` (minutes: ``windows.earliest``, ``windows.latest``): no window opens
    before or closes after them. Without ``wall`` nothing here reads the clock; with
    it, days left when it passes keep their first-phase routes. ``decompose``
    (:mod:`planner.solve.decompose`): ``auto``, ``depots`` or ``whole``; a cut
    month's pieces run in ``workers`` processes (``None``: the module's default; the
    plan does not depend on it).
    """
    problem = sp.problem
    if should_cut(problem, decompose) and len(parts := pieces(problem)) > 1:
        # The depots' sub-months one after another, each solved as below, merged.
        one = functools.partial(
            solve_month,
            width_min=width_min,
            engine=engine,
            improve_calendar=improve_calendar,
            bounds=bounds,
            wall=wall,
            decompose="whole",
        )
        return solve_in_pieces(
            sp,
            parts,
            budget=budget,
            seed=seed,
            timing=timing,
            solve_one=one,
            report=report,
            workers=workers,
        )
    if report is not None:
        report("calendar", 0, 1)
    patterns = group_calendar(
        problem, time_limit=budget.calendar, seed=seed, irregularity=sp.irregularity()
    )
    if report is not None:
        report("calendar", 1, 1)
    first = solve(
        problem,
        engine=engine,
        time_limit=budget.first_phase,
        seed=seed,
        progress=report,
        options=SearchOptions(improve_calendar=improve_calendar, fixed_on_wall_clock=False),
        initial_patterns=patterns,
        wall=wall,
    )
    if timing is not None:
        # The scenario's window phase (planner.solve.timing): targets, retiming,
        # re-routing and same-truck hand-overs, priced by the [windows] weights.
        timed = time_month(
            problem,
            first,
            timing,
            TimingBudget.of(budget, engine, seed, problem.num_days),
            report=report,
            wall=wall,
        )
        cost = month_cost(problem, first.patterns, timed.days, timed.day_problems)
        solution = dataclasses.replace(first, days=timed.days, cost=cost)
        return MonthSolution(solution, first.cost, timed.windows, timed.day_problems)
    targets = announce(arrivals(sp, first), width_min, cover=False, bounds=bounds)
    days, day_problems = _announced_days(
        sp, first, targets, _Phase(budget, seed, engine, bounds, wall), report
    )
    cost = month_cost(problem, first.patterns, days, day_problems)
    solution = dataclasses.replace(first, days=tuple(days), cost=cost)
    # Windows announce what the final routes do (they may differ where a day fell back).
    windows = announce(arrivals(sp, solution, day_problems), width_min, bounds=bounds)
    return MonthSolution(solution, first.cost, windows, day_problems)


@dataclass(frozen=True)
class _Phase:
    """How the announced-window phase runs."""

    budget: Budget
    seed: int
    engine: str
    bounds: Window | None
    wall: WallLimit | None


def _announced_days(
    sp: ScenarioProblem,
    first: PeriodicSolution,
    targets: dict[str, Window],
    phase: _Phase,
    report: Report | None,
) -> tuple[list[DaySolution], dict[int, PeriodicProblem]]:
    """Every day routed again with the target windows as hard limits."""
    problem = sp.problem
    by_node = {c.node: pid for c, pid in zip(problem.customers, sp.customer_points, strict=True)}
    narrowed = with_windows(problem, targets, by_node)
    per_day = phase.budget.windows_day(problem.num_days)
    first_min, last_min = phase.bounds if phase.bounds is not None else (0, 10**9)
    seed, engine = phase.seed, phase.engine
    days: list[DaySolution] = []
    day_problems: dict[int, PeriodicProblem] = {}
    for d, old in enumerate(first.days):
        if phase.wall is not None and phase.wall.passed():
            days.append(old)  # out of (explicitly limited) wall time: first routes
            continue
        visits = day_visits(narrowed, first.patterns, d)
        day_windows = dict(targets)
        loose = narrowed
        router = bounded_engine(engine, per_day, DaySize.of(narrowed, d, visits))
        new = router.route_day(narrowed, d, visits, time_limit=per_day, seed=seed)
        for widen in (WIDEN_MIN, None):
            if not new.unrouted:
                break
            # Points that cannot keep their window today get a wider one (then the
            # whole day); the others keep theirs.
            for k in new.unrouted:
                point = sp.customer_points[visits[k].customer]
                lo, hi = targets.get(point, (0, 0))
                if widen is None or point not in targets:
                    day_windows.pop(point, None)
                else:
                    day_windows[point] = (max(first_min, lo - widen), min(last_min, hi + widen))
            loose = with_windows(narrowed, day_windows, by_node, default=problem)
            new = router.route_day(loose, d, visits, time_limit=per_day, seed=seed)
        if len(new.unrouted) <= len(old.unrouted):
            days.append(new)
            day_problems[d] = loose
        else:
            days.append(old)
        if report is not None:
            report("announced times", d + 1, problem.num_days)
    return days, day_problems


def arrivals(
    sp: ScenarioProblem,
    solution: PeriodicSolution,
    day_problems: Mapping[int, PeriodicProblem] | None = None,
) -> dict[str, list[int]]:
    """Per point, the minute service starts at each of its visits, in day order.

    That is the arrival the plan shows (a truck early for a window waits where it
    was, so herders see it come inside the announced window).
    """
    out: dict[str, list[int]] = defaultdict(list)
    for ds in solution.days:
        # As the plan times it (planner.plan.build): the day's visits as the month
        # lists them, scheduled under the problem the day was routed with.
        prob = (day_problems or {}).get(ds.day, sp.problem)
        visits = day_visits(prob, solution.patterns, ds.day)
        for route in ds.routes:
            for st in schedule_route(prob, ds.day, visits, route).steps:
                if st.kind == "visit":
                    out[sp.customer_points[visits[st.visit].customer]].append(st.start)
    return out


def announce(
    arrivals: Mapping[str, Sequence[int]],
    width_min: int,
    step_min: int = 15,
    *,
    cover: bool = True,
    bounds: Window | None = None,
) -> dict[str, Window]:
    """Per point, an announced window of ``width_min`` around its arrivals (in order).

    Without ``cover`` it is the target the second phase routes to: centred on the
    arrival at the point's first visit of the month. That day's routes already keep
    it, so only the later visits have to move (a target at the median arrival suits
    no day as it is, and most days could not be re-routed to it). With ``cover``
    (what the plan announces) it is centred on the median arrival and widened to
    hold every planned arrival. Edges fall on ``step_min``.

    ``bounds`` (minutes: the scenario's ``windows.earliest`` and ``windows.latest``)
    keeps every window inside them: one that would open too early or close too late
    is moved in, not cut, so it keeps its width where the bounds allow. Arrivals
    inside the bounds stay inside the window.
    """
    out = {}
    for point, times in arrivals.items():
        mid = times[0] if not cover else statistics.median(times)
        lo = int(mid - width_min / 2) // step_min * step_min
        if not cover:
            out[point] = _inside(lo, lo + width_min, bounds)
            continue
        lo = min(lo, min(times) // step_min * step_min)
        hi = max(lo + width_min, -(-max(times) // step_min) * step_min)
        out[point] = _inside(lo, hi, bounds, keep=(min(times), max(times)))
    return out


def _inside(lo: int, hi: int, bounds: Window | None, keep: Window | None = None) -> Window:
    """``lo..hi`` moved inside ``bounds`` (as wide as they allow), still holding ``keep``."""
    if bounds is None:
        return lo, hi
    first, last = bounds
    width = min(hi - lo, last - first)
    if lo < first:
        lo, hi = first, first + width
    if hi > last:
        lo, hi = last - width, last
    if keep is not None:  # arrivals outside the bounds (a hand-made plan) stay covered
        lo, hi = min(lo, keep[0]), max(hi, keep[1])
    return lo, hi


def with_windows(
    problem: PeriodicProblem,
    windows: Mapping[str, Window],
    by_node: Mapping[int, str],
    *,
    default: PeriodicProblem | None = None,
) -> PeriodicProblem:
    """``problem`` with the given customer windows; others from ``default`` (or as they are)."""
    base = {c.node: c.window for c in (default or problem).customers}
    customers = tuple(
        dataclasses.replace(c, window=windows.get(by_node[c.node], base[c.node]))
        for c in problem.customers
    )
    return problem.with_windows(customers)
