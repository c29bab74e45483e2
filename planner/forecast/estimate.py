"""Rates from recorded visits: empirical-Bayes shrinkage, household → … → scenario.

The hierarchy is household → point → gacha → township → scenario.

Every figure (kg of each collected category, cash paid, goods value) is modelled
as a **multiplier on the scenario's assumption**. For a household visit the
assumption is its *baseline* ``e = people x days x kg_per_person_day x seasonal[month]``
(for cash: the baseline kg x the buying price; for goods: the baseline hazardous kg x
the points per kg x the goods' value per point); the recorded value ``y`` has mean
``theta x e`` and quasi-Poisson variance ``phi x theta x e``.

The multipliers are estimated top-down (normal–normal empirical Bayes on the rates,
exposure-weighted): a unit's raw ratio ``Y/E`` (sums over its rows) has sampling
variance ``phi x m / E`` around its parent's estimate ``m``; the spread of true
multipliers between the units of a level, ``tau2``, is the random-effects variance
of a meta-analysis (:func:`statsmodels.stats.meta_analysis.combine_effects`,
Paule–Mandel); the unit's estimate is ``m + B (Y/E - m)`` with ``B = tau2 / (tau2 + v)``.
A unit without data takes its parent's estimate, so **no history at all gives the
scenario's assumption exactly** (every multiplier 1).

Two effects beyond the hierarchy: the household-size effect (per-person rates that
change with household size) is a quasi-Poisson GLM (:mod:`statsmodels`) of ``y`` on
``log(people)`` with ``log(e)`` as offset; seasonality is learned per calendar month
only when the history covers twelve months (otherwise the scenario's seasonal
factors stand). The share of households that show up is shrunk the same way with
binomial variance, toward 1 (the scenario assumes everyone hands in).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.forecast.observations import Observations, kg_column
from planner.scenario.model import Scenario

LEVELS = ("township", "gacha", "point", "household")
MONEY_FIGURES = ("cash_cny", "goods_cny")
# The whole collected mass as one figure: its stops' noise is measured as a whole
# (categories move together: an absent household hands in none of them).
TOTAL = "kg"
# The multiplier's spread assumed where no level has data to say (coefficient of
# variation 0.5 around the scenario's rate): the width of an assumption-only interval.
PRIOR_CV = 0.5
# Fewer household visits than this: no household-size effect is fitted.
MIN_ROWS_SIZE_EFFECT = 200
# Seasonality is learned from history only with this many distinct calendar months.
MONTHS_FOR_SEASON = 12
# From this many months, the multipliers are relative to the latest month's level.
MONTHS_FOR_LEVEL = 2
# How far a figure's overall level may move from one month to the next (log sd), an
# assumption worth this many observed steps: the steps seen in the history are pooled
# with it (an inverse-gamma update of the step variance), so one month of history
# still allows for next month being different.
PRIOR_STEP_SD = 0.08
PRIOR_STEPS = 2.0
_FLOOR = 0.05


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy for one figure.

    Attributes
    ----------
    tau2
        Variance of the true multipliers of this level's units around their parents.
    mean, var
        Posterior mean and variance of each unit's multiplier (units with history).
    exposure
        Each unit's summed baseline (what the scenario expected of its history).
    """

    tau2: float
    mean: Mapping[str, float]
    var: Mapping[str, float]
    exposure: Mapping[str, float]


