"""Next month's demand learned from the ledger: rates with intervals, and the backtest.

Layer: reads the scenario and recorded visits (a plain table,
:class:`~planner.forecast.observations.Observations`, from the ledger or a
simulation); the planner takes the result as per-point demand
(:func:`planner.solve.from_scenario.build_problem`'s ``daily_kg``).
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.forecast.errors import ForecastError as ForecastError
    from planner.forecast.estimate import RateModel as RateModel
    from planner.forecast.estimate import fit_rates as fit_rates
    from planner.forecast.observations import Observations as Observations
    from planner.forecast.predict import Forecast as Forecast
    from planner.forecast.predict import Rate as Rate
    from planner.forecast.predict import forecast_month as forecast_month

# Imported on first use, so that starting `planner` does not load SciPy and pandas.
_LAZY = {
    "Forecast": "planner.forecast.predict",
    "ForecastError": "planner.forecast.errors",
    "Observations": "planner.forecast.observations",
    "Rate": "planner.forecast.predict",
    "RateModel": "planner.forecast.estimate",
    "fit_rates": "planner.forecast.estimate",
    "forecast_month": "planner.forecast.predict",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
