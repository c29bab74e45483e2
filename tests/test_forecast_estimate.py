"""The estimator: empirical-Bayes multipliers, their invariants, and recovering a known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.forecast.errors import ForecastError
from planner.forecast.estimate import TOTAL, baselines, fit_rates
from planner.forecast.observations import Observations, kg_column
from planner.forecast.predict import forecast_month
from planner.scenario.load import load_scenario
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories, point_daily_kg

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    return load_scenario(DATA / "tiny.toml")


def _table(
    scenario: Scenario,
    multipliers: dict[str, float],
    *,
    households: int,
    visits: int,
    seed: int,
    people: int | None = None,
    elasticity: float = 0.0,
) -> Observations:
    """Synthetic visits: townships T0.. with the given true multipliers, 3 gachas x 3
    points each, ``households`` per point, ``visits`` visits 14 days apart from November."""
    rng = np.random.default_rng(seed)
    cats = [c.id for c in collected_categories(scenario)]
    rows = []
    for town, mult in multipliers.items():
        for g in range(3):
            for p in range(3):
                point = f"{town}-g{g}-p{p}"
                size = people or 1
                for h in range(households):
                    n = people or int(rng.integers(1, 8))
                    size = n
                    for v in range(visits):
                        rows.append(
                            {
                                "visit": f"r{v}|{point}",
                                "run_id": f"r{v}",
                                "point": point,
                                "household": f"{point}-h{h}",
                                "township": town,
                                "gacha": f"g{g}",
                                "date": pd.Timestamp("2026-11-02") + pd.Timedelta(days=14 * v),
                                "exposure_days": 14,
                                "people": size,
                                "present": True,
                                "mult": mult * (size / 3.0) ** elasticity,
                            }
                        )
    df = pd.DataFrame(rows)
    base = baselines(
        scenario, df["people"].to_numpy(float), np.full(len(df), 14.0), df["date"].dt.month
    )
    for c in cats:
        mean = base[c] * df["mult"].to_numpy()
        df[kg_column(c)] = rng.gamma(4.0, mean / 4.0)
    df["cash_cny"] = sum(
        df[kg_column(c.id)] * c.buy_price_cny_kg for c in collected_categories(scenario)
    )
    df["goods_cny"] = 0.0
    return Observations.from_frame(df.drop(columns="mult"), cats)


def test_no_history_gives_the_scenarios_assumption_exactly(tiny: Scenario) -> None:
    cats = [c.id for c in collected_categories(tiny)]
    model = fit_rates(Observations.empty(cats), tiny)
    fc = forecast_month(model, tiny, tiny.settings.month.month)
    expected = point_daily_kg(tiny)
    for pid, rates in fc.daily_kg().items():
        assert rates == pytest.approx(expected[pid], rel=1e-12)
        for f in fc.figures:
            assert fc.rates[pid][f].mean == fc.rates[pid][f].assumed
            assert fc.rates[pid][f].source == "assumption"


def test_a_known_truth_is_recovered_by_township(tiny: Scenario) -> None:
    obs = _table(tiny, {"T0": 1.5, "T1": 0.6, "T2": 1.0}, households=6, visits=3, seed=1)
    model = fit_rates(obs, tiny)
    town = model.figures[TOTAL].levels["township"].mean
    assert town["T0"] == pytest.approx(1.5, rel=0.08)
    assert town["T1"] == pytest.approx(0.6, rel=0.08)
    assert town["T2"] == pytest.approx(1.0, rel=0.08)


def test_the_household_size_effect_is_recovered(tiny: Scenario) -> None:
    obs = _table(tiny, {"T0": 1.0, "T1": 1.0}, households=12, visits=3, seed=2, elasticity=-0.3)
    fit = fit_rates(obs, tiny).figures[TOTAL]
    assert fit.beta == pytest.approx(-0.3, abs=0.06)
    assert fit.beta_se < 0.05


def test_a_figure_without_any_history_keeps_the_assumption_with_the_prior_spread(
    tiny: Scenario,
) -> None:
    obs = _table(tiny, {"T0": 2.0}, households=2, visits=2, seed=3)
    fit = fit_rates(obs, tiny).figures[TOTAL]
    mean, var, level = fit.lookup({"township": "nowhere", "point": "nowhere"})
    assert (mean, level) == (1.0, "scenario")
    assert var > 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mult=st.floats(0.3, 3.0),
    seed=st.integers(0, 10_000),
    households=st.integers(1, 4),
)
def test_each_estimate_lies_between_its_group_and_its_own_ratio(
    tiny: Scenario, mult: float, seed: int, households: int
) -> None:
    obs = _table(
        tiny, {"T0": mult, "T1": 1.0}, households=households, visits=2, seed=seed, people=3
    )
    fit = fit_rates(obs, tiny).figures[TOTAL]
    df = obs.frame
    y = df[[kg_column(c) for c in obs.categories]].sum(axis=1).to_numpy()
    e = baselines(
        tiny, df["people"].to_numpy(float), df["exposure_days"].to_numpy(float), df["date"].dt.month
    )[TOTAL]
    raw_p = pd.Series(y).groupby(df["point"]).sum() / pd.Series(e).groupby(df["point"]).sum()
    gacha_of = dict(zip(df["point"], df["township"] + "/" + df["gacha"], strict=True))
    for point, r in raw_p.items():
        m = fit.levels["point"].mean[str(point)]
        parent = fit.levels["gacha"].mean[gacha_of[str(point)]]
        lo, hi = min(r, parent), max(r, parent)
        assert lo - 1e-9 <= m <= hi + 1e-9


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), mult=st.floats(0.5, 2.0))
def test_more_history_narrows_the_interval(tiny: Scenario, mult: float, seed: int) -> None:
    short = _table(tiny, {"T0": mult, "T1": 1.0}, households=2, visits=1, seed=seed, people=3)
    frame = short.frame
    # The same visits again a month later: the same ratios, twice the exposure.
    later = frame.assign(
        date=frame["date"] + pd.Timedelta(days=28),
        visit=frame["visit"] + "+",
        run_id=frame["run_id"] + "+",
    )
    long = Observations.from_frame(pd.concat([frame, later]), short.categories)
    a = fit_rates(short, tiny).figures[TOTAL].levels["point"]
    b = fit_rates(long, tiny).figures[TOTAL].levels["point"]
    for point in a.var:
        assert b.var[point] <= a.var[point] + 1e-12


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("exposure_days", 0, "exposure_days"),  # a visit the same day as the previous one
        ("kg_pet_bottles", -1.0, "negative"),  # a typo'd sign
    ],
)
def test_bad_observations_are_rejected_with_the_column(
    tiny: Scenario, column: str, value: float, message: str
) -> None:
    obs = _table(tiny, {"T0": 1.0}, households=1, visits=1, seed=0)
    bad = obs.frame.copy()
    bad.loc[0, column] = value
    with pytest.raises(ForecastError, match=message):
        Observations.from_frame(bad, obs.categories)
