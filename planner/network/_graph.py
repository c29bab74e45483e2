"""Building the routable road graph from road lines."""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from types import MappingProxyType
from typing import Any, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from planner._errors import NetworkError
from planner.network._roads import features, line_geometry_problem, parse_flags

# ASSUMPTION, not from the field report: typical speeds of a loaded collection truck on
# the banner's roads. Override per class with ``speeds_kmh`` or per road with a
# ``speed_kmh`` column.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {"highway": 80.0, "paved": 60.0, "gravel": 40.0, "dirt": 20.0}
)


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS84 UTM zone CRS containing a point.

    Uses the regular 6-degree zones (no Norway/Svalbard exceptions): Otog Banner at
    108 E, 39 N is in zone 49 N, EPSG:32649.

    Parameters
    ----------
    lon, lat
        The point in degrees.
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise NetworkError(f"expected a longitude and latitude in degrees, found ({lon}, {lat})")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def build_graph(
    roads: gpd.GeoDataFrame,
    *,
    speeds_kmh: Mapping[str, float] | None = None,
    crs: Any = None,
) -> nx.MultiDiGraph:
    """Build a directed road graph in a metric CRS.

    Lines are split at their vertices that other lines (or the line itself) share, and
    at their ends; vertices that round to the same whole metre in the projected CRS are
    one node. Rounding is a grid, so two vertices under 1 m apart across a grid line
    stay separate: draw shared junctions with shared vertices. Each piece becomes two
    directed edges, one per direction, or one edge along the line if ``oneway``.

    Parameters
    ----------
    roads
        Roads as :func:`read_roads` returns them: ``road_class``, optional
        ``speed_kmh`` (used when > 0) and ``oneway``; a frame without a CRS is WGS84.
    speeds_kmh
        Speeds per road class, added to and overriding :data:`DEFAULT_SPEEDS_KMH`.
    crs
        Projected CRS in metres (anything :meth:`pyproj.CRS.from_user_input` takes).
        Default: the UTM zone of the centre of the roads' bounding box.

    Returns
    -------
    networkx.MultiDiGraph
        Attributes as described in :mod:`planner.network`.

    Raises
    ------
    NetworkError
        No roads, non-line geometries, no ``road_class`` column, a road class with no
        speed, a non-positive speed, or a CRS that is not projected in metres.
    """
    _check_roads(roads)
    speeds = _speeds(roads, speeds_kmh)
    if roads.crs is None:
        roads = roads.set_crs("EPSG:4326")
    target = _target_crs(roads, crs)
    projected = roads.to_crs(target)
    pieces = _pieces(projected)

    row = pieces.part_row[pieces.vertex_part[pieces.start]]
    attrs = projected.iloc[row]
    classes = attrs["road_class"].astype(str).to_numpy()
    speed = speeds[row]
    oneway = _oneway_flags(roads)[row]
    names = attrs["name"].to_numpy(dtype=object) if "name" in attrs.columns else None
    length = pieces.length
    travel_time = length / (speed / 3.6)

    graph = nx.MultiDiGraph(crs=target, speeds_kmh=dict(_class_speeds(speeds_kmh)))
    graph.add_nodes_from(
        (i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(pieces.node_xy.tolist())
    )
    geoms, u, v = pieces.geoms, pieces.u, pieces.v
    reverse = shapely.reverse(geoms)
    edges = []
    for k in range(len(pieces.start)):
        data = {
            "length": float(length[k]),
            "travel_time": float(travel_time[k]),
            "road_class": str(classes[k]),
            "speed_kmh": float(speed[k]),
            "oneway": bool(oneway[k]),
            "geometry": geoms[k],
        }
        if names is not None and isinstance(names[k], str) and names[k]:
            data["name"] = names[k]
        edges.append((int(u[k]), int(v[k]), data))
        if not oneway[k]:
            edges.append((int(v[k]), int(u[k]), {**data, "geometry": reverse[k]}))
    graph.add_edges_from(edges)
    return graph


def _check_roads(roads: gpd.GeoDataFrame) -> None:
    if len(roads) == 0:
        raise NetworkError("roads: expected line features, found none")
    if "road_class" not in roads.columns:
        raise NetworkError("roads: expected a road_class column, found none")
    problem = line_geometry_problem(roads)
    if problem:
        raise NetworkError(
            f"roads: expected LineString or MultiLineString geometries, found {problem}"
        )


class _Pieces(NamedTuple):
    """The roads cut at their nodes: edge ``k`` runs from node ``u[k]`` to ``v[k]``."""

    node_xy: np.ndarray
    part_row: np.ndarray
    vertex_part: np.ndarray
    start: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geoms: np.ndarray
    length: np.ndarray


def _pieces(projected: gpd.GeoDataFrame) -> _Pieces:
    """Nodes (shared vertices and line ends) and the pieces of line between them."""
    parts, part_row = shapely.get_parts(projected.geometry.values, return_index=True)
    coords, vertex_part = shapely.get_coordinates(parts, return_index=True)
    vid = _vertex_ids(coords)
    # Drop vertices that repeat the previous one of the same part (after rounding).
    repeat = np.zeros(len(vid), dtype=bool)
    repeat[1:] = (vid[1:] == vid[:-1]) & (vertex_part[1:] == vertex_part[:-1])
    coords, vertex_part, vid = coords[~repeat], vertex_part[~repeat], vid[~repeat]
    # Parts left with a single vertex are shorter than a metre: no road.
    sizes = np.bincount(vertex_part, minlength=len(parts))
    keep = sizes[vertex_part] >= 2
    coords, vertex_part, vid = coords[keep], vertex_part[keep], vid[keep]
    if len(vid) == 0:
        raise NetworkError("roads: expected lines at least 1 m long, found none")

    first = np.ones(len(vid), dtype=bool)
    first[1:] = vertex_part[1:] != vertex_part[:-1]
    last = np.ones(len(vid), dtype=bool)
    last[:-1] = first[1:]
    is_node = first | last | (np.bincount(vid)[vid] >= 2)

    # Nodes numbered 0..n-1 in order of their rounded (x, y); coordinates from the
    # first vertex that made them, unrounded so projecting back is exact.
    node_vids, first_at = np.unique(vid[is_node], return_index=True)
    node_of_vid = np.full(int(vid.max()) + 1 if len(vid) else 0, -1, dtype=np.int64)
    node_of_vid[node_vids] = np.arange(len(node_vids))
    node_xy = coords[is_node][first_at]

    # Edge k runs from node vertex start[k] to the next node vertex of the same part.
    node_at = np.flatnonzero(is_node)
    same_part = vertex_part[node_at[:-1]] == vertex_part[node_at[1:]]
    start, end = node_at[:-1][same_part], node_at[1:][same_part]
    counts = end - start + 1
    edge_of = np.repeat(np.arange(len(start)), counts)
    at = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + start[edge_of]
    xy = coords[at].copy()
    is_end = is_node[at]
    xy[is_end] = node_xy[node_of_vid[vid[at[is_end]]]]  # ends exactly on their nodes
    geoms = shapely.linestrings(xy, indices=edge_of)
    return _Pieces(
        node_xy=node_xy,
        part_row=part_row,
        vertex_part=vertex_part,
        start=start,
        u=node_of_vid[vid[start]],
        v=node_of_vid[vid[end]],
        geoms=geoms,
        length=shapely.length(geoms),
    )


def _vertex_ids(coords: np.ndarray) -> np.ndarray:
    rounded = np.round(coords).astype(np.int64)
    if len(rounded) == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(rounded, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _class_speeds(speeds_kmh: Mapping[str, float] | None) -> dict[str, float]:
    speeds = dict(DEFAULT_SPEEDS_KMH)
    for name, value in (speeds_kmh or {}).items():
        if not (isinstance(value, Real) and math.isfinite(value) and value > 0):
            raise NetworkError(
                f"speeds_kmh: expected a speed > 0 km/h for road class {name!r}, found {value!r}"
            )
        speeds[str(name)] = float(value)
    return speeds


def _speeds(roads: gpd.GeoDataFrame, speeds_kmh: Mapping[str, float] | None) -> np.ndarray:
    """Speed of each road in km/h: its own ``speed_kmh`` if > 0, else its class speed."""
    by_class = _class_speeds(speeds_kmh)
    classes = roads["road_class"].astype(str)
    speed: np.ndarray = classes.map(by_class).to_numpy(dtype=float)
    if "speed_kmh" in roads.columns:
        own = pd.to_numeric(roads["speed_kmh"], errors="coerce").to_numpy(dtype=float)
        usable = np.isfinite(own) & (own > 0)
        speed = np.where(usable, own, speed)
    unknown = np.isnan(speed)
    if unknown.any():
        found = sorted(set(classes[unknown]))
        known = ", ".join(sorted(by_class))
        raise NetworkError(
            f"roads: unknown road_class {', '.join(map(repr, found))} in {int(unknown.sum())} "
            f"road(s) without a speed_kmh; known classes: {known} (add it to speeds_kmh)"
        )
    return speed


def _oneway_flags(roads: gpd.GeoDataFrame) -> np.ndarray:
    if "oneway" not in roads.columns:
        return np.zeros(len(roads), dtype=bool)
    flags, bad = parse_flags(roads["oneway"])
    if bad.any():
        raise NetworkError(
            f"roads: expected yes/no, true/false or 1/0 in oneway, found other values in "
            f"{features(bad)}"
        )
    return flags


def _target_crs(roads: gpd.GeoDataFrame, crs: Any) -> pyproj.CRS:
    if crs is None:
        west, south, east, north = roads.to_crs("EPSG:4326").total_bounds
        return utm_crs((west + east) / 2, (south + north) / 2)
    target = pyproj.CRS.from_user_input(crs)
    units = {axis.unit_name for axis in target.axis_info}
    if not target.is_projected or not units <= {"metre", "meter"}:
        raise NetworkError(f"crs: expected a projected CRS in metres, found {target.name}")
    return target
