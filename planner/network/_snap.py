"""Snapping places onto the nearest road."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from planner._errors import Issue, NetworkError, issue

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Snapping:
    """Where each place joins the road graph. Arrays are read-only, one entry per place.

    Parameters
    ----------
    ids, names
        The places' ids and names (names may be ``""``), in input order.
    edge
        ``(n, 3)`` integers: the ``(u, v, key)`` of the edge each place is on. On a
        two-way road this is one of its two directed edges.
    offset_m
        Distance from ``u`` along the edge's geometry to the snapped point.
    connector_m
        Straight off-road distance from the place to the snapped point.
    x, y
        The snapped point, in the graph's CRS.
    place_x, place_y
        The place itself, in the graph's CRS.
    warnings
        One warning :class:`~planner._errors.Issue` per place farther from the road
        than ``warn_km``.
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    edge: NDArray[np.int64]
    offset_m: FloatArray
    connector_m: FloatArray
    x: FloatArray
    y: FloatArray
    place_x: FloatArray
    place_y: FloatArray
    warnings: tuple[Issue, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.names) != n or len(set(self.ids)) != n:
            raise ValueError("Expected unique ids and one name per id.")
        edge = np.array(self.edge, dtype=np.int64).reshape(-1, 3)
        if len(edge) != n:
            raise ValueError("Expected one edge per id.")
        edge.setflags(write=False)
        object.__setattr__(self, "edge", edge)
        for name in ("offset_m", "connector_m", "x", "y", "place_x", "place_y"):
            values = np.array(getattr(self, name), dtype=np.float64)
            if values.shape != (n,):
                raise ValueError(f"Expected {name} to have one value per id.")
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return len(self.ids)

    def label(self, i: int) -> str:
        """The place's id with its name in brackets, for messages."""
        return f"{self.ids[i]} ({self.names[i]})" if self.names[i] else self.ids[i]


def snap(
    G: nx.MultiDiGraph,
    places: pd.DataFrame,
    *,
    offroad_speed_kmh: float = 15.0,
    warn_km: float = 2.0,
) -> Snapping:
    """Snap each place to the nearest point of the nearest road edge.

    Parameters
    ----------
    G
        A graph from :func:`build_graph` (integer nodes, ``x``/``y``, edge
        ``geometry`` or straight edges, ``G.graph["crs"]``).
    places
        Columns ``id``, ``lon``, ``lat`` (WGS84 degrees) and optionally ``name`` and
        ``kind`` (``point``, ``station``, ``depot``, ``buyer``, ``plant``: how a far
        place's warning is worded).
    offroad_speed_kmh
        Speed on the connector, only quoted in the warnings here.
    warn_km
        Connectors longer than this produce a warning.

    Returns
    -------
    Snapping
        Ties between equally near edges go to the edge listed first in ``G``.

    Raises
    ------
    NetworkError
        Missing columns, duplicate ids, bad coordinates, or a graph without edges or CRS.
    """
    if not (offroad_speed_kmh > 0 and warn_km >= 0):
        raise NetworkError(
            f"expected offroad_speed_kmh > 0 and warn_km >= 0, found {offroad_speed_kmh} "
            f"and {warn_km}"
        )
    ids, names, lon, lat = _read_places(places)
    if G.number_of_edges() == 0 or "crs" not in G.graph:
        raise NetworkError("graph: expected edges and a crs in G.graph, found none")
    to_graph = pyproj.Transformer.from_crs("EPSG:4326", G.graph["crs"], always_xy=True)
    px, py = to_graph.transform(lon, lat)
    points = shapely.points(np.asarray(px, dtype=float), np.asarray(py, dtype=float))

    keys = []
    lines = []
    for u, v, k, geom in G.edges(keys=True, data="geometry"):
        keys.append((_integer(u, "node id"), _integer(v, "node id"), _integer(k, "edge key")))
        lines.append(geom if geom is not None else straight_line(G, u, v))
    tree = shapely.STRtree(lines)
    where, which = tree.query_nearest(points, all_matches=True)
    order = np.lexsort((which, where))
    _, first = np.unique(where[order], return_index=True)
    chosen = which[order][first]
    geoms = tree.geometries[chosen]

    offset = shapely.line_locate_point(geoms, points)
    snapped = shapely.line_interpolate_point(geoms, offset)
    connector = shapely.distance(points, snapped)
    result_xy = shapely.get_coordinates(snapped)

    far = connector > warn_km * 1000.0
    label = [f"{i} ({n})" if n else i for i, n in zip(ids, names, strict=True)]
    kinds = (
        tuple("" if pd.isna(k) else str(k) for k in places["kind"])
        if "kind" in places.columns
        else ("",) * len(ids)
    )
    warnings = tuple(
        issue(
            None,
            "",
            _far_message(kinds[i], label[i], connector[i], offroad_speed_kmh),
            warning=True,
        )
        for i in np.flatnonzero(far)
    )
    return Snapping(
        ids=ids,
        names=names,
        edge=np.array([keys[c] for c in chosen], dtype=np.int64).reshape(-1, 3),
        offset_m=offset,
        connector_m=connector,
        x=result_xy[:, 0],
        y=result_xy[:, 1],
        place_x=np.asarray(px, dtype=float),
        place_y=np.asarray(py, dtype=float),
        warnings=warnings,
    )


