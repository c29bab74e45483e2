"""Route arithmetic for the calendar search: exact costs, insertion, local search.

A route is a vehicle plus a list of *stops*: a customer index ``i >= 0``, or a
facility (unloading) stop coded ``-1 - node``. The depot is implicit at both ends.

Costs and feasibility are exact. When no customer has a time window and no lunch
break can fall inside a shift (the PVRP-IF benchmarks), a route's duration is its
travel plus service and unloading time, so a few array look-ups price a route
(:meth:`RouteModel.evaluate`) and an insertion (:func:`insertion_options`) exactly.
Otherwise every candidate route is priced by
:func:`~planner.solve.schedule.schedule_route`, the one truth of timing.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np

from planner.solve._clock import EXACT_WEIGHT
from planner.solve.problem import DayVisit, PeriodicProblem, Route
from planner.solve.schedule import schedule_route, travel_matrix

INF = math.inf
Demand = Any  # an int (one load dimension) or a tuple of ints


def fac(node: int) -> int:
    """The stop code of an unloading stop at facility ``node``."""
    return -1 - node


class RouteModel:
    """What pricing routes needs, precomputed once per problem.

    Parameters
    ----------
    problem
        The problem; its matrices are turned into Python rows for fast look-ups.
    neighbours
        How many nearest customers each customer considers in local search.
    """

    def __init__(self, problem: PeriodicProblem, neighbours: int = 40) -> None:  # noqa: PLR0915 - one look-up table per line
        p = problem
        self.problem = p
        self.ncust = len(p.customers)
        self.node = [c.node for c in p.customers]
        self.service = [c.service for c in p.customers]
        self.ndim = len(p.dimensions)
        self.one = self.ndim == 1
        self.facilities = list(p.facilities)
        self.fserv = p.facility_service
        self.max_reloads = p.max_reloads
        self.duration_objective = p.objective == "duration"
        self.simple = all(c.window is None for c in p.customers) and all(
            _no_break(v.break_window, v.break_duration, v.shift) for v in p.vehicles
        )
        # Stops priced so far: the search's clock (see planner.solve._clock).
        self.work = 0.0
        facset = set(p.facilities)
        rows: dict[tuple[float, float, float], tuple[list[Any], list[Any], list[Any]]] = {}
        self.T: list[list[Any]] = []
        self.D: list[list[Any]] = []
        self.A: list[list[Any]] = []  # arc cost: travel, or distance and travel money
        self.depot: list[int] = []
        self.cap: list[Any] = []
        self.maxdur: list[int] = []
        self.cpd: list[float] = []
        self.cpt: list[float] = []
        self.unloads_home: list[bool] = []
        self.vdays: list[set[int]] = []
        for k, v in enumerate(p.vehicles):
            cpd = 0.0 if self.duration_objective else v.cost_per_distance
            cpt = 1.0 if self.duration_objective else v.cost_per_duration
            key = (v.speed_factor, cpd, cpt)
            if key not in rows:
                t = travel_matrix(p, k)
                a = t if self.duration_objective else cpd * p.distance + cpt * t
                a_rows = _rows(a)
                if self.simple:
                    t_rows = a_rows if a is t else _rows(t)
                    d_rows = _rows(p.distance)
                else:  # routes are priced by schedule_route: arc costs suffice
                    t_rows = d_rows = a_rows
                rows[key] = (t_rows, d_rows, a_rows)
            t_rows, d_rows, a_rows = rows[key]
            self.T.append(t_rows)
            self.D.append(d_rows)
            self.A.append(a_rows)
            self.depot.append(v.depot)
            self.cap.append(v.capacity[0] if self.one else tuple(v.capacity))
            self.maxdur.append(min(v.max_duration, max(0, v.shift[1] - v.shift[0])))
            self.cpd.append(cpd)
            self.cpt.append(cpt)
            self.unloads_home.append(v.depot in facset)
            self.vdays.append(set(v.days))
        self.fac_cost = [cpt * self.fserv for cpt in self.cpt]
        # Demand of customer i on day d under pattern q: dem[i][q][d].
        self.dem: list[list[dict[int, Demand]]] = []
        for c in p.customers:
            per = []
            for pat in c.patterns:
                per.append(
                    {
                        d: (v[0] if self.one else tuple(v))
                        for d, v in zip(pat.days, pat.demands, strict=True)
                    }
                )
            self.dem.append(per)
        # Nearest customers by symmetric travel time.
        nodes = self.node
        self.near: list[list[int]] = [[] for _ in nodes]
        if nodes:
            sym = p.duration[np.ix_(nodes, nodes)].astype(float)
            sym = sym + sym.T
            np.fill_diagonal(sym, np.inf)
            k = min(neighbours, len(nodes) - 1)
            if k > 0:
                order = np.argsort(sym, axis=1, kind="stable")[:, :k]
                self.near = [[int(j) for j in row] for row in order]
            self.sym = sym
        else:
            self.sym = np.zeros((0, 0))
        self._close: dict[tuple[int, int], int] = {}
        # Cost per unit of duration over the limit; 0: the limit is hard.
        self.penalty = 0.0

    # ----------------------------------------------------------------- pricing
    def closing(self, v: int, node: int) -> int:
        """The cheapest facility stop code between ``node`` and ``v``'s depot."""
        key = (v, node)
        got = self._close.get(key)
        if got is None:
            a = self.A[v]
            dep = self.depot[v]
            best = min(self.facilities, key=lambda f: (a[node][f] + a[f][dep], f))
            got = self._close[key] = fac(best)
        return got

    def evaluate(  # noqa: C901, PLR0915 - the hot path: inlined on purpose
        self, day: int, v: int, stops: Sequence[int], dem: dict[int, Demand]
    ) -> tuple[float, int] | None:
        """Exact (cost, duration) of a route, or ``None`` when it breaks a rule."""
        if not stops:
            return 0.0, 0
        if day not in self.vdays[v]:
            return None
        if not self.simple:
            self.work += EXACT_WEIGHT * len(stops)
            return self._evaluate_general(day, v, stops, dem)
        self.work += len(stops)
        t = self.T[v]
        node = self.node
        serv = self.service
        dep = self.depot[v]
        prev = dep
        travel = svc = nf = 0
        dist = 0
        need_dist = not self.duration_objective
        drow = self.D[v]
        cap = self.cap[v]
        if self.one:
            load = 0
            for s in stops:
                if s >= 0:
                    n = node[s]
                    svc += serv[s]
                    load += dem[s]
                    if load > cap:
                        return None
                else:
                    n = -1 - s
                    nf += 1
                    load = 0
                travel += t[prev][n]
                if need_dist:
                    dist += drow[prev][n]
                prev = n
            loaded = load > 0
        else:
            loads = [0] * self.ndim
            for s in stops:
                if s >= 0:
                    n = node[s]
                    svc += serv[s]
                    loads = [a + b for a, b in zip(loads, dem[s], strict=True)]
                    if any(a > b for a, b in zip(loads, cap, strict=True)):
                        return None
                else:
                    n = -1 - s
                    nf += 1
                    loads = [0] * self.ndim
                travel += t[prev][n]
                if need_dist:
                    dist += drow[prev][n]
                prev = n
            loaded = any(loads)
        travel += t[prev][dep]
        if need_dist:
            dist += drow[prev][dep]
        if loaded and not self.unloads_home[v]:
            return None
        if self.max_reloads is not None and nf > self.max_reloads:
            return None
        dur = travel + svc + nf * self.fserv
        excess = 0.0
        if dur > self.maxdur[v]:
            if not self.penalty:
                return None
            excess = self.penalty * (dur - self.maxdur[v])
        if self.duration_objective:
            return float(travel) + excess, dur
        return self.cpd[v] * dist + self.cpt[v] * dur + excess, dur

    def _evaluate_general(
        self, day: int, v: int, stops: Sequence[int], dem: dict[int, Demand]
    ) -> tuple[float, int] | None:
        p = self.problem
        visits: list[DayVisit] = []
        nodes: list[int] = []
        idx: list[int] = []
        for s in stops:
            if s >= 0:
                c = p.customers[s]
                d = dem[s]
                visits.append(
                    DayVisit(s, c.node, (d,) if self.one else tuple(d), c.service, c.window)
                )
                nodes.append(c.node)
                idx.append(len(visits) - 1)
            else:
                nodes.append(-1 - s)
                idx.append(-1)
        sched = schedule_route(p, day, visits, Route(v, tuple(nodes), tuple(idx)))
        if not sched.feasible:
            return None
        return sched.cost, sched.duration

    def arc(self, v: int, a: int, b: int) -> float:
        return float(self.A[v][a][b])

    def stop_node(self, v: int, s: int | None) -> int:
        """The node of a stop (``None``: the vehicle's depot)."""
        if s is None:
            return self.depot[v]
        return self.node[s] if s >= 0 else -1 - s


