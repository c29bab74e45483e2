"""The one-day, one-depot problem both VRPTW/CVRP readers map their files onto.

The depot is also the only facility (a truck unloads on return), every vehicle
works day 0 from the depot with the same capacity and shift, and each customer
has one pattern: day 0 with its demand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from planner.solve.problem import Customer, Pattern, PeriodicProblem, Vehicle


def one_day_problem(
    *,
    matrix: NDArray[np.int64],
    depot: int,
    ids: Sequence[int],
    demand: NDArray[np.int64],
    service: NDArray[np.int64],
    windows: Sequence[tuple[int, int]] | None,
    shift: tuple[int, int],
    num_vehicles: int,
    capacity: int,
    max_reloads: int | None,
) -> PeriodicProblem:
    """A one-day problem on ``matrix`` (travel time = distance); ``windows`` per node
    or None for none; ``max_reloads=0`` keeps each vehicle to one trip."""
    customers = tuple(
        Customer(
            node=i,
            patterns=(Pattern((0,), ((int(demand[i]),),)),),
            service=int(service[i]),
            window=None if windows is None else windows[i],
            name=str(ids[i]),
        )
        for i in range(len(ids))
        if i != depot
    )
    vehicles = tuple(
        Vehicle(
            name=f"vehicle{k}",
            depot=depot,
            capacity=(capacity,),
            shift=shift,
            max_duration=shift[1] - shift[0],
            days=(0,),
        )
        for k in range(num_vehicles)
    )
    return PeriodicProblem(
        num_days=1,
        duration=matrix,
        distance=matrix.copy(),
        depots=(depot,),
        facilities=(depot,),
        customers=customers,
        vehicles=vehicles,
        dimensions=("demand",),
        objective="duration",
        node_names=tuple(str(i) for i in ids),
        max_reloads=max_reloads,
    )
