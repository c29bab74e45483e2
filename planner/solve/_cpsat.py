"""The one way the solver runs CP-SAT: a deterministic budget, one worker, a seed.

A deterministic-time budget (``max_deterministic_time``, CP-SAT's own count of work,
about seconds on an idle machine) and a single worker give the same answer for the
same seed however loaded the machine is. There is no wall-clock cap: it would bind
under load and change the answer.
"""

from __future__ import annotations

from ortools.sat.python import cp_model


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
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    return solver, solver.status_name(status)


def solved(status: str) -> bool:
    """Whether a status name says a solution was found (optimal or not)."""
    return status in ("OPTIMAL", "FEASIBLE")
