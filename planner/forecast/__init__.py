"""Next month's demand learned from the ledger: rates with intervals, and the backtest.

Layer: reads the scenario and recorded visits (a plain table,
:class:`~planner.forecast.observations.Observations`, from the ledger or a
simulation); the planner takes the result as per-point demand
(:func:`planner.solve.from_scenario.build_problem`'s ``daily_kg``).
"""

from planner.forecast.errors import ForecastError as ForecastError
from planner.forecast.estimate import RateModel as RateModel
from planner.forecast.estimate import fit_rates as fit_rates
from planner.forecast.observations import Observations as Observations
from planner.forecast.predict import Forecast as Forecast
from planner.forecast.predict import Rate as Rate
from planner.forecast.predict import forecast_month as forecast_month

__all__ = [
    "Forecast",
    "ForecastError",
    "Observations",
    "Rate",
    "RateModel",
    "fit_rates",
    "forecast_month",
]
