"""The protocol every routing engine implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from planner.solve.problem import DaySolution, DayVisit, PeriodicProblem


class RoutingEngine(Protocol):
    """Routes the visits of one day with the vehicles available that day."""

    name: str

    def route_day(
        self,
        problem: PeriodicProblem,
        day: int,
        visits: Sequence[DayVisit],
        *,
        time_limit: float,
        seed: int,
    ) -> DaySolution:
        """Return routes serving as many ``visits`` as feasible at least cost.

        Every returned route must pass :func:`planner.solve.schedule.schedule_route`;
        visits that cannot be served feasibly go to ``DaySolution.unrouted``.
        """
        ...
