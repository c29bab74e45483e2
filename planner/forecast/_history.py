"""Simulated history whose truth differs from the scenario (for the backtest).

SYNTHETIC. The ledger's ``simulate`` writes tally files around a plan's own
forecast; the backtest needs history from a *different* truth, known exactly, so
this module draws it here, on the estimator's own table (:mod:`observations`):

* a true multiplier per township, lognormal spreads per point and per household,
  and per stream (sell / exchange) a factor;
* a household-size effect: the per-person rate scales as ``(people / ref) ** beta``;
* a seasonal swing on top of the scenario's factors,
  ``1 + swing x cos(2 pi (month - peak) / 12)``;
* absences: a household misses a visit with probability ``absence`` and hands in
  what it kept at its next one (so a stop's mean is unchanged, its noise larger);
* visit noise: a gamma factor of coefficient of variation ``noise_cv`` per
  household, visit and category, times one of ``stop_cv`` per stop (the same for
  all its households: a wedding, a dust storm).

Cash is the sold kg at the scenario's prices; goods are the exchange points at the
catalogue's mean value per point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.forecast.estimate import baselines
from planner.forecast.observations import Observations, kg_column
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories


@dataclass(frozen=True)
class Truth:
    """What really happens (SYNTHETIC): see the module docstring for each field."""

    township: Mapping[str, float] = field(default_factory=dict)
    stream: Mapping[str, float] = field(default_factory=lambda: {"sell": 1.0, "exchange": 1.0})
    point_sd: float = 0.25
    household_sd: float = 0.3
    size_elasticity: float = -0.3
    seasonal_swing: float = 0.15
    swing_peak_month: int = 7
    absence: float = 0.1
    noise_cv: float = 0.4
    stop_cv: float = 0.15


def default_truth(scenario: Scenario) -> Truth:
    """A truth for ``scenario`` that differs from it by township (0.65–1.45 in turn)."""
    towns = sorted({p.township for p in scenario.points})
    cycle = (1.35, 0.7, 1.15, 0.8, 1.45, 0.65)
    return Truth(
        township={t: cycle[i % len(cycle)] for i, t in enumerate(towns)},
        stream={"sell": 1.0, "exchange": 1.3},
    )


@dataclass(frozen=True)
class Visit:
    """A stop of the simulated calendar."""

    run_id: str
    point: str
    date: dt.date
    exposure_days: int


@dataclass
class World:
    """The truth drawn for one scenario: per-household multipliers, and who keeps what.

    ``kept_days`` is, per household, the days of waste it holds since it last
    handed in (carried from one simulated month to the next).
    """

    truth: Truth
    households: pd.DataFrame
    kept_days: dict[str, float]
    rng: np.random.Generator

    def multiplier(
        self, stream: str, month: int, people: np.ndarray, effect: np.ndarray
    ) -> np.ndarray:
        t = self.truth
        swing = 1 + t.seasonal_swing * np.cos(2 * np.pi * (month - t.swing_peak_month) / 12)
        size = (np.maximum(people, 1) / self._ref) ** t.size_elasticity
        return np.asarray(effect * size * swing * t.stream.get(stream, 1.0))

    @property
    def _ref(self) -> float:
        return float(np.exp(np.log(self.households["people"]).mean()))


def draw_world(scenario: Scenario, truth: Truth, seed: int) -> World:
    """Draw the true per-household multipliers of ``truth`` for ``scenario``."""
    rng = np.random.default_rng(seed)
    pts = {p.id: p for p in scenario.points}
    if scenario.households:
        rows = [(h.id, h.point, h.people) for h in scenario.households]
    else:
        rows = [(p.id, p.id, max(p.people, 1)) for p in scenario.points]
    hh = pd.DataFrame(rows, columns=["household", "point", "people"])
    hh["township"] = [pts[p].township for p in hh["point"]]
    hh["gacha"] = [pts[p].gacha for p in hh["point"]]
    point_ids = sorted(pts)
    point_eff = dict(zip(point_ids, _lognormal(rng, truth.point_sd, len(point_ids)), strict=True))
    town = np.array([truth.township.get(t, 1.0) for t in hh["township"]])
    hh["effect"] = (
        town
        * np.array([point_eff[p] for p in hh["point"]])
        * _lognormal(rng, truth.household_sd, len(hh))
    )
    return World(truth, hh, {}, rng)


def simulate(scenario: Scenario, world: World, visits: Sequence[Visit]) -> Observations:
    """What the households hand in at ``visits`` under ``world`` (advances its state)."""
    cats = collected_categories(scenario)
    hh = world.households
    by_point = {p: g for p, g in hh.groupby("point", sort=False)}
    frames = []
    for v in sorted(visits, key=lambda v: (v.date, v.run_id, v.point)):
        g = by_point.get(v.point)
        if g is None:
            continue
        n = len(g)
        ids = g["household"].to_numpy()
        kept = np.array([world.kept_days.get(h, 0.0) for h in ids]) + v.exposure_days
        present = world.rng.random(n) >= world.truth.absence
        days = np.where(present, kept, 0.0)
        people = g["people"].to_numpy(float)
        base = baselines(scenario, people, days, np.full(n, v.date.month))
        row: dict[str, object] = {
            "visit": f"{v.run_id}|{v.point}",
            "run_id": v.run_id,
            "point": v.point,
            "household": ids,
            "township": g["township"].to_numpy(),
            "gacha": g["gacha"].to_numpy(),
            "date": pd.Timestamp(v.date),
            "exposure_days": v.exposure_days,
            "people": people,
            "present": present,
        }
        cash = np.zeros(n)
        goods = np.zeros(n)
        shape = 1 / world.truth.noise_cv**2
        stop = _gamma1(world.rng, world.truth.stop_cv, 1)[0]
        for c in cats:
            mult = world.multiplier(c.stream, v.date.month, people, g["effect"].to_numpy())
            noise = world.rng.gamma(shape, 1 / shape, n) * stop
            kg = np.round(base[c.id] * mult * noise, 3)
            row[kg_column(c.id)] = kg
            if c.stream == "sell":
                cash += kg * c.buy_price_cny_kg
            else:
                goods += kg * _goods_per_kg(scenario, c.id)
        row["cash_cny"] = np.round(cash, 2)
        row["goods_cny"] = np.round(goods, 2)
        frames.append(pd.DataFrame(row))
        for h, k, pr in zip(ids, kept, present, strict=True):
            world.kept_days[h] = 0.0 if pr else float(k)
    cols = [c.id for c in cats]
    if not frames:
        return Observations.empty(cols)
    return Observations.from_frame(pd.concat(frames, ignore_index=True), cols)


def _goods_per_kg(scenario: Scenario, category: str) -> float:
    from planner.forecast.estimate import cny_per_point, points_per_kg

    return points_per_kg(scenario)[category] * cny_per_point(scenario)


def _gamma1(rng: np.random.Generator, cv: float, n: int) -> np.ndarray:
    """Mean-one gamma factors of coefficient of variation ``cv`` (ones if 0)."""
    if cv <= 0:
        return np.ones(n)
    shape = 1 / cv**2
    return np.asarray(rng.gamma(shape, 1 / shape, n))


def _lognormal(rng: np.random.Generator, sd: float, n: int) -> np.ndarray:
    """Mean-one lognormal factors of log-sd ``sd``."""
    return np.asarray(rng.lognormal(-0.5 * sd * sd, sd, n))
