"""Search time measured in work done, so that a seed gives the same plan on any load.

A wall clock makes a search stop at a different step whenever the machine is
busier, and the plan changes with it. The solver's phases instead read a
:class:`WorkClock`: route pricing counts stop visits (an exact, schedule-based
price counts :data:`EXACT_WEIGHT` times more), converted by :data:`WORK_PER_SECOND`;
an engine call counts the seconds it was given, and gets the iterations those buy
for its day (:data:`ENGINE_WORK_PER_SECOND` iterations x visits per second). Both
rates were measured on the development machine (2 cores, idle). The time limit
therefore means seconds
of that machine's work; a wall-clock cap of three times the limit still ends a
search on a much slower machine, and marks the run as not reproducible.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Stop visits priced per second of search on the development machine.
WORK_PER_SECOND = 5.5e5
# A schedule-based price (windows, breaks) costs about this many simple ones per stop.
EXACT_WEIGHT = 30.0
# PyVRP iterations x day visits per second, finishing steps included (Otog's days).
ENGINE_WORK_PER_SECOND = 8.0e3
WALL_FACTOR = 3.0


class WorkClock:
    """Seconds of work since the clock started: pricing work plus engine time granted.

    Parameters
    ----------
    work
        Returns the pricing work done so far (:attr:`RouteModel.work`).
    time_limit
        The search's limit; the wall-clock cap is ``WALL_FACTOR`` times it plus 5 s.
    """

    def __init__(self, work: Callable[[], float], time_limit: float) -> None:
        self._work = work
        self._work0 = work()
        self._granted = 0.0
        self._wall0 = time.monotonic()
        self._wall_cap = WALL_FACTOR * time_limit + 5.0
        self.wall_capped = False

    def now(self) -> float:
        """Work-seconds so far (infinite once the wall-clock cap has passed)."""
        if time.monotonic() - self._wall0 > self._wall_cap:
            self.wall_capped = True
            return float("inf")
        return self._granted + (self._work() - self._work0) / WORK_PER_SECOND

    def spend(self, seconds: float) -> None:
        """Count ``seconds`` given to a routing engine (bounded by its iterations)."""
        self._granted += max(0.0, seconds)
