"""Road network: reading roads, the road graph, snapping places, travel matrices.

The road graph is a plain :class:`networkx.MultiDiGraph`, as OSMnx keeps it, built by
:func:`build_graph` in a projected CRS in metres:

``G.graph``
    ``crs``: the :class:`pyproj.CRS` of all coordinates and geometries;
    ``speeds_kmh``: the speed of each road class used.
Nodes
    Integers ``0..n-1``: road ends and the vertices roads share. Attributes ``x``,
    ``y`` (metres in ``crs``).
Edges ``(u, v, key)``
    One per direction a vehicle may drive a road piece between two nodes: two for a
    two-way road, one for a one-way road (along its drawn direction). Attributes:
    ``length`` (m), ``travel_time`` (s, from length and speed), ``road_class`` (str),
    ``speed_kmh`` (float), ``oneway`` (bool), ``geometry`` (shapely LineString in
    ``crs``, drawn from ``u`` to ``v``) and ``name`` when the road has one.

:func:`snap` and :func:`travel_matrices` also accept hand-made graphs with the same
attributes; an edge without ``geometry`` is the straight line between its nodes.

Typical use::

    roads = read_roads(Path("roads.gpkg"))
    G = build_graph(roads)
    snapping = snap(G, places)          # places: DataFrame with id, lon, lat[, name]
    key = matrix_key(roads_bytes, places_csv_bytes, "15.0")
    matrices = load_or_compute(cache_dir, key, lambda: travel_matrices(G, snapping))
    lines = route_geometries(G, snapping, [(0, 3), (3, 1)])   # WGS84, for GPX and maps

How the matrices are computed (one Dijkstra per place on CSR arrays, time and length
packed into one weight) is described in ``planner/network/_matrices.py``.
"""

from planner.network._cache import CACHE_FORMAT as CACHE_FORMAT
from planner.network._cache import load_or_compute as load_or_compute
from planner.network._cache import matrix_key as matrix_key
from planner.network._graph import DEFAULT_SPEEDS_KMH as DEFAULT_SPEEDS_KMH
from planner.network._graph import build_graph as build_graph
from planner.network._graph import utm_crs as utm_crs
from planner.network._matrices import Matrices as Matrices
from planner.network._matrices import travel_matrices as travel_matrices
from planner.network._roads import OSM_ROAD_CLASSES as OSM_ROAD_CLASSES
from planner.network._roads import read_roads as read_roads
from planner.network._route import route_geometries as route_geometries
from planner.network._route import route_geometry as route_geometry
from planner.network._snap import Snapping as Snapping
from planner.network._snap import snap as snap

__all__ = [
    "CACHE_FORMAT",
    "DEFAULT_SPEEDS_KMH",
    "OSM_ROAD_CLASSES",
    "Matrices",
    "Snapping",
    "build_graph",
    "load_or_compute",
    "matrix_key",
    "read_roads",
    "route_geometries",
    "route_geometry",
    "snap",
    "travel_matrices",
    "utm_crs",
]
