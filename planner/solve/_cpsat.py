"""The one way the solver runs CP-SAT: a deterministic budget, one worker, a seed.

A deterministic-time budget (``max_deterministic_time``, CP-SAT's own count of work,
about seconds on an idle machine) and a single worker give the same answer for the
same seed however loaded the machine is; the wall-clock cap is only a safety net
against a very slow machine.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

WALL_FACTOR = 3.0  # the safety net: this many times the budget, plus a second


def solve_cp(
    model: cp_model.CpModel, *, time_limit: float, seed: int
) -> tuple[cp_model.CpSolver, str]:
    """Solve ``model`` within ``time_limit`` deterministic seconds.

    Returns
    -------
    tuple[cp_model.CpSolver, str]
        The solver (read values with ``solver.boolean_value``) and the status name
        (``"OPTIMAL"``, ``"FEASIBLE"``, ``"INFEASIBLE"``, ``"UNKNOWN"``, ...).
    """
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = time_limit
    solver.parameters.max_time_in_seconds = WALL_FACTOR * time_limit + 1
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    return solver, solver.status_name(status)


def solved(status: str) -> bool:
    """Whether a status name says a solution was found (optimal or not)."""
    return status in ("OPTIMAL", "FEASIBLE")