def _rows(m: np.ndarray) -> list[Any]:
    """A matrix as compact rows that index fast from Python (``array`` rows)."""
    if np.issubdtype(m.dtype, np.integer):
        data = np.ascontiguousarray(m, dtype=np.int64)
        code = "q"
    else:
        data = np.ascontiguousarray(m, dtype=np.float64)
        code = "d"
    out = []
    for row in data:
        r = array(code)
        r.frombytes(row.tobytes())
        out.append(r)
    return out


def _no_break(window: tuple[int, int] | None, duration: int, shift: tuple[int, int]) -> bool:
    if duration <= 0 or window is None:
        return True
    return window[1] < shift[0] or window[0] > shift[1]


# --------------------------------------------------------------------- helpers
def tidy(model: RouteModel, v: int, stops: list[int]) -> list[int]:
    """Drop unloading stops that unload nothing; close a loaded route at a facility."""
    out: list[int] = []
    has_load = False
    for s in stops:
        if s < 0:
            if not has_load:
                continue
            has_load = False
        else:
            has_load = True
        out.append(s)
    if has_load and not model.unloads_home[v]:
        out.append(model.closing(v, model.node[out[-1]]))
    return out


def split(  # noqa: PLR0915 - a dynamic programme kept in one frame for speed
    model: RouteModel, v: int, customers: Sequence[int], dem: dict[int, Demand]
) -> list[int] | None:
    """The cheapest unloading stops for a fixed customer order (one pass of dynamic
    programming over trip boundaries); ``None`` when a single visit overloads."""
    n = len(customers)
    if n == 0:
        return []
    a = model.A[v]
    node = model.node
    cap = model.cap[v]
    fcost = model.fac_cost[v]
    dep = model.depot[v]
    nodes = [node[c] for c in customers]
    best = [INF] * (n + 1)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    best[0] = 0.0
    one = model.one
    for i in range(n):
        if best[i] == INF:
            continue
        if i == 0:
            conn, via = float(a[dep][nodes[0]]), -1
        else:
            x, y = nodes[i - 1], nodes[i]
            conn, via = min((a[x][f] + a[f][y] + fcost, f) for f in model.facilities)
        base = best[i] + conn
        inner = 0.0
        load: Any = 0 if one else [0] * model.ndim
        for j in range(i, n):
            d = dem[customers[j]]
            if one:
                load += d
                if load > cap:
                    break
            else:
                load = [p + q for p, q in zip(load, d, strict=True)]
                if any(p > q for p, q in zip(load, cap, strict=True)):
                    break
            if j > i:
                inner += a[nodes[j - 1]][nodes[j]]
            val = base + inner
            if val < best[j + 1] - 1e-12:
                best[j + 1] = val
                back[j + 1] = (i, via)
    if best[n] == INF:
        return None
    # Rebuild: trips and the facility before each trip start.
    cuts: list[tuple[int, int]] = []
    j = n
    while j > 0:
        i, via = back[j]
        cuts.append((i, via))
        j = i
    cuts.reverse()
    out: list[int] = []
    for k, (i, via) in enumerate(cuts):
        if k > 0:
            out.append(fac(via))
        end = cuts[k + 1][0] if k + 1 < len(cuts) else n
        out.extend(customers[i:end])
    return tidy(model, v, out)


