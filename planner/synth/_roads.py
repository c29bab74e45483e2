"""A plausible synthetic road network for a generated region.

Built in the order a real network grows: a highway backbone between township
seats (and out of the region), paved roads to depots, stations, facilities and
gacha centres, gravel roads to farming villages and herding groups near their
centre, dirt tracks to remote herding groups; then gravel links between
neighbouring gacha centres and dirt field tracks between farming villages, which
close loops. Every road starts on the network, so the network is connected.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError
from shapely.geometry import Point

from planner.synth._layout import Layout, PlacedPoint
from planner.synth._network import Coord, Network
from planner.synth._params import FARMING, RegionParams
from planner.synth._sites import Site

# Assumptions (see data/otog/README.md): how far roads end from the places they serve.
POINT_REACH_M = (30.0, 350.0)  # the road passes within this of a collection point
SITE_REACH_M = (20.0, 120.0)
REMOTE_GAP_M = (2_100.0, 2_800.0)  # remote herding groups: last 2-3 km off-road
GRAVEL_RADIUS_M = 6_000.0  # herding groups closer than this to the centre get gravel
HUB_LINK_M = 25_000.0
HUB_LINK_SHARE = 0.35
FIELD_TRACK_M = 5_000.0
FIELD_TRACK_SHARE = 0.5
EXIT_MAX_M = 45_000.0  # seats this close to the outline get a highway leaving the region


@dataclass(frozen=True)
class Roads:
    """Finished road lines in metres, with class and name."""

    lines: tuple[tuple[tuple[Coord, ...], str, str], ...]
    remote: tuple[str, ...]  # ids of the points left 2-3 km off-road


def build_roads(
    params: RegionParams, layout: Layout, sites: list[Site], rng: np.random.Generator
) -> Roads:
    net = Network(layout.outline_m, rng)
    zh = params.chinese_names
    _highways(params, layout, net, rng)
    for s in sites:
        name = f"{s.name}{'进场路' if zh else ' access road'}"
        net.connect(s.x, s.y, "paved", name, rng.uniform(*SITE_REACH_M))
    remote = _pick_remote(params, layout.points)
    access: dict[str, Coord] = {}
    # Gacha centres first, township by township, nearest to the seat first.
    for t in params.townships:
        seat = layout.proj.point_m(t.seat)
        hubs = [p for p in layout.points if p.hub and p.township is t]
        hubs.sort(key=lambda p: math.dist((p.x, p.y), seat))
        for p in hubs:
            name = f"{p.gacha.name}{'通村公路' if zh else ' road'}"
            access[p.id] = net.connect(p.x, p.y, "paved", name, rng.uniform(*POINT_REACH_M))
    hub_of = {p.gacha.code: p for p in layout.points if p.hub}
    for p in layout.points:  # ids run outwards from each gacha centre
        if p.hub or p.id in remote:
            continue
        hub = hub_of[p.gacha.code]
        near = math.dist((p.x, p.y), (hub.x, hub.y)) < GRAVEL_RADIUS_M
        cls = "gravel" if p.gacha.kind == FARMING or near else "dirt"
        access[p.id] = net.connect(p.x, p.y, cls, "", rng.uniform(*POINT_REACH_M))
    _hub_links(layout.points, access, net, rng)
    _field_tracks(layout.points, access, net, rng)
    for pid in sorted(remote):
        p = next(q for q in layout.points if q.id == pid)
        net.connect(p.x, p.y, "dirt", "", 0.0, stop_short=rng.uniform(*REMOTE_GAP_M))
    lines = tuple((tuple(c), cls, name) for c, cls, name in net.finish())
    return Roads(lines, tuple(sorted(remote)))


def _highways(params: RegionParams, layout: Layout, net: Network, rng: np.random.Generator) -> None:
    """Backbone: a spanning tree of the seats plus the shortest extra links, and exits."""
    junctions: list[Coord] = []
    for t in params.townships:
        x, y = layout.proj.point_m(t.seat)
        a = rng.uniform(0, 2 * math.pi)
        junctions.append((x + 150.0 * math.cos(a), y + 150.0 * math.sin(a)))
    n = len(junctions)
    short = [t.short for t in params.townships]
    sep = "—" if params.chinese_names else "–"
    suffix = "公路" if params.chinese_names else " highway"
    if n == 1:
        net.add([junctions[0], junctions[0]], "highway")  # seed vertex only
    if n >= 2:
        xy = np.array(junctions)
        dist = np.hypot(*(xy[:, None, :] - xy[None]).transpose(2, 0, 1))
        tree = minimum_spanning_tree(dist).toarray() > 0
        edges = {(min(i, j), max(i, j)) for i, j in zip(*np.nonzero(tree), strict=True)}
        built = {0}
        while len(built) < n:  # grow from seat 0 so every link starts on the network
            i, j = next((i, j) for i, j in sorted(edges) if (i in built) != (j in built))
            a, b = (i, j) if i in built else (j, i)
            net.link(junctions[a], junctions[b], "highway", f"{short[a]}{sep}{short[b]}{suffix}")
            built.add(b)
        if n >= 4:
            extra = sorted(
                (dist[i, j], i, j) for i, j in _delaunay_edges(xy) if (i, j) not in edges
            )
            for _, i, j in extra[: n // 3]:
                net.link(
                    junctions[i], junctions[j], "highway", f"{short[i]}{sep}{short[j]}{suffix}"
                )
    boundary = layout.outline_m.exterior
    for k, j in enumerate(junctions):
        d = boundary.distance(Point(j))
        if 5_000.0 < d < EXIT_MAX_M:
            edge = boundary.interpolate(boundary.project(Point(j)))
            f = (d - 800.0) / d  # stop just inside the outline
            end = (j[0] + f * (edge.x - j[0]), j[1] + f * (edge.y - j[1]))
            exit_name = f"{short[k]}出境公路" if params.chinese_names else f"{short[k]} exit road"
            net.add(net.path(j, end, "highway"), "highway", exit_name)


def _delaunay_edges(xy: np.ndarray) -> set[tuple[int, int]]:
    if len(xy) < 3:
        return {(0, 1)} if len(xy) == 2 else set()
    try:
        tri = Delaunay(xy)
    except QhullError:  # all on a line: link neighbours along it
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return {(int(min(a, b)), int(max(a, b))) for a, b in itertools.pairwise(order)}
    out = set()
    for s in tri.simplices:
        for a, b in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            out.add((int(min(a, b)), int(max(a, b))))
    return out


def _pick_remote(params: RegionParams, points: tuple[PlacedPoint, ...]) -> set[str]:
    """The herding groups farthest from their gacha centre, one per township."""
    if params.remote_points == 0:
        return set()
    hub = {p.gacha.code: p for p in points if p.hub}
    cand = sorted(
        (
            (-math.dist((p.x, p.y), (hub[p.gacha.code].x, hub[p.gacha.code].y)), p.id, p)
            for p in points
            if not p.hub and p.gacha.kind != FARMING
        ),
        key=lambda c: (c[0], c[1]),
    )
    chosen: set[str] = set()
    towns: set[str] = set()
    for negd, pid, p in cand:
        if -negd < 8_000.0 or len(chosen) == params.remote_points:
            break
        if p.township.code not in towns:
            chosen.add(pid)
            towns.add(p.township.code)
    return chosen


def _hub_links(
    points: tuple[PlacedPoint, ...],
    access: dict[str, Coord],
    net: Network,
    rng: np.random.Generator,
) -> None:
    hubs = [p for p in points if p.hub and p.id in access]
    if len(hubs) < 2:
        return
    xy = np.array([access[p.id] for p in hubs])
    for i, j in sorted(_delaunay_edges(xy)):
        if 300.0 < math.dist(xy[i], xy[j]) < HUB_LINK_M and rng.random() < HUB_LINK_SHARE:
            net.link(access[hubs[i].id], access[hubs[j].id], "gravel")


def _field_tracks(
    points: tuple[PlacedPoint, ...],
    access: dict[str, Coord],
    net: Network,
    rng: np.random.Generator,
) -> None:
    by_gacha: dict[str, list[PlacedPoint]] = {}
    for p in points:
        if p.gacha.kind == FARMING and p.id in access:
            by_gacha.setdefault(p.gacha.code, []).append(p)
    for group in by_gacha.values():
        if len(group) < 3:
            continue
        xy = np.array([access[p.id] for p in group])
        for i, j in sorted(_delaunay_edges(xy)):
            far = math.dist(xy[i], xy[j])
            if 300.0 < far < FIELD_TRACK_M and rng.random() < FIELD_TRACK_SHARE:
                net.link(access[group[i].id], access[group[j].id], "dirt")
