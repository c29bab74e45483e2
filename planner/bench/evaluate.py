"""Independent checker of benchmark solutions, straight from the instance files.

It shares nothing with the readers' mapping onto the core
(:class:`~planner.solve.problem.PeriodicProblem`, scaling, node indexing): it
reads the instance file itself (reusing only the tokenisers of the two text
formats) and replays each route in the instance's own units and node ids. A
solution is our JSON format::

    {"instance": NAME, "cost": C,
     "routes": [{"day": d, "vehicle": k, "nodes": [depot, ..., depot]}]}

What is checked:

* PVRP-IF: load (reset at facilities) within ``maxCapacity``; travel plus service
  within ``maxDuration``; a facility before the depot whenever loaded; routes per
  day within ``numVehicles``; each customer's visit days one of its evenly spaced
  patterns and exactly its frequency of visits. Cost: total travel time.
* CVRP (VRPLIB): a visit to the depot ends a trip; load per trip; each customer
  once. Cost: sum of nint Euclidean distances.
* VRPTW (Solomon text, and VRPLIB CVRPTW in tenths, truncated): as CVRP plus
  arrival by each due date (waiting allowed), return by the depot's due date and
  at most the file's vehicles (one per trip). Cost: Euclidean distances in double
  precision (Solomon) or truncated to tenths (VRPLIB).

The module also turns the published solutions into our format:
:func:`parse_pvrpif_report` and :func:`read_vrplib_solution`.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from planner._errors import instance_error
from planner.bench.solomon import parse_solomon_text
from planner.bench.vrplib_format import parse_vrplib_text

# Slack on double-precision time-window checks (Solomon): float sums, not rules.
TIME_EPS = 1e-6


@dataclass(frozen=True)
class Evaluation:
    """Outcome of checking one solution.

    Parameters
    ----------
    cost
        The solution's cost recomputed from its routes, in the instance's units.
    feasible
        Whether no constraint is violated (``not violations``).
    violations
        One line per violated constraint, naming the route or customer.
    """

    cost: float
    feasible: bool
    violations: tuple[str, ...]


@dataclass(frozen=True)
class _Route:
    day: int
    vehicle: int
    nodes: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"day {self.day} vehicle {self.vehicle}"


def _routes(solution: Mapping[str, Any], source: str | None) -> list[_Route]:
    routes = solution.get("routes")
    if not isinstance(routes, list):
        raise instance_error(source, "key routes", "a list of routes", type(routes).__name__)
    out = []
    for r, route in enumerate(routes):
        where = f"key routes[{r}]"
        if not isinstance(route, Mapping):
            raise instance_error(source, where, "an object", type(route).__name__)
        values = []
        for key in ("day", "vehicle"):
            value = route.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                raise instance_error(source, f"{where}.{key}", "a whole number", repr(value))
            values.append(value)
        nodes = route.get("nodes")
        if (
            not isinstance(nodes, list)
            or len(nodes) < 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in nodes)
        ):
            raise instance_error(
                source, f"{where}.nodes", "a list of >= 2 node ids", repr(nodes)[:60]
            )
        out.append(_Route(values[0], values[1], tuple(nodes)))
    return out


def load_solution(solution: Mapping[str, Any] | str | Path) -> tuple[dict[str, Any], str | None]:
    """Our JSON solution as a dict (read from a file when given a path) and its source."""
    if isinstance(solution, Mapping):
        return dict(solution), None
    path = Path(solution)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(path, "file", "a readable text file", type(exc).__name__) from exc
    except json.JSONDecodeError as exc:
        raise instance_error(path, f"line {exc.lineno}", "valid JSON", repr(exc.msg)) from exc
    if not isinstance(data, dict):
        raise instance_error(path, "top level", "a JSON object", type(data).__name__)
    return data, str(path)


def evaluate(instance_path: str | Path, solution: Mapping[str, Any] | str | Path) -> Evaluation:
    """Check ``solution`` against the instance file, choosing the format by suffix.

    Parameters
    ----------
    instance_path
        A ``.geojson`` (PVRP-IF), ``.vrp`` (VRPLIB) or ``.txt`` (Solomon) file.
    solution
        Our JSON solution, as a dict or a path to a ``.json`` file.

    Returns
    -------
    Evaluation
        Recomputed cost and the violations found.

    Raises
    ------
    InstanceError
        When the instance or the solution cannot be read.
    """
    suffix = Path(instance_path).suffix.lower()
    checkers = {".geojson": evaluate_pvrpif, ".vrp": evaluate_vrplib, ".txt": evaluate_solomon}
    if suffix not in checkers:
        raise instance_error(
            instance_path, "file name", "a .geojson, .vrp or .txt instance", suffix
        )
    return checkers[suffix](instance_path, solution)


def _name_check(solution: Mapping[str, Any], name: str) -> list[str]:
    given = solution.get("instance")
    if given != name:
        return [f"solution is for instance {given!r}, the file is {name!r}"]
    return []


def _once_each(visits: Mapping[int, int], customers: list[int]) -> list[str]:
    out = [f"customer {c} not visited" for c in customers if visits.get(c, 0) == 0]
    out += [f"customer {c} visited {n} times" for c, n in sorted(visits.items()) if n > 1]
    return out


# ---------------------------------------------------------------------------- PVRP-IF


def pvrpif_patterns(frequency: int, horizon: int) -> list[list[int]]:
    """Allowed visit-day sets: evenly spaced, as the published reports list them."""
    if frequency == 0:
        return [[]]
    step = horizon // frequency
    return [list(range(start, horizon, step)) for start in range(step)]


def _get(path: Path, obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise instance_error(path, f"key {where}{key}", f"the key '{key}'", "none")
    return obj[key]


def _num(path: Path, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise instance_error(path, f"key {where}", "a number", repr(value))
    return float(value)


def _whole(path: Path, value: Any, where: str) -> int:
    if _num(path, value, where) != int(value):
        raise instance_error(path, f"key {where}", "a whole number", repr(value))
    return int(value)


@dataclass(frozen=True)
class _Pvrpif:
    horizon: int
    fleet: int
    max_duration: int
    capacity: int
    matrix: list[list[float]]
    kind: dict[int, str]
    demand: dict[int, float]
    service: dict[int, float]
    frequency: dict[int, int]
    depot: int


def _read_pvrpif(p: Path) -> _Pvrpif:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(p, "file", "a readable text file", type(exc).__name__) from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise instance_error(p, where, "valid JSON", repr(exc.msg)) from exc
    info = _get(p, data, "info", "")
    horizon = _whole(p, _get(p, info, "planningHorizon", "info."), "info.planningHorizon")
    kind: dict[int, str] = {}
    demand: dict[int, float] = {}
    service: dict[int, float] = {}
    frequency: dict[int, int] = {}
    for i, feature in enumerate(_get(p, data, "features", "")):
        where = f"features[{i}].properties."
        prop = _get(p, feature, "properties", f"features[{i}].")
        node = _whole(p, _get(p, prop, "id", where), where + "id")
        kind[node] = _get(p, prop, "type", where)
        if kind[node] not in ("depot", "customer", "intermediateFacility"):
            expected = "depot, customer or intermediateFacility"
            raise instance_error(p, f"key {where}type", expected, repr(kind[node]))
        demand[node] = _num(p, _get(p, prop, "demand", where), where + "demand")
        service[node] = _num(p, _get(p, prop, "service", where), where + "service")
        frequency[node] = _whole(p, _get(p, prop, "frequency", where), where + "frequency")
        if frequency[node] and horizon % frequency[node]:
            found = str(frequency[node])
            raise instance_error(
                p, f"key {where}frequency", f"a divisor of the horizon {horizon}", found
            )
    n = len(kind)
    if sorted(kind) != list(range(n)):
        raise instance_error(p, "key features", f"feature ids 0..{n - 1}", str(sorted(kind)))
    matrix = _get(p, data, "duration", "")
    if not isinstance(matrix, list):
        raise instance_error(p, "key duration", f"a {n} x {n} matrix", type(matrix).__name__)
    shape = [len(row) if isinstance(row, list) else -1 for row in matrix]
    if shape != [n] * n:
        found = f"{len(shape)} rows" if len(shape) != n else f"row lengths {shape}"
        raise instance_error(p, "key duration", f"a {n} x {n} matrix", found)
    floats = [[_num(p, x, f"duration[{i}]") for x in row] for i, row in enumerate(matrix)]
    if any(x < 0 for row in floats for x in row):
        raise instance_error(p, "key duration", "travel times >= 0", "a negative one")
    depots = [i for i, t in kind.items() if t == "depot"]
    if len(depots) != 1:
        raise instance_error(p, "key features", "one feature of type depot", str(len(depots)))
    return _Pvrpif(
        horizon=horizon,
        fleet=_whole(p, _get(p, info, "numVehicles", "info."), "info.numVehicles"),
        max_duration=_whole(p, _get(p, info, "maxDuration", "info."), "info.maxDuration"),
        capacity=_whole(p, _get(p, info, "maxCapacity", "info."), "info.maxCapacity"),
        matrix=floats,
        kind=kind,
        demand=demand,
        service=service,
        frequency=frequency,
        depot=depots[0],
    )


@dataclass
class _PvrpifTally:
    """What the routes add up to as they are walked, in the solution's order."""

    violations: list[str]
    cost: float = 0.0
    seen: set[tuple[int, int]] = field(default_factory=set)
    used: Counter[int] = field(default_factory=Counter)
    days_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def evaluate_pvrpif(path: str | Path, solution: Mapping[str, Any] | str | Path) -> Evaluation:
    """Check a PVRP-IF solution against its ``.geojson`` instance (see the module doc)."""
    p = Path(path)
    sol, source = load_solution(solution)
    inst = _read_pvrpif(p)
    tally = _PvrpifTally(_name_check(sol, p.stem))
    for route in _routes(sol, source):
        _check_pvrpif_route(inst, route, tally)
    violations = tally.violations
    for day, count in sorted(tally.used.items()):
        if count > inst.fleet:
            violations.append(f"day {day}: {count} vehicles used, numVehicles is {inst.fleet}")
    for c in sorted(i for i, t in inst.kind.items() if t == "customer"):
        days = tally.days_of.get(c, [])
        freq = inst.frequency[c]
        if len(days) != freq:
            violations.append(f"customer {c}: {len(days)} visits, frequency {freq}")
        allowed = pvrpif_patterns(freq, inst.horizon)
        if sorted(set(days)) not in allowed:
            violations.append(f"customer {c}: visited on days {sorted(days)}, allowed {allowed}")
    return Evaluation(tally.cost, not violations, tuple(violations))


