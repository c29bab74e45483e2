"""Search time measured in work done, so that a seed gives the same plan on any load.

A wall clock makes a search stop at a different step whenever the machine is
busier, and the plan changes with it. The solver's phases instead read a
:class:`WorkClock`: route pricing counts stop visits (an exact, schedule-based
price counts :data:`EXACT_WEIGHT` times more), converted by :data:`WORK_PER_SECOND`;
an engine call counts the seconds it was given, and gets the iterations those buy
for its day (:data:`ENGINE_WORK_PER_SECOND` iterations x visits per second, each
visit weighed by the day's :class:`DaySize`). The rates were measured on the
development machine (2 cores, idle); ``benchmarks/bench_work.py`` measures them
again. The time limit therefore means seconds of that machine's work: on a slower
or busier machine the search takes longer and ends at the same step, with the same
plan.

Nothing on this default path reads the wall clock. A :class:`WallLimit` is the one
opt-in exception (``planner run --wall-limit S``): it ends the search after ``S``
seconds of real time as well, and a plan made with it is marked not reproducible.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from planner.solve.problem import DayVisit, PeriodicProblem, Route
from planner.solve.schedule import RouteSchedule, schedule_route

# Stop visits priced per second of search on the development machine.
WORK_PER_SECOND = 5.5e5
# A schedule-based price (windows, breaks) costs about this many simple ones per stop.
EXACT_WEIGHT = 30.0
# PyVRP iterations x day visits per second, finishing steps included (Otog's days).
ENGINE_WORK_PER_SECOND = 8.0e3
# OR-Tools buys its solutions itself, by the size of its model (engines/ortools_engine.py).
# The fewest PyVRP iterations a bounded call is given, however little work it is granted.
MIN_ENGINE_ITERATIONS = 50
# A PyVRP iteration's wall seconds fit k x visits^a x (facilities per truck)^b x load^c
# (benchmarks/bench_work.py, first run over whole days of the default region and of
# 200-, 400- and 800-point banners, the 800 uncut; docs/benchmarks.md has its latest).
DAY_EXPONENTS = (0.381, 1.030, 1.700)  # a - 1 (per visit), b, c
# visits^(a-1) x (facilities per truck)^b x load^c on the default region's heaviest
# day: ENGINE_WORK_PER_SECOND holds up to it, a heavier day's visits weigh more.
DAY_REFERENCE = 0.946


@dataclass(frozen=True)
class DaySize:
    """What a routing engine's iteration costs on a day: its visits, each of ``weight``.

    ``weight`` is 1 for a day like the default region's; a day whose trucks are
    fuller, have more facilities to unload at or more visits each (a big banner's
    day, sized by the planner's fleet estimate) costs more per visit and iteration.
    Charged as a light day, a big region's run took 2-4 times its time limit.
    """

    visits: int
    weight: float = 1.0

    @classmethod
    def of(cls, problem: PeriodicProblem, day: int, visits: Sequence[DayVisit]) -> DaySize:
        """The size of routing ``visits`` on ``day`` of ``problem``."""
        trucks = problem.vehicles_on(day)
        capacity = sum(problem.vehicles[k].capacity[0] for k in trucks) if trucks else 0
        if not visits or capacity <= 0:
            return cls(len(visits))
        load = sum(v.demand[0] for v in visits) / capacity
        per_truck = max(1, len(problem.facilities)) / len(trucks)
        a, b, c = DAY_EXPONENTS
        factor = len(visits) ** a * per_truck**b * max(load, 1e-3) ** c
        return cls(len(visits), max(1.0, factor / DAY_REFERENCE))

    @property
    def units(self) -> float:
        """Visits times their weight: what :data:`ENGINE_WORK_PER_SECOND` counts."""
        return max(1, self.visits) * self.weight


def engine_work(engine: str, seconds: float, size: DaySize) -> float:
    """Work-seconds a bounded engine call on a day of ``size`` costs when granted ``seconds``.

    PyVRP's call runs at least :data:`MIN_ENGINE_ITERATIONS` iterations, so on a big
    day it costs more than a small grant: counted as granted, a big region's
    window phase would do many times the work its budget says.
    """
    if engine == "pyvrp":
        return max(seconds, MIN_ENGINE_ITERATIONS * size.units / ENGINE_WORK_PER_SECOND)
    return seconds


def engine_iterations(seconds: float, size: DaySize) -> int:
    """PyVRP iterations ``seconds`` of work buy on a day of ``size`` (at least the fewest)."""
    return max(MIN_ENGINE_ITERATIONS, int(ENGINE_WORK_PER_SECOND * seconds / size.units))


class WallLimit:
    """An explicit wall-clock limit: the one thing that makes a plan depend on load.

    Parameters
    ----------
    seconds
        Real seconds from construction; must be finite and positive.
    """

    def __init__(self, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"Expected a wall limit > 0 s, found {seconds!r}.")
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self.hit = False  # set once the limit has ended a phase early

    def passed(self) -> bool:
        """True once the limit has passed (and remembers that it bound)."""
        if time.monotonic() >= self._end:
            self.hit = True
        return self.hit

    def reason(self) -> str:
        """Why a plan made under this limit is not reproducible, in one sentence."""
        bound = (
            "it ended the search early, so the plan depends on the machine's load"
            if self.hit
            else "it did not end the search this time, but could on a busier machine"
        )
        return f"a wall-clock limit of {self.seconds:g} s was given (--wall-limit); {bound}"


class WorkClock:
    """Seconds of work since the clock started: pricing work plus engine time granted.

    Parameters
    ----------
    work
        Returns the pricing work done so far (:attr:`RouteModel.work`).
    wall
        An explicit wall-clock limit (``None``, the default: none, reproducible).
    """

    def __init__(self, work: Callable[[], float], wall: WallLimit | None = None) -> None:
        self._work = work
        self._work0 = work()
        self._granted = 0.0
        self.wall = wall

    def now(self) -> float:
        """Work-seconds so far (infinite once an explicit wall limit has passed)."""
        if self.wall is not None and self.wall.passed():
            return math.inf
        return self._granted + (self._work() - self._work0) / WORK_PER_SECOND

    def spend(self, seconds: float) -> None:
        """Count ``seconds`` given to a routing engine (bounded by its iterations)."""
        self._granted += max(0.0, seconds)


@dataclass
class Meter:
    """Work done, in stop prices (one schedule of an ``n``-stop route costs ``n``).

    ``limit`` (stop prices) is what a step may spend; :meth:`seconds` converts
    work-seconds to it. Engine calls are counted by :meth:`engine`.
    """

    limit: float
    used: float = 0.0
    calls: int = 0

    @staticmethod
    def seconds(work_seconds: float) -> float:
        """Stop prices a schedule-based search does in ``work_seconds``."""
        return work_seconds * WORK_PER_SECOND / EXACT_WEIGHT

    def left(self) -> bool:
        """Whether work is left in the budget."""
        return self.used < self.limit

    def schedule(
        self, problem: PeriodicProblem, day: int, visits: Sequence[DayVisit], route: Route
    ) -> RouteSchedule:
        """:func:`schedule_route`, counted."""
        self.used += max(1, len(route.stops))
        self.calls += 1
        return schedule_route(problem, day, visits, route)

    def engine(self, engine: str, seconds: float, size: DaySize) -> None:
        """Count an engine call (:func:`engine_work`)."""
        self.used += self.seconds(engine_work(engine, seconds, size))