# ------------------------------------------------------------------ insertion
class DayRoutes:
    """One day's routes with their exact costs.

    ``routes[r]`` is ``[vehicle, stops]``; ``costs[r]`` its cost and ``durs[r]`` its
    duration. ``dem`` maps each customer served that day to its demand.
    """

    __slots__ = ("costs", "day", "dem", "durs", "routes")

    def __init__(self, day: int, dem: dict[int, Demand]) -> None:
        self.day = day
        self.routes: list[list[Any]] = []
        self.costs: list[float] = []
        self.durs: list[int] = []
        self.dem = dem

    def copy(self) -> DayRoutes:
        out = DayRoutes(self.day, dict(self.dem))
        out.routes = [[v, list(s)] for v, s in self.routes]
        out.costs = list(self.costs)
        out.durs = list(self.durs)
        return out

    @property
    def cost(self) -> float:
        return sum(self.costs)

    def find(self, customer: int) -> tuple[int, int] | None:
        for r, (_, stops) in enumerate(self.routes):
            if customer in stops:
                return r, stops.index(customer)
        return None

    def set_route(self, model: RouteModel, r: int, stops: list[int]) -> bool:
        """Replace route ``r``'s stops when feasible; empty routes are dropped."""
        v = self.routes[r][0]
        got = model.evaluate(self.day, v, stops, self.dem)
        if got is None:
            return False
        if not stops:
            del self.routes[r], self.costs[r], self.durs[r]
            return True
        self.routes[r][1] = stops
        self.costs[r], self.durs[r] = got
        return True

    def add_route(self, model: RouteModel, v: int, stops: list[int]) -> bool:
        got = model.evaluate(self.day, v, stops, self.dem)
        if got is None or not stops:
            return False
        self.routes.append([v, stops])
        self.costs.append(got[0])
        self.durs.append(got[1])
        return True

    def remove(self, model: RouteModel, customer: int) -> float | None:
        """Take ``customer`` out; returns the cost change, or ``None`` (and changes
        nothing) when the route would break a rule without it (travel times that
        break the triangle inequality can make a shorter route longer)."""
        loc = self.find(customer)
        if loc is None:
            self.dem.pop(customer, None)
            return 0.0
        r, k = loc
        v, stops = self.routes[r]
        demand = self.dem.pop(customer)
        new = tidy(model, v, stops[:k] + stops[k + 1 :])
        got = model.evaluate(self.day, v, new, self.dem)
        if got is None:
            alt = split(model, v, [s for s in new if s >= 0], self.dem)
            if alt is not None:
                new = alt
                got = model.evaluate(self.day, v, alt, self.dem)
        if got is None:
            self.dem[customer] = demand
            return None
        before = self.costs[r]
        if not new:
            del self.routes[r], self.costs[r], self.durs[r]
            return -before
        self.routes[r][1] = new
        self.costs[r], self.durs[r] = got
        return got[0] - before


