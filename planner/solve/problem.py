"""The solver core's problem: a periodic VRP with intermediate facilities.

Both the banner's monthly scenario and the published PVRP-IF benchmark instances
map onto :class:`PeriodicProblem`. Everything is in integers: times in whole
minutes (or the instance's own time unit), distances in metres (or the instance's
unit), loads in the scenario's integer units (e.g. 0.1 kg). Days are indices into
the planning horizon's service days; a customer's visit *patterns* are the day sets
it may be served on, and each pattern carries one demand vector per visit because
what a visit collects depends on how long waste has accumulated since the last one.

The problem is immutable and validated once at construction, like PyVRP's
``ProblemData``: the matrices are read-only arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntMatrix = NDArray[np.int64]


@dataclass(frozen=True)
class Pattern:
    """One allowed set of visit days for a customer.

    Parameters
    ----------
    days
        Strictly increasing day indices.
    demands
        One demand vector per visit (same order as ``days``), one entry per
        capacity dimension of the problem.
    """

    days: tuple[int, ...]
    demands: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != len(self.demands):
            raise ValueError("Expected one demand vector per pattern day.")
        if any(b <= a for a, b in zip(self.days, self.days[1:], strict=False)):
            raise ValueError("Expected strictly increasing pattern days.")


@dataclass(frozen=True)
class Customer:
    """A place that needs visits over the horizon.

    ``window`` is the earliest and latest *arrival* time within a day, in the
    problem's time unit measured from midnight; ``None`` means any time in the
    vehicle's shift. ``patterns`` empty means the customer needs no visit.
    """

    node: int
    patterns: tuple[Pattern, ...]
    service: int = 0
    window: tuple[int, int] | None = None
    name: str = ""

    @property
    def frequency(self) -> int:
        return len(self.patterns[0].days) if self.patterns else 0


@dataclass(frozen=True)
class Vehicle:
    """A truck available on some days of the horizon.

    ``shift`` is (start, end) from midnight; the route must leave the depot at or
    after start and be back by end. ``max_duration`` caps the route's duration
    (travel + service + waiting + break). ``break_window``/``break_duration``
    describe a lunch break that must start inside the window (duration 0: none).
    """

    name: str
    depot: int
    capacity: tuple[int, ...]
    shift: tuple[int, int]
    max_duration: int
    days: tuple[int, ...]
    cost_per_distance: float = 0.0
    cost_per_duration: float = 1.0
    speed_factor: float = 1.0
    break_window: tuple[int, int] | None = None
    break_duration: int = 0


@dataclass(frozen=True)
class PeriodicProblem:
    """Periodic VRP with intermediate facilities.

    Parameters
    ----------
    num_days
        Number of service days in the horizon (day indices ``0..num_days-1``).
    duration, distance
        Square travel-time and travel-distance matrices over all nodes.
    depots, facilities
        Node indices of depots and of intermediate facilities (where trucks
        unload; a route's last stop before its depot is a facility whenever it
        collected anything).
    customers, vehicles
        The customers to visit and the fleet.
    dimensions
        Names of the capacity dimensions (``("kg",)`` for the benchmarks).
    objective
        ``"duration"``: minimise total travel time (the PVRP-IF benchmarks);
        ``"cost"``: minimise each vehicle's distance and time cost.
    facility_service
        Time spent unloading at a facility.
    max_reloads
        Upper bound on facility visits per route (``None``: unbounded).

    A depot that is also listed in ``facilities`` unloads on return (the CVRP
    and VRPTW benchmarks map that way); otherwise a loaded route's last stop
    before its depot must be a facility.
    """

    num_days: int
    duration: IntMatrix
    distance: IntMatrix
    depots: tuple[int, ...]
    facilities: tuple[int, ...]
    customers: tuple[Customer, ...]
    vehicles: tuple[Vehicle, ...]
    dimensions: tuple[str, ...] = ("kg",)
    objective: str = "duration"
    node_names: tuple[str, ...] = field(default=())
    facility_service: int = 0
    max_reloads: int | None = None

    def __post_init__(self) -> None:  # noqa: C901 - one check per rule, listed
        n = self.duration.shape[0]
        for label, m in (("duration", self.duration), ("distance", self.distance)):
            if m.shape != (n, n):
                raise ValueError(f"Expected a square {label} matrix of size {n}, got {m.shape}.")
            if (m < 0).any():
                raise ValueError(f"Expected {label} >= 0.")
        # Freeze the matrices: nothing downstream may patch the problem.
        for m in (self.duration, self.distance):
            m.setflags(write=False)
        if self.objective not in ("duration", "cost"):
            raise ValueError(f"Expected objective 'duration' or 'cost', got {self.objective!r}.")
        if not self.facilities:
            raise ValueError("Expected at least one intermediate facility.")
        ndim = len(self.dimensions)
        for c in self.customers:
            if not 0 <= c.node < n:
                raise ValueError(f"Customer node {c.node} outside the matrix.")
            for p in c.patterns:
                if any(not 0 <= d < self.num_days for d in p.days):
                    raise ValueError(f"Customer {c.node}: pattern day outside the horizon.")
                if any(len(v) != ndim for v in p.demands):
                    raise ValueError(f"Customer {c.node}: expected {ndim} demand dimensions.")
        for v in self.vehicles:
            if len(v.capacity) != ndim:
                raise ValueError(f"Vehicle {v.name}: expected {ndim} capacity dimensions.")
            if any(c < 0 for c in v.capacity):
                raise ValueError(f"Vehicle {v.name}: expected capacity >= 0.")
            if v.depot not in self.depots:
                raise ValueError(f"Vehicle {v.name}: depot {v.depot} is not a depot node.")

    def with_windows(self, customers: Sequence[Customer]) -> PeriodicProblem:
        """This problem with ``customers``, which differ from its own only in windows.

        The constructor's checks are not run again: they pass over both matrices,
        and the window phase changes windows many thousand times a month.

        Raises
        ------
        ValueError
            When a customer differs in more than its window.
        """
        customers = tuple(customers)
        if len(customers) != len(self.customers) or any(
            a.node != b.node
            or a.name != b.name
            or a.service != b.service
            or (a.patterns is not b.patterns and a.patterns != b.patterns)
            for a, b in zip(customers, self.customers, strict=True)
        ):
            raise ValueError("Expected the same customers with other windows only.")
        out = object.__new__(PeriodicProblem)
        out.__dict__.update(self.__dict__)
        object.__setattr__(out, "customers", customers)
        return out

    @property
    def num_nodes(self) -> int:
        return int(self.duration.shape[0])

    def vehicles_on(self, day: int) -> tuple[int, ...]:
        """Indices of the vehicles available on ``day``."""
        return tuple(i for i, v in enumerate(self.vehicles) if day in v.days)


@dataclass(frozen=True)
class DayVisit:
    """One customer visit to route on a given day."""

    customer: int  # index into PeriodicProblem.customers
    node: int
    demand: tuple[int, ...]
    service: int
    window: tuple[int, int] | None


@dataclass(frozen=True)
class Route:
    """A vehicle's route on one day.

    ``stops`` is the visiting order of node indices between leaving and returning
    to the depot (the depot itself is *not* included): customer nodes and
    facility nodes (unloading). ``visits`` gives, for each stop, the index into
    the day's visit list, or -1 for a facility.
    """

    vehicle: int
    stops: tuple[int, ...]
    visits: tuple[int, ...]


@dataclass(frozen=True)
class DaySolution:
    """Routes for one day plus the visits that could not be routed."""

    day: int
    routes: tuple[Route, ...]
    unrouted: tuple[int, ...] = ()  # indices into the day's visit list


@dataclass(frozen=True)
class PeriodicSolution:
    """A solution of a :class:`PeriodicProblem`.

    ``patterns[i]`` is the index of the pattern chosen for customer ``i`` (or
    ``None`` when the customer gets no pattern); ``days[d]`` routes day ``d``.
    Visits in a day's solution are numbered as :func:`day_visits` lists them.
    """

    patterns: tuple[int | None, ...]
    days: tuple[DaySolution, ...]
    cost: float
    unassigned: tuple[int, ...] = ()  # customers without a pattern


def day_visits(
    problem: PeriodicProblem, patterns: tuple[int | None, ...], day: int
) -> tuple[DayVisit, ...]:
    """The visits that ``patterns`` puts on ``day``, in customer order."""
    out = []
    for ci, (cust, pi) in enumerate(zip(problem.customers, patterns, strict=True)):
        if pi is None:
            continue
        pat = cust.patterns[pi]
        if day in pat.days:
            demand = pat.demands[pat.days.index(day)]
            out.append(DayVisit(ci, cust.node, demand, cust.service, cust.window))
    return tuple(out)
