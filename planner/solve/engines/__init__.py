"""Routing engines: each routes one day of a :class:`PeriodicProblem`.

OR-Tools types never leave ``ortools_engine``; PyVRP types never leave
``pyvrp_engine``. Use :func:`get_engine` to pick one by name.

What every engine's routes go through afterwards (closing, repair, completion,
polishing) lives in :mod:`planner.solve.engines.finish`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.solve.engines.protocol import RoutingEngine

if TYPE_CHECKING:
    from planner.solve._clock import DaySize

ENGINES: tuple[str, ...] = ("pyvrp", "ortools")
"""Names :func:`get_engine` accepts; the first is the default."""


def bounded_engine(name: str, seconds: float, size: DaySize) -> RoutingEngine:
    """The engine ``name`` bounded by work rather than the clock.

    PyVRP gets as many iterations as ``seconds`` of work buy for a day of ``size``
    (:func:`~planner.solve._clock.engine_iterations`); OR-Tools bounds itself by work
    in its default form (solutions bought by the seconds for the size of its model,
    :mod:`~planner.solve.engines.ortools_engine`). Neither then reads the wall clock,
    so their routes repeat for a seed whatever the machine's load.

    Raises
    ------
    ValueError
        When ``name`` is not a known engine.
    """
    if name == "pyvrp":
        from planner.solve._clock import engine_iterations
        from planner.solve.engines.pyvrp_engine import PyVRPEngine

        return PyVRPEngine(max_iterations=engine_iterations(seconds, size))
    return get_engine(name)


def get_engine(name: str) -> RoutingEngine:
    """The routing engine called ``name`` (one of :data:`ENGINES`), with its defaults.

    Raises
    ------
    ValueError
        When ``name`` is not a known engine.
    """
    if name == "pyvrp":
        from planner.solve.engines.pyvrp_engine import PyVRPEngine

        return PyVRPEngine()
    if name == "ortools":
        from planner.solve.engines.ortools_engine import ORToolsEngine

        return ORToolsEngine()
    raise ValueError(f"Unknown routing engine {name!r}; expected one of {', '.join(ENGINES)}.")
