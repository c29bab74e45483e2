"""Local search on one day's routes, priced exactly (see :mod:`planner.solve._routes`).

:func:`improve_day` is a first-improvement descent (relocate, swap, 2-opt*, 2-opt,
re-planned unloading stops); :func:`eliminate_route` tries a day with one route
fewer; :func:`shake_day` is ruin and recreate inside a day.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from planner.solve._routes import (
    DayRoutes,
    RouteModel,
    apply_insertion,
    insertion_options,
    split,
    tidy,
)


def improve_day(
    model: RouteModel,
    day: DayRoutes,
    rng: random.Random,
    *,
    focus: Sequence[int] | None = None,
    max_moves: int = 10_000,
    deadline: float | None = None,
    now: Callable[[], float] = time.monotonic,
) -> None:
    """First-improvement local search on one day's routes (exact prices).

    Moves: relocate a customer next to a near customer, swap two customers, exchange
    route tails (2-opt*), 2-opt inside a route, and re-plan a route's unloading
    stops. Only customers in ``focus`` (and their near neighbours) are tried first;
    every move made queues the customers and routes it touched. ``None``: all.
    Stops early at ``deadline`` (a value of ``now``, by default ``time.monotonic()``).
    """
    ls = _LocalSearch(model, day)
    if focus is None:
        queue = [s for _, st in day.routes for s in st if s >= 0]
        dirty = {v for v, _ in day.routes}
    else:
        present = set(ls.where)
        seeds = [u for u in focus if u in present]
        queue = list(seeds)
        for u in seeds:
            queue += [w for w in model.near[u][:8] if w in present]
        dirty = {day.routes[ls.where[u][0]][0] for u in seeds}
        queue = list(dict.fromkeys(queue))
    rng.shuffle(queue)
    queued = set(queue)
    moves = 0
    steps = 0
    while (queue or dirty) and moves < max_moves:
        while queue and moves < max_moves:
            steps += 1
            if deadline is not None and steps % 16 == 0 and now() >= deadline:
                return
            u = queue.pop()
            queued.discard(u)
            touched = ls.relocate(u) or ls.swap(u) or ls.tails(u)
            if touched:
                moves += 1
                for w in touched:
                    if w not in queued:
                        queued.add(w)
                        queue.append(w)
                dirty.update(ls.last_vehicles)
        for v in sorted(dirty):
            r = next((k for k, (vv, _) in enumerate(day.routes) if vv == v), None)
            if r is None:
                continue
            while ls.two_opt(r) or ls.resplit(r):
                moves += 1
                for w in ls.last_customers:
                    if w not in queued:
                        queued.add(w)
                        queue.append(w)
                r = next((k for k, (vv, _) in enumerate(day.routes) if vv == v), None)
                if r is None or moves >= max_moves:
                    break
        dirty = set()


class _LocalSearch:
    """The moves of :func:`improve_day`, with each route's node sequence cached."""

    def __init__(self, model: RouteModel, day: DayRoutes) -> None:
        self.m = model
        self.day = day
        self.last_vehicles: list[int] = []
        self.last_customers: list[int] = []
        self.resplit_moves = True
        self.refresh()

    def refresh(self) -> None:
        m = self.m
        node = m.node
        self.seqs = []
        self.where: dict[int, tuple[int, int]] = {}
        for r, (v, st) in enumerate(self.day.routes):
            dep = m.depot[v]
            self.seqs.append([dep, *(node[s] if s >= 0 else -1 - s for s in st), dep])
            for k, s in enumerate(st):
                if s >= 0:
                    self.where[s] = (r, k)

    def apply(self, changes: list[tuple[int, list[int]]]) -> bool:
        """Apply route replacements when their exact total is lower."""
        m, day = self.m, self.day
        before = 0.0
        after = 0.0
        priced: list[tuple[int, list[int], tuple[float, int]]] = []
        for r, stops in changes:
            v = day.routes[r][0]
            stops = tidy(m, v, stops)
            got = m.evaluate(day.day, v, stops, day.dem)
            if self.resplit_moves:
                alt = split(m, v, [s for s in stops if s >= 0], day.dem)
                if alt is not None and alt != stops:
                    got2 = m.evaluate(day.day, v, alt, day.dem)
                    if got2 is not None and (got is None or got2[0] < got[0]):
                        stops, got = alt, got2
            if got is None:
                return False
            before += day.costs[r]
            after += got[0]
            priced.append((r, stops, got))
        if after >= before - 1e-9:
            return False
        empty = []
        self.last_vehicles = []
        self.last_customers = []
        for r, stops, got in priced:
            self.last_vehicles.append(day.routes[r][0])
            self.last_customers += [s for s in stops if s >= 0]
            day.routes[r][1] = stops
            day.costs[r], day.durs[r] = got
            if not stops:
                empty.append(r)
        for r in sorted(empty, reverse=True):
            del day.routes[r], day.costs[r], day.durs[r]
        self.refresh()
        return True

    def _near_moved(self) -> list[int]:
        """Customers next to those the last move touched (by position in routes)."""
        out: list[int] = []
        for v in self.last_vehicles:
            r = next((k for k, (vv, _) in enumerate(self.day.routes) if vv == v), None)
            if r is not None:
                out += [s for s in self.day.routes[r][1] if s >= 0]
        return out

    def relocate(self, u: int) -> list[int]:
        loc = self.where.get(u)
        if loc is None:
            return []
        m, day, where = self.m, self.day, self.where
        r1, k1 = loc
        v1, st1 = day.routes[r1]
        a1 = m.A[v1]
        seq1 = self.seqs[r1]
        un = m.node[u]
        gain = a1[seq1[k1]][un] + a1[un][seq1[k1 + 2]] - a1[seq1[k1]][seq1[k1 + 2]]
        for w in m.near[u]:
            loc2 = where.get(w)
            if loc2 is None:
                continue
            r2, k2 = loc2
            v2, st2 = day.routes[r2]
            a2 = m.A[v2]
            seq2 = self.seqs[r2]
            for g in (k2, k2 + 1):  # before w, after w (gap index in stops)
                if r2 == r1 and g in (k1, k1 + 1):
                    continue
                x, y = seq2[g], seq2[g + 1]
                add = a2[x][un] + a2[un][y] - a2[x][y]
                if add - gain >= -1e-9:
                    continue
                if r2 == r1:
                    new = list(st1)
                    new.insert(g, u)
                    new.pop(k1 if g > k1 else k1 + 1)
                    if self.apply([(r1, new)]):
                        return self._near_moved()
                else:
                    n1 = st1[:k1] + st1[k1 + 1 :]
                    n2 = [*st2[:g], u, *st2[g:]]
                    if self.apply([(r1, n1), (r2, n2)]):
                        return self._near_moved()
        return []

    def swap(self, u: int) -> list[int]:
        loc = self.where.get(u)
        if loc is None:
            return []
        m, day, where = self.m, self.day, self.where
        r1, k1 = loc
        un = m.node[u]
        for w in m.near[u]:
            loc2 = where.get(w)
            if loc2 is None:
                continue
            r2, k2 = loc2
            if r1 == r2 and abs(k1 - k2) <= 1:
                continue
            v1, st1 = day.routes[r1]
            v2, st2 = day.routes[r2]
            s1, s2 = self.seqs[r1], self.seqs[r2]
            wn = m.node[w]
            a1, a2 = m.A[v1], m.A[v2]
            delta = (
                a1[s1[k1]][wn]
                + a1[wn][s1[k1 + 2]]
                - a1[s1[k1]][un]
                - a1[un][s1[k1 + 2]]
                + a2[s2[k2]][un]
                + a2[un][s2[k2 + 2]]
                - a2[s2[k2]][wn]
                - a2[wn][s2[k2 + 2]]
            )
            if delta >= -1e-9:
                continue
            if r1 == r2:
                new = list(st1)
                new[k1], new[k2] = w, u
                if self.apply([(r1, new)]):
                    return self._near_moved()
            else:
                n1, n2 = list(st1), list(st2)
                n1[k1], n2[k2] = w, u
                if self.apply([(r1, n1), (r2, n2)]):
                    return self._near_moved()
        return []

    def tails(self, u: int) -> list[int]:
        """2-opt*: route 1 up to ``u`` then route 2 from a near ``w`` on, and vice versa."""
        loc = self.where.get(u)
        if loc is None:
            return []
        m, day, where = self.m, self.day, self.where
        r1, k1 = loc
        for w in m.near[u]:
            loc2 = where.get(w)
            if loc2 is None or loc2[0] == r1:
                continue
            r2, k2 = loc2
            v1, st1 = day.routes[r1]
            v2, st2 = day.routes[r2]
            s1, s2 = self.seqs[r1], self.seqs[r2]
            a1, a2 = m.A[v1], m.A[v2]
            # new1 = st1[:k1+1] + st2[k2:], new2 = st2[:k2] + st1[k1+1:]
            delta = (
                a1[s1[k1 + 1]][s2[k2 + 1]]
                + a2[s2[k2]][s1[k1 + 2]]
                - a1[s1[k1 + 1]][s1[k1 + 2]]
                - a2[s2[k2]][s2[k2 + 1]]
            )
            if delta >= -1e-9:
                continue
            n1 = st1[: k1 + 1] + st2[k2:]
            n2 = st2[:k2] + st1[k1 + 1 :]
            if self.apply([(r1, n1), (r2, n2)]):
                return self._near_moved()
        return []

    def two_opt(self, r: int) -> bool:
        """Reverse a stretch of route ``r`` (asymmetric costs priced exactly)."""
        if r >= len(self.day.routes):
            return False
        v, st = self.day.routes[r]
        a = self.m.A[v]
        seq = self.seqs[r]
        n = len(seq)
        fwd = [0.0] * n
        bwd = [0.0] * n
        for k in range(1, n):
            fwd[k] = fwd[k - 1] + a[seq[k - 1]][seq[k]]
            bwd[k] = bwd[k - 1] + a[seq[k]][seq[k - 1]]
        for i in range(1, n - 2):
            ai = a[seq[i - 1]]
            for j in range(i + 1, n - 1):
                old = ai[seq[i]] + (fwd[j] - fwd[i]) + a[seq[j]][seq[j + 1]]
                new = ai[seq[j]] + (bwd[j] - bwd[i]) + a[seq[i]][seq[j + 1]]
                if new - old < -1e-9:
                    cand = st[: i - 1] + st[i - 1 : j][::-1] + st[j:]
                    if self.apply([(r, cand)]):
                        return True
        return False

    def resplit(self, r: int) -> bool:
        v, st = self.day.routes[r]
        alt = split(self.m, v, [s for s in st if s >= 0], self.day.dem)
        if alt is None or alt == st:
            return False
        return self.apply([(r, alt)])


