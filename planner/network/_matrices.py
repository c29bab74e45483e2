"""Travel matrices between snapped places, with SciPy's Dijkstra on CSR arrays.

How it works. The road graph becomes CSR arrays once, parallel edges reduced to the
fastest (then shortest). Each place i adds two virtual nodes: a source ``P_i`` with
edges to the ends of its road edge it can drive to (weighted by the part of the edge
it drives), and a sink ``Q_i`` with edges from the ends it can be reached from. One
Dijkstra from every ``P_i`` (in chunks, to bound memory) gives the fastest road time
to every ``Q_j``; Dijkstra itself picks the better end at both sides. Two places on
the same road piece may also drive straight along it, which is checked apart.
Connectors are added last: they do not change which road path is fastest.

Time and distance in one Dijkstra. Each edge weight packs whole milliseconds of
travel time in its high part and whole length steps (0.05 m at 80 km/h, see
:class:`Packing`) in its low part, as one float64 that stays an exact integer. The
minimum of the sum is the fastest path and, among equally fast ones, the shortest;
unpacking the sum gives both its duration and its length, with no predecessor walk
and no second pass. The price: per-edge times are rounded to 1 ms and lengths to a
few centimetres before summing (a path of 500 edges is off by well under a second).
If some path takes longer than 2**26 ms (18.6 h), Dijkstra runs again with 64 times
coarser steps.
"""

from __future__ import annotations

import math
import multiprocessing
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, dijkstra

from planner._errors import NetworkError
from planner.network._snap import Snapping, edge_line

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Dijkstra returns a row of distances over all nodes per source: keep a chunk of rows
# under ~32 MB.
_CHUNK_CELLS = 4_000_000
_TIME_STEP_S = 1e-3
_SHIFT = float(2**27)
_MAX_STEPS = float(2**26)
# A place this close to an edge end (metres) is at that node: it may leave through
# the node's other edges even on a one-way edge.
_AT_NODE_M = 1e-3


@dataclass(frozen=True)
class Matrices:
    """Travel distance and duration between places, fastest path by road.

    Parameters
    ----------
    ids
        Place ids; row and column ``i`` of both matrices are ``ids[i]``.
    distance_m
        ``distance_m[i, j]`` is the length in metres of the fastest path from place
        ``i`` to place ``j``, off-road connectors included.
    duration_s
        ``duration_s[i, j]`` is its duration in seconds.
    """

    ids: tuple[str, ...]
    distance_m: FloatArray
    duration_s: FloatArray

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            raise ValueError("Expected unique ids.")
        for name in ("distance_m", "duration_s"):
            values = np.array(getattr(self, name), dtype=np.float64)
            if values.shape != (n, n):
                raise ValueError(f"Expected {name} to be {n} x {n}, found shape {values.shape}.")
            if not (np.isfinite(values).all() and (values >= 0).all()):
                raise ValueError(f"Expected finite values >= 0 in {name}.")
            values.setflags(write=False)
            object.__setattr__(self, name, values)


def travel_matrices(
    G: nx.MultiDiGraph,
    snapping: Snapping,
    *,
    offroad_speed_kmh: float = 15.0,
    workers: int = 1,
) -> Matrices:
    """Fastest-path distance and duration between all snapped places.

    Place i to place j is: connector of i, along i's edge to one of its ends, the
    fastest road path, along j's edge, connector of j. Two places on the same road
    piece may instead drive directly along it, if its direction allows. Among
    equally fast paths the shortest counts.

    Parameters
    ----------
    G
        The graph the places were snapped on (edge ``travel_time`` and ``length``).
    snapping
        Result of :func:`snap` on ``G``.
    offroad_speed_kmh
        Speed on the connectors.
    workers
        Processes to use (this one included). Above 1, the others are started with
        ``multiprocessing``'s "spawn" method, so a calling script needs the usual
        ``if __name__ == "__main__":`` guard. Results do not depend on it.

    Returns
    -------
    Matrices
        Zero on the diagonal. Road parts are sums of per-edge times rounded to the
        millisecond and lengths rounded to a few centimetres (see the module notes).

    Raises
    ------
    NetworkError
        Some places cannot reach others by road (the message names up to five
        pairs), or ``snapping`` does not belong to ``G``.
    """
    if not offroad_speed_kmh > 0:
        raise NetworkError(f"expected offroad_speed_kmh > 0, found {offroad_speed_kmh}")
    if workers < 1:
        raise ValueError(f"Expected workers >= 1, found {workers}.")
    m = len(snapping)
    net = Network.build(G, snapping, range(m))
    packing, weights = _shortest(net, workers)
    _same_piece(net, packing, weights)
    _raise_unreachable(net, snapping, weights)
    duration, distance = packing.unpack(weights)
    speed = offroad_speed_kmh / 3.6
    connector = np.asarray(snapping.connector_m)
    duration += (connector[:, None] + connector[None, :]) / speed
    distance += connector[:, None] + connector[None, :]
    np.fill_diagonal(duration, 0.0)
    np.fill_diagonal(distance, 0.0)
    return Matrices(ids=snapping.ids, distance_m=distance, duration_s=duration)