def _check_pvrpif_route(inst: _Pvrpif, route: _Route, tally: _PvrpifTally) -> None:
    """One route: its day and vehicle, depot ends, load between facilities, duration."""
    horizon, fleet, depot, kind = inst.horizon, inst.fleet, inst.depot, inst.kind
    violations, label = tally.violations, route.label
    if not 0 <= route.day < horizon:
        violations.append(f"{label}: day outside 0..{horizon - 1}")
    if not 0 <= route.vehicle < fleet:
        violations.append(f"{label}: vehicle outside 0..{fleet - 1}")
    if (route.day, route.vehicle) in tally.seen:
        violations.append(f"{label}: a second route for the same vehicle and day")
    tally.seen.add((route.day, route.vehicle))
    unknown = [x for x in route.nodes if x not in kind]
    if unknown:
        violations.append(f"{label}: unknown node ids {unknown}")
        return
    nodes = route.nodes
    if nodes[0] != depot or nodes[-1] != depot:
        violations.append(f"{label}: does not start and end at the depot {depot}")
    if depot in nodes[1:-1]:
        violations.append(f"{label}: passes the depot mid-route")
    if len(nodes) > 2:
        tally.used[route.day] += 1
    matrix = inst.matrix
    time = 0.0
    load = 0.0
    peak = 0.0
    for a, b in pairwise(nodes):
        time += inst.service[a] + matrix[a][b]
        tally.cost += matrix[a][b]
        if kind[b] == "customer":
            load += inst.demand[b]
            peak = max(peak, load)
            tally.days_of[b].append(route.day)
        elif kind[b] == "intermediateFacility":
            load = 0.0
    if peak > inst.capacity:
        violations.append(f"{label}: load {peak:g} exceeds capacity {inst.capacity}")
    if load > 0:
        violations.append(f"{label}: returns to the depot loaded (no facility before it)")
    if time > inst.max_duration:
        violations.append(f"{label}: duration {time:g} exceeds maxDuration {inst.max_duration}")


