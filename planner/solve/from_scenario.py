"""Map a scenario's month onto the solver core's :class:`PeriodicProblem`.

Nodes are the scenario's places in :meth:`Scenario.places` order (depots, points,
stations, buyer/plant); the stations are the intermediate facilities. Times are
whole minutes, distances metres, and loads integer units of :data:`LOAD_UNITS`
(0.1 kg, 1 litre, 0.1 kg) so the engines work in integers without losing what a
household hands over.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from planner.network.travel import Travel
from planner.scenario.model import Scenario
from planner.scenario.settings import minutes_of
from planner.scenario.waste import LoadModel, collected_categories, point_daily_kg
from planner.solve.patterns import enumerate_patterns
from planner.solve.problem import Customer, Pattern, PeriodicProblem, Vehicle

# Integer units per load dimension: kg in 0.1 kg, m3 in litres, hazard in 0.1 kg.
LOAD_UNITS = {"kg": 10.0, "m3": 1000.0, "hazard_kg": 10.0}


class PlannedLoad(Protocol):
    """Loads to plan for other than the expected kg (a forecast's headroom for its spread)."""

    def visit_load(self, point: str, date: dt.date, days: int, first: bool) -> Mapping[str, float]:
        """Load per dimension to plan ``point``'s visit on ``date`` for.

        ``days`` is what the problem counts the visit to collect; ``first``: it is the
        point's first visit of the month.
        """
        ...

    def capacity_reserve(self, capacity: Mapping[str, float]) -> Mapping[str, float]:
        """Room per dimension a truck of ``capacity`` keeps free of planned load."""
        ...


@dataclass(frozen=True)
class ScenarioProblem:
    """A :class:`PeriodicProblem` plus what is needed to turn its solution into a plan.

    Attributes
    ----------
    problem
        The solver core's problem.
    dates
        Service date of each day index.
    node_ids
        Place id of each node.
    customer_points
        Point id of each customer.
    patterns_unfit
        Points for which no visit pattern fits the month, with the reason.
    """

    problem: PeriodicProblem
    dates: tuple[dt.date, ...]
    node_ids: tuple[str, ...]
    customer_points: tuple[str, ...]
    patterns_unfit: dict[str, str]
    daily_kg: dict[str, dict[str, float]]
    load_model: LoadModel
    month_length: int
    previous_visit_days: int | None

    def accumulation_days(self, pattern_days: tuple[int, ...], k: int) -> int:
        """Days of waste the ``k``-th visit of a pattern collects.

        The previous visit is the pattern's previous date; for the first visit it is
        the last visit one month earlier (steady rhythm), unless the scenario sets
        ``previous_visit_days``.
        """
        return _accumulation(
            self.dates, pattern_days, k, self.month_length, self.previous_visit_days
        )

    def irregularity(self) -> dict[int, list[float]]:
        """Per customer and pattern: squared deviation of its gaps from the even rhythm (days²)."""
        out: dict[int, list[float]] = {}
        for i, c in enumerate(self.problem.customers):
            costs = []
            for pat in c.patterns:
                k = len(pat.days)
                ideal = self.month_length / k
                gaps = [self.accumulation_days(pat.days, j) for j in range(k)] if k > 1 else []
                costs.append(float(sum((g - ideal) ** 2 for g in gaps)))
            out[i] = costs
        return out

    def visit_kg(self, point: str, pattern_days: tuple[int, ...], k: int) -> dict[str, float]:
        """kg per collected category at the ``k``-th visit of ``point`` on a pattern."""
        days = self.accumulation_days(pattern_days, k)
        return {cat: rate * days for cat, rate in self.daily_kg[point].items()}


def _service_minutes(scenario: Scenario, households: int) -> int:
    vs = scenario.settings.visits
    return math.ceil(vs.service_min_base + vs.service_min_per_household * households)


def build_problem(
    scenario: Scenario,
    travel: Travel,
    *,
    daily_kg: Mapping[str, Mapping[str, float]] | None = None,
    planned_load: PlannedLoad | None = None,
) -> ScenarioProblem:
    """The month of ``scenario`` as a periodic VRP with intermediate facilities.

    ``daily_kg`` replaces the waste model's kg per day and collected category for
    the points it names (a forecast from recorded visits); the others keep
    :func:`~planner.scenario.waste.point_daily_kg`. ``planned_load`` sets the load
    each visit is routed with and the room each truck keeps free (the expected kg,
    and all of the capacity, without it); the plan's ``collected`` kg stay expected.
    """
    s = scenario.settings
    places = scenario.places()
    index = travel.index()
    order = [index[p.id] for p in places]
    duration = np.ceil(travel.duration_s[np.ix_(order, order)] / 60.0).astype(np.int64)
    distance = np.rint(travel.distance_m[np.ix_(order, order)]).astype(np.int64)
    node_of = {p.id: k for k, p in enumerate(places)}

    dates = scenario.service_dates
    month_length = (s.month.last_day - s.month.first_day).days + 1
    daily = point_daily_kg(scenario)
    for pid, rates in (daily_kg or {}).items():
        if pid in daily:
            daily[pid] = {c: float(rates.get(c, kg)) for c, kg in daily[pid].items()}
    load_model = LoadModel(collected_categories(scenario))
    dims = load_model.dimensions
    win = s.windows
    people_households = {p.id: p.households for p in scenario.points}
    if scenario.households:
        counts = {p.id: 0 for p in scenario.points}
        for h in scenario.households:
            counts[h.point] += 1
        people_households = counts

    customers: list[Customer] = []
    unfit: dict[str, str] = {}
    for p in scenario.points:
        k = scenario.visits[p.id]
        gap = s.visits.gap_for(k)
        combos = enumerate_patterns(dates, k, gap, month_length, max_patterns=24)
        if not combos:
            unfit[p.id] = (
                f"{k} visits at least {gap} days apart do not fit the {len(dates)} service "
                f"days of {s.month.month}"
            )
        pats = []
        for combo in combos:
            demands = []
            for j in range(len(combo)):
                days = _accumulation(dates, combo, j, month_length, s.month.previous_visit_days)
                if planned_load is None:
                    load = load_model.load({c: r * days for c, r in daily[p.id].items()})
                else:
                    load = dict(planned_load.visit_load(p.id, dates[combo[j]], days, j == 0))
                demands.append(tuple(math.ceil(load[d] * LOAD_UNITS[d]) for d in dims))
            pats.append(Pattern(combo, tuple(demands)))
        customers.append(
            Customer(
                node=node_of[p.id],
                patterns=tuple(pats),
                service=_service_minutes(scenario, people_households[p.id]),
                window=(minutes_of(win.earliest), minutes_of(win.latest)),
                name=p.name,
            )
        )

    vehicles = []
    for v in s.fleet:
        cap = {"kg": v.payload_kg, "m3": v.box_m3, "hazard_kg": v.hazard_kg}
        if planned_load is not None:
            reserve = planned_load.capacity_reserve(cap)
            cap = {d: max(cap[d] - reserve.get(d, 0.0), 0.0) for d in cap}
        vehicles.append(
            Vehicle(
                name=v.id,
                depot=node_of[v.depot],
                capacity=tuple(math.floor(cap[d] * LOAD_UNITS[d]) for d in dims),
                shift=(minutes_of(v.shift_start), minutes_of(v.shift_end)),
                max_duration=v.max_work_min,
                days=tuple(range(len(dates))),
                cost_per_distance=v.cost_per_km / 1000.0,
                cost_per_duration=v.cost_per_hour / 60.0,
                speed_factor=v.speed_factor,
                break_window=(minutes_of(v.lunch_start), minutes_of(v.lunch_end))
                if v.lunch_min
                else None,
                break_duration=v.lunch_min,
            )
        )

    problem = PeriodicProblem(
        num_days=len(dates),
        duration=duration,
        distance=distance,
        depots=tuple(node_of[d.id] for d in scenario.depots),
        facilities=tuple(node_of[st.id] for st in scenario.stations),
        customers=tuple(customers),
        vehicles=tuple(vehicles),
        dimensions=dims,
        objective="cost",
        node_names=tuple(p.id for p in places),
        facility_service=math.ceil(s.stations_settings.unload_min),
    )
    return ScenarioProblem(
        problem=problem,
        dates=dates,
        node_ids=tuple(p.id for p in places),
        customer_points=tuple(p.id for p in scenario.points),
        patterns_unfit=unfit,
        daily_kg=daily,
        load_model=load_model,
        month_length=month_length,
        previous_visit_days=s.month.previous_visit_days,
    )


def _accumulation(
    dates: tuple[dt.date, ...],
    combo: tuple[int, ...],
    k: int,
    month_length: int,
    previous_visit_days: int | None,
) -> int:
    if k > 0:
        return (dates[combo[k]] - dates[combo[k - 1]]).days
    if previous_visit_days is not None:
        return previous_visit_days
    return (dates[combo[0]] - dates[combo[-1]]).days + month_length
