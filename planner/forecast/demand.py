"""A forecast as the planner's demand (``planner run --demand ledger``).

:class:`LedgerDemand` is what :func:`planner.app.pipeline.plan_month` takes as its
``demand``: the per-point kg per day the problem is built on (the forecast's means),
the loads its visits are routed with (:mod:`headroom`: room for the spread, and the
first visit counting the days since the point's last recorded one), and, once the
plan exists, its ``demand`` block — which figures came from history,
and per run the cash float and the goods factor at the forecast's upper quantile
(``carry.runout_probability`` of running short).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.forecast.headroom import LoadHeadroom
from planner.forecast.predict import Forecast
from planner.money.tallies import accumulation_days
from planner.plan.model import Demand, Plan
from planner.scenario.model import Scenario


@dataclass(frozen=True)
class LedgerDemand:
    """A :class:`Forecast` for ``scenario``'s month, as demand for planning.

    ``previous`` is each point's last recorded visit: a run's first stop at a point
    then counts the days since it (not ``month.previous_visit_days``) for its cash
    and goods.
    """

    forecast: Forecast
    scenario: Scenario
    previous: Mapping[str, dt.date] | None = None
    headroom: str = "tangent"

    def daily_kg(self) -> Mapping[str, Mapping[str, float]]:
        return self.forecast.daily_kg()

    def planned_load(self) -> LoadHeadroom | None:
        """Visit loads with headroom for the forecast's spread (``overload_probability``).

        ``headroom`` ``"none"`` routes the forecast's means as they are (for comparison).
        """
        if self.headroom == "none":
            return None
        p = self.scenario.settings.stations_settings.overload_probability
        return LoadHeadroom(self.forecast, self.scenario, p, self.previous, self.headroom)

    def describe(self, plan: Plan) -> Demand:
        p = self.scenario.settings.carry.runout_probability
        stops = run_stops(plan, self.scenario, self.previous)
        runs = {}
        for rid, st in stops.items():
            runs[rid] = run_upper(self.forecast, st, p, self.scenario.settings.carry.goods_margin)
        headroom = self.planned_load()
        room = headroom.full_trip_headroom() if headroom else None
        return Demand(
            source="ledger",
            history_months=self.forecast.history_months,
            runout_probability=p,
            points={pid: self.forecast.point_source(pid) for pid in sorted(self.forecast.rates)},
            runs=runs,
            overload_probability=headroom.overload_probability if headroom else None,
            load_headroom={d: round(h, 3) for d, h in room.items()} if room else None,
        )


def run_stops(
    plan: Plan, scenario: Scenario, previous: Mapping[str, dt.date] | None = None
) -> dict[str, list[tuple[str, float]]]:
    """Per run: its stops as ``(point, days of waste collected)``, as the plan's tallies count.

    A point's first visit counts from ``previous[point]`` (its last visit before the
    month) where given, else as the tallies do (``month.previous_visit_days``).
    """
    dates: dict[str, list[dt.date]] = defaultdict(list)
    for run, st in plan.collect_steps():
        dates[st.place].append(run.date)
    days = {}
    for p, ds in dates.items():
        ds = sorted(ds)
        n = accumulation_days(scenario, ds)
        if previous and p in previous:
            n[0] = max((ds[0] - previous[p]).days, 1)
        days[p] = dict(zip(ds, n, strict=True))
    out: dict[str, list[tuple[str, float]]] = {r.id: [] for r in plan.runs}
    for run, st in plan.collect_steps():
        out[run.id].append((st.place, float(days[st.place][run.date])))
    return out


def run_upper(
    forecast: Forecast, stops: Sequence[tuple[str, float]], runout: float, goods_margin: float
) -> dict[str, float]:
    """A run's cash float (the upper quantile of its purchases) and its goods factor."""
    cash = forecast.run_quantile(stops, "cash_cny", 1 - runout)
    mean = sum(forecast.rates[p]["goods_cny"].visit_moments(d)[0] for p, d in stops)
    upper = forecast.run_quantile(stops, "goods_cny", 1 - runout)
    factor = upper / mean if mean > 0 else 1 + goods_margin
    return {"cash_cny": round(cash, 2), "goods_factor": round(max(factor, 1.0), 4)}
