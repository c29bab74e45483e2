"""Every split of a run's time limit, in one place.

A user gives one number, ``--time-limit`` seconds. How it is shared out -- the
month's calendar, the first phase's search, the announced-window phase; inside the
search the first calendar, the first routing of every day, the calendar search and
the final engine pass; inside an engine call its search and the finishing step --
is decided here and nowhere else. All of it is *work*-seconds
(:mod:`planner.solve._clock`, the engines' iteration and solution budgets), so the
same seed gives the same plan however busy the machine is.

:class:`Budget` is immutable; :func:`Budget.month` reads the month-level splits,
:class:`SearchShares` the search's, and :data:`ENGINE_FINISH_SHARE` the engines'.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGINE_FINISH_SHARE = {"pyvrp": 0.1, "ortools": 0.05}
"""Share of an engine call kept for closing, repairing and polishing its routes."""


@dataclass(frozen=True)
class SearchShares:
    """How :func:`planner.solve.search.solve` shares its limit.

    ``calendar`` of the limit goes to the first calendar (at least
    ``calendar_floor`` seconds), ``routes`` to the first routing of every day
    (``routes_exact`` when prices need schedules -- windows, breaks -- or days are
    long, ``routes_fixed`` when the calendar is fixed but visits may still move) and
    ``polish`` to the final engine pass; the calendar search gets the rest.
    """

    calendar: float = 0.05
    calendar_floor: float = 0.5
    routes: float = 0.05
    routes_exact: float = 0.3
    routes_fixed: float = 0.5
    polish: float = 0.08
    engine_floor: float = 0.1  # the least an engine call is given, per day


@dataclass(frozen=True)
class Budget:
    """A month's time limit and its splits (work-seconds).

    Parameters
    ----------
    time_limit
        What the user asked for, in seconds.
    calendar_share, calendar_cap
        The month's group calendar: this share of the limit, at most ``calendar_cap``.
    search_share
        The first phase (calendar and route search): this share less the calendar.
    windows_share
        The announced-window phase: this share, spread over the days (each day at
        least ``windows_day_floor``, which may go past the limit on a tiny one).
    windows_rounds
        Rounds of the announced-window phase (each sets targets and routes every
        day to them once more). One: the second round's routes cost more to polish
        than they save (default Otog, seed 0: 157,406 CNY in 117 s for two rounds,
        157,478 CNY in 78 s for one, measured side by side).
    windows_polish_share
        What the phase's last step (cheaper routes inside the windows found,
        :mod:`planner.solve._polish`) may work, counted in stop prices, as a
        multiple of the phase's share. It is above 1 because the phase's earlier
        steps are bounded by counts -- rounds, sibling days, engine work per call
        -- not by this share, and the last step is where the phase's work buys
        most: on the default region it takes about 33 s of the phase's 78 s and
        takes 4,176 CNY off the month (161,654 -> 157,478).
    windows_polish_engine
        The last step's engine call per day gets this multiple of
        :meth:`windows_day`: routing a day afresh inside the windows is the step's
        best move (default Otog: 1x saves 2,032 CNY, 3x 2,628, 5x 2,505).
    windows_work_share
        What the phase's engine calls before the last step -- each day re-routed,
        its sibling days, the cap's re-routed days -- may work, as a multiple of the
        phase's share. The default region uses about 4x and is not bound by it; a
        big region's days, each call costing more than it is granted
        (:func:`~planner.solve._clock.engine_work`), are.
    """

    time_limit: float
    calendar_share: float = 0.05
    calendar_cap: float = 2.0
    search_share: float = 0.75
    search_floor: float = 1.0
    windows_share: float = 0.2
    windows_day_floor: float = 0.2
    windows_rounds: int = 1
    windows_polish_share: float = 5.0
    windows_polish_engine: float = 3.0
    windows_work_share: float = 5.0
    search: SearchShares = SearchShares()

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"Expected a time limit above 0 seconds, got {self.time_limit:g}.")
        if self.calendar_share + self.search_share + self.windows_share > 1.0 + 1e-9:
            raise ValueError("Expected the month's shares to add up to at most 1.")

    @property
    def calendar(self) -> float:
        """Work-seconds for the month's group calendar (CP-SAT)."""
        return min(self.calendar_cap, self.calendar_share * self.time_limit)

    @property
    def first_phase(self) -> float:
        """Work-seconds for the first phase's search."""
        return max(self.search_floor, self.search_share * self.time_limit - self.calendar)

    def windows_day(self, num_days: int) -> float:
        """Work-seconds per day for routing it again with the announced windows."""
        per = self.windows_share * self.time_limit / max(1, num_days)
        return max(self.windows_day_floor, per)

    @property
    def windows_polish(self) -> float:
        """Work-seconds for the window phase's last step (its cost-only repair)."""
        return self.windows_polish_share * self.windows_share * self.time_limit

    @property
    def windows_work(self) -> float:
        """Work-seconds for the window phase's engine calls before its last step."""
        return self.windows_work_share * self.windows_share * self.time_limit

    def windows_polish_day(self, num_days: int) -> float:
        """Work-seconds of the last step's engine call per day."""
        return self.windows_polish_engine * self.windows_day(num_days)
