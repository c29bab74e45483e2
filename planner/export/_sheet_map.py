"""The route map of a run sheet: an SVG a driver can orient by.

The roads near the route in light grey, the run's legs along the roads with an
arrow on each leg in the direction of travel, the depot, the stations on top of
everything (never hidden under a stop), the collection points as numbered circles
(the same numbers as the stops table), place names set where they touch nothing
else, and a scale bar. Equirectangular projection scaled by cos(latitude): true to
shape at this size. The SVG goes inline into the HTML sheet and as an image into
the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

import numpy as np
import shapely

from planner.export.bundle import PlanBundle, Stop

W, H, PAD = 400.0, 300.0, 18.0
ROUTE = "#1f6fb2"
ROADS = "#cfcabd"
FONT = "Planner CJK, Noto Sans CJK SC, Noto Sans CJK TC, sans-serif"


def route_svg(bundle: PlanBundle, stops: Sequence[Stop], legs: Sequence[shapely.LineString]) -> str:
    """The SVG text of one run's map (``legs``: one road line per step after the start)."""
    lines = [list(line.coords) for line in legs if not line.is_empty]
    for k in range(1, len(stops)):  # a leg without geometry is drawn straight
        if k - 1 >= len(legs) or legs[k - 1].is_empty:
            a, b = stops[k - 1], stops[k]
            lines.append([(a.lon, a.lat), (b.lon, b.lat)])
    pts = [(s.lon, s.lat) for s in stops] + [(x, y) for ln in lines for x, y, *_ in ln]
    lat0 = sum(p[1] for p in pts) / len(pts)
    kx = math.cos(math.radians(lat0))
    xs = [p[0] * kx for p in pts]
    ys = [-p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(
        (W - 2 * PAD) / max(max(xs) - min(xs), span * 0.05),
        (H - 2 * PAD) / max(max(ys) - min(ys), span * 0.05),
    )
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def proj(lon: float, lat: float) -> tuple[float, float]:
        return (W / 2 + (lon * kx - cx) * scale, H / 2 + (-lat - cy) * scale)

    def unproj(x: float, y: float) -> tuple[float, float]:
        return ((x - W / 2) / scale + cx) / kx, -((y - H / 2) / scale + cy)

    out = [
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {H:.0f}" '
        f'font-family="{FONT}">',
        f'<rect x="0" y="0" width="{W:.0f}" height="{H:.0f}" fill="#fbfbf8"/>',
    ]
    west, north = unproj(0, 0)
    east, south = unproj(W, H)
    out += _roads(bundle, shapely.box(west, south, east, north), proj)
    for ln in lines:
        xy = shapely.LineString([proj(x, y) for x, y, *_ in ln] * (1 if len(ln) > 1 else 2))
        xy = xy.simplify(0.6)
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy.coords)
        out.append(
            f'<polyline points="{d}" fill="none" stroke="{ROUTE}" stroke-width="2.2" '
            'stroke-linejoin="round" stroke-linecap="round" stroke-opacity="0.85"/>'
        )
        out.append(_arrow(xy))
    marks: list[tuple[float, float, float]] = []  # (x, y, radius) of every marker
    labels: list[tuple[str, float, float, str]] = []
    depots = {s.place: s for s in stops if s.type in ("start", "end")}
    for s in depots.values():
        x, y = proj(s.lon, s.lat)
        out.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#222"/>')
        marks.append((x, y, 7))
        labels.append((s.name, x, y, "#000"))
    collects = [s for s in stops if s.type == "collect"]
    for s in collects:
        x, y = proj(s.lon, s.lat)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7.5" fill="#fff" stroke="{ROUTE}" '
            f'stroke-width="1.6"/><text x="{x:.1f}" y="{y + 3:.1f}" font-size="8.5" '
            f'text-anchor="middle" fill="#000">{s.number}</text>'
        )
        marks.append((x, y, 8))
        labels.append((s.name, x, y, "#333"))
    # Stations last: on top of any stop drawn at the same place.
    for s in (s for s in stops if s.type == "unload"):
        x, y = proj(s.lon, s.lat)
        out.append(
            f'<polygon points="{x:.1f},{y - 11:.1f} {x - 10:.1f},{y + 7:.1f} {x + 10:.1f},'
            f'{y + 7:.1f}" fill="#e8890c" stroke="#333" stroke-width="0.8"/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="8" text-anchor="middle" '
            f'fill="#000">{s.number}</text>'
        )
        marks.append((x, y, 10))
        labels.insert(0, (s.name, x, y, "#8a4b00"))
    out += _labels(labels, marks)
    out.append(_scale_bar(scale))
    out.append("</svg>")
    return "".join(out)