def eliminate_route(model: RouteModel, day: DayRoutes, rng: random.Random) -> bool:
    """Try to serve a day with one route fewer: the cheapest route's customers go into
    the other routes, which may run over their duration limit (at a price) until
    local search brings them back within it. Kept when feasible and cheaper."""
    if not model.simple or len(day.routes) < 2:
        return False
    r = min(range(len(day.routes)), key=lambda k: (day.costs[k], k))
    trial = day.copy()
    custs = [s for s in trial.routes[r][1] if s >= 0]
    del trial.routes[r], trial.costs[r], trial.durs[r]
    rng.shuffle(custs)
    saved = model.penalty
    model.penalty = 4.0 * max(model.cpt) if not model.duration_objective else 4.0
    try:
        for c in custs:
            d = trial.dem.pop(c)
            opts = [o for o in insertion_options(model, trial, c, d) if o[1] >= 0]
            if not opts:
                return False
            apply_insertion(model, trial, c, d, opts[0])
        improve_day(model, trial, rng)
    finally:
        model.penalty = saved
    for k, (v, st) in enumerate(trial.routes):
        got = model.evaluate(trial.day, v, st, trial.dem)
        if got is None:
            return False
        trial.costs[k], trial.durs[k] = got
    if trial.cost >= day.cost - 1e-9:
        return False
    day.routes, day.costs, day.durs = trial.routes, trial.costs, trial.durs
    return True


