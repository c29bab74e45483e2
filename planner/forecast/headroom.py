"""Room in the truck for the forecast's spread: loads planned so a trip rarely overflows.

A plan on the forecast's means fills trucks to capacity with loads that really scatter
around them, so about half of the full trips overflow before their station. With
demand from the ledger the solver is given, per visit and load dimension (kg, m³,
hazardous kg), the load to plan for, and per truck the room to keep free, such that
a trip's true load exceeds the capacity with about ``overload_probability``.

A trip's load is the sum of its stops' (independent) loads: mean ``M``, variance
``V``, both sums over the stops. It fits when ``M + h(V) <= C`` with ``h`` the gamma
headroom (upper quantile minus mean). ``h`` grows like ``sqrt(V)``: concave, so its
tangent at the variance ``V0`` of a full trip lies above it, and
``M + h0 / 2 + h0 / (2 V0) x V <= C`` is sufficient, exact for a full trip, and a sum
over the stops: each stop is planned at ``m + lam x v`` (``lam = h0 / (2 V0)``) and a
truck keeps ``h0 / 2`` free. ``V0`` follows from the month's stops' variance per unit
of mean load. :data:`METHODS` also holds the two simpler rules the benchmark compares:
every stop at its own upper quantile (``quantile``), and the whole headroom kept free
in every truck (``reserve``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from planner.forecast.predict import Forecast, gamma_quantile, month_length
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories

DIMENSIONS = ("kg", "m3", "hazard_kg")
METHODS = ("tangent", "quantile", "reserve")


@dataclass(frozen=True)
class LoadHeadroom:
    """:class:`~planner.solve.from_scenario.PlannedLoad` from a :class:`Forecast`.

    ``previous`` is each point's last recorded visit: the month's first visit is then
    routed for the days since it where that is longer than what the scenario assumes.
    """

    forecast: Forecast
    scenario: Scenario
    overload_probability: float
    previous: Mapping[str, dt.date] | None = None
    method: str = "tangent"
    _slope: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"headroom method: expected one of {METHODS}, found {self.method!r}")
        slope = {}
        for d in DIMENSIONS:
            cap = _median(_capacities(self.scenario, d))
            h0, v0 = self.full_trip(d, cap)
            slope[d] = h0 / (2 * v0) if v0 > 0 else 0.0
        object.__setattr__(self, "_slope", slope)

    def stop_moments(self, point: str, days: float) -> dict[str, tuple[float, float]]:
        """Mean and variance of a stop's load per dimension (categories independent)."""
        out = dict.fromkeys(DIMENSIONS, (0.0, 0.0))
        rates = self.forecast.rates[point]
        for c in collected_categories(self.scenario):
            m, v = rates[c.id].visit_moments(days)
            weights = {"kg": 1.0, "m3": 1.0 / c.density_kg_m3, "hazard_kg": float(c.hazardous)}
            for d, w in weights.items():
                a, b = out[d]
                out[d] = (a + w * m, b + w * w * v)
        return out

    def variance_per_load(self, dimension: str) -> float:
        """The month's typical stops' load variance per unit of mean load."""
        days = month_length(self.forecast.month)
        m = v = 0.0
        for p in sorted(self.forecast.rates):
            a, b = self.stop_moments(p, days / max(self.scenario.visits.get(p, 1), 1))[dimension]
            m, v = m + a, v + b
        return v / m if m > 0 else 0.0

    def full_trip(self, dimension: str, capacity: float) -> tuple[float, float]:
        """Headroom ``h0`` and variance ``V0`` of a trip whose mean + headroom fill ``capacity``."""
        ratio = self.variance_per_load(dimension)
        q = 1 - self.overload_probability
        mean = capacity
        for _ in range(30):  # mean + h(mean) = capacity; h grows like sqrt(mean)
            h = gamma_quantile(mean, ratio * mean, q) - mean
            mean = max(capacity - h, 0.0)
        return gamma_quantile(mean, ratio * mean, q) - mean, ratio * mean

    def full_trip_headroom(self) -> dict[str, float]:
        """Per dimension, the headroom of a full trip in the fleet's median truck."""
        return {d: self.full_trip(d, _median(_capacities(self.scenario, d)))[0] for d in DIMENSIONS}

    def first_visit_days(self, point: str, date: dt.date, days: int) -> int:
        """The longer of the problem's ``days`` and the days since the last recorded visit.

        Never fewer than the problem's: the plan's ``collected`` kg (and the tallies)
        still count those, and the routed load must hold them (``planner check``).
        """
        if self.previous and point in self.previous:
            return max((date - self.previous[point]).days, days)
        return days

    def visit_load(self, point: str, date: dt.date, days: int, first: bool) -> dict[str, float]:
        if first:
            days = self.first_visit_days(point, date, days)
        moments = self.stop_moments(point, days)
        if self.method == "quantile":
            q = 1 - self.overload_probability
            return {d: gamma_quantile(m, v, q) for d, (m, v) in moments.items()}
        if self.method == "reserve":
            return {d: m for d, (m, _) in moments.items()}
        return {d: m + self._slope[d] * v for d, (m, v) in moments.items()}

    def capacity_reserve(self, capacity: Mapping[str, float]) -> dict[str, float]:
        if self.method == "quantile":
            return dict.fromkeys(capacity, 0.0)
        out = {}
        for d, cap in capacity.items():
            h0, v0 = self.full_trip(d, cap)
            # tangent: what the stops' lam x v do not already keep free of a full trip
            out[d] = h0 if self.method == "reserve" else max(h0 - self._slope[d] * v0, 0.0)
        return out


def _capacities(scenario: Scenario, dimension: str) -> list[float]:
    attr = {"kg": "payload_kg", "m3": "box_m3", "hazard_kg": "hazard_kg"}[dimension]
    return [float(getattr(v, attr)) for v in scenario.settings.fleet]


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else 0.0
