"""Calendar and routes improving each other: the solver core's main loop.

1. A first calendar from CP-SAT (:mod:`planner.solve.calendar`).
2. Every day routed by the routing engine, then polished by local search.
3. Large neighbourhood search on the calendar (:mod:`planner.solve._lns`): a few
   related customers leave all their days and come back, one by one by regret (or
   together, on one shared shift of days), on the patterns whose days take them most
   cheaply -- priced by exact insertion into the routes -- and the touched days are
   improved by local search (:mod:`planner.solve._routes`). Steps are kept by
   simulated annealing in cooling cycles that restart from the best plan. Small
   problems start several such searches (from the CP-SAT calendar and from random
   ones) and carry the best on.
4. The best calendar's days are routed once more by the engine; a day keeps the
   engine's routes when they are cheaper.

The objective is lexicographic: fewest unrouted visits first, then cost. A customer
whose visit does not fit is always among those the next step moves, so it goes to a
pattern whose days have room. The search stops at the time limit or after a number
of steps set by the problem's size (then a run is repeatable for a seed).
Interrupting (Ctrl-C) returns the best solution found so far.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from planner.solve._clock import DaySize, WallLimit, WorkClock, engine_work
from planner.solve._daysearch import improve_day
from planner.solve._lns import UNSERVED, LNSConfig, Plan, lns, random_plan, regret_insert
from planner.solve._routes import RouteModel
from planner.solve.budget import SearchShares
from planner.solve.calendar import initial_calendar
from planner.solve.engines import bounded_engine, get_engine
from planner.solve.engines.finish import repair_route
from planner.solve.engines.protocol import RoutingEngine
from planner.solve.problem import (
    DaySolution,
    PeriodicProblem,
    PeriodicSolution,
    day_visits,
)
from planner.solve.schedule import day_cost

Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class SearchOptions:
    """How the search runs.

    ``shares`` splits the time limit (:class:`~planner.solve.budget.SearchShares`:
    the first calendar, the first routing of every day, the last engine pass; the
    rest goes to the calendar search). ``improve_calendar=False`` keeps the first calendar (only
    customers whose visits do not fit are moved). ``max_iterations`` caps the search
    steps (``None``: a cap by problem size); ``starts`` is how many calendars the
    search starts from (``None``: four up to 150 customers, else one). Budgets are
    work-seconds (:mod:`planner.solve._clock`), not wall time, except when there is
    no calendar to choose and ``fixed_on_wall_clock`` is set (the benchmarks' one-day
    instances, timed like the other solvers): routing then gets the whole time limit
    on the engine's own clock. Without it even those days are iteration-bounded.
    ``lns`` tunes the search steps (:class:`~planner.solve._lns.LNSConfig`).
    """

    shares: SearchShares = field(default_factory=SearchShares)
    improve_calendar: bool = True
    neighbours: int = 6
    max_iterations: int | None = None
    starts: int | None = None
    lns: LNSConfig | None = None
    fixed_on_wall_clock: bool = True


class _Stop(Exception):
    """The deadline passed inside a phase."""


def solve(  # noqa: C901, PLR0915 - phases share the clock and Ctrl-C state; split pending
    problem: PeriodicProblem,
    *,
    engine: str = "pyvrp",
    time_limit: float = 60.0,
    seed: int = 0,
    options: SearchOptions | None = None,
    progress: Progress | None = None,
    initial_patterns: Sequence[int | None] | None = None,
    calendar_kwargs: dict[str, object] | None = None,
    wall: WallLimit | None = None,
) -> PeriodicSolution:
    """Solve ``problem`` within about ``time_limit`` seconds.

    Parameters
    ----------
    engine
        Routing engine name (``pyvrp`` or ``ortools``).
    initial_patterns
        Start from these patterns instead of the CP-SAT calendar.
    calendar_kwargs
        Extra keyword arguments for :func:`initial_calendar` (the scenario passes
        its rhythm preferences).
    wall
        An explicit wall-clock limit as well (``None``: budgets in work only, so the
        same seed gives the same solution on any machine at any load).

    Returns
    -------
    PeriodicSolution
        ``cost`` is the routed cost (:func:`~planner.solve.schedule.solution_cost`);
        visits that fit nowhere are listed as each day's ``unrouted``.
    """
    opts = options or SearchOptions()
    shares = opts.shares
    rng = random.Random(seed)
    model = RouteModel(problem)
    clock = WorkClock(lambda: model.work, wall)
    deadline = time_limit
    custs = problem.customers
    movable = any(len(c.patterns) > 1 for c in custs)
    search = movable and opts.improve_calendar

    def report(phase: str, done: float, total: float) -> None:
        if progress is not None:
            progress(phase, done, total)

    def router(budget: float, size: DaySize) -> RoutingEngine:
        if not movable and opts.fixed_on_wall_clock:
            # A fixed calendar (one-day benchmarks): the engine runs on its own clock.
            clock.spend(budget)
            return get_engine(engine)
        # Iteration-bounded (iterations sized to the budget and the day), so the
        # engine's routes do not depend on the machine's load.
        clock.spend(engine_work(engine, budget, size))
        return bounded_engine(engine, budget, size)

    get_engine(engine)  # an unknown name fails here, before any work
    patterns: list[int | None] = [0 if c.patterns else None for c in custs]
    best: Plan | None = None
    fixed: list[DaySolution] | None = None
    state: dict[str, object] = {}
    try:
        report("calendar", 0, 1)
        if initial_patterns is not None:
            patterns = list(initial_patterns)
        elif movable:
            cal_limit = max(shares.calendar_floor, shares.calendar * time_limit)
            clock.spend(cal_limit)  # CP-SAT's deterministic time, about seconds
            cal = initial_calendar(
                problem,
                time_limit=cal_limit,
                seed=seed,
                neighbours=opts.neighbours,
                **(calendar_kwargs or {}),  # type: ignore[arg-type]
            )
            patterns = list(cal.patterns)
        # Every customer with patterns gets one; visits that do not fit are unrouted.
        patterns = [
            (q if q is not None else 0) if c.patterns else None
            for q, c in zip(patterns, custs, strict=True)
        ]
        report("calendar", 1, 1)

        plan = Plan(model, patterns)
        remaining = max(0.0, deadline - clock.now())
        share = shares.routes
        if not model.simple or len(custs) > 300:
            # Exact pricing is slow here (windows, breaks) or days are long: the
            # engine's first routes matter more than many calendar steps.
            share = max(share, shares.routes_exact)
        if not search:
            # A fixed calendar: routing gets the time, but half of it stays for moving
            # visits that do not fit (the engine always spends all it is given).
            share = shares.routes_fixed if movable else 1.0
        per_day = max(shares.engine_floor, share * remaining / max(1, problem.num_days))
        routed: list[DaySolution] = []
        for d in range(problem.num_days):
            visits = day_visits(problem, tuple(plan.patterns), d)
            ds = router(per_day, DaySize.of(problem, d, visits)).route_day(
                problem, d, visits, time_limit=per_day, seed=seed
            )
            routed.append(ds)
            plan.set_day(ds, visits)
            report("routes", d + 1, problem.num_days)
        if not movable:
            # Nothing to choose in the calendar: the engine's days are the answer.
            fixed = routed
            return _solution(problem, plan, fixed)
        polish_at = deadline - shares.polish * time_limit
        for d in range(problem.num_days):
            improve_day(model, plan.days[d], rng, deadline=polish_at, now=clock.now)
        best = plan.copy()

        # The calendar search (or, without it, only moves of visits that do not fit).
        n_active = sum(1 for c in custs if c.patterns)
        cap = opts.max_iterations
        if cap is None:
            # Steps are cheap when prices are look-ups and dear when every price is a
            # schedule_route call (windows, breaks).
            per = 300 if model.simple else 30
            cap = per * n_active if search else 20 * max(1, plan.missing)
        if not search and plan.missing == 0:
            cap = 0
        cfg = opts.lns or LNSConfig()
        search_start = clock.now()
        state["best"] = best

        def on_best(p: Plan) -> None:
            state["best"] = p

        def on_iteration(_it: int, _p: Plan) -> None:
            now = clock.now()
            report("calendar search", now - search_start, max(1e-9, polish_at - search_start))

        def stop() -> bool:
            return clock.now() >= polish_at

        if cap > 0:
            # Several short searches from different calendars (the CP-SAT one and
            # random ones), then the best of them searched on with the time left.
            starts = opts.starts if opts.starts is not None else (4 if n_active <= 150 else 1)
            starts = max(1, starts) if search else 1
            first_end = search_start + (polish_at - search_start) * (0.5 if starts > 1 else 1.0)
            per_start = (first_end - search_start) / starts
            cap_each = max(1, cap // (2 * starts)) if starts > 1 else cap
            results: list[Plan] = []
            used = 0
            for s in range(starts):
                if stop():
                    break
                origin = best.copy() if s == 0 else random_plan(model, rng, cfg)
                until = min(polish_at, search_start + per_start * (s + 1))
                got, steps = lns(
                    origin,
                    rng,
                    should_stop=lambda u=until: clock.now() >= u,  # type: ignore[misc]
                    max_iterations=cap_each,
                    cfg=cfg,
                    on_iteration=on_iteration,
                    on_best=on_best,
                    until_complete=not search,
                )
                used += steps
                results.append(got)
            if results:
                best = min(results, key=lambda p: p.objective)
            if starts > 1 and not stop() and used < cap:
                got, steps = lns(
                    best.copy(),
                    rng,
                    should_stop=stop,
                    max_iterations=cap - used,
                    cfg=cfg,
                    on_iteration=on_iteration,
                    on_best=on_best,
                )
                if got.objective < best.objective:
                    best = got
        if best.missing and not stop():
            best = _repair(best, rng, cfg)

        # Polish: the engine routes every day of the best calendar once more.
        remaining = max(0.0, deadline - clock.now())
        if search:
            # The share kept for it, so that a search ended by its step cap ends early.
            remaining = min(remaining, shares.polish * time_limit)
        per_day = max(shares.engine_floor, remaining / max(1, problem.num_days))
        for d in range(problem.num_days):
            best = _reroute(problem, best, router, per_day, seed, deadline, clock, days=[d])
            report("polish", d + 1, problem.num_days)
    except KeyboardInterrupt:
        found = state.get("best") if state else None
        if isinstance(found, Plan) and (best is None or found.objective < best.objective):
            best = found
    if best is None:
        fallback = Plan(model, patterns)
        for d in range(problem.num_days):
            fallback.unrouted[d] = {v.customer for v in day_visits(problem, tuple(patterns), d)}
        if fixed is not None:
            return _solution(problem, fallback, fixed)
        best = fallback
    return _solution(problem, best, None)


def _reroute(
    problem: PeriodicProblem,
    plan: Plan,
    router: Callable[[float, DaySize], RoutingEngine],
    budget: float,
    seed: int,
    deadline: float,
    clock: WorkClock,
    days: Sequence[int] | None = None,
) -> Plan:
    """Route days of ``plan`` with the engine; keep each day where it is better."""
    out = plan.copy()
    for d in days if days is not None else range(problem.num_days):
        left = deadline - clock.now()
        if left <= 0.05:
            break
        t = min(budget, left)
        visits = day_visits(problem, tuple(out.patterns), d)
        size = DaySize.of(problem, d, visits)
        ds = router(t, size).route_day(problem, d, visits, time_limit=t, seed=seed)
        trial = out.copy()
        trial.set_day(ds, visits)
        old = len(out.unrouted[d]) * UNSERVED + out.days[d].cost
        new = len(trial.unrouted[d]) * UNSERVED + trial.days[d].cost
        if new < old - 1e-9:
            out = trial
    return out


REPAIR_LIMIT = 40


def _repair(plan: Plan, rng: random.Random, cfg: LNSConfig) -> Plan:
    """Move customers with unrouted visits to the patterns whose days take them."""
    trial = plan.copy()
    # Regret insertion prices every remaining customer at each step: bound the work
    # so a large month with many unrouted visits still ends near its time limit.
    stuck = sorted({i for u in trial.unrouted for i in u})[:REPAIR_LIMIT]
    for i in stuck:
        trial.remove_customer(i)
    regret_insert(trial, [i for i in stuck if trial.patterns[i] is None], rng, cfg)
    return trial if trial.objective < plan.objective else plan


def _solution(
    problem: PeriodicProblem,
    plan: Plan,
    fixed: Sequence[DaySolution] | None,
) -> PeriodicSolution:
    """The plan as a :class:`PeriodicSolution`; every route re-checked exactly."""
    pats = tuple(plan.patterns)
    days = []
    total = 0.0
    for d in range(problem.num_days):
        visits = day_visits(problem, pats, d)
        ds = fixed[d] if fixed is not None else plan.day_solution(d, visits)
        routes = []
        unrouted = set(ds.unrouted)
        for r in ds.routes:
            good, dropped = repair_route(problem, d, visits, r)
            unrouted.update(dropped)
            if any(k >= 0 for k in good.visits):
                routes.append(good)
        ds = DaySolution(d, tuple(routes), tuple(sorted(unrouted)))
        total += day_cost(problem, d, visits, ds)
        days.append(ds)
    unassigned = tuple(
        i
        for i, (c, q) in enumerate(zip(problem.customers, pats, strict=True))
        if q is None and c.patterns
    )
    return PeriodicSolution(pats, tuple(days), total, unassigned)