# ----------------------------------------------------------------------------- VRPLIB


def evaluate_vrplib(path: str | Path, solution: Mapping[str, Any] | str | Path) -> Evaluation:
    """Check a CVRP or CVRPTW solution against its VRPLIB ``.vrp`` file."""
    text = parse_vrplib_text(path)
    sol, source = load_solution(solution)
    timed = text.spec("TYPE").upper() != "CVRP"
    if text.spec("EDGE_WEIGHT_TYPE").upper() != "EUC_2D":
        line = text.specs["EDGE_WEIGHT_TYPE"][0]
        found = repr(text.spec("EDGE_WEIGHT_TYPE"))
        raise instance_error(text.path, f"line {line} (EDGE_WEIGHT_TYPE)", "EUC_2D", found)
    dim = int(text.spec_number("DIMENSION"))
    capacity = text.spec_number("CAPACITY")
    ids, coords = text.table("NODE_COORD_SECTION", 3, dim)
    demand_ids, demands = text.table("DEMAND_SECTION", 2, dim)
    demand = dict(zip(demand_ids, demands[:, 0].tolist(), strict=True))
    xy = dict(zip(ids, coords.tolist(), strict=True))
    depots = text.depots()
    if len(depots) != 1 or depots[0] not in xy or sorted(demand) != sorted(xy):
        raise instance_error(text.path, "DEPOT_SECTION", "one depot among the nodes", str(depots))
    depot = depots[0]

    def dist(a: int, b: int) -> float:
        d = math.dist(xy[a], xy[b])
        # CVRP: TSPLIB nint. CVRPTW: DIMACS tenths, truncated (integer tenths).
        return math.floor(d * 10 + 1e-9) if timed else math.floor(d + 0.5)

    ready: dict[int, float] = {}
    due: dict[int, float] = {}
    service: dict[int, float] = dict.fromkeys(ids, 0.0)
    fleet = None
    if timed:
        tw_ids, tw = text.table("TIME_WINDOW_SECTION", 3, dim)
        ready = {i: 10 * a for i, (a, _) in zip(tw_ids, tw.tolist(), strict=True)}
        due = {i: 10 * b for i, (_, b) in zip(tw_ids, tw.tolist(), strict=True)}
        if "SERVICE_TIME_SECTION" in text.sections:
            s_ids, s = text.table("SERVICE_TIME_SECTION", 2, dim)
            service = {i: 10 * v for i, v in zip(s_ids, s[:, 0].tolist(), strict=True)}
        elif "SERVICE_TIME" in text.specs:
            value = 10 * text.spec_number("SERVICE_TIME", integer=False)
            service = {i: (0.0 if i == depot else value) for i in ids}
        if "VEHICLES" in text.specs:
            fleet = int(text.spec_number("VEHICLES"))
    name = text.spec("NAME", text.path.stem)
    inst = _OneDay(name, depot, demand, capacity, dist, ready, due, service, fleet)
    result = _check_trips(inst, sol, source)
    # Tenths were summed as integers, so this division is exact to the printed digit.
    cost = result.cost / 10 if timed else float(result.cost)
    return Evaluation(cost, result.feasible, result.violations)


