"""The drawn road path between places, for GPX tracks and map lines."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pyproj
import shapely

from planner._errors import NetworkError
from planner.network._matrices import Network, direct_drive, shortest_tree
from planner.network._snap import Snapping, edge_line

Coords = list[tuple[float, float]]


def route_geometry(G: nx.MultiDiGraph, snapping: Snapping, i: int, j: int) -> shapely.LineString:
    """The fastest path from place ``i`` to place ``j`` as a line in WGS84.

    The line runs from place ``i`` along its connector to the road, along the road
    edges' ``geometry`` and along the last connector to place ``j``: the path whose
    length and duration :func:`travel_matrices` reports (among paths equally fast and
    long, possibly another one). For many pairs use :func:`route_geometries`, which
    prepares the graph once.

    Parameters
    ----------
    G
        The graph the places were snapped on.
    snapping
        Result of :func:`snap` on ``G``.
    i, j
        Positions of the two places in ``snapping``. For ``i == j`` the line has two
        equal points.

    Raises
    ------
    NetworkError
        Place ``j`` cannot be reached from place ``i`` by road.
    """
    return route_geometries(G, snapping, [(i, j)])[0]


def route_geometries(
    G: nx.MultiDiGraph, snapping: Snapping, pairs: Iterable[tuple[int, int]]
) -> list[shapely.LineString]:
    """:func:`route_geometry` for many ``(i, j)`` pairs: one Dijkstra per distinct ``i``."""
    pairs = [(int(i), int(j)) for i, j in pairs]
    m = len(snapping)
    for i, j in pairs:
        if not (0 <= i < m and 0 <= j < m):
            raise IndexError(f"Expected place positions in [0, {m}), found {i} and {j}.")
    involved = sorted({p for pair in pairs for p in pair})
    at = {place: k for k, place in enumerate(involved)}
    net = Network.build(G, snapping, involved)
    to_wgs84 = pyproj.Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    roads: dict[tuple[int, int], Coords] = {}
    for i in sorted({i for i, j in pairs if i != j}):
        packing, weights, pred = shortest_tree(net, at[i])
        for j in sorted({j for a, j in pairs if a == i and j != i}):
            p, q = np.array([at[i]]), np.array([at[j]])
            direct = direct_drive(net, packing, p, q)[0]
            if np.isfinite(direct) and direct <= weights[at[j]]:
                ends = net.ends
                roads[i, j] = _cut(edge_line(G, *ends.fwd[at[i]]), ends.frac[p[0]], ends.frac[q[0]])
            elif np.isinf(weights[at[j]]):
                raise NetworkError(f"{snapping.label(i)} cannot reach {snapping.label(j)} by road")
            else:
                roads[i, j] = _road_path(G, net, pred, at[i], at[j])
    lines = []
    for i, j in pairs:
        start = (float(snapping.place_x[i]), float(snapping.place_y[i]))
        end = (float(snapping.place_x[j]), float(snapping.place_y[j]))
        xy = np.array([start, *roads.get((i, j), []), end])
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        xy = xy[keep] if keep.sum() >= 2 else xy[[0, 0]]
        lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
        lines.append(shapely.LineString(np.column_stack([lon, lat])))
    return lines


def _road_path(G: nx.MultiDiGraph, net: Network, pred: np.ndarray, p: int, q: int) -> Coords:
    """Coordinates from place ``p``'s snapped point by road to place ``q``'s."""
    ends = net.ends
    nodes = [int(net.sink(np.array([q]))[0])]
    while pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    road = nodes[-2:0:-1]  # road nodes from first to last, without source and sink
    out = _cut(edge_line(G, *ends.fwd[p]), ends.frac[p], _end_used(net, p, road[0], leaving=True))
    for a, b in itertools.pairwise(road):
        key = net.key[int(net.edge_index(np.array([a]), np.array([b]))[0])]
        out += [(x, y) for x, y, *_ in edge_line(G, net.labels[a], net.labels[b], key).coords]
    out += _cut(
        edge_line(G, *ends.fwd[q]), _end_used(net, q, road[-1], leaving=False), ends.frac[q]
    )
    return out


def _end_used(net: Network, p: int, node: int, *, leaving: bool) -> float:
    """Position (0: a, 1: b) of the end of place ``p``'s edge it left or was reached by."""
    ends = net.ends
    if ends.a[p] != ends.b[p]:
        return 0.0 if node == ends.a[p] else 1.0
    # A loop: a and b are one node; the virtual edge kept tells the direction.
    source, sink = net.source(np.array([p])), net.sink(np.array([p]))
    if leaving:
        kept = net.time[net.edge_index(source, np.array([node]))[0]]
        return 1.0 if kept == ends.fwd_time[p] * (1.0 - ends.frac[p]) else 0.0
    kept = net.time[net.edge_index(np.array([node]), sink)[0]]
    return 0.0 if kept == ends.fwd_time[p] * ends.frac[p] else 1.0


def _cut(line: shapely.LineString, f0: float, f1: float) -> Coords:
    """Points of ``line`` from fraction ``f0`` to ``f1`` of its length (backwards if f1 < f0)."""
    lo, hi = sorted((float(f0), float(f1)))
    xy = np.asarray(line.coords)[:, :2]
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    total = along[-1]
    first = shapely.line_interpolate_point(line, lo * total)
    last = shapely.line_interpolate_point(line, hi * total)
    inner = xy[(along > lo * total) & (along < hi * total)]
    pts = [(first.x, first.y), *((float(x), float(y)) for x, y in inner), (last.x, last.y)]
    return pts if f0 <= f1 else pts[::-1]