def insertion_options(
    model: RouteModel,
    day: DayRoutes,
    customer: int,
    demand: Demand,
    *,
    limit: int = 6,
) -> list[tuple[float, int, list[int]]]:
    """Feasible ways to add ``customer`` to ``day``: (cost change, route, new stops).

    ``route`` is -1 - vehicle for a new route on an idle vehicle. The cheapest few
    positions of every route are priced exactly; an overloaded trip gets its
    unloading stops re-planned (:func:`split`).
    """
    u = model.node[customer]
    d = day.day
    out: list[tuple[float, int, list[int]]] = []
    dem = day.dem
    had = customer in dem
    old = dem.get(customer)
    dem[customer] = demand
    try:
        for r, (v, stops) in enumerate(day.routes):
            if model.simple:
                got_opt = _simple_option(model, day, r, customer, demand)
                if got_opt is not None:
                    out.append(got_opt)
                continue
            a = model.A[v]
            dep = model.depot[v]
            seq = [dep, *(model.node[s] if s >= 0 else -1 - s for s in stops), dep]
            cands = sorted(
                (a[seq[g]][u] + a[u][seq[g + 1]] - a[seq[g]][seq[g + 1]], g)
                for g in range(len(seq) - 1)
            )
            resplit = 0
            for _, g in cands[:limit]:
                new = [*stops[:g], customer, *stops[g:]]
                if g == len(stops) and stops and stops[-1] < 0:
                    new = tidy(model, v, new)
                got = model.evaluate(d, v, new, dem)
                if got is None and resplit < 2:
                    resplit += 1
                    alt = split(model, v, [s for s in new if s >= 0], dem)
                    if alt is not None:
                        got = model.evaluate(d, v, alt, dem)
                        new = alt
                if got is not None:
                    out.append((got[0] - day.costs[r], r, new))
        used = {v for v, _ in day.routes}
        seen_types: set[tuple[int, ...]] = set()
        for v in model.problem.vehicles_on(d):
            if v in used:
                continue
            sig = (model.depot[v], id(model.A[v]), model.maxdur[v], hash(model.cap[v]))
            if sig in seen_types:
                continue
            seen_types.add(sig)
            new = tidy(model, v, [customer])
            got = model.evaluate(d, v, new, dem)
            if got is not None:
                out.append((got[0], -1 - v, new))
    finally:
        if had:
            dem[customer] = old
        else:
            del dem[customer]
    out.sort(key=lambda t: t[0])
    return out


