"""Next month's rates per point (and household) from a :class:`RateModel`, with intervals.

A point's rate of a figure is the sum over its households of multiplier x baseline
(the scenario's people x kg per person-day x the month's seasonal factor x the
household-size factor). Its uncertainty is the point's posterior variance (the
households share it) plus what the households add beyond it. A stop that collects
``days`` of waste then has mean ``rate x days`` and variance
``days² x var(rate) + phi_visit x mean`` (the stops' own dispersion, measured in the
history); intervals are the quantiles of the gamma distribution with those moments.
A run's figure is the sum of its stops (independent): the same, summed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from planner.forecast.estimate import MONEY_FIGURES, PRIOR_CV, TOTAL, RateModel, baselines
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories

SOURCES = {
    "household": "history",
    "point": "history",
    "gacha": "history (gacha)",
    "township": "history (township)",
    "scenario": "assumption",
}


@dataclass(frozen=True)
class Rate:
    """One figure at one point: per day of the forecast month.

    Attributes
    ----------
    mean, var
        The rate (kg, or CNY, per day) and the variance of its estimate.
    assumed
        The scenario's rate (what planning without history uses).
    phi_visit
        Dispersion of a stop's outcome around its mean (0: unknown, no history).
    source
        Where the figure comes from: ``history`` (the point's own visits),
        ``history (gacha)`` / ``history (township)`` (borrowed from the group), or
        ``assumption`` (the scenario).
    """

    mean: float
    var: float
    assumed: float
    phi_visit: float
    source: str

    def visit_moments(self, days: float) -> tuple[float, float]:
        """Mean and variance of what a stop collecting ``days`` of waste gets."""
        mean = self.mean * days
        return mean, days**2 * self.var + self.phi_visit * mean

    def visit_interval(self, days: float, level: float = 0.9) -> tuple[float, float]:
        """Central ``level`` interval of a stop's outcome."""
        return gamma_interval(*self.visit_moments(days), level)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Central ``level`` interval of the rate itself."""
        return gamma_interval(self.mean, self.var, level)


@dataclass(frozen=True)
class HouseholdRate:
    """One household's multiplier of the scenario's rate for one figure (history only)."""

    household: str
    point: str
    figure: str
    multiplier: float
    lo: float
    hi: float
    source: str


@dataclass(frozen=True)
class Forecast:
    """The forecast month: per point and figure a :class:`Rate`; households where known."""

    month: str
    figures: tuple[str, ...]
    categories: tuple[str, ...]
    rates: Mapping[str, Mapping[str, Rate]]
    presence: Mapping[str, float]
    households: tuple[HouseholdRate, ...]
    history_months: tuple[str, ...]
    history_visits: int

    def daily_kg(self) -> dict[str, dict[str, float]]:
        """kg per day of each collected category at each point: the planner's demand."""
        return {p: {c: r[c].mean for c in self.categories} for p, r in self.rates.items()}

    def point_source(self, point: str) -> str:
        """Where a point's kg come from (the most common source of its categories)."""
        srcs = [self.rates[point][c].source for c in self.categories]
        return max(set(srcs), key=srcs.count)

    def stop_moments(self, point: str, figures: Sequence[str], days: float) -> tuple[float, float]:
        """Mean and variance of the sum of ``figures`` at a stop (figures independent)."""
        m = v = 0.0
        for f in figures:
            a, b = self.rates[point][f].visit_moments(days)
            m, v = m + a, v + b
        return m, v

    def run_quantile(
        self, stops: Sequence[tuple[str, float]], figure: str, quantile: float
    ) -> float:
        """The ``quantile`` of a run's total ``figure`` over its ``(point, days)`` stops."""
        m = v = 0.0
        for point, days in stops:
            a, b = self.rates[point][figure].visit_moments(days)
            m, v = m + a, v + b
        return gamma_quantile(m, v, quantile)


def gamma_interval(mean: float, var: float, level: float) -> tuple[float, float]:
    """Central ``level`` interval of the gamma distribution with ``mean`` and ``var``."""
    a = (1 - level) / 2
    return gamma_quantile(mean, var, a), gamma_quantile(mean, var, 1 - a)


def gamma_intervals(
    mean: np.ndarray, var: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gamma_interval` for arrays (the mean where the variance is 0)."""
    a = (1 - level) / 2
    ok = (mean > 0) & (var > 0)
    shape = np.divide(mean**2, var, out=np.ones_like(mean), where=ok)
    scale = np.divide(var, mean, out=np.ones_like(mean), where=ok)
    lo = np.where(ok, stats.gamma.ppf(a, shape, scale=scale), np.maximum(mean, 0.0))
    hi = np.where(ok, stats.gamma.ppf(1 - a, shape, scale=scale), np.maximum(mean, 0.0))
    return lo, hi


def gamma_quantile(mean: float, var: float, q: float) -> float:
    """Quantile ``q`` of the gamma distribution with ``mean`` and ``var`` (the mean if var 0)."""
    if mean <= 0 or var <= 0:
        return max(mean, 0.0)
    shape = mean * mean / var
    return float(stats.gamma.ppf(q, shape, scale=var / mean))


def month_first(month: str) -> dt.date:
    """The first day of ``YYYY-MM``."""
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def month_length(month: str) -> int:
    d = month_first(month)
    return calendar.monthrange(d.year, d.month)[1]


def forecast_month(model: RateModel, scenario: Scenario, month: str) -> Forecast:
    """Rates of ``month`` for every point of ``scenario`` (and its households with history)."""
    cats = tuple(c.id for c in collected_categories(scenario))
    figures = (*cats, TOTAL, *MONEY_FIGURES)
    hh = _members(scenario)
    moy = month_first(month).month
    people = hh["people"].to_numpy(float)
    base = baselines(scenario, people, np.ones(len(hh)), np.full(len(hh), moy))
    keys = {
        "township": hh["township"],
        "gacha": hh["township"] + "/" + hh["gacha"],
        "point": hh["point"],
        "household": hh["household"],
    }
    point_keys = {k: v for k, v in keys.items() if k != "household"}
    codes, point_ids = pd.factorize(hh["point"], sort=False)
    n_points = len(point_ids)
    rates: dict[str, dict[str, Rate]] = {str(p): {} for p in point_ids}
    households: list[HouseholdRate] = []
    for f in figures:
        assumed = np.bincount(codes, base[f], n_points)
        fit = model.figures.get(f)
        if fit is None:
            for i, p in enumerate(point_ids):
                a = float(assumed[i])
                rates[str(p)][f] = Rate(a, (PRIOR_CV * a) ** 2, a, 0.0, "assumption")
            continue
        b = base[f] * fit.size_factor(people)
        if fit.seasonal is not None:
            b = b * fit.seasonal[moy - 1]
        m, v, src = fit.lookup_many(keys)
        _, pv, psrc = fit.lookup_many(point_keys)
        mean = np.bincount(codes, m * b, n_points)
        first = np.zeros(n_points, dtype=int)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        p_var = pv[first]
        extra = np.bincount(codes, b**2 * np.maximum(v - pv, 0.0), n_points)
        var = np.bincount(codes, b, n_points) ** 2 * p_var + extra
        var += mean**2 * fit.level_step_var
        for i, p in enumerate(point_ids):
            rates[str(p)][f] = Rate(
                float(mean[i]),
                float(var[i]),
                float(assumed[i]),
                fit.phi_visit,
                SOURCES[str(psrc[first[i]])],
            )
        known = np.flatnonzero(src == "household")
        lo, hi = gamma_intervals(m[known], v[known], 0.9)
        ids, pids = hh["household"].to_numpy()[known], hh["point"].to_numpy()[known]
        households += [
            HouseholdRate(str(h), str(p), f, float(x), float(a), float(z), "history")
            for h, p, x, a, z in zip(ids, pids, m[known], lo, hi, strict=True)
        ]
    return Forecast(
        month=month,
        figures=figures,
        categories=cats,
        rates=rates,
        presence=_presence(model, hh, codes, point_ids),
        households=tuple(households),
        history_months=model.months,
        history_visits=model.visits,
    )


def _members(scenario: Scenario) -> pd.DataFrame:
    """One row per household (a point without a list is one household), with its groups."""
    pts = {p.id: p for p in scenario.points}
    rows = [(h.id, h.point, h.people) for h in scenario.households]
    listed = {h.point for h in scenario.households}
    rows += [(p.id, p.id, max(p.people, 1)) for p in scenario.points if p.id not in listed]
    df = pd.DataFrame(rows, columns=["household", "point", "people"])
    df["township"] = [pts[p].township for p in df["point"]]
    df["gacha"] = [pts[p].gacha for p in df["point"]]
    return df.astype({"household": str, "point": str, "township": str, "gacha": str})


def _presence(
    model: RateModel, hh: pd.DataFrame, codes: np.ndarray, point_ids: pd.Index
) -> dict[str, float]:
    """Share of each point's households expected to show up (1 without history)."""
    lv = model.presence
    if lv is None:
        return {str(p): 1.0 for p in point_ids}
    share = hh["household"].map(lv.mean).to_numpy(dtype=float)
    known = ~np.isnan(share)
    n = len(point_ids)
    count = np.bincount(codes, known.astype(float), n)
    total = np.bincount(codes, np.where(known, share, 0.0), n)
    out = np.divide(total, count, out=np.ones(n), where=count > 0)
    return {str(p): float(out[i]) for i, p in enumerate(point_ids)}