@dataclass(frozen=True)
class FigureFit:
    """What the history says about one figure.

    Attributes
    ----------
    figure
        A category id, ``cash_cny`` or ``goods_cny``.
    phi
        Dispersion of a household visit (variance = ``phi`` x mean).
    phi_visit
        Dispersion of a whole stop (the point's households together), measured on
        the stops themselves: the noise a stop's forecast has to allow for.
    beta, beta_se
        Household-size elasticity of the per-person rate and its standard error
        (0, 0 without enough history).
    ref_people
        The household size at which the size factor is 1.
    levels
        The fitted levels, by name (:data:`LEVELS`).
    seasonal
        Twelve multipliers on the scenario's seasonal factors, learned from a year
        of history, or ``None``.
    level_step_var
        Variance of the month-to-month steps of the figure's overall level (log
        scale): :data:`PRIOR_STEP_SD` pooled with the steps in the history; it
        widens the forecast's interval.
    """

    figure: str
    phi: float
    phi_visit: float
    beta: float
    beta_se: float
    ref_people: float
    levels: Mapping[str, Level]
    seasonal: tuple[float, ...] | None = None
    level_step_var: float = 0.0

    def size_factor(self, people: np.ndarray | float) -> np.ndarray:
        """Multiplier of the baseline for households of ``people``."""
        p = np.maximum(np.asarray(people, dtype=float), 1.0)
        return np.asarray((p / self.ref_people) ** self.beta)

    def lookup(self, keys: Mapping[str, str]) -> tuple[float, float, str]:
        """Multiplier mean and variance for a unit, from the finest level that has history.

        ``keys`` maps level names to the unit's keys (see :func:`unit_keys`). Returns
        ``(mean, variance, level)``; level ``"scenario"`` means no history at all.
        A unit missing at a level takes its parent's estimate plus that level's spread.
        """
        mean, var, source = 1.0, 0.0, "scenario"
        for name in LEVELS:
            lv = self.levels.get(name)
            if lv is None or name not in keys:
                continue
            k = keys[name]
            if k in lv.mean:
                mean, var, source = lv.mean[k], lv.var[k], name
            else:
                var += lv.tau2
        if not self.levels:
            var = PRIOR_CV**2
        return mean, var, source

    def lookup_many(
        self, keys: Mapping[str, pd.Series]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`lookup` for many units at once: arrays of mean, variance and level."""
        n = len(next(iter(keys.values())))
        mean, var = np.ones(n), np.zeros(n)
        source = np.full(n, "scenario", dtype=object)
        for name in LEVELS:
            lv = self.levels.get(name)
            if lv is None or name not in keys:
                continue
            m = keys[name].map(lv.mean).to_numpy(dtype=float)
            found = ~np.isnan(m)
            v = keys[name].map(lv.var).to_numpy(dtype=float)
            mean = np.where(found, m, mean)
            var = np.where(found, v, var + lv.tau2)
            source = np.where(found, name, source)
        if not self.levels:
            var[:] = PRIOR_CV**2
        return mean, var, source


@dataclass(frozen=True)
class RateModel:
    """Every figure's fit and the share of households that show up."""

    figures: Mapping[str, FigureFit]
    presence: Level | None
    months: tuple[str, ...]
    visits: int
    rows: int
    categories: tuple[str, ...] = field(default=())

    @property
    def has_history(self) -> bool:
        return self.rows > 0


def unit_keys(township: str, gacha: str, point: str, household: str) -> dict[str, str]:
    """The keys of a household's units at every level (nested, so names may repeat)."""
    g = f"{township}/{gacha}"
    return {"township": township, "gacha": g, "point": point, "household": household}


def cny_per_point(scenario: Scenario) -> float:
    """Average value of one exchange point in goods (the catalogue's mean value per point)."""
    goods = scenario.settings.goods
    if not goods:
        return 0.0
    return float(np.mean([g.value_cny / g.points for g in goods]))


def points_per_kg(scenario: Scenario) -> dict[str, float]:
    """Exchange points a kg of each category earns (per kg plus per item)."""
    out = {}
    for c in scenario.settings.categories:
        pts = c.exchange_points_per_kg
        if c.kg_per_item > 0:
            pts += c.exchange_points_per_item / c.kg_per_item
        out[c.id] = pts
    return out


def baselines(
    scenario: Scenario, people: np.ndarray, days: np.ndarray, months: np.ndarray
) -> dict[str, np.ndarray]:
    """What the scenario assumes for each figure at households of ``people`` over ``days``.

    ``months`` are calendar months 1–12 (one per row), for the seasonal factors.
    """
    cats = {c.id: c for c in scenario.settings.categories}
    pp = points_per_kg(scenario)
    value = cny_per_point(scenario)
    out: dict[str, np.ndarray] = {}
    cash = np.zeros(len(people))
    goods = np.zeros(len(people))
    m = np.asarray(months, dtype=int) - 1
    for c in cats.values():
        if c.stream == "compost":
            continue
        season = np.asarray(c.seasonal, dtype=float)[m]
        kg = people * days * c.kg_per_person_day * season
        out[c.id] = kg
        if c.stream == "sell":
            cash += kg * c.buy_price_cny_kg
        else:
            goods += kg * pp[c.id] * value
    out[TOTAL] = np.sum([out[c] for c in out], axis=0) if out else np.zeros(len(people))
    out["cash_cny"] = cash
    out["goods_cny"] = goods
    return out


def fit_rates(obs: Observations, scenario: Scenario) -> RateModel:
    """Fit every figure's multipliers (and the show-up share) to ``obs``."""
    df = obs.frame
    figures = (*obs.categories, TOTAL, *MONEY_FIGURES)
    if not len(df):
        return RateModel({}, None, (), 0, 0, obs.categories)
    people = df["people"].to_numpy(float)
    base = baselines(
        scenario, people, df["exposure_days"].to_numpy(float), df["date"].dt.month.to_numpy()
    )
    codes = _codes(df)
    fits = {}
    for f in figures:
        if f == TOTAL:
            y = df[[kg_column(c) for c in obs.categories]].to_numpy(float).sum(axis=1)
        else:
            y = df[kg_column(f) if f in obs.categories else f].to_numpy(float)
        fits[f] = _fit_figure(f, y, base[f], people, codes, df["visit"].to_numpy(), df)
    present = df["present"].to_numpy(float)
    presence = _shrink_tree(present, np.ones(len(df)), codes, variance="binomial")
    return RateModel(
        fits, presence.get("household"), obs.months, obs.visits, len(df), obs.categories
    )


# --- the pieces -------------------------------------------------------------------


@dataclass(frozen=True)
class _Codes:
    """Per row: the integer code of its unit at each level, and the units' keys."""

    codes: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]


