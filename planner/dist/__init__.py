"""Scenario sweeps and many-region runs, each plan one task on Dask distributed.

``planner sweep`` expands a grid of scenario variants (:mod:`planner.dist._grid`),
``planner run-many`` takes every scenario of a folder; both plan each cell with
the same call as ``planner run`` (:func:`run_cell`) on a local or remote Dask
cluster (:mod:`planner.dist._dask`, the only module that imports Dask, from the
``dist`` extra), skip cells already finished, and write one comparison table.
See ``docs/dist.md``.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.dist._grid import Axis as Axis
    from planner.dist._grid import Variant as Variant
    from planner.dist._grid import expand as expand
    from planner.dist._grid import parse_axes as parse_axes
    from planner.dist._many import prepare_many as prepare_many
    from planner.dist._many import run_many as run_many
    from planner.dist._run import Cluster as Cluster
    from planner.dist._run import execute as execute
    from planner.dist._sweep import prepare_sweep as prepare_sweep
    from planner.dist._sweep import run_sweep as run_sweep
    from planner.dist._task import CellResult as CellResult
    from planner.dist._task import CellTask as CellTask
    from planner.dist._task import run_cell as run_cell

# Imported on first use: `planner --help` should not pay for pydantic models here.
_LAZY = {
    "Axis": "planner.dist._grid",
    "Variant": "planner.dist._grid",
    "expand": "planner.dist._grid",
    "parse_axes": "planner.dist._grid",
    "prepare_many": "planner.dist._many",
    "run_many": "planner.dist._many",
    "Cluster": "planner.dist._run",
    "execute": "planner.dist._run",
    "prepare_sweep": "planner.dist._sweep",
    "run_sweep": "planner.dist._sweep",
    "CellResult": "planner.dist._task",
    "CellTask": "planner.dist._task",
    "run_cell": "planner.dist._task",
}
__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