@dataclass(frozen=True)
class Packing:
    """Time and length of an edge packed into one float64 Dijkstra weight.

    ``weight = round(time / tau) * 2**27 + round(length / delta)``: whole time steps
    above, whole length steps below. With ``delta >= tau * v_max`` (v_max: the highest
    length / time of any edge) an edge never has more length steps than time steps, so
    while a path's time stays under 2**26 steps its length fits the lower 27 bits and
    the sum stays an exact integer below 2**53.
    """

    tau: float  # seconds per time step
    delta: float  # metres per length step

    def pack(self, time: FloatArray, length: FloatArray) -> FloatArray:
        return np.rint(time / self.tau) * _SHIFT + np.rint(length / self.delta)

    def fits(self, weights: FloatArray) -> bool:
        finite = weights[np.isfinite(weights)]
        return finite.size == 0 or float(finite.max()) < _MAX_STEPS * _SHIFT

    def unpack(self, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
        finite = np.isfinite(weights)
        steps = np.floor(np.where(finite, weights, 0.0) / _SHIFT)
        time = np.where(finite, steps * self.tau, np.inf)
        length = np.where(finite, (weights - steps * _SHIFT) * self.delta, np.inf)
        return time, length


def _packing(net: Network, tau: float) -> Packing:
    """Time steps of ``tau`` seconds and the length step that goes with them."""
    moving = net.time > 0
    v_max = float(np.max(net.length[moving] / net.time[moving])) if moving.any() else 1.0
    return Packing(tau, _round_step(tau * max(v_max, 1e-9)))


def _round_step(step: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``step``.

    A decimal length step keeps whole metres and centimetres exact: 0.05 m at 80 km/h.
    """
    power = 10.0 ** math.floor(math.log10(step))
    return next(power * f for f in (1.0, 2.0, 5.0, 10.0) if power * f >= step * (1 - 1e-12))


def _shortest(net: Network, workers: int) -> tuple[Packing, FloatArray]:
    """Packing used, and packed weights from every place to every place by road."""
    sources, sinks = net.source(np.arange(net.m)), net.sink(np.arange(net.m))
    tau = _TIME_STEP_S
    while True:
        packing = _packing(net, tau)
        csr = net.csr(packing.pack(net.time, net.length))
        if workers > 1 and net.m > 1:
            weights = _rows_parallel(csr, sources, sinks, workers)
        else:
            weights = np.empty((net.m, net.m))
            chunk = max(1, _CHUNK_CELLS // net.size)
            for start in range(0, net.m, chunk):
                rows = slice(start, start + chunk)
                weights[rows] = dijkstra(csr, directed=True, indices=sources[rows])[:, sinks]
        if packing.fits(weights):
            return packing, weights
        tau *= 64  # some path takes over 18.6 h: coarser steps


def shortest_tree(net: Network, place: int) -> tuple[Packing, FloatArray, NDArray[np.int32]]:
    """Packing, packed weights to every place, and Dijkstra predecessors from one place."""
    sinks = net.sink(np.arange(net.m))
    tau = _TIME_STEP_S
    while True:
        packing = _packing(net, tau)
        csr = net.csr(packing.pack(net.time, net.length))
        found, pred = dijkstra(
            csr,
            directed=True,
            indices=int(net.source(np.array([place]))[0]),
            return_predecessors=True,
        )
        if packing.fits(found[sinks]):
            return packing, found[sinks], pred
        tau *= 64


# Worker processes keep the graph between tasks here (set by _child_setup).
_CHILD: dict[str, Any] = {}


def _child_setup(
    data: FloatArray, indices: NDArray[np.int32], indptr: NDArray[np.int32], sinks: IntArray
) -> None:
    size = len(indptr) - 1
    _CHILD["csr"] = sp.csr_array((data, indices, indptr), shape=(size, size))
    _CHILD["sinks"] = sinks


def _child_rows(sources: IntArray) -> FloatArray:
    rows: FloatArray = dijkstra(_CHILD["csr"], directed=True, indices=sources)
    return rows[:, _CHILD["sinks"]]


def _rows_parallel(
    csr: sp.csr_array, sources: IntArray, sinks: IntArray, workers: int
) -> FloatArray:
    """Dijkstra rows computed by ``workers - 1`` spawned processes and this one.

    Small chunks are handed out from the front of the queue to the processes while
    this process works from the back, so a slow process start costs little.
    """
    out = np.empty((len(sources), len(sinks)))
    size = max(1, min(_CHUNK_CELLS // csr.shape[0], -(-len(sources) // (8 * workers))))
    todo = deque(
        np.arange(start, min(len(sources), start + size)) for start in range(0, len(sources), size)
    )
    setup = (csr.data, csr.indices, csr.indptr, sinks)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers - 1, context, _child_setup, setup) as pool:
        running: dict[Future[FloatArray], IntArray] = {}
        while todo or running:
            while todo and len(running) < 2 * (workers - 1):
                rows = todo.popleft()
                running[pool.submit(_child_rows, sources[rows])] = rows
            if todo:
                rows = todo.pop()
                out[rows] = dijkstra(csr, directed=True, indices=sources[rows])[:, sinks]
            else:
                wait(running, return_when=FIRST_COMPLETED)
            for future in [f for f in running if f.done()]:
                out[running.pop(future)] = future.result()
    return out


@dataclass(frozen=True)
class _Ends:
    """Where places sit on the graph, each on its edge's canonical direction a -> b."""

    a: IntArray  # node indices
    b: IntArray
    frac: FloatArray  # position from a, 0..1
    fwd: list[tuple[Any, Any, Any]]  # the (u, v, key) labels of a -> b
    bwd: list[tuple[Any, Any, Any] | None]  # b -> a along the same line, if any
    fwd_time: FloatArray
    fwd_length: FloatArray
    bwd_time: FloatArray  # NaN without a b -> a edge
    bwd_length: FloatArray
    piece: IntArray  # equal for places on the same road piece


@dataclass(frozen=True)
class Network:
    """Road graph plus one source and one sink node per place, as sorted edge arrays.

    Node ``i < n`` is road node ``labels[i]``; ``n + p`` is the source of the p-th
    selected place and ``n + m + p`` its sink.
    """

    n: int
    m: int
    labels: list[Any]
    ends: _Ends
    src: IntArray
    dst: IntArray
    time: FloatArray
    length: FloatArray
    key: list[Any]  # the G edge key of road edges, None for virtual ones
    pair: IntArray  # src * size + dst: sorted, for finding edges

    def csr(self, weights: FloatArray) -> sp.csr_array:
        """The graph as a CSR matrix with the given edge weights."""
        indptr = np.searchsorted(self.src, np.arange(self.size + 1))
        return sp.csr_array(
            (weights, self.dst.astype(np.int32), indptr.astype(np.int32)),
            shape=(self.size, self.size),
        )

    @property
    def size(self) -> int:
        return self.n + 2 * self.m

    def source(self, p: IntArray) -> IntArray:
        return self.n + p

    def sink(self, p: IntArray) -> IntArray:
        return self.n + self.m + p

    def edge_index(self, src: IntArray, dst: IntArray) -> IntArray:
        """Positions of edges ``src -> dst`` (which must exist) in the edge arrays."""
        return np.searchsorted(self.pair, src * self.size + dst)

    @classmethod
    def build(cls, G: nx.MultiDiGraph, snapping: Snapping, places: range | list[int]) -> Network:
        labels = list(G.nodes)
        index = {label: i for i, label in enumerate(labels)}
        road_time, road_length, road = _road_edges(G, index)
        ends = _place_ends(G, snapping, places, index)
        n, m = len(labels), len(places)
        p = np.arange(m)
        ones = np.ones(m, dtype=bool)
        after, before = 1.0 - ends.frac, ends.frac
        twin = ~np.isnan(ends.bwd_time)
        # Leave towards b along the edge; towards a only against it on a two-way road,
        # or at no cost when sitting on a.
        out_b = (ones, ends.b, ends.fwd_time * after, ends.fwd_length * after)
        out_a = (
            twin | (before == 0),
            ends.a,
            np.where(twin, ends.bwd_time * before, 0.0),
            np.where(twin, ends.bwd_length * before, 0.0),
        )
        in_a = (ones, ends.a, ends.fwd_time * before, ends.fwd_length * before)
        in_b = (
            twin | (after == 0),
            ends.b,
            np.where(twin, ends.bwd_time * after, 0.0),
            np.where(twin, ends.bwd_length * after, 0.0),
        )
        src = [np.array([e[0] for e in road], dtype=np.int64)]
        dst = [np.array([e[1] for e in road], dtype=np.int64)]
        time, length = [road_time], [road_length]
        for ok, node, cost, way in (out_b, out_a):
            src.append((n + p)[ok])
            dst.append(node[ok])
            time.append(cost[ok])
            length.append(way[ok])
        for ok, node, cost, way in (in_a, in_b):
            src.append(node[ok])
            dst.append((n + m + p)[ok])
            time.append(cost[ok])
            length.append(way[ok])
        keys = np.array([e[2] for e in road] + [None] * sum(len(x) for x in src[1:]), dtype=object)
        s, d = np.concatenate(src), np.concatenate(dst)
        t, ln = np.concatenate(time), np.concatenate(length)
        # Parallel edges: keep the fastest, then the shortest.
        order = np.lexsort((ln, t, d, s))
        s, d, t, ln, keys = s[order], d[order], t[order], ln[order], keys[order]
        first = np.ones(len(s), dtype=bool)
        first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        s, d, t, ln, keys = s[first], d[first], t[first], ln[first], keys[first]
        return cls(n, m, labels, ends, s, d, t, ln, list(keys), s * (n + 2 * m) + d)


def _road_edges(
    G: nx.MultiDiGraph, index: dict[Any, int]
) -> tuple[FloatArray, FloatArray, list[tuple[int, int, Any]]]:
    """Travel time, length and (u, v, key) of every edge but loops, checked."""
    time, length, road, named = [], [], [], []
    for u, successors in G.adjacency():
        iu = index[u]
        for v, parallel in successors.items():
            if u == v:
                continue  # a loop never shortens a path between nodes
            iv = index[v]
            for k, data in parallel.items():
                try:
                    time.append(data["travel_time"])
                    length.append(data["length"])
                except KeyError as exc:
                    raise NetworkError(
                        f"graph: expected edge ({u}, {v}, {k}) to have {exc.args[0]}, found none"
                    ) from exc
                road.append((iu, iv, k))
                named.append((u, v, k))
    t = np.array(time, dtype=float)
    ln = np.array(length, dtype=float)
    bad = ~(np.isfinite(t) & np.isfinite(ln) & (t >= 0) & (ln >= 0) & ((t > 0) | (ln == 0)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NetworkError(
            f"graph: expected travel_time and length >= 0 (time > 0 where length > 0) on every "
            f"edge, found {t[i]!r} s and {ln[i]!r} m on edge {named[i]} and "
            f"{int(bad.sum()) - 1} more"
        )
    return t, ln, road


def _place_ends(
    G: nx.MultiDiGraph, snapping: Snapping, places: range | list[int], index: dict[Any, int]
) -> _Ends:
    a, b, frac, fwd, bwd = [], [], [], [], []
    fwd_tl, bwd_tl = [], []
    for i in places:
        u, v, k = (int(x) for x in snapping.edge[i])
        if not G.has_edge(u, v, k):
            raise NetworkError(
                f"snapping: place {snapping.label(i)} is on edge ({u}, {v}, {k}), which the "
                "graph does not have; snap the places on this graph"
            )
        line = edge_line(G, u, v, k)
        total = line.length
        f = float(np.clip(snapping.offset_m[i] / total, 0.0, 1.0)) if total > 0 else 0.0
        twin = _twin(G, u, v, k, line)
        this, other = (u, v, k), (None if twin is None else (v, u, twin))
        if other is not None and (index[v], index[u], str(twin)) < (index[u], index[v], str(k)):
            this, other, f = other, this, 1.0 - f
        if total > 0:  # sitting on a node, up to rounding
            f = 0.0 if f * total <= _AT_NODE_M else 1.0 if (1 - f) * total <= _AT_NODE_M else f
        a.append(index[this[0]])
        b.append(index[this[1]])
        frac.append(f)
        fwd.append(this)
        bwd.append(other)
        data = G.edges[this]
        fwd_tl.append((float(data["travel_time"]), float(data["length"])))
        if other is None:
            bwd_tl.append((np.nan, np.nan))
        else:
            data = G.edges[other]
            bwd_tl.append((float(data["travel_time"]), float(data["length"])))
    pieces: dict[tuple[Any, Any, Any], int] = {}
    piece = [pieces.setdefault(e, len(pieces)) for e in fwd]
    ft = np.array(fwd_tl, dtype=float).reshape(-1, 2)
    bt = np.array(bwd_tl, dtype=float).reshape(-1, 2)
    return _Ends(
        a=np.array(a, dtype=np.int64),
        b=np.array(b, dtype=np.int64),
        frac=np.array(frac, dtype=float),
        fwd=fwd,
        bwd=bwd,
        fwd_time=ft[:, 0],
        fwd_length=ft[:, 1],
        bwd_time=bt[:, 0],
        bwd_length=bt[:, 1],
        piece=np.array(piece, dtype=np.int64),
    )


def _twin(G: nx.MultiDiGraph, u: Any, v: Any, k: Any, line: Any) -> Any:
    """Key of the fastest edge v -> u along the same line as (u, v, k), or None."""
    if not G.has_edge(v, u):
        return None
    coords = np.asarray(line.coords)
    best, best_time = None, np.inf
    for k2, data in G[v][u].items():
        if u == v and k2 == k:
            continue
        other = np.asarray(edge_line(G, v, u, k2).coords)
        same_line = other.shape == coords.shape and np.array_equal(other[::-1], coords)
        if same_line and data["travel_time"] < best_time:
            best, best_time = k2, data["travel_time"]
    return best


def direct_drive(net: Network, packing: Packing, p: IntArray, q: IntArray) -> FloatArray:
    """Packed weight of driving from place ``p`` straight along the road to place ``q``.

    Infinite where the two are on different road pieces, or ``q`` lies behind ``p`` on
    a one-way piece.
    """
    ends = net.ends
    ahead = ends.frac[q] - ends.frac[p]  # >= 0: q lies further along a -> b than p
    along = packing.pack(ends.fwd_time[p] * ahead, ends.fwd_length[p] * ahead)
    back = packing.pack(ends.bwd_time[p] * -ahead, ends.bwd_length[p] * -ahead)
    back = np.where(np.isnan(back), np.inf, back)  # no b -> a edge
    drive = np.where(ahead >= 0, along, back)
    return np.where(ends.piece[p] == ends.piece[q], drive, np.inf)


def _same_piece(net: Network, packing: Packing, weights: FloatArray) -> None:
    """Let places on the same road piece drive straight along it where that is faster."""
    piece = net.ends.piece
    order = np.argsort(piece, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(piece[order])) + 1):
        if len(group) > 1:
            p, q = np.meshgrid(group, group, indexing="ij")
            cell = np.ix_(group, group)
            weights[cell] = np.minimum(weights[cell], direct_drive(net, packing, p, q))


def _raise_unreachable(net: Network, snapping: Snapping, weights: FloatArray) -> None:
    stuck = np.isinf(weights)
    np.fill_diagonal(stuck, False)
    if not stuck.any():
        return
    road = net.csr(np.ones(len(net.src)))[: net.n, : net.n]
    _, component = connected_components(road, directed=True, connection="weak")
    place_component = component[net.ends.a]
    pairs = np.argwhere(stuck)
    shown = []
    for i, j in pairs[:5]:
        reason = (
            "they are in separate road components"
            if place_component[i] != place_component[j]
            else "one-way roads allow no route"
        )
        shown.append(f"{snapping.label(i)} cannot reach {snapping.label(j)} by road: {reason}")
    sizes = np.bincount(place_component)
    sizes = np.sort(sizes[sizes > 0])[::-1]
    raise NetworkError(
        f"{len(pairs)} pair(s) of places cannot reach each other: "
        + "; ".join(shown)
        + (f"; and {len(pairs) - 5} more" if len(pairs) > 5 else "")
        + f" (the places lie in {len(sizes)} road component(s) of "
        + ", ".join(str(s) for s in sizes)
        + " place(s))"
    )
