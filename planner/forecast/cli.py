"""``planner forecast``: next month's rates from the ledger, and the backtest.

``planner forecast --db URL --scenario S.toml --month 2027-01 [-o DIR]`` writes the
rates with their intervals (:mod:`planner.forecast.files`);
``planner forecast backtest S.toml --months 3 [--seed N] --json`` prints the
backtest's figures (:mod:`planner.forecast.backtest`). Read → compute → write only.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from planner._console import err, out, say
from planner._errors import PlannerError
from planner.ledger.url import DEFAULT_URL, ENV_URL
from planner.scenario.model import Scenario

if TYPE_CHECKING:
    from planner.forecast.demand import LedgerDemand
    from planner.forecast.estimate import RateModel
    from planner.forecast.observations import Observations
    from planner.forecast.predict import Forecast

app = typer.Typer(
    help="Next month's demand learned from the ledger (rates with intervals), and its backtest.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Db = Annotated[
    str,
    typer.Option(
        "--db", envvar=ENV_URL, help=f"Ledger database URL (env {ENV_URL}).", show_envvar=False
    ),
]


def _fail(exc: Exception) -> typer.Exit:
    say(err, "error:", "bold red", exc)
    return typer.Exit(2)


def _load(path: Path) -> Scenario:
    from planner.scenario.load import load_scenario

    try:
        return load_scenario(path)
    except PlannerError as exc:
        raise _fail(exc) from None


def ledger_forecast(
    scenario: Scenario, db: str, month: str | None = None
) -> tuple[RateModel, Forecast, dict[str, dt.date]]:
    """The rate model and the forecast of ``month`` (default the scenario's) from ``db``.

    Raises
    ------
    PlannerError
        The database cannot be opened or its history cannot be used.
    """
    from planner.forecast.estimate import fit_rates
    from planner.forecast.predict import forecast_month
    from planner.forecast.reader import read_observations
    from planner.ledger.db import open_ledger

    month = month or scenario.settings.month.month
    with open_ledger(db) as ledger:
        obs = read_observations(ledger, scenario, before=month)
    model = fit_rates(obs, scenario)
    return model, forecast_month(model, scenario, month), last_visits(obs)


def last_visits(obs: Observations) -> dict[str, dt.date]:
    """Each point's last recorded visit."""
    if not len(obs):
        return {}
    last = obs.frame.groupby("point")["date"].max()
    return {str(p): d.date() for p, d in last.items()}


def ledger_demand(scenario: Scenario, db: str) -> LedgerDemand:
    """``planner run --demand ledger``: the scenario month's forecast as the plan's demand."""
    from planner.forecast.demand import LedgerDemand

    _, fc, last = ledger_forecast(scenario, db)
    return LedgerDemand(fc, scenario, last)


@app.callback()
def forecast(
    ctx: typer.Context,
    db: Db = DEFAULT_URL,
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario file (.toml).")
    ] = None,
    month: Annotated[
        str | None,
        typer.Option("--month", help="Month to forecast, YYYY-MM (default: the scenario's)."),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("forecast"),
) -> None:
    """Rates per point (and household) with 90 % intervals, from the ledger's recorded visits."""
    if ctx.invoked_subcommand is not None:
        return
    from planner.forecast.files import write_forecast

    if month is not None and not _is_month(month):
        raise _fail(ValueError(f"--month: expected YYYY-MM, found {month!r}"))
    if scenario is None:
        raise _fail(ValueError("--scenario: expected the scenario file (.toml), found nothing"))
    sc = _load(scenario)
    try:
        model, fc, _ = ledger_forecast(sc, db, month)
    except PlannerError as exc:
        raise _fail(exc) from None
    paths = write_forecast(fc, model, sc, output, db=db)
    _print(fc, sc)
    out.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False, soft_wrap=True)


def _is_month(text: str) -> bool:
    import re

    return re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text) is not None


def _print(fc: Forecast, sc: Scenario) -> None:
    from planner.forecast.estimate import TOTAL
    from planner.forecast.predict import gamma_interval

    history = ", ".join(fc.history_months) or "none"
    table = Table(title=f"{sc.name}: forecast {fc.month} (history: {history})")
    for col in ("figure", "assumed/day", "forecast/day", "90 % interval", "points from history"):
        table.add_column(col, justify="right")
    for f in fc.figures:
        a = sum(fc.rates[p][f].assumed for p in fc.rates)
        m = sum(fc.rates[p][f].mean for p in fc.rates)
        v = sum(fc.rates[p][f].var for p in fc.rates)
        lo, hi = gamma_interval(m, v, 0.9)
        n = sum(fc.rates[p][f].source != "assumption" for p in fc.rates)
        table.add_row(
            Text(f, style="bold" if f == TOTAL else ""),
            f"{a:,.1f}",
            f"{m:,.1f}",
            f"{lo:,.1f}–{hi:,.1f}",
            str(n),
        )
    out.print(table)


class HeadroomMethod(enum.StrEnum):
    """:data:`planner.forecast.headroom.METHODS`, and ``none``."""

    tangent = "tangent"
    quantile = "quantile"
    reserve = "reserve"
    none = "none"


@app.command("backtest")
def backtest_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml).")],
    months: Annotated[int, typer.Option(help="Months of simulated history.", min=1, max=24)] = 3,
    seed: Annotated[int, typer.Option(help="Random seed (truth, history, planning).")] = 0,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="Use this plan of the scenario's month instead of planning it."
        ),
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds for each planning inside.")] = 10.0,
    replan: Annotated[
        bool, typer.Option(help="Also plan on the forecast and count its consequences.")
    ] = True,
    headroom: Annotated[
        HeadroomMethod,
        typer.Option(
            help="How the plan on the forecast keeps room in the truck for its spread "
            "(none: the forecast's means as they are)."
        ),
    ] = HeadroomMethod.tangent,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Simulated history in a throw-away ledger → forecast → compared with the truth."""
    from planner.forecast.backtest import backtest
    from planner.plan.model import Plan

    sc = _load(scenario)
    try:
        base = Plan.read(plan) if plan is not None else None
        result = backtest(
            sc,
            months=months,
            seed=seed,
            plan=base,
            time_limit=time_limit,
            replan=replan,
            headroom=headroom.value,
        )
    except PlannerError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=False))
        return
    table = Table(title=f"{sc.name}: backtest, {months} month(s) of history, seed {seed}")
    table.add_column("figure")
    table.add_column("assumptions", justify="right")
    table.add_column("forecast", justify="right")
    table.add_row(
        "WAPE per stop kg", f"{result['wape_assumptions']:.3f}", f"{result['wape_forecast']:.3f}"
    )
    cash = result["cash_per_run"]
    table.add_row(
        "WAPE cash per run", f"{cash['wape_assumptions']:.3f}", f"{cash['wape_forecast']:.3f}"
    )
    table.add_row("90 % interval coverage", "", f"{result['coverage_90']:.3f}")
    before, after = result["consequences"]["before"], result["consequences"]["after"] or {}
    for key in ("overloaded", "cash_short", "goods_short", "cost_cny"):
        table.add_row(f"runs {key.replace('_', ' ')}", str(before[key]), str(after.get(key, "-")))
    out.print(table)
