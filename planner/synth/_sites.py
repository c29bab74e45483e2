"""Depots, transfer stations and delivery facilities (all synthetic places).

One depot per township seat; stations spread over each township (the first near
the seat, the others at the gacha centres farthest from it); the buyer and the
plant at fixed offsets from a seat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon

from planner.synth._geo import inner
from planner.synth._layout import Layout
from planner.synth._params import RegionParams


@dataclass(frozen=True)
class Site:
    """A depot, station or facility (metres)."""

    id: str
    name: str
    township: str  # township name ("" for facilities)
    x: float
    y: float
    kind: str  # depot | station | buyer | plant
    synthetic: bool = True


def build_sites(params: RegionParams, layout: Layout, rng: np.random.Generator) -> list[Site]:
    sites: list[Site] = []
    proj = layout.proj
    for i, t in enumerate(params.townships):
        x, y = proj.point_m(t.seat)
        name = f"{t.short}车场" if params.chinese_names else f"{t.short} depot"
        # Only a real seat gives the depot a real position.
        sites.append(Site(f"D{i + 1:02d}", name, t.name, x, y, "depot", not t.seat_real))
    n = 0
    for t in params.townships:
        zone = inner(layout.township_zones[t.code], 500.0)
        seat = np.array(proj.point_m(t.seat))
        hubs = np.array([(p.x, p.y) for p in layout.points if p.hub and p.township is t])
        chosen: list[np.ndarray] = []
        for k in range(t.stations):
            if k == 0:
                base, dist = seat, (2_000.0, 5_000.0)
            else:
                # The gacha centre farthest from the seat and the stations so far.
                taken = np.array([seat, *chosen])
                d = np.min(np.hypot(*(hubs[:, None, :] - taken[None]).transpose(2, 0, 1)), 1)
                base, dist = hubs[int(np.argmax(d))], (800.0, 2_000.0)
            xy = _near(base, dist, zone, rng)
            chosen.append(xy)
            n += 1
            zh = params.chinese_names
            name = f"{t.short}{k + 1}号压缩站" if zh else f"{t.short} station {k + 1}"
            sites.append(Site(f"S{n:02d}", name, t.name, float(xy[0]), float(xy[1]), "station"))
    inside = inner(layout.outline_m, 1_000.0)
    by_code = {t.code: t for t in params.townships}
    for f in params.facilities:
        seat = np.array(proj.point_m(by_code[f.near].seat))
        off = np.array(f.offset_km) * 1000.0
        xy = seat + off
        # Pull a facility that would fall outside the region back towards the seat.
        for _ in range(20):
            if inside.contains(Point(xy)):
                break
            off *= 0.8
            xy = seat + off
        sites.append(Site(f.id, f.name, "", float(xy[0]), float(xy[1]), f.kind))
    return sites


def _near(
    base: np.ndarray, dist: tuple[float, float], zone: Polygon, rng: np.random.Generator
) -> np.ndarray:
    """A random place ``dist`` metres from ``base`` inside ``zone``."""
    for _ in range(200):
        a = rng.uniform(0.0, 2 * math.pi)
        r = rng.uniform(*dist)
        xy = base + r * np.array([math.cos(a), math.sin(a)])
        if zone.contains(Point(xy)):
            return xy
        dist = (dist[0] * 0.9, dist[1] * 0.9)
    return np.array(zone.representative_point().coords[0])
