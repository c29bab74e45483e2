"""The synthetic truth of planner/forecast/_history.py and the estimator on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from planner.forecast._history import Truth, Visit, draw_world, simulate
from planner.forecast.estimate import TOTAL, fit_rates
from planner.forecast.observations import kg_column
from planner.scenario.load import load_scenario

DATA = Path(__file__).parent / "data"


def _visits(points: list[str], months: int) -> list[Visit]:
    out = []
    for m in range(months):
        for k, day in enumerate((3, 17)):
            d = dt.date(2026, 6 + m, day)
            out += [Visit(f"r{m}-{k}", p, d, 14) for p in points]
    return out


def test_absent_households_hand_in_nothing_and_keep_it_for_later() -> None:
    sc = load_scenario(DATA / "tiny.toml")
    world = draw_world(sc, Truth(absence=0.5, township={"测试镇": 1.0}), seed=1)
    obs = simulate(sc, world, _visits([p.id for p in sc.points], 3))
    df = obs.frame
    cols = [kg_column(c) for c in obs.categories]
    assert (df.loc[~df["present"], cols] == 0).all().all()
    assert (df.loc[df["present"], cols].sum(axis=1) > 0).all()


def test_the_same_seed_gives_the_same_history() -> None:
    sc = load_scenario(DATA / "tiny.toml")
    visits = _visits([p.id for p in sc.points], 1)
    a = simulate(sc, draw_world(sc, Truth(), seed=5), visits).frame
    b = simulate(sc, draw_world(sc, Truth(), seed=5), visits).frame
    assert a.equals(b)


def test_the_estimator_finds_the_townships_multiplier() -> None:
    sc = load_scenario(DATA / "tiny.toml")
    truth = Truth(
        township={"测试镇": 1.6},
        stream={"sell": 1.0, "exchange": 1.0},
        seasonal_swing=0.0,
        size_elasticity=0.0,
        point_sd=0.0,
        household_sd=0.0,
    )
    obs = simulate(sc, draw_world(sc, truth, seed=2), _visits([p.id for p in sc.points], 6))
    town = fit_rates(obs, sc).figures[TOTAL].levels["township"].mean["测试镇"]
    # One township: shrunk toward 1 with the prior spread, but most of the way to 1.6.
    assert town == pytest.approx(1.6, rel=0.15)