def _simple_option(
    model: RouteModel, day: DayRoutes, r: int, customer: int, demand: Demand
) -> tuple[float, int, list[int]] | None:
    """The cheapest feasible insertion into route ``r`` when a route's duration is
    travel plus service (no windows, no breaks): every gap priced exactly in O(1)."""
    v, stops = day.routes[r]
    t = model.T[v]
    dr = model.D[v]
    one = model.one
    cap = model.cap[v]
    model.work += 2 * len(stops)
    n = len(stops)
    loads = _gap_loads(model, v, stops, day.dem)
    seq = [model.depot[v], *(model.node[s] if s >= 0 else -1 - s for s in stops), model.depot[v]]
    u = model.node[customer]
    serve = model.service[customer]
    slack = model.maxdur[v] - day.durs[r] - serve
    cpd, cpt = model.cpd[v], model.cpt[v]
    dur_obj = model.duration_objective
    pen = model.penalty
    best: tuple[float, int] | None = None
    over: tuple[float, int] | None = None
    for g in range(n + 1):
        lg = loads[g]
        if lg is None:
            continue
        x, y = seq[g], seq[g + 1]
        dt = t[x][u] + t[u][y] - t[x][y]
        extra = 0.0
        if dt > slack:
            if not pen:
                continue
            extra = pen * (min(dt - slack, dt + serve) if slack >= 0 else dt + serve)
        if dur_obj:
            dc = float(dt) + extra
        else:
            dc = cpd * (dr[x][u] + dr[u][y] - dr[x][y]) + cpt * (dt + serve) + extra
        if one:
            fits = lg + demand <= cap
        else:
            fits = all(p + q <= c for p, q, c in zip(lg, demand, cap, strict=True))
        if fits:
            if best is None or dc < best[0]:
                best = (dc, g)
        elif over is None or dc < over[0]:
            over = (dc, g)
    out: tuple[float, int, list[int]] | None = None
    if best is not None:
        g = best[1]
        out = (best[0], r, [*stops[:g], customer, *stops[g:]])
    if over is not None and (best is None or over[0] < best[0]):
        # The cheapest place overloads its trip: re-plan the unloading stops.
        alt = _resplit_option(model, day, r, customer, demand, over[1])
        if alt is not None and (out is None or alt[0] < out[0]):
            out = alt
    return out


def _gap_loads(
    model: RouteModel, v: int, stops: Sequence[int], dem: dict[int, Demand]
) -> list[Any]:
    """Per gap ``g`` (before ``stops[g]``; ``len(stops)``: the end), the load of the trip
    a customer inserted there joins; ``None`` where no customer may go (after the
    last unload, when the vehicle's depot is no facility)."""
    one = model.one
    n = len(stops)
    loads: list[Any] = [None] * (n + 1)
    trip_start = 0
    empty: Any = 0 if one else (0,) * model.ndim
    load = empty
    for k, s in enumerate(stops):
        if s >= 0:
            d = dem[s]
            load = load + d if one else tuple(p + q for p, q in zip(load, d, strict=True))
        else:
            for g in range(trip_start, k + 1):
                loads[g] = load
            trip_start = k + 1
            load = empty
    for g in range(trip_start, n + 1):
        loads[g] = load
    if not (model.unloads_home[v] or (n > 0 and stops[-1] >= 0)):
        loads[n] = None
    return loads


def _resplit_option(
    model: RouteModel, day: DayRoutes, r: int, customer: int, demand: Demand, g: int
) -> tuple[float, int, list[int]] | None:
    """Route ``r`` with ``customer`` before stop ``g`` and its unloading re-planned."""
    v, stops = day.routes[r]
    dem = day.dem
    had = customer in dem
    old = dem.get(customer)
    dem[customer] = demand
    try:
        order = [s for s in [*stops[:g], customer, *stops[g:]] if s >= 0]
        alt = split(model, v, order, dem)
        got = model.evaluate(day.day, v, alt, dem) if alt is not None else None
    finally:
        if had:
            dem[customer] = old
        else:
            del dem[customer]
    if alt is None or got is None:
        return None
    return got[0] - day.costs[r], r, alt


def apply_insertion(
    model: RouteModel,
    day: DayRoutes,
    customer: int,
    demand: Demand,
    option: tuple[float, int, list[int]],
) -> None:
    """Carry out an option of :func:`insertion_options`."""
    _, r, stops = option
    day.dem[customer] = demand
    ok = day.add_route(model, -1 - r, stops) if r < 0 else day.set_route(model, r, stops)
    if not ok:  # pragma: no cover - options are priced on the same state
        raise RuntimeError("An insertion option no longer fits its day.")
