"""Reader of VRPLIB instances: the CVRPLIB X set and the VRPTW instance RC208.vrp.

Only what these files use is supported: ``EDGE_WEIGHT_TYPE : EUC_2D``, one depot,
``TYPE`` CVRP or CVRPTW. Distances follow each set's convention:

* CVRP (X set): ``nint`` of the Euclidean distance (TSPLIB), in the file's units;
* CVRPTW (RC208.vrp, from PyVRP's collection): the DIMACS convention, distances
  times 10 and truncated, so the core works in tenths; time windows and service
  times are scaled by the same 10 and costs convert back by dividing by 10.

Travel time equals distance. The depot is also the only intermediate facility,
so a truck "reloading" at the depot starts a new trip: with the CVRP's fleet of
one truck per customer that is the same as another truck. Time-window vehicles
keep one trip each (``max_reloads=0``), as in the Solomon rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from planner._errors import instance_error
from planner.bench._one_day import one_day_problem
from planner.bench.solution_io import BenchInstance

# DIMACS rule of the time-window sets: one decimal, truncated.
TW_SCALE = 10


@dataclass(frozen=True)
class VrplibText:
    """The tokens of a VRPLIB file, with line numbers for error messages.

    This is the only parsing helper :mod:`planner.bench.evaluate` shares with the
    reader: it splits the file, it does not interpret it.

    Parameters
    ----------
    path
        The file.
    specs
        ``KEY -> (line, value)`` for every ``KEY : value`` line (keys upper-case).
    sections
        ``NAME_SECTION -> (header line, rows)``; each row is ``(line, tokens)``.
    last_line
        Number of the last line read (the ``EOF`` line or the file's end).
    """

    path: Path
    specs: dict[str, tuple[int, str]]
    sections: dict[str, tuple[int, list[tuple[int, list[str]]]]]
    last_line: int

    def spec(self, key: str, default: str | None = None) -> str:
        """The value of ``KEY : value``; missing and no default -> :class:`InstanceError`."""
        if key in self.specs:
            return self.specs[key][1]
        if default is not None:
            return default
        raise instance_error(self.path, key, f"a line '{key} : value'", "none")

    def spec_number(self, key: str, *, integer: bool = True) -> float:
        """A numeric spec value (a whole number unless ``integer=False``)."""
        line = self.specs[key][0] if key in self.specs else 0
        value = self.spec(key)
        where = f"line {line} ({key})"
        number = _number(self.path, where, value)
        if integer and number != int(number):
            raise instance_error(self.path, where, "a whole number", repr(value))
        return number

    def table(
        self, section: str, ncols: int, dimension: int
    ) -> tuple[list[int], NDArray[np.float64]]:
        """The ``dimension`` rows of ``section``: node ids and the other ``ncols - 1`` columns."""
        if section not in self.sections:
            raise instance_error(self.path, section, f"a {section}", "none")
        header, rows = self.sections[section]
        if len(rows) != dimension:
            where = f"line {rows[-1][0] if rows else header} ({section})"
            raise instance_error(self.path, where, f"{dimension} rows (DIMENSION)", f"{len(rows)}")
        ids: list[int] = []
        values = np.empty((dimension, ncols - 1), dtype=np.float64)
        for r, (line, tokens) in enumerate(rows):
            where = f"line {line} ({section})"
            if len(tokens) != ncols:
                raise instance_error(self.path, where, f"{ncols} values per row", f"{len(tokens)}")
            numbers = [_number(self.path, where, t) for t in tokens]
            if numbers[0] != int(numbers[0]):
                raise instance_error(self.path, where, "a whole node id", repr(tokens[0]))
            ids.append(int(numbers[0]))
            values[r] = numbers[1:]
        return ids, values

    def depots(self) -> list[int]:
        """The node ids of ``DEPOT_SECTION`` (a list closed by ``-1``)."""
        if "DEPOT_SECTION" not in self.sections:
            raise instance_error(self.path, "DEPOT_SECTION", "a DEPOT_SECTION", "none")
        rows = self.sections["DEPOT_SECTION"][1]
        out: list[int] = []
        for line, tokens in rows:
            for token in tokens:
                value = _number(self.path, f"line {line} (DEPOT_SECTION)", token)
                if value == -1:
                    return out
                out.append(int(value))
        where = f"line {self.last_line} (DEPOT_SECTION)"
        raise instance_error(self.path, where, "-1 closing DEPOT_SECTION", "the end of the file")


def _number(path: Path, where: str, token: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise instance_error(path, where, "a number", repr(token)) from None
    if not math.isfinite(value):
        raise instance_error(path, where, "a finite number", repr(token))
    return value


def parse_vrplib_text(path: str | Path) -> VrplibText:
    """Split a VRPLIB file into specs and sections (see :class:`VrplibText`).

    Raises
    ------
    InstanceError
        When a line is neither ``KEY : value``, a section header, nor a row inside
        a section, or a section appears twice.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(p, "file", "a readable text file", type(exc).__name__) from exc
    specs: dict[str, tuple[int, str]] = {}
    sections: dict[str, tuple[int, list[tuple[int, list[str]]]]] = {}
    current: list[tuple[int, list[str]]] | None = None
    last = 0
    for lineno, raw in enumerate(lines, start=1):
        last = lineno
        text = raw.strip()
        if not text:
            continue
        if text == "EOF":
            break
        first = text.split()[0]
        if first.upper().endswith("_SECTION"):
            name = first.upper()
            if name in sections:
                raise instance_error(p, f"line {lineno}", f"one {name}", "a second one")
            current = []
            sections[name] = (lineno, current)
        elif ":" in text:
            key, _, value = text.partition(":")
            specs[key.strip().upper()] = (lineno, value.strip())
            current = None
        elif current is None:
            raise instance_error(
                p, f"line {lineno}", "'KEY : value' or a *_SECTION header", repr(text)
            )
        else:
            current.append((lineno, text.split()))
    if not lines:
        raise instance_error(p, "line 1", "a VRPLIB instance", "an empty file")
    return VrplibText(p, specs, sections, last)


def read_vrplib(path: str | Path) -> BenchInstance:
    """Read a VRPLIB CVRP or CVRPTW instance and map it onto a one-day problem.

    Parameters
    ----------
    path
        A ``.vrp`` file with ``EDGE_WEIGHT_TYPE : EUC_2D``.

    Returns
    -------
    BenchInstance
        ``kind="cvrp"`` (``scale=1``) or ``kind="vrptw"`` (``scale=10``); node ids
        are the file's node numbers.

    Raises
    ------
    InstanceError
        When the file is truncated, misses a section or holds a non-number.
    """
    text = parse_vrplib_text(path)
    p = text.path
    kind_spec = text.spec("TYPE").upper()
    if kind_spec not in ("CVRP", "CVRPTW", "VRPTW"):
        where = f"line {text.specs['TYPE'][0]} (TYPE)"
        raise instance_error(p, where, "CVRP or CVRPTW", repr(kind_spec))
    timed = kind_spec != "CVRP"
    ewt = text.spec("EDGE_WEIGHT_TYPE").upper()
    if ewt != "EUC_2D":
        where = f"line {text.specs['EDGE_WEIGHT_TYPE'][0]} (EDGE_WEIGHT_TYPE)"
        raise instance_error(p, where, "EUC_2D", repr(ewt))
    dim = int(text.spec_number("DIMENSION"))
    capacity = int(text.spec_number("CAPACITY"))
    ids, coords = text.table("NODE_COORD_SECTION", 3, dim)
    _, demand_col = _same_ids(text, "DEMAND_SECTION", 2, dim, ids)
    demand = _whole(p, "DEMAND_SECTION", demand_col[:, 0], ids)
    depot_ids = text.depots()
    if len(depot_ids) != 1 or depot_ids[0] not in ids:
        where = "DEPOT_SECTION"
        raise instance_error(
            p, where, "one depot that is a node of NODE_COORD_SECTION", str(depot_ids)
        )
    depot = ids.index(depot_ids[0])

    scale = TW_SCALE if timed else 1
    matrix = _distances(coords, timed)
    service, windows = _service_and_windows(text, dim, ids, depot, timed)
    if windows is not None:
        shift = (int(windows[depot, 0]), int(windows[depot, 1]))
        num_vehicles = int(text.spec_number("VEHICLES")) if "VEHICLES" in text.specs else dim - 1
    else:
        # "Unbounded": longer than any route can be.
        shift = (0, 2 * dim * int(matrix.max()) + int(service.sum()))
        num_vehicles = dim - 1
    problem = one_day_problem(
        matrix=matrix,
        depot=depot,
        ids=ids,
        demand=demand,
        service=service,
        windows=None if windows is None else [(int(a), int(b)) for a, b in windows],
        shift=shift,
        num_vehicles=num_vehicles,
        capacity=capacity,
        max_reloads=0 if timed else None,
    )
    name = text.spec("NAME", p.stem)
    return BenchInstance(
        name=name,
        kind="vrptw" if timed else "cvrp",
        path=p,
        problem=problem,
        node_ids=tuple(ids),
        scale=scale,
    )


def _distances(coords: NDArray[np.float64], timed: bool) -> NDArray[np.int64]:
    """Each set's convention: DIMACS tenths truncated (timed), else TSPLIB ``nint``."""
    diff = coords[:, None, :] - coords[None, :, :]
    euclid = np.sqrt((diff**2).sum(axis=2))
    # Tiny epsilon when timed: 10 * 5.0 must truncate to 50, not 49.
    rounded = np.floor(euclid * TW_SCALE + 1e-9) if timed else np.floor(euclid + 0.5)
    matrix: NDArray[np.int64] = rounded.astype(np.int64)
    return matrix


def _service_and_windows(
    text: VrplibText, dim: int, ids: list[int], depot: int, timed: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64] | None]:
    """Service times and time windows in tenths (timed sets); zeros and None otherwise."""
    p = text.path
    service = np.zeros(dim, dtype=np.int64)
    if not timed:
        return service, None
    _, tw = _same_ids(text, "TIME_WINDOW_SECTION", 3, dim, ids)
    windows = _whole(p, "TIME_WINDOW_SECTION", tw * TW_SCALE, ids)
    if "SERVICE_TIME_SECTION" in text.sections:
        _, col = _same_ids(text, "SERVICE_TIME_SECTION", 2, dim, ids)
        service = _whole(p, "SERVICE_TIME_SECTION", col[:, 0] * TW_SCALE, ids)
    elif "SERVICE_TIME" in text.specs:
        value = text.spec_number("SERVICE_TIME", integer=False) * TW_SCALE
        service = _whole(p, "SERVICE_TIME", np.full(dim, value), ids)
        service[depot] = 0  # a uniform service time is for customers only
    return service, windows


