"""Small constructed problems shared by the solver tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner.solve.problem import Customer, Pattern, PeriodicProblem, Vehicle


def line_problem(
    positions: Sequence[int],
    patterns: Sequence[Sequence[tuple[int, ...]]],
    *,
    num_days: int = 4,
    vehicles: int = 2,
    max_duration: int = 1000,
    capacity: int = 100,
    service: int = 0,
    demand: int = 3,
) -> PeriodicProblem:
    """Depot at 0 (node 0), facility at 0 (node 1), customers at ``positions`` on a line.

    Every visit brings ``demand`` units; ``vehicles`` identical trucks work every day.
    """
    xs = [0, 0, *positions]
    n = len(xs)
    m = np.array([[abs(xs[i] - xs[j]) for j in range(n)] for i in range(n)], dtype=np.int64)
    customers = tuple(
        Customer(
            node=2 + k,
            patterns=tuple(Pattern(days, tuple((demand,) for _ in days)) for days in pats),
            service=service,
        )
        for k, pats in enumerate(patterns)
    )
    fleet = tuple(
        Vehicle(
            name=f"t{k}",
            depot=0,
            capacity=(capacity,),
            shift=(0, 10_000),
            max_duration=max_duration,
            days=tuple(range(num_days)),
        )
        for k in range(vehicles)
    )
    return PeriodicProblem(
        num_days=num_days,
        duration=m,
        distance=m.copy(),
        depots=(0,),
        facilities=(1,),
        customers=customers,
        vehicles=fleet,
    )
