"""The forecast's error type (a :class:`planner._errors.PlannerError`, so the CLI exits 2)."""

from __future__ import annotations

from planner._errors import PlannerError


class ForecastError(PlannerError, ValueError):
    """History that cannot be used as given, or a forecast asked for something impossible."""
