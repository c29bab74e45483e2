"""Large neighbourhood search on the calendar, priced with real routes.

A :class:`Plan` holds a pattern per customer and every day's routes. One step of
the search takes a few *related* customers (near each other, or sharing a route)
out of all their days, puts them back one by one with regret -- each customer on
the pattern whose days take it most cheaply, priced by exact insertion into the
routes -- improves the days it touched with local search, and keeps the result by
simulated annealing. The objective is lexicographic: every visit left unrouted
costs :data:`UNSERVED`, more than any route.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from planner.solve._daysearch import eliminate_route, improve_day, shake_day
from planner.solve._routes import (
    DayRoutes,
    RouteModel,
    apply_insertion,
    insertion_options,
    tidy,
)
from planner.solve.problem import DaySolution, DayVisit, Route

UNSERVED = 1e7
"""What an unrouted visit costs in the search (more than any route)."""


class Plan:
    """Patterns and routes; ``unrouted[d]`` are customers whose visit on day ``d``
    is in no route."""

    def __init__(self, model: RouteModel, patterns: list[int | None]) -> None:
        self.model = model
        self.patterns = patterns
        n = model.problem.num_days
        self.days = [DayRoutes(d, {}) for d in range(n)]
        self.unrouted: list[set[int]] = [set() for _ in range(n)]

    def copy(self) -> Plan:
        out = Plan.__new__(Plan)
        out.model = self.model
        out.patterns = list(self.patterns)
        out.days = [d.copy() for d in self.days]
        out.unrouted = [set(u) for u in self.unrouted]
        return out

    @property
    def cost(self) -> float:
        return sum(d.cost for d in self.days)

    @property
    def missing(self) -> int:
        return sum(len(u) for u in self.unrouted)

    @property
    def objective(self) -> float:
        return self.cost + UNSERVED * self.missing

    def days_of(self, i: int) -> tuple[int, ...]:
        q = self.patterns[i]
        if q is None:
            return ()
        return self.model.problem.customers[i].patterns[q].days

    # ------------------------------------------------------------ conversion
    def set_day(self, ds: DaySolution, visits: Sequence[DayVisit]) -> None:
        """Take a routed day (visits numbered as ``visits``) into the plan."""
        m = self.model
        d = ds.day
        day = DayRoutes(d, {})
        for v in visits:
            q = self.patterns[v.customer]
            if q is not None:
                day.dem[v.customer] = m.dem[v.customer][q][d]
        routed: set[int] = set()
        for r in ds.routes:
            stops = [
                visits[k].customer if k >= 0 else -1 - node
                for node, k in zip(r.stops, r.visits, strict=True)
            ]
            stops = tidy(m, r.vehicle, stops)
            if not stops:
                continue
            if day.add_route(m, r.vehicle, stops):
                routed.update(s for s in stops if s >= 0)
        for c in [c for c in day.dem if c not in routed]:
            del day.dem[c]
        self.days[d] = day
        self.unrouted[d] = {v.customer for v in visits if v.customer not in routed}

    def day_solution(self, d: int, visits: Sequence[DayVisit]) -> DaySolution:
        index = {v.customer: k for k, v in enumerate(visits)}
        routes = []
        seen: set[int] = set()
        for vehicle, stops in self.days[d].routes:
            nodes = tuple(self.model.node[s] if s >= 0 else -1 - s for s in stops)
            vis = tuple(index[s] if s >= 0 else -1 for s in stops)
            seen.update(s for s in stops if s >= 0)
            routes.append(Route(vehicle, nodes, vis))
        routes.sort(key=lambda r: r.vehicle)
        unrouted = tuple(k for k, v in enumerate(visits) if v.customer not in seen)
        return DaySolution(d, tuple(routes), unrouted)

    # ------------------------------------------------------------- editing
    def remove_customer(self, i: int) -> bool:
        """Take customer ``i`` off all its days (its pattern becomes ``None``)."""
        q = self.patterns[i]
        if q is None:
            return True
        days = self.days_of(i)
        snapshot = {d: self.days[d].copy() for d in days}
        for d in days:
            if i in self.unrouted[d]:
                continue
            if self.days[d].remove(self.model, i) is None:
                for dd, saved in snapshot.items():
                    self.days[dd] = saved
                return False
        for d in days:
            self.unrouted[d].discard(i)
        self.patterns[i] = None
        return True

    def insert_customer(
        self, i: int, q: int, options: dict[int, tuple[float, int, list[int]] | None]
    ) -> None:
        """Put customer ``i`` on pattern ``q`` with the given per-day insertions."""
        m = self.model
        self.patterns[i] = q
        for d in m.problem.customers[i].patterns[q].days:
            opt = options.get(d)
            if opt is None:
                self.unrouted[d].add(i)
            else:
                apply_insertion(m, self.days[d], i, m.dem[i][q][d], opt)


def day_option(
    plan: Plan, i: int, q: int, d: int, limit: int
) -> tuple[float, int, list[int]] | None:
    opts = insertion_options(plan.model, plan.days[d], i, plan.model.dem[i][q][d], limit=limit)
    return opts[0] if opts else None


@dataclass
class LNSConfig:
    """Knobs of :func:`lns` (the defaults are tuned on the PVRP-IF benchmarks)."""

    min_remove: int = 1  # customers taken out per step, at least
    max_remove: int = 12  # and at most
    insert_limit: int = 6  # positions per route priced exactly (windows, breaks)
    noise: float = 0.05  # relative noise on insertion prices
    start_temperature: float = 0.02  # share of the cost accepted uphill at the start
    cycle: int = 400  # steps per cooling cycle (each restarts from the best plan)
    eliminate: float = 0.3  # chance to try a touched day with one route fewer
    shake: int = 0  # ruin-and-recreate rounds inside each touched day
    group: float = 0.3  # chance that the customers taken out move together
    route_group: float = 0.05  # chance that a route's customers move together
    penalty: float = 1.0  # first price of a minute over a route's limit (0: hard)


def regret_insert(
    plan: Plan,
    customers: list[int],
    rng: random.Random,
    cfg: LNSConfig,
    forced: dict[int, int] | None = None,
) -> set[int]:
    """Insert ``customers`` (patterns None) by regret over their patterns (only the
    pattern ``forced[i]`` when given); returns the days changed."""
    m = plan.model
    custs = m.problem.customers
    limit = cfg.insert_limit if m.simple else 2
    # Keyed by customer, day and demand: patterns sharing a day share the price.
    cache: dict[tuple[int, int, object], tuple[float, int, list[int]] | None] = {}
    changed: set[int] = set()
    todo = list(customers)

    def price(i: int) -> tuple[float, float, int, dict[int, tuple[float, int, list[int]] | None]]:
        best: list[tuple[float, int]] = []
        for q, pat in enumerate(custs[i].patterns):
            if forced is not None and i in forced and forced[i] != q:
                continue
            total = 0.0
            for d in pat.days:
                key = (i, d, m.dem[i][q][d])
                if key not in cache:
                    cache[key] = day_option(plan, i, q, d, limit)
                opt = cache[key]
                total += UNSERVED if opt is None else opt[0]
            if cfg.noise > 0:
                total *= 1.0 + cfg.noise * (2 * rng.random() - 1)
            best.append((total, q))
        best.sort()
        first = best[0]
        regret = best[1][0] - first[0] if len(best) > 1 else UNSERVED - first[0] / 2
        q = first[1]
        chosen = {d: cache[(i, d, m.dem[i][q][d])] for d in custs[i].patterns[q].days}
        return first[0], regret, q, chosen

    while todo:
        scored = []
        for i in todo:
            cost, regret, q, chosen = price(i)
            scored.append((-regret, cost, i, q, chosen))
        scored.sort(key=lambda t: (t[0], t[1], t[2]))
        _, _, i, q, chosen = scored[0]
        plan.insert_customer(i, q, chosen)
        todo.remove(i)
        days = custs[i].patterns[q].days
        changed.update(days)
        for key in [k for k in cache if k[1] in days]:
            del cache[key]
    return changed


def related(plan: Plan, rng: random.Random, k: int, movable: Sequence[int]) -> list[int]:
    """``k`` customers near a random seed customer (Shaw-like relatedness)."""
    m = plan.model
    missing = sorted({i for u in plan.unrouted for i in u})
    seed = missing[0] if missing else movable[rng.randrange(len(movable))]
    chosen = [seed, *[i for i in missing if i != seed]]
    pool = [j for j in m.near[seed] if plan.patterns[j] is not None and j not in chosen]
    # Mostly the nearest, with some randomness.
    while len(chosen) < k and pool:
        idx = min(int(len(pool) * rng.random() ** 3), len(pool) - 1)
        chosen.append(pool.pop(idx))
    return chosen[: max(k, min(len(missing), 24))]


def group_target(plan: Plan, chosen: list[int], rng: random.Random) -> dict[int, int]:
    """Patterns moving ``chosen`` together: the first one's days change to another of
    its patterns, and each other customer takes its pattern closest to those days."""
    custs = plan.model.problem.customers
    first = chosen[0]
    cur = plan.patterns[first]
    others = [q for q in range(len(custs[first].patterns)) if q != cur]
    if not others:
        return {}
    target = set(custs[first].patterns[others[rng.randrange(len(others))]].days)
    out: dict[int, int] = {}
    for i in chosen:
        pats = custs[i].patterns
        if not pats:
            continue
        scores = [
            (len(target & set(p.days)) * 2 - len(target ^ set(p.days)), rng.random(), q)
            for q, p in enumerate(pats)
        ]
        out[i] = max(scores)[2]
    return out


def route_segment(plan: Plan, rng: random.Random, k: int) -> list[int]:
    """``k`` consecutive customers of a random route."""
    routes = [(d, st) for d, day in enumerate(plan.days) for _, st in day.routes]
    if not routes:
        return []
    _, st = routes[rng.randrange(len(routes))]
    custs = [s for s in st if s >= 0]
    if len(custs) <= k:
        return custs
    start = rng.randrange(len(custs) - k + 1)
    return custs[start : start + k]


def lns(  # noqa: C901, PLR0915 - the annealing loop's state stays local for speed
    plan: Plan,
    rng: random.Random,
    *,
    should_stop: Callable[[], bool],
    max_iterations: int,
    cfg: LNSConfig,
    on_iteration: Callable[[int, Plan], None] | None = None,
    on_best: Callable[[Plan], None] | None = None,
    until_complete: bool = False,
) -> tuple[Plan, int]:
    """Simulated annealing over destroy-and-repair steps; returns the best plan and
    the number of steps taken. ``until_complete``: stop once every visit is routed
    (the repair of a calendar that is otherwise kept)."""
    m = plan.model
    custs = m.problem.customers
    movable = [i for i, c in enumerate(custs) if c.patterns and plan.patterns[i] is not None]
    movable = [i for i in movable if len(custs[i].patterns) > 1] or movable
    if not movable:
        return plan, 0
    best = plan.copy()
    current = plan
    t0 = cfg.start_temperature * max(1.0, best.cost)
    # Soft route durations: a route may run over its limit at a price, adapted so
    # that the search spends about half its steps on each side of feasibility.
    soft = m.simple and cfg.penalty > 0
    unit = 1.0 if m.duration_objective else max(max(m.cpt), 1e-9)
    lam = cfg.penalty * unit
    window = [0, 0]
    it = 0
    try:
        if soft:
            m.penalty = lam
        while it < max_iterations and not should_stop():
            if until_complete and best.missing == 0:
                break
            it += 1
            phase = (it % cfg.cycle) / cfg.cycle
            temp = t0 * (1.0 - phase)
            if it % cfg.cycle == 0:
                current = best.copy()
                if soft:
                    reprice(current)
            k = rng.randint(cfg.min_remove, max(cfg.min_remove, min(cfg.max_remove, len(movable))))
            roll = rng.random()
            forced: dict[int, int] | None = None
            if roll < cfg.route_group:
                # A whole route (or most of it) moves to other days together.
                chosen = route_segment(current, rng, rng.randint(k, 2 * cfg.max_remove))
                chosen = [i for i in chosen if len(custs[i].patterns) > 1]
                if not chosen:
                    continue
                rng.shuffle(chosen)
                forced = group_target(current, chosen, rng)
            elif roll < cfg.route_group + cfg.group:
                chosen = related(current, rng, k, movable)
                forced = group_target(current, chosen, rng)
            elif roll < 0.8:
                chosen = related(current, rng, k, movable)
            else:
                chosen = route_segment(current, rng, k) or related(current, rng, k, movable)
            trial = current.copy()
            removed = []
            touched: set[int] = set()
            for i in chosen:
                days = trial.days_of(i)
                if trial.remove_customer(i):
                    removed.append(i)
                    touched.update(days)
            if not removed:
                continue
            touched |= regret_insert(trial, removed, rng, cfg, forced)
            for d in sorted(touched):
                improve_day(m, trial.days[d], rng, focus=removed)
                if len(trial.days[d].routes) > 1 and rng.random() < cfg.eliminate:
                    eliminate_route(m, trial.days[d], rng)
                if cfg.shake:
                    shake_day(m, trial.days[d], rng, cfg.shake)
            delta = trial.objective - current.objective
            if delta < -1e-9 or (temp > 0 and rng.random() < math.exp(-delta / temp)):
                current = trial
            feasible = not soft or excess(trial) == 0
            if feasible and trial.objective < best.objective - 1e-9:
                best = trial.copy()
                if on_best is not None:
                    on_best(best)
            if soft:
                window[0] += 1
                window[1] += excess(current) == 0
                if window[0] >= 50:
                    share = window[1] / window[0]
                    if share < 0.4:
                        lam = min(lam * 1.3, 100 * unit)
                    elif share > 0.6:
                        lam = max(lam / 1.3, 0.05 * unit)
                    window = [0, 0]
                    m.penalty = lam
                    reprice(current)
            if on_iteration is not None:
                on_iteration(it, best)
    finally:
        m.penalty = 0.0
    return best, it


def excess(plan: Plan) -> int:
    """Total time by which routes run over their duration limit."""
    m = plan.model
    return sum(
        max(0, dur - m.maxdur[v])
        for day in plan.days
        for (v, _), dur in zip(day.routes, day.durs, strict=True)
    )


def reprice(plan: Plan) -> None:
    """Price every route again (after the duration penalty changed)."""
    m = plan.model
    for day in plan.days:
        for k, (v, st) in enumerate(day.routes):
            got = m.evaluate(day.day, v, st, day.dem)
            if got is not None:
                day.costs[k], day.durs[k] = got


def random_plan(model: RouteModel, rng: random.Random, cfg: LNSConfig) -> Plan:
    """A plan from random patterns, each visit inserted where it is cheapest."""
    custs = model.problem.customers
    plan = Plan(model, [None] * len(custs))
    order = [i for i, c in enumerate(custs) if c.patterns]
    rng.shuffle(order)
    limit = cfg.insert_limit if model.simple else 2
    for i in order:
        q = rng.randrange(len(custs[i].patterns))
        chosen = {d: day_option(plan, i, q, d, limit) for d in custs[i].patterns[q].days}
        plan.insert_customer(i, q, chosen)
    for day in plan.days:
        improve_day(model, day, rng)
    return plan