def edge_line(G: nx.MultiDiGraph, u: Any, v: Any, k: Any) -> shapely.LineString:
    """The edge's ``geometry``, or the straight line between its nodes if it has none."""
    geom = G.edges[u, v, k].get("geometry")
    return geom if geom is not None else straight_line(G, u, v)


def straight_line(G: nx.MultiDiGraph, u: Any, v: Any) -> shapely.LineString:
    """The straight line from node ``u`` to node ``v``, for edges without ``geometry``."""
    a, b = G.nodes[u], G.nodes[v]
    return shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])


def _integer(value: Any, what: str) -> int:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    raise NetworkError(f"graph: expected integer {what}s (as build_graph makes), found {value!r}")


def _far_message(kind: str, label: str, metres: float, speed_kmh: float) -> str:
    """The warning for a place far from every road, worded for what the place is.

    Every place is joined to its road by a straight off-road connector driven at
    ``speed_kmh``. A collection point far out on the steppe is expected; a station,
    depot, buyer or plant is a site trucks drive to every day, so a long connector
    there means the roads file lacks its access road, and every trip pays for it.
    """
    km = metres / 1000.0
    if kind in ("station", "depot", "buyer", "plant"):
        what = "transfer station" if kind == "station" else kind
        return (
            f"{what} {label} is {km:.1f} km from the nearest road in the roads file; every "
            f"truck going there is counted driving that off-road at {speed_kmh:g} km/h each "
            f"way: add its access road (or check its position)"
        )
    noun = "point" if kind in ("point", "") else kind
    return (
        f"{noun} {label} is {km:.1f} km from the nearest road; "
        f"the off-road connector is counted at {speed_kmh:g} km/h"
    )


def _read_places(places: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...], Any, Any]:
    missing = [c for c in ("id", "lon", "lat") if c not in places.columns]
    if missing:
        raise NetworkError(f"places: expected columns id, lon, lat, found no {', '.join(missing)}")
    ids = tuple(str(i) for i in places["id"])
    dupes = sorted(i for i, count in Counter(ids).items() if count > 1)
    if dupes:
        raise NetworkError(f"places: expected unique ids, found {', '.join(dupes[:5])} repeated")
    if "name" in places.columns:
        names = tuple("" if pd.isna(n) else str(n) for n in places["name"])
    else:
        names = ("",) * len(ids)
    lon = pd.to_numeric(places["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(places["lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        shown = ", ".join(ids[i] for i in np.flatnonzero(bad)[:5])
        raise NetworkError(
            f"places: expected lon in [-180, 180] and lat in [-90, 90], found other values for "
            f"{shown}" + (f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else "")
        )
    return ids, names, lon, lat