@dataclass(frozen=True)
class _OneDay:
    """A one-day instance as the trip checker needs it; ``due`` empty: no windows."""

    name: str
    depot: int
    demand: Mapping[int, float]
    capacity: float
    dist: Callable[[int, int], float]  # travel time and cost
    ready: Mapping[int, float]
    due: Mapping[int, float]
    service: Mapping[int, float]
    fleet: int | None


def _check_trips(inst: _OneDay, sol: Mapping[str, Any], source: str | None) -> Evaluation:
    """Replay one-day routes split into trips at the depot; shared by CVRP and VRPTW."""
    violations = _name_check(sol, inst.name)
    depot = inst.depot
    total: float = 0
    visits: Counter[int] = Counter()
    trips = 0
    for route in _routes(sol, source):
        label = route.label
        if route.day != 0:
            violations.append(f"{label}: day must be 0 in a one-day instance")
        unknown = [x for x in route.nodes if x not in inst.demand]
        if unknown:
            violations.append(f"{label}: unknown node ids {unknown}")
            continue
        if route.nodes[0] != depot or route.nodes[-1] != depot:
            violations.append(f"{label}: does not start and end at the depot {depot}")
        visits.update(x for x in route.nodes if x != depot)
        # Each visit to the depot ends a trip: another vehicle when the fleet allows it.
        trip: list[int] = []
        for node in route.nodes[1:]:
            if node != depot:
                trip.append(node)
                continue
            if trip:
                trips += 1
                total += _check_trip(inst, trip, label, violations)
            trip = []
    violations += _once_each(visits, [c for c in inst.demand if c != depot])
    if inst.fleet is not None and trips > inst.fleet:
        violations.append(f"{trips} vehicles (trips) used, the file allows {inst.fleet}")
    return Evaluation(total, not violations, tuple(violations))


