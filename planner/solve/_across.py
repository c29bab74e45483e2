"""After a cut month is merged: visits a piece left unserved, put on any depot's truck.

A piece's trucks may be too few on a day while a neighbouring depot's truck has room
(the cut gives each point to its nearest depot only). Each unserved visit of the
merged month is inserted where it is cheapest among every truck working that day
(:func:`~planner.solve.engines.finish.insert_visits`, exact schedules), first keeping
the day's windows, then with its own window opened to the whole day. A point
whose visit still fits nowhere on its day moves to another of its patterns where
every visit fits (at most :data:`PATTERN_TRIES` patterns, the cheapest kept). A point's
announced window is widened (on the grid, inside the bounds) wherever an arrival
moved outside it. No clock is read: the work is bounded by the unserved visits.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from planner.solve.engines.finish import insert_visits
from planner.solve.problem import DaySolution, PeriodicProblem, Route, day_visits
from planner.solve.schedule import day_cost, schedule_route

Window = tuple[int, int]
PATTERN_TRIES = 8  # other patterns tried per point still unserved (bounds the work)
MOVE_LIMIT = 60  # points moved to another pattern at most


@dataclasses.dataclass(frozen=True)
class Mended:
    """The days after the pass, the problems they were routed under, and the windows."""

    days: tuple[DaySolution, ...]
    day_problems: dict[int, PeriodicProblem]
    windows: dict[str, Window]
    placed: int
    patterns: tuple[int | None, ...]


def mend_unserved(
    problem: PeriodicProblem,
    patterns: Sequence[int | None],
    days: Sequence[DaySolution],
    day_problems: dict[int, PeriodicProblem],
    windows: dict[str, Window],
    points: Sequence[str],
    bounds: Window | None,
    step: int = 15,
) -> Mended:
    """Every day's unrouted visits inserted on any truck of the day where they fit."""
    pats = tuple(patterns)
    out_days = list(days)
    probs = dict(day_problems)
    placed = 0
    changed: list[int] = []
    for d, ds in enumerate(days):
        if not ds.unrouted:
            continue
        prob = probs.get(d, problem)
        new, prob = _mend_day(problem, prob, pats, ds)
        got = len(ds.unrouted) - len(new.unrouted)
        if got:
            placed += got
            out_days[d] = new
            if prob is not problem:
                probs[d] = prob
            changed.append(d)
    pats, moved = _move_patterns(problem, pats, out_days, probs)
    placed += moved.placed
    changed = sorted(set(changed) | moved.days)
    wins = dict(windows)
    for d in changed:
        prob = probs.get(d, problem)
        visits = day_visits(prob, pats, d)
        for r in out_days[d].routes:
            for st in schedule_route(prob, d, visits, r).steps:
                if st.kind == "visit":
                    point = points[visits[st.visit].customer]
                    wins[point] = _cover(wins.get(point), st.start, step, bounds)
    return Mended(tuple(out_days), probs, wins, placed, pats)


def _mend_day(
    base: PeriodicProblem, prob: PeriodicProblem, pats: tuple[int | None, ...], ds: DaySolution
) -> tuple[DaySolution, PeriodicProblem]:
    """One day's unrouted visits inserted, windows kept, then their own windows opened."""
    d = ds.day
    visits = day_visits(prob, pats, d)
    routes, still = insert_visits(prob, d, visits, ds.routes, ds.unrouted, math.inf)
    if still:
        # The points still out: their window opened to the scenario's (others keep theirs).
        open_ = {visits[k].customer for k in still}
        customers = tuple(
            dataclasses.replace(c, window=base.customers[i].window) if i in open_ else c
            for i, c in enumerate(prob.customers)
        )
        wider = prob.with_windows(customers)
        wide_visits = day_visits(wider, pats, d)
        more, left = insert_visits(wider, d, wide_visits, routes, still, math.inf)
        if len(left) < len(still):
            routes, still, prob = more, left, wider
    new = DaySolution(d, tuple(sorted(routes, key=lambda r: r.vehicle)), tuple(sorted(still)))
    return new, prob