def _same_ids(
    text: VrplibText, section: str, ncols: int, dim: int, ids: list[int]
) -> tuple[list[int], NDArray[np.float64]]:
    got, values = text.table(section, ncols, dim)
    if got != ids:
        r = next(k for k, (a, b) in enumerate(zip(got, ids, strict=True)) if a != b)
        line = text.sections[section][1][r][0]
        where = f"line {line} ({section})"
        raise instance_error(
            text.path, where, f"node id {ids[r]} (NODE_COORD_SECTION order)", str(got[r])
        )
    return got, values


def _whole(
    path: Path, section: str, values: NDArray[np.float64], ids: list[int]
) -> NDArray[np.int64]:
    # The core is integral; a value that is not whole after scaling would be rounded silently.
    rounded = np.rint(values)
    bad = np.flatnonzero(np.abs(values - rounded) > 1e-6 * np.maximum(1.0, np.abs(values)))
    if bad.size:
        row = int(bad[0]) // (values.shape[1] if values.ndim == 2 else 1)
        where = f"{section}, node {ids[row]}"
        raise instance_error(
            path, where, "a whole number in the core's units", repr(float(values.flat[bad[0]]))
        )
    if (rounded < 0).any():
        raise instance_error(path, section, "values >= 0", repr(float(rounded.min())))
    return rounded.astype(np.int64)
