"""Re-plan the rest of the month around a disruption, changing as little as it can.

The order of preference, for every visit the disruption touches:

1. the same date and the announced window: the visit goes into another truck's
   route that day (cheapest insertion, exact timing by
   :func:`~planner.solve.schedule.schedule_route`), or, when insertion cannot place
   everyone, the whole day is routed again by the engine with every point's
   announced window as a hard limit (as the second phase of ``solve_month`` does);
2. another date that keeps the point's minimum gap to its other visits, nearest
   first (a later date before an earlier one at the same distance), in the
   announced window;
3. the same search with the window widened by an hour each side, then with the
   whole collection day (the scenario's ``windows.earliest``/``latest``);
4. unserved, with a reason an office can act on.

Moving a visit changes what the point's next visit collects (the waste of more or
fewer days), so every day whose loads change is checked again. Every budget is
work (engine iterations), never the clock, so the same inputs give the same plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from planner.plan.diagnose import unserved_reason
from planner.replan.month import DayRoute, Month
from planner.scenario.model import Scenario
from planner.solve._clock import DaySize
from planner.solve.engines import bounded_engine
from planner.solve.engines.finish import close_route, insert_visits, repair_route, tidy_route
from planner.solve.problem import PeriodicProblem, Route
from planner.solve.schedule import schedule_route

WIDEN_MIN = (0, 60, None)  # minutes added each side of the window; None: the whole day
_MAX_STEPS = 20  # moves per visit before it is given up (guards against cycles)
_REROUTE_DAYS = 3  # nearest dates routed again by the engine for a visit insertion misses


@dataclass
class Outcome:
    """What happened to each visit of the old plan from ``--from`` on.

    ``new_day[(customer, old_day)]`` is the visit's day now (``None``: unserved);
    ``cause`` says why a visit had to change; ``unserved`` the reason for each visit
    no longer made; ``widened`` the points whose routing window was widened.
    """

    new_day: dict[tuple[int, int], int | None] = field(default_factory=dict)
    cause: dict[tuple[int, int], str] = field(default_factory=dict)
    unserved: dict[tuple[int, int], str] = field(default_factory=dict)
    widened: set[int] = field(default_factory=set)
    engine_days: list[int] = field(default_factory=list)


class Replanner:
    """Works a :class:`Month` around its disruption; :meth:`run` returns the outcome."""

    def __init__(
        self, scenario: Scenario, month: Month, *, engine: str, seed: int, per_day: float
    ) -> None:
        self.scenario = scenario
        self.m = month
        self.engine, self.seed, self.per_day = engine, seed, per_day
        self.out = Outcome()
        self.origin: dict[tuple[int, int], int] = {}  # (customer, current day) -> old day
        for c, ds in enumerate(month.days):
            for d in ds:
                if d >= month.first:
                    self.origin[c, d] = d
                    self.out.new_day[c, d] = d
        self.dirty: set[int] = set()
        self.queue: list[tuple[int, int]] = []  # (customer, old day) to place
        self.pending: dict[tuple[int, int], str] = {}  # (customer, day) -> why it needs a place
        self.steps: dict[tuple[int, int], int] = {}
        self.original = {d: list(rs) for d, rs in month.routes.items()}

    # -- the disruption ----------------------------------------------------------------

    def run(self) -> Outcome:
        m, dis = self.m, self.m.disruption
        names = [v.name for v in m.sp.problem.vehicles]
        for d in m.future_days():
            day = m.dates[d]
            if day in dis.closed_days:
                for c in sorted(m.served_on(d)):
                    self.unassign(c, d, f"{day} is closed for the whole banner")
                m.routes[d] = []
                continue
            for c in sorted(m.served_on(d)):
                point = m.sp.customer_points[c]
                shut = next(
                    (o for o in dis.points_closed if o.what == point and o.covers(day)), None
                )
                if shut is not None:
                    self.unassign(c, d, f"point {point} is closed {shut.span()}")
            kept = []
            for r in m.routes.get(d, []):
                if d in m.works[r.vehicle]:
                    kept.append(r)
                    continue
                out = next(
                    o for o in dis.trucks_out if o.what == names[r.vehicle] and o.covers(day)
                )
                for c in r.customers():
                    self.pending[c, d] = f"truck {out.what} is out {out.span()}"
                    self.out.cause[c, d] = self.pending[c, d]
                self.dirty.add(d)
            m.routes[d] = kept
        self._drain()
        return self.out

    def _drain(self) -> None:
        while self.dirty or self.queue:
            while self.dirty:
                d = min(self.dirty)
                self.dirty.discard(d)
                self.settle(d)
            if self.queue:
                self.place(*self.queue.pop(0))

    # -- moving visits about -------------------------------------------------------------

    def _reprice(self, c: int, before: Sequence[int]) -> None:
        """Mark the future days where customer ``c``'s load changed with its dates."""
        if not before or not self.m.days[c]:
            return
        old = self.m.pattern(c, before)
        new = self.m.pattern(c, self.m.days[c])
        was = dict(zip(old.days, old.demands, strict=True))
        for d, dem in zip(new.days, new.demands, strict=True):
            if d >= self.m.first and d in was and was[d] != dem:
                self.dirty.add(d)

    def unassign(self, c: int, d: int, cause: str) -> None:
        """Take customer ``c`` off day ``d`` and queue its visit for another place."""
        m = self.m
        before = list(m.days[c])
        m.days[c].remove(d)
        m.routes[d] = [
            DayRoute(r.vehicle, tuple(s for s in r.stops if s[1] != c)) for r in m.routes.get(d, [])
        ]
        old = self.origin.pop((c, d))
        self.pending.pop((c, d), None)
        self.out.cause.setdefault((c, old), cause)
        self.out.new_day[c, old] = None
        self.queue.append((c, old))
        self.dirty.add(d)
        self._reprice(c, before)

    def settle(self, d: int) -> None:
        """Make day ``d``'s routes feasible and serve every visit it still holds, if it can."""
        m = self.m
        problem = m.problem()
        visits = m.visits(problem, d)
        routes = m.to_routes(visits, m.routes.get(d, []))
        original = {r.vehicle: r.stops for r in self.original.get(d, [])}
        left: list[int] = []
        fixed: list[Route] = []
        for dr, r in zip(m.routes.get(d, []), routes, strict=True):
            if original.get(dr.vehicle) != dr.stops:
                r = tidy_route(problem, d, visits, close_route(problem, visits, r))
            if not schedule_route(problem, d, visits, r).feasible:
                r, dropped = repair_route(problem, d, visits, r)
                left += dropped
            fixed.append(r)
        on_routes = {vi for r in fixed for vi in r.visits if vi >= 0}
        left += [k for k in range(len(visits)) if k not in on_routes and k not in left]
        still: Sequence[int] = ()
        if left:
            fixed, still = insert_visits(problem, d, visits, fixed, left, math.inf)
        if still:
            router = bounded_engine(self.engine, self.per_day, DaySize.of(problem, d, visits))
            sol = router.route_day(problem, d, visits, time_limit=self.per_day, seed=self.seed)
            if len(sol.unrouted) < len(still):
                fixed, still = list(sol.routes), sol.unrouted
                self.out.engine_days.append(d)
        m.routes[d] = m.from_routes(visits, fixed)
        for vi in sorted(still):
            c = visits[vi].customer
            cause = self.pending.get((c, d)) or f"its run on {m.dates[d]} no longer has room"
            self.unassign(c, d, cause)

    def place(self, c: int, old: int) -> None:
        """Find customer ``c``'s visit planned for day ``old`` a new day, or give it up."""
        m = self.m
        self.steps[c, old] = self.steps.get((c, old), 0) + 1
        point = m.sp.customer_points[c]
        gap = m.plan.points_by_id[point].min_gap_days
        cands = self.candidates(c, old, gap)
        if self.steps[c, old] <= _MAX_STEPS:
            for widen in WIDEN_MIN:
                for d in cands:
                    if self.try_day(c, d, widen):
                        self._placed(c, old, d)
                        return
                if widen == 0:  # before widening: route a near day again with it
                    for d in cands[:_REROUTE_DAYS]:
                        if self.try_day(c, d, 0, reroute=True):
                            self._placed(c, old, d)
                            return
        self.out.unserved[c, old] = self.reason(c, old, gap, cands)

    def _placed(self, c: int, old: int, d: int) -> None:
        self.origin[c, d] = old
        self.out.new_day[c, old] = d

    def candidates(self, c: int, old: int, gap: int) -> list[int]:
        """Days customer ``c`` may move to: open, a truck works, the gap to its other visits."""
        m = self.m
        point = m.sp.customer_points[c]
        others = m.days[c]
        out = [
            d
            for d in m.future_days()
            if d not in others
            and m.disruption.point_open(point, m.dates[d])
            and any(d in w for w in m.works)
            and m.gap_ok(d, gap, others)
        ]
        origin = m.dates[old]
        return sorted(out, key=lambda d: (abs((m.dates[d] - origin).days), m.dates[d] < origin))

    def _window(self, c: int, widen: int | None) -> tuple[int, int] | None:
        m = self.m
        w, full = m.window[c], m.default_window[c]
        if widen is None or w is None or full is None:
            return full
        return (max(full[0], w[0] - widen), min(full[1], w[1] + widen))

    def try_day(self, c: int, d: int, widen: int | None, *, reroute: bool = False) -> bool:
        """Put customer ``c`` on day ``d`` (window widened by ``widen``) if everything holds.

        By insertion into the day's routes, or with ``reroute`` by routing the whole day
        again with the engine (every visit of the day must then still be served).
        """
        m = self.m
        before_days, before_window = list(m.days[c]), m.window[c]
        if widen != 0:
            window = self._window(c, widen)
            if window == before_window:
                return False  # nothing new to try
            m.window[c] = window
        m.days[c] = sorted([*before_days, d])
        problem = m.problem()
        place = self._reroute if reroute else self._insert
        if self._ripple_breaks(problem, c, before_days) or not place(problem, c, d):
            m.days[c], m.window[c] = before_days, before_window
            return False
        if widen != 0:
            self.out.widened.add(c)
        self._reprice(c, before_days)
        return True

    def _ripple_breaks(self, problem: PeriodicProblem, c: int, before: list[int]) -> bool:
        """Whether a route of another day with ``c`` on it breaks with ``c``'s new loads."""
        m = self.m
        if not before:
            return False
        old = m.pattern(c, before)
        new = m.pattern(c, m.days[c])
        was = dict(zip(old.days, old.demands, strict=True))
        for e, dem in zip(new.days, new.demands, strict=True):
            if e < m.first or e not in was or was[e] == dem:
                continue
            visits = m.visits(problem, e)
            for dr, r in zip(
                m.routes.get(e, []), m.to_routes(visits, m.routes.get(e, [])), strict=True
            ):
                if c in dr.customers() and not schedule_route(problem, e, visits, r).feasible:
                    return True
        return False

    def _insert(self, problem: PeriodicProblem, c: int, d: int) -> bool:
        m = self.m
        visits = m.visits(problem, d)
        vi = next(k for k, v in enumerate(visits) if v.customer == c)
        routes = m.to_routes(visits, m.routes.get(d, []))
        new, still = insert_visits(problem, d, visits, routes, [vi], math.inf)
        if still:
            return False
        m.routes[d] = m.from_routes(visits, new)
        return True

    def _reroute(self, problem: PeriodicProblem, _c: int, d: int) -> bool:
        # Same signature as ``_insert`` (the two are interchangeable placers); the
        # whole day is routed again, so which customer was added does not matter.
        m = self.m
        visits = m.visits(problem, d)
        router = bounded_engine(self.engine, self.per_day, DaySize.of(problem, d, visits))
        sol = router.route_day(problem, d, visits, time_limit=self.per_day, seed=self.seed)
        if sol.unrouted:
            return False
        m.routes[d] = m.from_routes(visits, sol.routes)
        self.out.engine_days.append(d)
        return True

    # -- why a visit is given up ---------------------------------------------------------

    def reason(self, c: int, old: int, gap: int, cands: list[int]) -> str:
        m = self.m
        cause = self.out.cause.get((c, old), f"its run on {m.dates[old]} no longer has room")
        point = m.sp.customer_points[c]
        if not cands:
            others = ", ".join(str(m.dates[o]) for o in m.days[c]) or "none"
            last = m.dates[-1]
            return (
                f"{cause}; no other service date from {m.dates[m.first]} to {last} is open for "
                f"{point} and at least {gap} days from its other visits ({others}); shorten "
                f"the minimum gap or add a service day"
            )
        d = cands[0]
        m.days[c] = sorted([*m.days[c], d])
        saved = m.window[c]
        m.window[c] = m.default_window[c]
        try:
            problem = m.problem()
            visit = next(v for v in m.visits(problem, d) if v.customer == c)
            why = unserved_reason(self.scenario, replace(m.sp, problem=problem), c, d, visit)
        finally:
            m.days[c].remove(d)
            m.window[c] = saved
        shown = ", ".join(str(m.dates[x]) for x in sorted(cands)[:6])
        more = ", …" if len(cands) > 6 else ""
        return (
            f"{cause}; none of the {len(cands)} dates it could move to ({shown}{more}) has room, "
            f"even with a wider window: {why}"
        )