def _check_trip(inst: _OneDay, trip: list[int], label: str, violations: list[str]) -> float:
    path = [inst.depot, *trip, inst.depot]
    load = sum(inst.demand[x] for x in trip)
    if load > inst.capacity:
        where = f"{label}: trip from node {trip[0]}"
        violations.append(f"{where} loads {load:g} > capacity {inst.capacity:g}")
    if inst.due:
        time = inst.ready[inst.depot]
        for a, b in pairwise(path):
            # Waiting for the window to open is allowed.
            time = max(time + inst.service[a] + inst.dist(a, b), inst.ready[b])
            if time > inst.due[b] + TIME_EPS:
                where = "the depot" if b == inst.depot else f"node {b}"
                violations.append(f"{label}: arrives at {where} at {time:g}, due {inst.due[b]:g}")
    return sum(inst.dist(a, b) for a, b in pairwise(path))


# ---------------------------------------------------------------------------- Solomon


def evaluate_solomon(path: str | Path, solution: Mapping[str, Any] | str | Path) -> Evaluation:
    """Check a VRPTW solution against a Solomon text file; cost in double precision."""
    text = parse_solomon_text(path)
    sol, source = load_solution(solution)
    rows = {int(r[0]): r for r in text.rows.tolist()}
    depot = int(text.rows[0, 0])

    def dist(a: int, b: int) -> float:
        return math.dist(rows[a][1:3], rows[b][1:3])

    inst = _OneDay(
        name=text.name,
        depot=depot,
        demand={i: r[3] for i, r in rows.items()},
        capacity=text.capacity,
        dist=dist,
        ready={i: r[4] for i, r in rows.items()},
        due={i: r[5] for i, r in rows.items()},
        service={i: r[6] for i, r in rows.items()},
        fleet=text.num_vehicles,
    )
    return _check_trips(inst, sol, source)


# ------------------------------------------------------------------ published solutions

_HEADER = re.compile(r"Solution for (\S+) with cost ([\d.]+)\s+is (feasible|infeasible)")
_DAY = re.compile(r"Day: (\d+): Vehicle:(\d+) ")


