"""Geometry helpers of the generator: projection, sampling, zones, apportioning.

All generation happens in metres in a transverse Mercator projection centred on
the region (distortion well under 0.1 % across a banner); only written files are
in WGS84 lon/lat.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPoint, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

FloatArray = NDArray[np.float64]


class Projection:
    """Local transverse Mercator around (``lon0``, ``lat0``), in metres."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.crs = (
            f"+proj=tmerc +lon_0={lon0:.6f} +lat_0={lat0:.6f} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs"
        )
        self._fwd = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        self._inv = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def to_m(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, float), np.asarray(lat, float)

    def point_m(self, lonlat: tuple[float, float]) -> tuple[float, float]:
        x, y = self.to_m(np.array([lonlat[0]]), np.array([lonlat[1]]))
        return float(x[0]), float(y[0])

    def geom_to_m(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a lon/lat geometry, densified first so its edges keep their course."""
        dense = shapely.segmentize(geom, 0.005)
        return shapely.transform(dense, lambda c: np.column_stack(self.to_m(c[:, 0], c[:, 1])))

    def geom_to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """Unproject a metric geometry, densified to 1 km edges."""
        dense = shapely.segmentize(geom, 1000.0)
        return shapely.transform(dense, lambda c: np.column_stack(self.to_lonlat(c[:, 0], c[:, 1])))


def parse_outline(geojson_text: str) -> Polygon:
    """The single polygon of a GeoJSON FeatureCollection, Feature or geometry."""
    obj = json.loads(geojson_text)
    if obj.get("type") == "FeatureCollection":
        obj = obj["features"][0]
    if obj.get("type") == "Feature":
        obj = obj["geometry"]
    geom = shape(obj)
    if not isinstance(geom, Polygon) or not geom.is_valid:
        raise ValueError("Expected the region outline to be one valid polygon.")
    return geom


def region_projection(outline: Polygon) -> Projection:
    c = outline.centroid
    return Projection(round(c.x, 3), round(c.y, 3))


def sample_in(
    poly: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    weight: Callable[[FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """``n`` random points inside ``poly``; density proportional to ``weight`` (max 1)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[FloatArray] = []
    got = 0
    for _ in range(200):
        m = max(64, 2 * (n - got))
        xy = np.column_stack((rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)))
        keep = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
        if weight is not None:
            keep &= rng.random(m) < weight(xy)
        xy = xy[keep]
        out.append(xy)
        got += len(xy)
        if got >= n:
            break
    if got < n:
        raise ValueError("Could not sample points inside a zone; is it empty?")
    return np.concatenate(out)[:n]


def kmeans(samples: FloatArray, k: int, rng: np.random.Generator, iters: int = 25) -> FloatArray:
    """Lloyd's k-means with k-means++ seeding; returns ``k`` centres."""
    c = np.empty((k, 2))
    c[0] = samples[rng.integers(len(samples))]
    d2 = np.sum((samples - c[0]) ** 2, axis=1)
    for j in range(1, k):
        c[j] = samples[rng.choice(len(samples), p=d2 / d2.sum())]
        d2 = np.minimum(d2, np.sum((samples - c[j]) ** 2, axis=1))
    for _ in range(iters):
        lab = np.argmin(((samples[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)
        count = np.bincount(lab, minlength=k)
        for dim in range(2):
            total = np.bincount(lab, weights=samples[:, dim], minlength=k)
            c[:, dim] = np.where(count > 0, total / np.maximum(count, 1), c[:, dim])
    return c


def voronoi_zones(region: Polygon, seeds: FloatArray, labels: Sequence[str]) -> dict[str, Polygon]:
    """Union of the Voronoi cells of the seeds with each label, clipped to ``region``.

    Every zone comes back as one polygon: detached pieces (where a cell crosses a
    bay of the outline) are given to the neighbour sharing most border with them.
    """
    cells = shapely.voronoi_polygons(MultiPoint([tuple(s) for s in seeds]), extend_to=region)
    by_label: dict[str, list[BaseGeometry]] = {lab: [] for lab in labels}
    for cell in cells.geoms:
        # Match cells to seeds by containment: GEOS does not keep input order.
        inside = shapely.contains_xy(cell, seeds[:, 0], seeds[:, 1])
        idx = int(np.flatnonzero(inside)[0])
        by_label[labels[idx]].append(cell)
    zones = {lab: shapely.union_all(parts).intersection(region) for lab, parts in by_label.items()}
    return _single_parts(zones)


def _single_parts(zones: dict[str, BaseGeometry]) -> dict[str, Polygon]:
    moved: dict[str, list[BaseGeometry]] = {lab: [] for lab in zones}
    keep: dict[str, BaseGeometry] = {}
    for lab, z in zones.items():
        parts = sorted(_polygons(z), key=lambda p: -p.area)
        keep[lab] = parts[0]
        for part in parts[1:]:
            ring = part.boundary.buffer(1.0)
            best = max(
                (other for other in zones if other != lab),
                key=lambda o: ring.intersection(zones[o].boundary).length,
                default=lab,
            )
            moved[best].append(part)
    out: dict[str, Polygon] = {}
    for lab, main in keep.items():
        merged = shapely.union_all([main, *moved[lab]]).buffer(0)
        out[lab] = max(_polygons(merged), key=lambda p: p.area)
    return out


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def inner(poly: BaseGeometry, margin: float) -> BaseGeometry:
    """``poly`` shrunk by ``margin`` metres, or less if that would empty it."""
    for m in (margin, margin / 2, margin / 4, 0.0):
        shrunk = poly.buffer(-m) if m > 0 else poly
        if shrunk.area > 0.05 * poly.area:
            return shrunk
    return poly


def focus_geometry(coords: Sequence[tuple[float, float]]) -> BaseGeometry:
    """A point for one coordinate, a line for several."""
    if len(coords) == 1:
        return Point(coords[0])
    return shapely.LineString(coords)


def apportion(
    total: int,
    weights: Sequence[float] | FloatArray,
    minimum: int = 0,
    maximum: int | None = None,
) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    Every share is at least ``minimum`` and at most ``maximum``; ties go to the
    earlier index, so the result is deterministic.
    """
    w = np.asarray(weights, float)
    n = len(w)
    if total < n * minimum or (maximum is not None and total > n * maximum):
        raise ValueError(f"Cannot split {total} into {n} shares within the bounds.")
    shares = np.full(n, minimum, dtype=np.int64)
    free = np.ones(n, bool)
    rest = total - n * minimum
    while rest > 0:
        ww = np.where(free, w, 0.0)
        if ww.sum() <= 0:
            ww = free.astype(float)
        quota = rest * ww / ww.sum()
        add = np.floor(quota).astype(np.int64)
        left = rest - int(add.sum())
        order = np.lexsort((np.arange(n), -(quota - add)))
        add[order[:left]] += 1
        shares += add
        rest = 0
        if maximum is not None:
            over = np.clip(shares - maximum, 0, None)
            shares -= over
            rest = int(over.sum())
            free &= shares < maximum
    return [int(s) for s in shares]