def _cover(window: Window | None, t: int, step: int, bounds: Window | None) -> Window:
    """``window`` widened on the grid to hold the arrival ``t`` (inside ``bounds``)."""
    lo, hi = window if window is not None else (t // step * step, -(-t // step) * step + step)
    lo = min(lo, t // step * step)
    hi = max(hi, -(-t // step) * step)
    if bounds is not None:
        lo, hi = max(lo, min(bounds[0], t)), min(hi, max(bounds[1], t))
    return lo, hi


@dataclasses.dataclass
class _Moved:
    placed: int = 0
    days: set[int] = dataclasses.field(default_factory=set)


def _move_patterns(
    base: PeriodicProblem,
    pats: tuple[int | None, ...],
    days: list[DaySolution],
    probs: dict[int, PeriodicProblem],
) -> tuple[tuple[int | None, ...], _Moved]:
    """Points with a visit still unrouted moved to a pattern where all their visits fit.

    ``days`` and ``probs`` are updated in place; returns the new patterns.
    """
    moved = _Moved()
    stuck: set[int] = set()
    for ds in days:
        prob = probs.get(ds.day, base)
        visits = day_visits(prob, pats, ds.day)
        stuck.update(visits[k].customer for k in ds.unrouted)
    for i in sorted(stuck)[:MOVE_LIMIT]:
        old = pats[i]
        assert old is not None
        lost = sum(
            1
            for ds in days
            for k in ds.unrouted
            if day_visits(probs.get(ds.day, base), pats, ds.day)[k].customer == i
        )
        best: tuple[float, int, dict[int, tuple[DaySolution, PeriodicProblem]]] | None = None
        others = [q for q in range(len(base.customers[i].patterns)) if q != old]
        for q in others[:PATTERN_TRIES]:
            trial = _with_pattern(base, pats, days, probs, i, q)
            if trial is not None and (best is None or trial[0] < best[0]):
                best = (trial[0], q, trial[1])
        if best is None:
            continue
        pats = tuple(best[1] if j == i else p for j, p in enumerate(pats))
        for d, (ds, prob) in best[2].items():
            days[d] = ds
            if prob is not base:
                probs[d] = prob
            moved.days.add(d)
        moved.placed += lost
    return pats, moved


def _with_pattern(
    base: PeriodicProblem,
    pats: tuple[int | None, ...],
    days: Sequence[DaySolution],
    probs: dict[int, PeriodicProblem],
    i: int,
    q: int,
) -> tuple[float, dict[int, tuple[DaySolution, PeriodicProblem]]] | None:
    """Customer ``i`` on pattern ``q``: the touched days and the cost change, if all fit."""
    old = pats[i]
    assert old is not None
    cust = base.customers[i]
    new_pats = tuple(q if j == i else p for j, p in enumerate(pats))
    touched = sorted(set(cust.patterns[old].days) | set(cust.patterns[q].days))
    out: dict[int, tuple[DaySolution, PeriodicProblem]] = {}
    delta = 0.0
    for d in touched:
        prob = probs.get(d, base)
        before = day_cost(prob, d, day_visits(prob, pats, d), days[d])
        routes, left = _without(prob, pats, days[d], i)
        if d in cust.patterns[q].days:
            # Its own window opened to the scenario's on the days it moves to.
            customers = list(prob.customers)
            customers[i] = dataclasses.replace(customers[i], window=cust.window)
            prob = prob.with_windows(customers)
        visits = day_visits(prob, new_pats, d)
        where = {v.customer: k for k, v in enumerate(visits)}
        routes = [
            dataclasses.replace(r, visits=tuple(-1 if c < 0 else where[c] for c in r.visits))
            for r in routes
        ]
        unrouted = [where[c] for c in left]
        if i in where:
            routes, still = insert_visits(prob, d, visits, routes, [where[i]], math.inf)
            if still:
                return None
        if not all(schedule_route(prob, d, visits, r).feasible for r in routes):
            return None  # a route the point left is no longer feasible (a break, a window)
        ds = DaySolution(d, tuple(sorted(routes, key=lambda r: r.vehicle)), tuple(sorted(unrouted)))
        delta += day_cost(prob, d, visits, ds) - before
        out[d] = (ds, prob)
    return delta, out


def _without(
    prob: PeriodicProblem, pats: tuple[int | None, ...], ds: DaySolution, i: int
) -> tuple[list[Route], list[int]]:
    """The day's routes with customer ids for visits (-1: a station), ``i`` taken out,
    and the customers left unrouted (without ``i``)."""
    visits = day_visits(prob, pats, ds.day)
    routes = []
    for r in ds.routes:
        keep = [
            (n, visits[k].customer if k >= 0 else -1)
            for n, k in zip(r.stops, r.visits, strict=True)
        ]
        keep = [(n, c) for n, c in keep if c != i]
        if any(c >= 0 for _, c in keep):
            routes.append(
                dataclasses.replace(
                    r, stops=tuple(n for n, _ in keep), visits=tuple(c for _, c in keep)
                )
            )
    left = [visits[k].customer for k in ds.unrouted if visits[k].customer != i]
    return routes, left
