"""The month as it stands: who is visited on which day, by which truck, in what order.

:class:`Month` holds the re-plan's working state over the solver core's types.
Each collection point is one customer with exactly one visit pattern, its current
dates (the past ones included, since a visit's load is the waste accumulated since
the point's previous visit); each future day has its routes, stored by customer so
that they survive visits coming and going. :meth:`Month.problem` makes the
:class:`~planner.solve.problem.PeriodicProblem` of the current state, with each
point's routing window (the announced one, or a widened one) as a hard limit and
every truck's working days as left by the disruption.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from planner.plan.model import Plan
from planner.replan.spec import Disruption
from planner.solve.from_scenario import LOAD_UNITS, ScenarioProblem
from planner.solve.problem import DayVisit, Pattern, PeriodicProblem, Route, day_visits

# A stop of a stored route: (node, customer) for a visit, (node, -1) for an unload.
Stop = tuple[int, int]


@dataclass(frozen=True)
class DayRoute:
    """A truck's route on a day, by customer rather than by the day's visit numbers."""

    vehicle: int
    stops: tuple[Stop, ...]

    def customers(self) -> list[int]:
        return [c for _, c in self.stops if c >= 0]


class Month:
    """The working state of a re-plan (mutable; :meth:`problem` is a frozen snapshot)."""

    def __init__(self, sp: ScenarioProblem, plan: Plan, disruption: Disruption) -> None:
        self.sp = sp
        self.plan = plan
        self.disruption = disruption
        self.dates = sp.dates
        self.day_of = {d: k for k, d in enumerate(sp.dates)}
        self.first = next(k for k, d in enumerate(sp.dates) if d >= disruption.start)
        self.customer_of = {p: i for i, p in enumerate(sp.customer_points)}
        self.node_of = {pid: k for k, pid in enumerate(sp.node_ids)}
        self.vehicle_of = {v.name: k for k, v in enumerate(sp.problem.vehicles)}
        base = sp.problem.customers
        self.default_window = [c.window for c in base]
        # The window each point is routed with: the announced one, else the scenario's day.
        self.window: list[tuple[int, int] | None] = []
        for i, pid in enumerate(sp.customer_points):
            pp = plan.points_by_id.get(pid)
            w = pp.window_min if pp is not None else None
            self.window.append(w if w is not None else self.default_window[i])
        self.days: list[list[int]] = [[] for _ in base]
        self.routes: dict[int, list[DayRoute]] = {}
        for run in plan.runs:
            d = self.day_of[run.date]
            stops: list[Stop] = []
            for st in run.steps:
                if st.type == "collect":
                    c = self.customer_of[st.place]
                    self.days[c].append(d)
                    stops.append((self.node_of[st.place], c))
                elif st.type == "unload":
                    stops.append((self.node_of[st.place], -1))
            if d >= self.first:
                route = DayRoute(self.vehicle_of[run.vehicle], tuple(stops))
                self.routes.setdefault(d, []).append(route)
        for ds in self.days:
            ds.sort()
        self.works = [
            tuple(d for d, day in enumerate(sp.dates) if disruption.truck_works(v.name, day))
            for v in sp.problem.vehicles
        ]
        self._patterns: dict[tuple[int, tuple[int, ...]], Pattern] = {}

    # -- the problem of the current state ----------------------------------------------

    def pattern(self, c: int, days: Sequence[int]) -> Pattern:
        """Customer ``c``'s pattern on ``days``: one load per visit, by accumulated days."""
        key = (c, tuple(days))
        got = self._patterns.get(key)
        if got is not None:
            return got
        sp = self.sp
        point = sp.customer_points[c]
        dims = sp.load_model.dimensions
        demands = []
        for j in range(len(days)):
            acc = sp.accumulation_days(tuple(days), j)
            load = sp.load_model.load({cat: r * acc for cat, r in sp.daily_kg[point].items()})
            demands.append(tuple(math.ceil(load[d] * LOAD_UNITS[d]) for d in dims))
        pat = Pattern(tuple(days), tuple(demands))
        self._patterns[key] = pat
        return pat

    def problem(self) -> PeriodicProblem:
        """The problem of the current dates, routing windows and working days."""
        base = self.sp.problem
        customers = tuple(
            dataclasses.replace(
                cust,
                patterns=(self.pattern(i, self.days[i]),) if self.days[i] else (),
                window=self.window[i],
            )
            for i, cust in enumerate(base.customers)
        )
        vehicles = tuple(
            dataclasses.replace(v, days=self.works[k]) for k, v in enumerate(base.vehicles)
        )
        return dataclasses.replace(base, customers=customers, vehicles=vehicles)

    def patterns(self) -> tuple[int | None, ...]:
        return tuple(0 if ds else None for ds in self.days)

    def visits(self, problem: PeriodicProblem, d: int) -> tuple[DayVisit, ...]:
        return day_visits(problem, self.patterns(), d)

    # -- routes ------------------------------------------------------------------------

    def to_routes(self, visits: Sequence[DayVisit], routes: Sequence[DayRoute]) -> list[Route]:
        """Stored routes as the core's :class:`Route` over the day's visit numbers."""
        index = {v.customer: k for k, v in enumerate(visits)}
        return [
            Route(
                r.vehicle,
                tuple(n for n, _ in r.stops),
                tuple(index[c] if c >= 0 else -1 for _, c in r.stops),
            )
            for r in routes
        ]

    def from_routes(self, visits: Sequence[DayVisit], routes: Sequence[Route]) -> list[DayRoute]:
        out = []
        for r in sorted(routes, key=lambda r: r.vehicle):
            stops = tuple(
                (n, visits[vi].customer if vi >= 0 else -1)
                for n, vi in zip(r.stops, r.visits, strict=True)
            )
            if any(c >= 0 for _, c in stops):
                out.append(DayRoute(r.vehicle, stops))
        return out

    def served_on(self, d: int) -> set[int]:
        return {c for r in self.routes.get(d, []) for c in r.customers()}

    def future_days(self) -> range:
        return range(self.first, len(self.dates))

    def gap_ok(self, d: int, gap: int, others: Sequence[int]) -> bool:
        day = self.dates[d]
        return all(abs((self.dates[o] - day).days) >= gap for o in others)