def parse_pvrpif_report(path: str | Path) -> dict[str, Any]:
    """Turn a published PVRP-IF feasibility report into our solution format.

    Parameters
    ----------
    path
        A ``report_<instance>_feasible_<cost>.txt`` file.

    Returns
    -------
    dict
        ``{"instance", "cost", "routes"}``; route nodes from the report's ``path``
        rows (pandas may wrap wide routes over several blocks: they are joined).

    Raises
    ------
    InstanceError
        When the header or a route's ``path`` row is missing or not numeric.
    """
    p = Path(path)
    lines = _lines(p)
    head = _HEADER.match(lines[0]) if lines else None
    if head is None:
        found = repr(lines[0][:50]) if lines else "an empty file"
        raise instance_error(p, "line 1", "'Solution for NAME with cost C is feasible.'", found)
    routes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for lineno, line in enumerate(lines, start=1):
        day = _DAY.match(line)
        if day:
            current = {"day": int(day.group(1)), "vehicle": int(day.group(2)), "nodes": []}
            routes.append(current)
        elif line.startswith("path") and current is not None:
            try:
                current["nodes"] += [_as_int(t) for t in line.split()[1:]]
            except ValueError:
                raise instance_error(
                    p, f"line {lineno}", "node ids after 'path'", repr(line[:50])
                ) from None
        elif line.startswith("____") or line.startswith("Check the assigned"):
            current = None
    for r, route in enumerate(routes):
        if len(route["nodes"]) < 2:
            raise instance_error(p, f"route {r}", "a 'path' row with the route's nodes", "none")
    return {"instance": head.group(1), "cost": float(head.group(2)), "routes": routes}


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise instance_error(path, "file", "a readable text file", type(exc).__name__) from exc


def _as_int(token: str) -> int:
    value = float(token)
    if value != int(value):
        raise ValueError(token)
    return int(value)


def parse_pvrpif_options(path: str | Path) -> dict[int, list[list[int]]]:
    """The ``options`` (allowed visit-day sets) a PVRP-IF report lists per node."""
    out: dict[int, list[list[int]]] = {}
    pattern = re.compile(r"Scheme\((\d+)\): options: (\[.*?\])\s+assigned:")
    for line in _lines(Path(path)):
        m = pattern.match(line)
        if m:
            out[int(m.group(1))] = ast.literal_eval(m.group(2))
    return out


def read_vrplib_solution(path: str | Path, instance_path: str | Path) -> dict[str, Any]:
    """Turn a CVRPLIB-style ``.sol`` file into our solution format.

    The ``.sol`` numbers customers by position in the instance file with the
    depot as 0 (so in the X set ``.sol`` node ``k`` is the file's node ``k + 1``);
    the result uses the instance's own node ids.

    Parameters
    ----------
    path
        The ``.sol`` file (``Route #k: ...`` lines and ``Cost C``).
    instance_path
        Its ``.vrp`` instance (for the node ids and the depot).

    Raises
    ------
    InstanceError
        When a line is neither a route nor the cost, or a node number is out of range.
    """
    text = parse_vrplib_text(instance_path)
    dim = int(text.spec_number("DIMENSION"))
    ids, _ = text.table("NODE_COORD_SECTION", 3, dim)
    depot = text.depots()[0]
    if ids[0] != depot:
        raise instance_error(text.path, "DEPOT_SECTION", "the depot as the first node", str(depot))
    p = Path(path)
    routes: list[dict[str, Any]] = []
    cost: float | None = None
    for lineno, line in enumerate(_lines(p), start=1):
        head, _, rest = line.partition(":")
        try:
            if head.strip().lower().startswith("route"):
                stops = [ids[int(t)] for t in rest.split() if 0 < int(t) < dim]
                if len(stops) != len(rest.split()):
                    raise ValueError(rest)
                nodes = [depot, *stops, depot]
                routes.append({"day": 0, "vehicle": len(routes), "nodes": nodes})
            elif line.strip().lower().startswith("cost"):
                cost = float(line.split()[1])
            elif line.strip():
                raise ValueError(line)
        except (ValueError, IndexError):
            expected = f"'Route #k: nodes 1..{dim - 1}' or 'Cost C'"
            raise instance_error(p, f"line {lineno}", expected, repr(line[:50])) from None
    if cost is None:
        raise instance_error(p, "Cost", "a line 'Cost C'", "none")
    return {"instance": text.spec("NAME", text.path.stem), "cost": cost, "routes": routes}
