"""Reader of the PVRP-IF waste-collection instances (Taverna & Tilk, geojson).

An instance is a GeoJSON ``FeatureCollection`` with three more keys: ``info``
(fleet and horizon), ``duration`` (a square travel-time matrix indexed by
feature id) and the usual ``features``, one per node, whose ``properties`` give
``id``, ``type`` (``depot``, ``customer`` or ``intermediateFacility``),
``frequency`` (visits over the horizon), ``demand`` (per visit) and ``service``.

What the published solution reports show (and the tests check on every one):

* visit patterns are the evenly spaced day sets: frequency ``f`` dividing the
  horizon ``H`` gives the ``H // f`` sets ``{s, s + H/f, s + 2H/f, ...}`` for
  ``s < H/f`` (``H = 4``: ``f = 1`` any single day, ``f = 2`` ``{0, 2}`` or
  ``{1, 3}``, ``f = 4`` every day);
* a route's ``time`` is travel plus service and must not exceed ``maxDuration``;
  its ``cost`` is travel time only, and the objective is the sum of the costs;
* arrival at ``j`` after ``i`` is ``arrival(i) + service(i) + duration[i][j]``,
  facilities and the depot have service 0, loads reset to 0 at a facility, and
  every route unloads at a facility right before returning to the depot.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from planner._errors import instance_error
from planner.bench.solution_io import BenchInstance
from planner.solve.problem import Customer, Pattern, PeriodicProblem, Vehicle

NODE_TYPES = ("depot", "customer", "intermediateFacility")


def evenly_spaced_patterns(frequency: int, horizon: int) -> tuple[tuple[int, ...], ...]:
    """The visit-day sets the PVRP-IF instances allow for ``frequency`` visits.

    Parameters
    ----------
    frequency
        Visits over the horizon; must be 0 or divide ``horizon``.
    horizon
        Number of days.

    Returns
    -------
    tuple
        ``()`` for frequency 0 (no visit needed), else the ``horizon // frequency``
        day sets with one visit every ``horizon // frequency`` days.
    """
    if frequency == 0:
        return ()
    if frequency < 0 or horizon % frequency:
        raise ValueError(f"Expected a frequency dividing the horizon {horizon}, got {frequency}.")
    step = horizon // frequency
    return tuple(tuple(range(start, horizon, step)) for start in range(step))


def _integer(path: Path, where: str, value: object, *, minimum: int = 0) -> int:
    # The instances store integers as floats (2.0); anything fractional is an error,
    # never silently rounded.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise instance_error(path, where, "a number", repr(value))
    if not math.isfinite(value) or value != int(value) or value < minimum:
        raise instance_error(path, where, f"a whole number >= {minimum}", repr(value))
    return int(value)


def _key(path: Path, mapping: object, key: str, parent: str = "") -> Any:
    where = f"key {parent}.{key}" if parent else f"key {key}"
    if not isinstance(mapping, dict):
        raise instance_error(path, where, f"an object holding '{key}'", type(mapping).__name__)
    if key not in mapping:
        keys = ", ".join(sorted(map(str, mapping))) or "none"
        raise instance_error(path, where, f"the key '{key}'", f"only the keys {keys}")
    return mapping[key]


def _int_key(path: Path, mapping: object, key: str, parent: str = "", minimum: int = 0) -> int:
    where = f"key {parent}.{key}" if parent else f"key {key}"
    return _integer(path, where, _key(path, mapping, key, parent), minimum=minimum)


def load_geojson(path: str | Path) -> dict[str, Any]:
    """Parse the JSON of an instance file, raising :class:`InstanceError` if it is not JSON."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(p, "file", "a readable text file", type(exc).__name__) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise instance_error(p, where, "valid JSON", repr(exc.msg)) from exc
    if not isinstance(data, dict):
        raise instance_error(
            p, "top level", "a GeoJSON FeatureCollection object", type(data).__name__
        )
    return data


