"""The loop on the tiny scenario: simulated history → ledger → reader → forecast → plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.forecast.backtest import (
    assumption_plan,
    backtest,
    default_truth,
    draw_actuals,
    import_month,
    month_scenario,
    moved_plan,
    plan_source,
    wape,
)
from planner.forecast.demand import LedgerDemand
from planner.forecast.estimate import fit_rates
from planner.forecast.predict import forecast_month
from planner.forecast.reader import read_observations
from planner.ledger.db import open_ledger
from planner.plan.model import Plan
from planner.scenario.load import load_scenario
from planner.scenario.model import Scenario

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    return load_scenario(DATA / "tiny.toml")


@pytest.fixture(scope="module")
def history(tiny: Scenario, planned_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger with two simulated months (October, November) of the tiny plan."""
    work = tmp_path_factory.mktemp("ledger")
    url = f"sqlite:///{work / 'ledger.sqlite'}"
    base = assumption_plan(Plan.read(planned_tiny), tiny)
    with open_ledger(url) as ledger:
        for k, month in enumerate(("2026-10", "2026-11")):
            src = plan_source(
                moved_plan(base, tiny, month), month_scenario(tiny, month), work / month
            )
            _, sim = draw_actuals(src, default_truth(tiny), k)
            import_month(ledger, src, sim, work / month)
    return url


def test_moved_plans_keep_the_stops_in_the_new_month(tiny: Scenario, planned_tiny: Path) -> None:
    plan = Plan.read(planned_tiny)
    moved = moved_plan(plan, tiny, "2026-11")
    assert all(r.date.strftime("%Y-%m") == "2026-11" for r in moved.runs)
    assert len({r.id for r in moved.runs}) == len(moved.runs)
    assert moved.period.start.isoformat() == "2026-11-01"


def test_the_reader_gives_every_household_of_every_recorded_stop(
    tiny: Scenario, history: str
) -> None:
    with open_ledger(history) as ledger:
        obs = read_observations(ledger, tiny)
    df = obs.frame
    assert obs.months == ("2026-10", "2026-11")
    per_point = {p: sum(h.point == p for h in tiny.households) for p in df["point"].unique()}
    for visit, g in df.groupby("visit"):
        assert len(g) == per_point[g["point"].iat[0]], visit
    assert (df["exposure_days"] > 0).all()
    assert df.loc[~df["present"], "cash_cny"].eq(0).all()
    assert df["cash_cny"].sum() > 0


def test_forecast_from_the_ledger_is_labelled_history(tiny: Scenario, history: str) -> None:
    with open_ledger(history) as ledger:
        obs = read_observations(ledger, tiny, before="2026-12")
    fc = forecast_month(fit_rates(obs, tiny), tiny, "2026-12")
    for rates in fc.rates.values():
        assert rates["kg"].mean != rates["kg"].assumed
        assert rates["kg"].source == "history"
        lo, hi = rates["kg"].interval(0.9)
        assert lo < rates["kg"].mean < hi


def test_backtest_reports_every_figure(tiny: Scenario, planned_tiny: Path) -> None:
    result = backtest(tiny, months=1, seed=1, plan=Plan.read(planned_tiny), replan=False)
    for key in ("wape_assumptions", "wape_forecast", "coverage_90"):
        assert 0 <= result[key] <= 5
    assert result["cash_per_run"]["runs"] > 0
    assert result["consequences"]["before"]["runs"] > 0
    assert result["consequences"]["before"]["cost_cny"] == Plan.read(planned_tiny).summary.cost_cny
    assert result["history"]["months"] == ["2026-11"]
    json.dumps(result)


def test_backtest_is_reproducible(tiny: Scenario, planned_tiny: Path) -> None:
    plan = Plan.read(planned_tiny)
    a = backtest(tiny, months=1, seed=4, plan=plan, replan=False)
    b = backtest(tiny, months=1, seed=4, plan=plan, replan=False)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_wape() -> None:
    import numpy as np

    assert wape(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 0.5


def test_a_plan_on_the_ledger_says_so_and_passes_its_check(
    tiny: Scenario, history: str, tmp_path: Path
) -> None:
    from planner.app.pipeline import plan_month

    with open_ledger(history) as ledger:
        obs = read_observations(ledger, tiny, before="2026-12")
    fc = forecast_month(fit_rates(obs, tiny), tiny, "2026-12")
    result = plan_month(tiny, tmp_path, time_limit=3, seed=3, demand=LedgerDemand(fc, tiny))
    assert not result.check_violations
    plan = Plan.read(tmp_path)
    assert plan.demand is not None and plan.demand.source == "ledger"
    assert set(plan.demand.points) == {p.id for p in tiny.points}
    carry = {r["run_id"]: r for r in result.summary["runs"]}
    for rid, upper in plan.demand.runs.items():
        assert carry[rid]["carry_source"] == "ledger"
        assert carry[rid]["cash_float_cny"] >= upper["cash_cny"]
        assert upper["goods_factor"] >= 1
    # the routes kept room for the forecast's spread, and the plan says how much
    assert plan.demand.overload_probability == tiny.settings.stations_settings.overload_probability
    assert plan.demand.load_headroom is not None and plan.demand.load_headroom["kg"] > 0


def test_cli_forecast_and_run_on_the_ledger(history: str, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "forecast",
            "--db",
            history,
            "--scenario",
            str(DATA / "tiny.toml"),
            "--month",
            "2026-12",
            "-o",
            str(tmp_path / "fc"),
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "fc" / "forecast.json").read_text(encoding="utf-8"))
    assert doc["history"]["months"] == ["2026-10", "2026-11"]
    assert {r["source"] for r in doc["points"]} <= {
        "history",
        "history (gacha)",
        "history (township)",
        "assumption",
    }
    header = (tmp_path / "fc" / "forecast_points.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "lo90_per_day" in header and "source" in header
    res = runner.invoke(
        app,
        [
            "run",
            str(DATA / "tiny.toml"),
            "-o",
            str(tmp_path / "plan"),
            "--time-limit",
            "3",
            "--no-export",
            "-q",
            "--demand",
            "ledger",
            "--db",
            history,
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "plan" / "plan.json").read_text())["demand"]["source"] == "ledger"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast", "--month", "2026-13"], "--month"),  # no such month
        (["forecast", "--month", "2026-12"], "--scenario"),  # no scenario
        (["run", str(DATA / "tiny.toml"), "--demand", "guess"], "--demand"),  # unknown source
    ],
)
def test_cli_bad_options_exit_2(args: list[str], message: str) -> None:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert message in res.output