def _roads(
    bundle: PlanBundle, box: shapely.Polygon, proj: Callable[[float, float], tuple[float, float]]
) -> list[str]:
    """The scenario's roads inside the map, faint, as one path (vectorised: a month has
    hundreds of sheets and the road network thousands of lines)."""
    geoms, tree = bundle.road_index
    if tree is None:
        return []
    hits = tree.query(box)
    if not len(hits):
        return []
    west, south, east, north = box.bounds
    x0, _ = proj(west, north)
    x1, _ = proj(east, north)
    per_deg = (x1 - x0) / max(east - west, 1e-12)  # map units per degree of longitude
    parts = shapely.get_parts(shapely.clip_by_rect(geoms[hits], west, south, east, north))
    parts = shapely.simplify(parts, 1.0 / max(per_deg, 1e-9))
    parts = parts[~shapely.is_empty(parts) & (shapely.get_type_id(parts) == 1)]
    if not len(parts):
        return []
    coords, index = shapely.get_coordinates(parts, return_index=True)
    ax, ay = proj(0.0, 0.0)
    bx, _ = proj(1.0, 0.0)
    _, by = proj(0.0, 1.0)
    xs = ax + coords[:, 0] * (bx - ax)
    ys = ay + coords[:, 1] * (by - ay)
    starts = np.r_[True, index[1:] != index[:-1]]
    d = "".join(
        ("M" if first else "L") + f"{x:.0f},{y:.0f}"
        for x, y, first in zip(xs.tolist(), ys.tolist(), starts.tolist(), strict=True)
    )
    return [f'<path d="{d}" fill="none" stroke="{ROADS}" stroke-width="1"/>']


def _arrow(line: shapely.LineString) -> str:
    """A small arrowhead halfway along ``line`` (SVG units), pointing the way driven."""
    if line.length < 24:
        return ""
    mid = line.interpolate(0.5, normalized=True)
    ahead = line.interpolate(min(line.length, line.length * 0.5 + 4))
    behind = line.interpolate(max(0.0, line.length * 0.5 - 4))
    dx, dy = ahead.x - behind.x, ahead.y - behind.y
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    tip = (mid.x + ux * 5, mid.y + uy * 5)
    left = (mid.x - ux * 4 - uy * 4, mid.y - uy * 4 + ux * 4)
    right = (mid.x - ux * 4 + uy * 4, mid.y - uy * 4 - ux * 4)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (tip, left, right))
    return f'<polygon points="{pts}" fill="{ROUTE}"/>'


_SPOTS = (
    (10, -3, "start"),
    (10, 9, "start"),
    (-10, -3, "end"),
    (-10, 9, "end"),
    (0, -12, "middle"),
)


def _labels(
    labels: list[tuple[str, float, float, str]], marks: list[tuple[float, float, float]]
) -> list[str]:
    """Names placed where they overlap no marker and no other name (else left out)."""
    taken = [(x - r, y - r, x + r, y + r) for x, y, r in marks]
    out = []
    size = 7.5
    for text, x, y, colour in labels:
        if not text:
            continue
        w = sum(size * (1.0 if ord(ch) > 0x2E7F else 0.55) for ch in text)
        for dx, dy, anchor in _SPOTS:
            x0 = x + dx - {"start": 0.0, "middle": w / 2, "end": w}[anchor]
            box = (x0, y + dy - size, x0 + w, y + dy + 1.5)
            if box[0] < 1 or box[2] > W - 1 or box[1] < 1 or box[3] > H - 1:
                continue
            if any(_overlap(box, t) for t in taken):
                continue
            taken.append(box)
            out.append(
                f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" font-size="{size}" '
                f'text-anchor="{anchor}" fill="{colour}" stroke="#fff" stroke-width="2.2" '
                f'paint-order="stroke" stroke-linejoin="round">{escape(text)}</text>'
            )
            break
    return out


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _scale_bar(scale: float) -> str:
    # Units per km along a meridian: one degree of latitude is ~111.32 km.
    per_km = scale / 111.32
    target = (W * 0.25) / per_km
    nice = next((n for n in (0.5, 1, 2, 5, 10, 20, 50, 100, 200) if n >= target / 2), 500)
    length = nice * per_km
    x0, y0 = 10.0, H - 10.0
    return (
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + length:.1f}" y2="{y0}" stroke="#000" '
        f'stroke-width="2"/><text x="{x0}" y="{y0 - 4}" font-size="9">{nice:g} km</text>'
    )
