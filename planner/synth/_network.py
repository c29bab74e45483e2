"""A growing road network whose lines meet only at shared vertices.

:class:`Network` adds meandering roads one at a time, each starting at the exact
coordinate of a vertex (or of a new vertex inserted into an existing line) so the
graph builder downstream can join lines by identical coordinates. :meth:`finish`
inserts those junction vertices and nodes any crossings.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Polygon

Coord = tuple[float, float]

ROAD_CLASSES = ("highway", "paved", "gravel", "dirt")
# Assumptions on how roads look: vertex spacing, meander wavelength and amplitude.
_SPACING_M = {"highway": 1_200.0, "paved": 600.0, "gravel": 350.0, "dirt": 220.0}
_WAVE_M = {"highway": 9_000.0, "paved": 3_000.0, "gravel": 1_500.0, "dirt": 700.0}
_AMPLITUDE = {"highway": 0.03, "paved": 0.05, "gravel": 0.06, "dirt": 0.09}  # x length
_MAX_AMPLITUDE_M = {"highway": 2_500.0, "paved": 1_500.0, "gravel": 700.0, "dirt": 500.0}
_SAME_M = 1.0  # a snap this close to a vertex reuses the vertex


class Network:
    """Roads in metres, built incrementally inside ``outline``."""

    def __init__(self, outline: Polygon, rng: np.random.Generator) -> None:
        self.lines: list[list[Coord]] = []
        self.classes: list[str] = []
        self.names: list[str] = []
        self._rng = rng
        self._outline = outline
        self._inside = outline.buffer(-50.0)
        shapely.prepare(self._inside)
        self._parts: list[np.ndarray] = []  # per line: rows ax, ay, bx, by, line, seg
        self._segs: np.ndarray | None = None
        self._attach: dict[tuple[int, int], list[tuple[float, Coord]]] = defaultdict(list)

    # -- queries -----------------------------------------------------------------
    def _segments(self) -> np.ndarray:
        if self._segs is None:
            self._segs = np.concatenate(self._parts) if self._parts else np.zeros((0, 6))
        return self._segs

    def distance(self, x: float, y: float) -> float:
        """Distance from (x, y) to the nearest road (inf when there is none)."""
        if not self._parts:
            return math.inf
        return self._nearest(x, y)[0]

    def _nearest(self, x: float, y: float) -> tuple[float, int, int, float]:
        s = self._segments()
        ax, ay, bx, by = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
        d = np.hypot(ax + t * dx - x, ay + t * dy - y)
        i = int(np.argmin(d))
        return float(d[i]), int(s[i, 4]), int(s[i, 5]), float(t[i])

    def snap(self, x: float, y: float) -> tuple[Coord, float]:
        """The network location nearest (x, y) as an exact vertex coordinate, and its
        distance; a location inside a segment becomes a new vertex of that line."""
        d, line, seg, t = self._nearest(x, y)
        a, b = self.lines[line][seg], self.lines[line][seg + 1]
        p = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        if math.dist(p, a) < _SAME_M:
            return a, d
        if math.dist(p, b) < _SAME_M:
            return b, d
        self._attach[(line, seg)].append((t, p))
        return p, d

    # -- building ------------------------------------------------------------------
    def add(self, coords: list[Coord], cls: str, name: str = "") -> None:
        """Add a road through ``coords``; callers start it on a network vertex so the
        network stays connected."""
        if cls not in ROAD_CLASSES:
            raise ValueError(f"Expected a road class in {ROAD_CLASSES}, got {cls!r}.")
        k = len(self.lines)
        self.lines.append(coords)
        self.classes.append(cls)
        self.names.append(name)
        c = np.asarray(coords, float)
        n = len(c) - 1
        self._parts.append(
            np.column_stack((c[:-1], c[1:], np.full(n, k, float), np.arange(n, dtype=float)))
        )
        self._segs = None

    def connect(
        self, x: float, y: float, cls: str, name: str, reach: float, stop_short: float = 0.0
    ) -> Coord:
        """Make (x, y) reachable: a road from the nearest network location to within
        ``reach`` metres of it (or ``stop_short`` metres before it). Returns the
        road's end vertex (the place's access vertex)."""
        if not self._parts:
            end = (x, y)
            self.add([end, end], cls, name)  # degenerate seed, dropped on finishing
            return end
        gap = max(reach, stop_short)
        near, d0 = self._nearest_point(x, y)
        if d0 <= gap:
            return self.snap(x, y)[0]
        ux, uy = (near[0] - x) / d0, (near[1] - y) / d0
        end = (x + ux * gap, y + uy * gap)
        start, _ = self.snap(*end)
        self.add(self.path(start, end, cls), cls, name)
        return end

    def _nearest_point(self, x: float, y: float) -> tuple[Coord, float]:
        d, line, seg, t = self._nearest(x, y)
        a, b = self.lines[line][seg], self.lines[line][seg + 1]
        return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])), d

    def link(self, a: Coord, b: Coord, cls: str, name: str = "") -> None:
        """A road between two existing vertices."""
        self.add(self.path(a, b, cls), cls, name)

    def path(self, a: Coord, b: Coord, cls: str) -> list[Coord]:
        """Meandering vertices from ``a`` to ``b`` (both kept exactly), inside the outline."""
        legs = self._inside_legs(a, b, 0)
        out: list[Coord] = [a]
        for p, q in itertools.pairwise(legs):
            out.extend(self._meander(p, q, cls)[1:])
        out[-1] = b
        return out

    def _inside_legs(self, a: Coord, b: Coord, depth: int) -> list[Coord]:
        straight = LineString([a, b])
        if depth >= 6 or self._inside.contains(straight):
            return [a, b]
        # Bend the road round a bay of the outline: a waypoint moved inwards from
        # where the straight line leaves the region.
        outside = straight.difference(self._inside)
        core = self._outline.buffer(-min(0.2 * straight.length, 10_000.0))
        if core.is_empty:
            core = self._outline.buffer(-500.0)
        w = shapely.ops.nearest_points(core, outside.centroid)[0]
        mid = (w.x, w.y)
        return self._inside_legs(a, mid, depth + 1)[:-1] + self._inside_legs(mid, b, depth + 1)

    def _meander(self, a: Coord, b: Coord, cls: str) -> list[Coord]:
        length = math.dist(a, b)
        if length < 1.0:
            return [a, b]
        n = max(1, math.ceil(length / _SPACING_M[cls]))
        u = np.linspace(0.0, 1.0, n + 1)
        knots = max(2, math.ceil(length / _WAVE_M[cls]) + 1)
        walk = np.concatenate(([0.0], np.cumsum(self._rng.normal(size=knots - 1))))
        ku = np.linspace(0.0, 1.0, knots)
        bridge = walk - ku * walk[-1]  # a Brownian bridge: zero at both ends
        scale = float(np.max(np.abs(bridge))) or 1.0
        amp = min(_AMPLITUDE[cls] * length, _MAX_AMPLITUDE_M[cls])
        off = np.interp(u, ku, bridge / scale)
        dx, dy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        for _ in range(4):
            xs = a[0] + u * (b[0] - a[0]) - off * amp * dy
            ys = a[1] + u * (b[1] - a[1]) + off * amp * dx
            if shapely.contains_xy(self._inside, xs[1:-1], ys[1:-1]).all():
                break
            amp /= 2  # too close to the border: straighten
        else:
            xs = a[0] + u * (b[0] - a[0])
            ys = a[1] + u * (b[1] - a[1])
        pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        pts[0], pts[-1] = a, b
        return pts

    # -- finishing -----------------------------------------------------------------
    def finish(self) -> list[tuple[list[Coord], str, str]]:
        """Lines with every junction and crossing present as a shared vertex."""
        lines = [self._with_inserts(i, self._attach) for i in range(len(self.lines))]
        crossings = _crossings(lines)
        lines = [self._with_inserts(i, crossings, lines[i]) for i in range(len(lines))]
        out = []
        for coords, cls, name in zip(lines, self.classes, self.names, strict=True):
            clean = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
            if len(clean) >= 2:
                out.append((clean, cls, name))
        return out

    def _with_inserts(
        self,
        i: int,
        inserts: dict[tuple[int, int], list[tuple[float, Coord]]],
        coords: list[Coord] | None = None,
    ) -> list[Coord]:
        base = self.lines[i] if coords is None else coords
        out: list[Coord] = []
        for k, v in enumerate(base):
            out.append(v)
            for _, p in sorted(set(inserts.get((i, k), ()))):
                if p != out[-1]:
                    out.append(p)
        return out


def _crossings(lines: list[list[Coord]]) -> dict[tuple[int, int], list[tuple[float, Coord]]]:
    """Where segments of different roads cross without sharing a vertex."""
    ends: list[np.ndarray] = []
    owner: list[tuple[int, int]] = []
    for i, coords in enumerate(lines):
        c = np.asarray(coords, float)
        ends.append(np.column_stack((c[:-1], c[1:])))
        owner.extend((i, k) for k in range(len(c) - 1))
    e = np.concatenate(ends)
    segs = shapely.linestrings(e.reshape(-1, 2, 2))
    tree = shapely.STRtree(segs)
    left, right = tree.query(segs, predicate="crosses")
    out: dict[tuple[int, int], list[tuple[float, Coord]]] = defaultdict(list)
    for p, q in zip(left.tolist(), right.tolist(), strict=True):
        if p >= q:
            continue
        ax, ay, bx, by = e[p].tolist()
        cx, cy, dx, dy = e[q].tolist()
        den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx)
        if den == 0:
            continue
        t = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / den
        s = ((cx - ax) * (by - ay) - (cy - ay) * (bx - ax)) / den
        x = (ax + t * (bx - ax), ay + t * (by - ay))
        out[owner[p]].append((t, x))
        out[owner[q]].append((s, x))
    return out
