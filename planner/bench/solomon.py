"""Reader of Solomon VRPTW text files (C101, R101, R201, RC101, RC208).

Layout: the instance name on the first line, a ``VEHICLE`` block (``NUMBER`` and
``CAPACITY``), then a ``CUSTOMER`` block with one row per node: ``CUST NO.``,
``XCOORD.``, ``YCOORD.``, ``DEMAND``, ``READY TIME``, ``DUE DATE``, ``SERVICE
TIME``. The first row is the depot, whose window is the vehicles' shift.

Travel time equals Euclidean distance. The best-known values are distance-only at
full double precision, so the core gets the distances times ``scale`` (1000 by
default) rounded to integers, windows and service times scaled alike, and the
:class:`~planner.bench.solution_io.BenchInstance` keeps the exact distances so
costs convert back without rounding.
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

COLUMNS = ("CUST NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY TIME", "DUE DATE", "SERVICE TIME")
DEFAULT_SCALE = 1000


@dataclass(frozen=True)
class SolomonText:
    """The numbers of a Solomon file, with line numbers for error messages.

    This is the only parsing helper :mod:`planner.bench.evaluate` shares with the
    reader: it reads the table, it does not interpret it.

    Parameters
    ----------
    path, name
        The file and the instance name on its first line.
    num_vehicles, capacity
        The ``VEHICLE`` block.
    lines
        The line number of each customer row.
    rows
        One row per node with the seven columns of :data:`COLUMNS` (floats).
    """

    path: Path
    name: str
    num_vehicles: int
    capacity: int
    lines: tuple[int, ...]
    rows: NDArray[np.float64]


def _numbers(path: Path, lineno: int, tokens: list[str], names: tuple[str, ...]) -> list[float]:
    where = f"line {lineno}"
    if len(tokens) != len(names):
        expected = f"{len(names)} numbers ({', '.join(names)})"
        raise instance_error(path, where, expected, f"{len(tokens)} values")
    out = []
    for token, name in zip(tokens, names, strict=True):
        try:
            value = float(token)
        except ValueError:
            raise instance_error(path, where, f"a number for {name}", repr(token)) from None
        if not math.isfinite(value):
            raise instance_error(path, where, f"a finite number for {name}", repr(token))
        out.append(value)
    return out


def parse_solomon_text(path: str | Path) -> SolomonText:
    """Read the name, vehicle block and customer table of a Solomon file.

    Raises
    ------
    InstanceError
        When a block is missing, a row has the wrong number of values or a value
        is not a number, or node ids repeat.
    """
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(p, "file", "a readable text file", type(exc).__name__) from exc
    # Non-blank lines with their numbers; the files use CRLF and trailing blanks.
    lines = [(n, s.strip()) for n, s in enumerate(raw, start=1) if s.strip()]
    expect = ["name", "VEHICLE", "NUMBER", "fleet", "CUSTOMER", "CUST"]
    found: dict[str, tuple[int, str]] = {}
    pos = 0
    for step in expect:
        if pos >= len(lines):
            where = f"line {len(raw)}"
            raise instance_error(
                p, where, f"the {step!r} part of a Solomon file", "the end of the file"
            )
        lineno, text = lines[pos]
        if step not in ("name", "fleet") and not text.upper().startswith(step):
            raise instance_error(
                p, f"line {lineno}", f"a line starting with {step!r}", repr(text[:40])
            )
        found[step] = (lineno, text)
        pos += 1
    lineno, text = found["fleet"]
    num_vehicles, capacity = _numbers(p, lineno, text.split(), ("NUMBER", "CAPACITY"))
    if num_vehicles != int(num_vehicles) or num_vehicles < 1 or capacity != int(capacity):
        raise instance_error(
            p, f"line {lineno}", "whole numbers NUMBER >= 1 and CAPACITY", repr(text)
        )
    rows = []
    row_lines = []
    for lineno, text in lines[pos:]:
        rows.append(_numbers(p, lineno, text.split(), COLUMNS))
        row_lines.append(lineno)
    if len(rows) < 2:
        where = f"line {len(raw)}"
        raise instance_error(
            p, where, "a depot row and at least one customer row", f"{len(rows)} rows"
        )
    table = np.array(rows, dtype=np.float64)
    seen: set[float] = set()
    for k, node in enumerate(table[:, 0].tolist()):
        if node != int(node):
            raise instance_error(p, f"line {row_lines[k]}", "a whole CUST NO.", f"{node:g}")
        if node in seen:
            raise instance_error(
                p, f"line {row_lines[k]}", "a CUST NO. not used before", f"{node:g} again"
            )
        seen.add(node)
    return SolomonText(
        p, found["name"][1], int(num_vehicles), int(capacity), tuple(row_lines), table
    )


def _scaled(text: SolomonText, col: int, scale: int) -> NDArray[np.int64]:
    values = text.rows[:, col] * scale
    rounded = np.rint(values)
    bad = np.flatnonzero(np.abs(values - rounded) > 1e-6 * np.maximum(1.0, np.abs(values)))
    if bad.size or (rounded < 0).any():
        r = int(bad[0]) if bad.size else int(np.flatnonzero(rounded < 0)[0])
        what = f"{COLUMNS[col]} >= 0 with at most {round(math.log10(scale))} decimals"
        raise instance_error(
            text.path, f"line {text.lines[r]}", what, repr(float(text.rows[r, col]))
        )
    return rounded.astype(np.int64)


def read_solomon(path: str | Path, scale: int = DEFAULT_SCALE) -> BenchInstance:
    """Read a Solomon VRPTW file and map it onto a one-day problem.

    Parameters
    ----------
    path
        A Solomon ``.txt`` file.
    scale
        Core units per distance unit: the core's matrix is
        ``round(scale * euclidean)``, windows and service times are times ``scale``.

    Returns
    -------
    BenchInstance
        ``kind="vrptw"``, node ids are the ``CUST NO.`` column, ``exact_cost`` the
        double-precision distances.

    Raises
    ------
    InstanceError
        When the file is malformed (see :func:`parse_solomon_text`).
    """
    text = parse_solomon_text(path)
    xy = text.rows[:, 1:3]
    euclid = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    # Half up, not numpy's half-to-even, so the rule is the textbook one.
    matrix = np.floor(euclid * scale + 0.5).astype(np.int64)
    demand = _scaled(text, 3, 1)
    ready, due, service = (_scaled(text, c, scale) for c in (4, 5, 6))
    ids = tuple(int(i) for i in text.rows[:, 0])
    depot = 0  # the first row, by the format's convention
    # One trip per vehicle, as Solomon wants.
    problem = one_day_problem(
        matrix=matrix,
        depot=depot,
        ids=ids,
        demand=demand,
        service=service,
        windows=[(int(r), int(d)) for r, d in zip(ready, due, strict=True)],
        shift=(int(ready[depot]), int(due[depot])),
        num_vehicles=text.num_vehicles,
        capacity=text.capacity,
        max_reloads=0,
    )
    return BenchInstance(
        name=text.name,
        kind="vrptw",
        path=text.path,
        problem=problem,
        node_ids=ids,
        scale=scale,
        exact_cost=euclid,
    )