def _codes(df: pd.DataFrame) -> _Codes:
    g = df["township"] + "/" + df["gacha"]
    cols = {
        "township": df["township"],
        "gacha": g,
        "point": df["point"],
        "household": df["household"],
        "month": df["date"].dt.strftime("%Y-%m"),
    }
    codes, keys = {}, {}
    for name, s in cols.items():
        c, uniq = pd.factorize(s, sort=True)
        codes[name] = c
        keys[name] = np.asarray(uniq, dtype=object)
    return _Codes(codes, keys)


def _fit_figure(
    figure: str,
    y: np.ndarray,
    e: np.ndarray,
    people: np.ndarray,
    codes: _Codes,
    visit: np.ndarray,
    df: pd.DataFrame,
) -> FigureFit:
    beta, beta_se, ref = _size_effect(y, e, people)
    e = e * (np.maximum(people, 1.0) / ref) ** beta
    phi = _dispersion(y, e, codes.codes["household"], codes.codes["point"])
    levels = _shrink_tree(y, e, codes, variance="quasi", phi=phi)
    step_var = PRIOR_STEP_SD**2
    month = codes.codes["month"]
    n_months = len(codes.keys["month"])
    if MONTHS_FOR_LEVEL <= n_months < MONTHS_FOR_SEASON:
        # The level of each month after the hierarchy; the units are then refitted
        # relative to the latest month (a random walk on the level: the scenario's
        # seasonal factors carry it on from there), and the month-to-month steps of
        # the level widen the forecast's interval.
        hh = levels["household"]
        fitted = e * _row_values(hh.mean, codes, "household")
        level = np.bincount(month, y, n_months) / np.maximum(
            np.bincount(month, fitted, n_months), 1e-12
        )
        if np.all(level > 0):
            e = e * (level / level[-1])[month]
            steps = np.diff(np.log(level)) ** 2
            step_var = float(
                (PRIOR_STEPS * PRIOR_STEP_SD**2 + steps.sum()) / (PRIOR_STEPS + len(steps))
            )
            phi = _dispersion(y, e, codes.codes["household"], codes.codes["point"])
            levels = _shrink_tree(y, e, codes, variance="quasi", phi=phi)
    phi_visit = _visit_dispersion(y, e, visit, codes.codes["point"], fallback=phi)
    seasonal = _seasonal(y, e, levels, codes, df, phi)
    return FigureFit(figure, phi, phi_visit, beta, beta_se, ref, levels, seasonal, step_var)


def _row_values(values: Mapping[str, float], codes: _Codes, level: str) -> np.ndarray:
    """Per row, its unit's value at ``level`` (1 where the unit has none)."""
    per_unit = np.array([values.get(str(k), 1.0) for k in codes.keys[level]])
    return np.asarray(per_unit[codes.codes[level]])


def _size_effect(y: np.ndarray, e: np.ndarray, people: np.ndarray) -> tuple[float, float, float]:
    """Elasticity of the rate in household size: quasi-Poisson GLM with offset log(e)."""
    ok = e > 0
    ref = float(np.exp(np.mean(np.log(np.maximum(people[ok], 1.0))))) if ok.any() else 1.0
    if ok.sum() < MIN_ROWS_SIZE_EFFECT or np.ptp(people[ok]) == 0 or y[ok].sum() <= 0:
        return 0.0, 0.0, ref
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    logp = np.log(np.maximum(people[ok], 1.0) / ref)
    x = np.column_stack([np.ones(len(logp)), logp])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = GLM(y[ok], x, family=Poisson(), offset=np.log(e[ok])).fit(scale="X2")
    beta, se = float(res.params[1]), float(res.bse[1])
    if not np.isfinite(beta) or not np.isfinite(se):
        return 0.0, 0.0, ref
    return beta, se, ref


def _dispersion(y: np.ndarray, e: np.ndarray, household: np.ndarray, point: np.ndarray) -> float:
    """Pearson dispersion of household visits around each household's (else point's) ratio."""
    for unit in (household, point):
        n_units = int(unit.max()) + 1 if len(unit) else 0
        Y = np.bincount(unit, y, n_units)
        E = np.bincount(unit, e, n_units)
        ratio = np.divide(Y, E, out=np.zeros_like(Y), where=E > 0)
        mu = ratio[unit] * e
        ok = mu > 0
        df = int(ok.sum()) - int(np.count_nonzero(E > 0))
        if df > 0:
            return max(float(np.sum((y[ok] - mu[ok]) ** 2 / mu[ok]) / df), 1e-6)
    pos = e[e > 0]
    return float(pos.mean()) if len(pos) else 1.0