def shake_day(model: RouteModel, day: DayRoutes, rng: random.Random, rounds: int) -> bool:
    """Ruin and recreate inside one day: a few near customers leave their routes and
    come back by regret, local search follows; kept when cheaper."""
    improved = False
    for _ in range(rounds):
        custs = [s for _, st in day.routes for s in st if s >= 0]
        if len(custs) < 3:
            break
        k = rng.randint(2, max(2, min(len(custs) // 2, 12)))
        seed = custs[rng.randrange(len(custs))]
        present = set(custs)
        near = [w for w in model.near[seed] if w in present]
        chosen = [seed]
        while len(chosen) < k and near:
            chosen.append(near.pop(min(int(len(near) * rng.random() ** 2), len(near) - 1)))
        trial = day.copy()
        dems = {}
        for c in chosen:
            dems[c] = trial.dem[c]
            if trial.remove(model, c) is None:
                return improved
        todo = list(chosen)
        ok = True
        while todo:
            scored = []
            for c in todo:
                opts = insertion_options(model, trial, c, dems[c], limit=3)
                if not opts:
                    ok = False
                    break
                reg = (opts[1][0] if len(opts) > 1 else opts[0][0] + 1e6) - opts[0][0]
                scored.append((-reg, opts[0][0], c, opts[0]))
            if not ok:
                break
            scored.sort(key=lambda t: (t[0], t[1], t[2]))
            _, _, c, opt = scored[0]
            apply_insertion(model, trial, c, dems[c], opt)
            todo.remove(c)
        if not ok:
            continue
        improve_day(model, trial, rng, focus=chosen)
        if trial.cost < day.cost - 1e-9:
            day.routes, day.costs, day.durs, day.dem = (
                trial.routes,
                trial.costs,
                trial.durs,
                trial.dem,
            )
            improved = True
    return improved