def read_pvrpif(path: str | Path) -> BenchInstance:
    """Read a PVRP-IF instance and map it onto a :class:`PeriodicProblem`.

    Problem node ``i`` is feature ``i`` (whose id must be ``i``); the depot is not
    a facility; every truck is available every day with ``max_duration =
    maxDuration`` and an unbounded shift; the objective is total travel time.

    Parameters
    ----------
    path
        A ``.geojson`` file of the set.

    Returns
    -------
    BenchInstance
        With ``kind="pvrpif"`` and ``scale=1`` (times in the file's own unit).

    Raises
    ------
    InstanceError
        When the file is not valid JSON or a key is missing or malformed.
    """
    p = Path(path)
    data = load_geojson(p)
    info = _key(p, data, "info")
    horizon = _int_key(p, info, "planningHorizon", "info", minimum=1)
    num_vehicles = _int_key(p, info, "numVehicles", "info", minimum=1)
    max_duration = _int_key(p, info, "maxDuration", "info")
    capacity = _int_key(p, info, "maxCapacity", "info")
    features = _key(p, data, "features")
    if not isinstance(features, list) or not features:
        raise instance_error(p, "key features", "a non-empty list of features", repr(features)[:40])
    n = len(features)

    types, props = _feature_types(p, features)
    _check_counts(p, info, types)
    _check_ids(p, props)

    depots = [i for i, t in enumerate(types) if t == "depot"]
    facilities = tuple(i for i, t in enumerate(types) if t == "intermediateFacility")
    if len(depots) != 1:
        raise instance_error(
            p, "key features", "exactly one feature of type depot", str(len(depots))
        )
    if not facilities:
        raise instance_error(p, "key features", "a feature of type intermediateFacility", "none")

    duration = _matrix(p, _key(p, data, "duration"), n)
    service = [
        _int_key(p, prop, "service", f"features[{i}].properties") for i, prop in enumerate(props)
    ]
    depot = depots[0]
    if service[depot] != 0:
        where = f"key features[{depot}].properties.service"
        raise instance_error(
            p, where, "0 at the depot (the core has no depot service)", str(service[depot])
        )
    # The core has one unloading time for all facilities.
    facility_service = sorted({service[f] for f in facilities})
    if len(facility_service) != 1:
        where = "key features[*].properties.service"
        raise instance_error(p, where, "one service time for all facilities", str(facility_service))

    customers = _customers(p, props, types, service, horizon)

    # "Unbounded" shift: longer than any route can be (every arc at most twice per node).
    shift_end = max(max_duration, 2 * n * int(duration.max()) + sum(service))
    vehicles = tuple(
        Vehicle(
            name=f"truck{k}",
            depot=depot,
            capacity=(capacity,),
            shift=(0, shift_end),
            max_duration=max_duration,
            days=tuple(range(horizon)),
        )
        for k in range(num_vehicles)
    )
    problem = PeriodicProblem(
        num_days=horizon,
        duration=duration,
        distance=duration.copy(),  # the set has travel times only
        depots=(depot,),
        facilities=facilities,
        customers=tuple(customers),
        vehicles=vehicles,
        dimensions=("demand",),
        objective="duration",
        node_names=tuple(str(i) for i in range(n)),
        facility_service=facility_service[0],
    )
    return BenchInstance(
        name=p.stem, kind="pvrpif", path=p, problem=problem, node_ids=tuple(range(n)), scale=1
    )


def _feature_types(p: Path, features: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Each feature's node type and properties, in file order."""
    types: list[str] = []
    props: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        prop = _key(p, feature, "properties", f"features[{i}]")
        kind = _key(p, prop, "type", f"features[{i}].properties")
        if kind not in NODE_TYPES:
            where = f"key features[{i}].properties.type"
            raise instance_error(p, where, f"one of {', '.join(NODE_TYPES)}", repr(kind))
        types.append(kind)
        props.append(prop)
    return types, props


def _check_ids(p: Path, props: list[dict[str, Any]]) -> None:
    for i, prop in enumerate(props):
        fid = _int_key(p, prop, "id", f"features[{i}].properties")
        if fid != i:
            # The matrix is indexed by id; a reordered file would silently mix nodes up.
            where = f"key features[{i}].properties.id"
            raise instance_error(p, where, f"id {i} (features in id order)", str(fid))


def _customers(
    p: Path, props: list[dict[str, Any]], types: list[str], service: list[int], horizon: int
) -> list[Customer]:
    """The customers with their evenly spaced visit patterns (frequency divides horizon)."""
    customers = []
    for i, prop in enumerate(props):
        if types[i] != "customer":
            continue
        parent = f"features[{i}].properties"
        freq = _int_key(p, prop, "frequency", parent)
        demand = _int_key(p, prop, "demand", parent)
        if freq and horizon % freq:
            where = f"key {parent}.frequency"
            raise instance_error(p, where, f"0 or a divisor of the horizon {horizon}", str(freq))
        patterns = tuple(
            Pattern(days, ((demand,),) * len(days))
            for days in evenly_spaced_patterns(freq, horizon)
        )
        customers.append(Customer(node=i, patterns=patterns, service=service[i], name=str(i)))
    return customers


def _check_counts(path: Path, info: dict[str, Any], types: list[str]) -> None:
    # info repeats the node counts; a mismatch means a truncated or edited file.
    for kind in NODE_TYPES:
        if kind in info:
            expected = _int_key(path, info, kind, "info")
            found = types.count(kind)
            if found != expected:
                what = f"{expected} features of type {kind} (info.{kind})"
                raise instance_error(path, "key features", what, str(found))


def _matrix(path: Path, value: object, n: int) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n:
        found = f"{len(value)} rows" if isinstance(value, list) else type(value).__name__
        raise instance_error(
            path, "key duration", f"a {n} x {n} matrix (one row per feature)", found
        )
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != n:
            found = f"{len(row)} entries" if isinstance(row, list) else repr(row)
            raise instance_error(path, f"key duration[{i}]", f"a row of {n} numbers", found)
        rows.append([_integer(path, f"key duration[{i}][{j}]", x) for j, x in enumerate(row)])
    return np.array(rows, dtype=np.int64).reshape(n, n)