def _visit_dispersion(
    y: np.ndarray, e: np.ndarray, visit: np.ndarray, point: np.ndarray, fallback: float
) -> float:
    """Pearson dispersion of whole stops around their point's ratio (df: stops − points)."""
    vcode = pd.factorize(visit)[0]
    n = int(vcode.max()) + 1
    Y = np.bincount(vcode, y, n)
    E = np.bincount(vcode, e, n)
    vpoint = np.zeros(n, dtype=int)
    vpoint[vcode] = point
    n_p = int(point.max()) + 1
    ratio_p = np.divide(
        np.bincount(vpoint, Y, n_p),
        np.bincount(vpoint, E, n_p),
        out=np.zeros(n_p),
        where=np.bincount(vpoint, E, n_p) > 0,
    )
    mu = ratio_p[vpoint] * E
    ok = mu > 0
    df = int(ok.sum()) - len(np.unique(vpoint[ok]))
    if df <= 0:
        return fallback
    return max(float(np.sum((Y[ok] - mu[ok]) ** 2 / mu[ok]) / df), fallback * 1e-3)


def _shrink_tree(
    y: np.ndarray,
    e: np.ndarray,
    codes: _Codes,
    *,
    variance: str,
    phi: float = 1.0,
) -> dict[str, Level]:
    """Top-down normal–normal shrinkage of ``y/e`` through :data:`LEVELS`."""
    m_row = np.ones(len(y))
    s2_row = np.zeros(len(y))
    out: dict[str, Level] = {}
    for name in LEVELS:
        code = codes.codes[name]
        n = len(codes.keys[name])
        Y = np.bincount(code, y, n)
        E = np.bincount(code, e, n)
        first = np.zeros(n, dtype=int)
        first[code[::-1]] = np.arange(len(code))[::-1]
        m_par, s2_par = m_row[first], s2_row[first]
        has = E > 0
        r = np.divide(Y, E, out=m_par.copy(), where=has)
        if variance == "binomial":
            p = np.clip(m_par, _FLOOR, 1 - _FLOOR / 10)
            v = np.divide(p * (1 - p), E, out=np.full(n, np.inf), where=has)
        else:
            v = np.divide(phi * np.maximum(m_par, _FLOOR), E, out=np.full(n, np.inf), where=has)
        tau2 = _between_variance(r[has] - m_par[has], v[has])
        B = np.where(has, tau2 / (tau2 + v), 0.0)
        mean = m_par + B * (r - m_par)
        mean = np.clip(mean, 0.0, 1.0 if variance == "binomial" else np.inf)
        var = np.where(has, B * v + (1 - B) ** 2 * s2_par, s2_par + tau2)
        keys = codes.keys[name]
        out[name] = Level(
            tau2=tau2,
            mean={str(keys[i]): float(mean[i]) for i in np.flatnonzero(has)},
            var={str(keys[i]): float(var[i]) for i in np.flatnonzero(has)},
            exposure={str(keys[i]): float(E[i]) for i in np.flatnonzero(has)},
        )
        m_row, s2_row = mean[code], var[code]
    return out


def _between_variance(deviation: np.ndarray, v: np.ndarray) -> float:
    """Random-effects variance of the deviations (Paule–Mandel), PRIOR_CV² if too few units."""
    if len(deviation) < 3:
        return PRIOR_CV**2
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = combine_effects(deviation, v, method_re="iterated")
    tau2 = float(res.tau2)
    return tau2 if np.isfinite(tau2) else PRIOR_CV**2


def _seasonal(
    y: np.ndarray,
    e: np.ndarray,
    levels: Mapping[str, Level],
    codes: _Codes,
    df: pd.DataFrame,
    phi: float,
) -> tuple[float, ...] | None:
    """Per calendar month, the multiplier left after the hierarchy (a year of history)."""
    if len(codes.keys["month"]) < MONTHS_FOR_SEASON:
        return None
    fitted = e * _row_values(levels["household"].mean, codes, "household")
    moy = df["date"].dt.month.to_numpy() - 1
    Y = np.bincount(moy, y, 12)
    E = np.bincount(moy, fitted, 12)
    has = E > 0
    r = np.divide(Y, E, out=np.ones(12), where=has)
    v = np.divide(phi, E, out=np.full(12, np.inf), where=has)
    tau2 = _between_variance(r[has] - 1.0, v[has])
    B = np.where(has, tau2 / (tau2 + v), 0.0)
    return tuple(float(x) for x in 1.0 + B * (r - 1.0))
