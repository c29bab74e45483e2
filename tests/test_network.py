"""Tests of planner.network: roads, graph, snapping, matrices, cache, route lines.

All coordinates are synthetic: made-up roads near Otog Banner, not real ones.
"""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner._errors import NetworkError
from planner.network import (
    DEFAULT_SPEEDS_KMH,
    Matrices,
    build_graph,
    load_or_compute,
    matrix_key,
    read_roads,
    route_geometries,
    route_geometry,
    snap,
    travel_matrices,
    utm_crs,
)

DATA = Path(__file__).parent / "data" / "network"
UTM = "EPSG:32649"
TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
TO_WGS84 = pyproj.Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
X0, Y0 = 400_000.0, 4_320_000.0  # a point in Otog Banner, UTM 49 N metres


def utm_roads(lines: list[list[tuple[float, float]]], **columns: list) -> gpd.GeoDataFrame:
    """Roads drawn in metres relative to (X0, Y0)."""
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    columns.setdefault("road_class", ["paved"] * len(lines))
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=UTM)


def places_at(points: dict[str, tuple[float, float]], names: dict[str, str] | None = None):
    """Places at (x, y) metres relative to (X0, Y0), as id/lon/lat/name."""
    ids = list(points)
    xy = np.array([points[i] for i in ids], dtype=float) + np.array([X0, Y0])
    lon, lat = TO_WGS84.transform(xy[:, 0], xy[:, 1])
    names = names or {}
    return pd.DataFrame(
        {"id": ids, "lon": lon, "lat": lat, "name": [names.get(i, "") for i in ids]}
    )


# --- read_roads -------------------------------------------------------------------


def test_read_roads_geojson_columns_and_crs():
    roads = read_roads(DATA / "roads_small.geojson")
    assert list(roads.columns) == ["road_class", "speed_kmh", "oneway", "name", "geometry"]
    assert roads.crs.to_epsg() == 4326
    assert list(roads["road_class"]) == ["paved", "gravel", "dirt"]
    assert list(roads["oneway"]) == [False, False, True]
    assert np.isnan(roads["speed_kmh"][0]) and roads["speed_kmh"][1] == 30.0
    assert list(roads.geom_type) == ["LineString", "LineString", "MultiLineString"]


@pytest.mark.skipif("OSM" not in pyogrio.list_drivers(), reason="GDAL lacks the OSM driver")
def test_read_roads_osm_maps_highway_values():
    roads = read_roads(DATA / "roads_small.osm")
    # The waterway has no highway tag and is left out.
    assert list(roads["osm_highway"]) == ["primary", "tertiary_link", "track", "residential"]
    assert list(roads["road_class"]) == ["highway", "paved", "dirt", "gravel"]
    assert list(roads["oneway"]) == [False, False, True, True]
    assert roads["speed_kmh"][0] == 70.0 and np.isnan(roads["speed_kmh"][1])
    # oneway=-1: drawn 5 -> 4 (south to north) but driven north to south.
    start, end = roads.geometry[3].coords[0], roads.geometry[3].coords[-1]
    assert start[1] > end[1]


def test_read_roads_reprojects_to_wgs84(tmp_path):
    path = tmp_path / "roads_utm.gpkg"
    utm_roads([[(0, 0), (1000, 0)]]).to_file(path, layer="roads")
    roads = read_roads(path)
    assert roads.crs.to_epsg() == 4326
    lon, lat = TO_WGS84.transform(X0 + 1000, Y0)
    assert roads.geometry[0].coords[-1] == pytest.approx((lon, lat), abs=1e-9)


def test_read_roads_without_crs_is_wgs84(tmp_path):
    path = tmp_path / "roads.shp"
    frame = gpd.GeoDataFrame(
        {"road_class": ["dirt"]},
        geometry=[shapely.LineString([(108.0, 39.0), (108.1, 39.0)])],
        crs="EPSG:4326",
    )
    frame.to_file(path)
    path.with_suffix(".prj").unlink()  # now the file has no CRS
    roads = read_roads(path)
    assert roads.crs.to_epsg() == 4326
    assert roads.geometry[0].coords[0] == (108.0, 39.0)


def test_read_roads_picks_the_only_line_layer(tmp_path):
    path = tmp_path / "banner.gpkg"
    utm_roads([[(0, 0), (1000, 0)]]).to_file(path, layer="roads")
    villages = gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(X0, Y0)], crs=UTM)
    villages.to_file(path, layer="villages")
    assert len(read_roads(path)) == 1
    utm_roads([[(0, 0), (0, 1000)]]).to_file(path, layer="tracks")
    with pytest.raises(NetworkError, match="found layers roads, villages, tracks"):
        read_roads(path)
    assert len(read_roads(path, layer="tracks")) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # no such file at all
        ("roads_missing.geojson", "expected a road file, found no file at that path"),
        # text that is not GeoJSON
        ("roads_unreadable.geojson", "GDAL can read, found an unreadable file"),
        # a valid FeatureCollection without features
        ("roads_no_features.geojson", "expected line features, found none"),
        # properties name the class "class"
        ("roads_no_road_class.geojson", "expected a road_class column, found columns class"),
        # a village drawn as a point among the roads
        ("roads_point_geometries.geojson", "found Point geometry in feature 2"),
        # oneway "sometimes"
        ("roads_bad_oneway.geojson", "in oneway, found other values in feature 1"),
    ],
)
def test_read_roads_bad_files(name, message):
    with pytest.raises(NetworkError, match=message) as caught:
        read_roads(DATA / name)
    text = str(caught.value)
    assert name in text and "\n" not in text


# --- utm_crs and build_graph ------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (108.0, 39.0, 32649),  # Otog Banner
        (107.98, 39.094, 32648),  # the banner seat, just west of 108 E
        (-180.0, 10.0, 32601),
        (180.0, 10.0, 32660),
        (151.2, -33.9, 32756),  # southern hemisphere
    ],
)
def test_utm_crs(lon, lat, epsg):
    assert utm_crs(lon, lat).to_epsg() == epsg


def test_build_graph_splits_at_shared_vertices():
    # A cross whose lines share the vertex (0, 0), and a line that crosses the
    # east-west one at (500, 0) without a shared vertex: no junction there.
    roads = utm_roads(
        [
            [(-1000, 0), (0, 0), (1000, 0)],
            [(0, -1000), (0, 0), (0, 1000)],
            [(500, -500), (500, 500)],
        ],
        road_class=["paved", "gravel", "dirt"],
    )
    G = build_graph(roads, crs=UTM)
    assert G.number_of_nodes() == 7
    assert G.number_of_edges() == 2 * 5
    centre = next(n for n, d in G.nodes(data=True) if (d["x"], d["y"]) == (X0, Y0))
    assert G.degree(centre) == 8  # 4 pieces, in and out
    for u, v, data in G.edges(data=True):
        line = data["geometry"]
        assert line.coords[0] == (G.nodes[u]["x"], G.nodes[u]["y"])
        assert line.coords[-1] == (G.nodes[v]["x"], G.nodes[v]["y"])
        assert data["length"] == pytest.approx(line.length)
        speed = DEFAULT_SPEEDS_KMH[data["road_class"]] / 3.6
        assert data["travel_time"] == pytest.approx(data["length"] / speed)
    assert G.graph["crs"] == pyproj.CRS(UTM)


def test_build_graph_merges_vertices_within_a_metre():
    roads = utm_roads([[(0, 0), (1000, 0)], [(1000.3, 0.2), (1000, 800)]])
    G = build_graph(roads, crs=UTM)
    assert G.number_of_nodes() == 3
    assert nx.is_strongly_connected(G)


def test_build_graph_oneway_and_speeds():
    roads = utm_roads(
        [[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)], [(2000, 0), (3000, 0)]],
        road_class=["paved", "gravel", "track"],
        speed_kmh=[np.nan, 10.0, 0.0],
        oneway=[True, False, False],
    )
    G = build_graph(roads, crs=UTM, speeds_kmh={"track": 18.0, "paved": 50.0})
    assert G.number_of_edges() == 1 + 2 + 2
    times = {(u, v): d["travel_time"] for u, v, d in G.edges(data=True)}
    a, b, c, d = sorted(G.nodes, key=lambda n: G.nodes[n]["x"])
    assert (b, a) not in times
    assert times[a, b] == pytest.approx(1000 / (50 / 3.6))
    assert times[b, c] == pytest.approx(1000 / (10 / 3.6))  # own speed_kmh
    assert times[d, c] == pytest.approx(1000 / (18 / 3.6))  # speed 0: the class speed


def test_build_graph_unknown_class_names_it():
    roads = utm_roads([[(0, 0), (1000, 0)]], road_class=["footway"])
    with pytest.raises(NetworkError, match=r"'footway'.*known classes: dirt, gravel, highway"):
        build_graph(roads, crs=UTM)


def test_build_graph_rejects_geographic_crs():
    with pytest.raises(NetworkError, match="projected CRS in metres"):
        build_graph(utm_roads([[(0, 0), (10, 0)]]), crs="EPSG:4326")


def test_crs_round_trip():
    roads = read_roads(DATA / "roads_small.geojson")
    G = build_graph(roads)
    assert G.graph["crs"].to_epsg() == 32649
    back = pyproj.Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    vertices = {tuple(c) for c in shapely.get_coordinates(roads.geometry.values).tolist()}
    for _, data in G.nodes(data=True):
        lon, lat = back.transform(data["x"], data["y"])
        nearest = min(vertices, key=lambda c: math.dist(c, (lon, lat)))
        assert math.dist(nearest, (lon, lat)) < 1e-6


# --- snap -------------------------------------------------------------------------


def test_snap_hand_computed():
    # One east-west road (two-way) from (0, 0) to (1000, 0) and a north spur.
    G = build_graph(utm_roads([[(0, 0), (1000, 0)], [(1000, 0), (1000, 500)]]), crs=UTM)
    s = snap(G, places_at({"A": (400, 300), "B": (1300, 250), "C": (-30, -40)}))
    assert s.connector_m == pytest.approx([300, 300, 50], abs=1e-6)
    assert s.x - X0 == pytest.approx([400, 1000, 0], abs=1e-6)
    assert s.y - Y0 == pytest.approx([0, 250, 0], abs=1e-6)
    # The offset runs from the edge's u (either direction of the two-way road).
    main, spur = {(0, 0), (1000, 0)}, {(1000, 0), (1000, 500)}
    for p, road_ends in enumerate([main, spur, main]):
        u, v, _ = s.edge[p]
        ux, uy = G.nodes[u]["x"] - X0, G.nodes[u]["y"] - Y0
        assert {(ux, uy), (G.nodes[v]["x"] - X0, G.nodes[v]["y"] - Y0)} == road_ends
        expected = math.hypot(s.x[p] - X0 - ux, s.y[p] - Y0 - uy)
        assert s.offset_m[p] == pytest.approx(expected, abs=1e-6)
    assert s.warnings == ()
    with pytest.raises(ValueError, match="read-only"):
        s.offset_m[0] = 1.0


def test_snap_warns_about_far_places_without_warnings_module():
    G = build_graph(utm_roads([[(0, 0), (1000, 0)]]), crs=UTM)
    places = places_at({"P123": (500, 3400), "P124": (500, 100)}, {"P123": "Bayan well"})
    s = snap(G, places)  # filterwarnings=error would fail on warnings.warn
    assert len(s.warnings) == 1
    (issue,) = s.warnings
    assert issue.severity == "warning"
    assert issue.message == (
        "point P123 (Bayan well) is 3.4 km from the nearest road; "
        "the off-road connector is counted at 15 km/h"
    )


def test_a_far_station_is_not_called_a_point() -> None:
    G = build_graph(utm_roads([[(0, 0), (1000, 0)]]), crs=UTM)
    places = places_at({"S01": (500, 7700), "P1": (500, 3000)}, {"S01": "中转站"})
    places["kind"] = ["station", "point"]
    station, point = (w.message for w in snap(G, places).warnings)
    assert station.startswith("transfer station S01 (中转站) is 7.7 km from the nearest road")
    assert "add its access road" in station and "point" not in station
    assert point.startswith("point P1 is 3.0 km from the nearest road")


def test_a_far_station_of_a_scenario_is_named_a_station(tmp_path: Path) -> None:
    from planner.network.travel import build_travel
    from planner.scenario.load import load_scenario

    data = Path(__file__).parent / "data"
    shutil.copytree(data / "tiny", tmp_path / "tiny")
    shutil.copy(data / "tiny.toml", tmp_path / "tiny.toml")
    (tmp_path / "tiny.toml").write_text(
        (data / "tiny.toml")
        .read_text(encoding="utf-8")
        .replace("[region.road_speeds_kmh]", "snap_warn_km = 0.05\n\n[region.road_speeds_kmh]"),
        encoding="utf-8",
    )
    sc = load_scenario(tmp_path / "tiny.toml")
    msgs = [w.message for w in build_travel(sc, cache_dir=tmp_path / "cache").warnings]
    ours = [m for m in msgs if "S1" in m]
    assert ours and all(m.startswith("transfer station S1 (测试中转站)") for m in ours), msgs
    assert not any(m.startswith("point S1") or m.startswith("point D1") for m in msgs), msgs


@pytest.mark.parametrize(
    ("places", "message"),
    [
        # no lat column
        (pd.DataFrame({"id": ["A"], "lon": [108.0]}), "found no lat"),
        # the same id twice
        (
            pd.DataFrame({"id": ["A", "A"], "lon": [108.0, 108.1], "lat": [39.0, 39.0]}),
            "A repeated",
        ),
        # latitude out of range
        (pd.DataFrame({"id": ["A"], "lon": [108.0], "lat": [139.0]}), "other values for A"),
    ],
)
def test_snap_bad_places(places, message):
    G = build_graph(utm_roads([[(0, 0), (1000, 0)]]), crs=UTM)
    with pytest.raises(NetworkError, match=message):
        snap(G, places)


# --- travel_matrices --------------------------------------------------------------


def test_same_edge_two_way_both_directions():
    # 1000 m of gravel (40 km/h): 90 s end to end.
    G = build_graph(utm_roads([[(0, 0), (1000, 0)]], road_class=["gravel"]), crs=UTM)
    s = snap(G, places_at({"A": (200, 0), "B": (700, 0)}))
    m = travel_matrices(G, s)
    np.testing.assert_allclose(m.distance_m, [[0, 500], [500, 0]], atol=0.05)
    np.testing.assert_allclose(m.duration_s, [[0, 45], [45, 0]], atol=0.01)


def test_same_edge_one_way_goes_round():
    # A one-way square, drawn clockwise from (0, 0): north, east, south, west.
    square = [(0, 0), (0, 1000), (1000, 1000), (1000, 0), (0, 0)]
    roads = utm_roads(
        [square[k : k + 2] for k in range(4)], road_class=["gravel"] * 4, oneway=[True] * 4
    )
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (0, 200), "B": (0, 700)}))
    m = travel_matrices(G, s)
    assert m.distance_m[0, 1] == pytest.approx(500, abs=0.05)  # straight on
    assert m.distance_m[1, 0] == pytest.approx(3500, abs=0.05)  # round the square
    assert m.duration_s[1, 0] == pytest.approx(3500 / (40 / 3.6), abs=0.01)


def test_oneway_respected_and_connectors_added():
    # Two roads from (0, 0) to (2000, 0): a direct one-way paved road east, and a
    # two-way dirt detour through (1000, 1000).
    roads = utm_roads(
        [[(0, 0), (2000, 0)], [(0, 0), (1000, 1000), (2000, 0)]],
        road_class=["paved", "dirt"],
        oneway=[True, False],
    )
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"W": (0, -100), "E": (2000, -100)}))
    m = travel_matrices(G, s, offroad_speed_kmh=10)
    connectors = 200.0
    detour = 2 * math.hypot(1000, 1000)
    assert m.distance_m[0, 1] == pytest.approx(2000 + connectors, abs=0.05)
    assert m.duration_s[0, 1] == pytest.approx(
        2000 / (60 / 3.6) + connectors / (10 / 3.6), abs=0.01
    )
    assert m.distance_m[1, 0] == pytest.approx(detour + connectors, abs=0.05)
    assert m.duration_s[1, 0] == pytest.approx(
        detour / (20 / 3.6) + connectors / (10 / 3.6), abs=0.01
    )


def test_fastest_not_shortest_and_distance_of_that_path():
    # Short dirt road (1000 m at 20 km/h = 180 s) against a paved detour
    # (2 x 800 m at 60 km/h = 96 s): time is minimised, distance is the detour's.
    roads = utm_roads(
        [[(0, 0), (1000, 0)], [(0, 0), (500, 600), (1000, 0)]], road_class=["dirt", "paved"]
    )
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (0, 0), "B": (1000, 0)}))
    m = travel_matrices(G, s)
    detour = 2 * math.hypot(500, 600)
    assert m.distance_m[0, 1] == pytest.approx(detour, abs=0.05)
    assert m.duration_s[0, 1] == pytest.approx(detour / (60 / 3.6), abs=0.01)


def test_matrices_are_read_only_and_validated():
    m = Matrices(("a", "b"), np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="read-only"):
        m.duration_s[0, 1] = 5.0
    with pytest.raises(ValueError, match="2 x 2"):
        Matrices(("a", "b"), np.zeros((2, 3)), np.zeros((2, 2)))


def test_unreachable_places_are_named():
    roads = utm_roads([[(0, 0), (1000, 0)], [(5000, 0), (6000, 0)]])
    G = build_graph(roads, crs=UTM)
    places = places_at(
        {"P012": (100, 50), "P013": (900, 50), "D001": (5500, 50)},
        {"P012": "Hoh nuur", "D001": "transfer station"},
    )
    with pytest.raises(NetworkError) as caught:
        travel_matrices(G, snap(G, places))
    text = str(caught.value)
    assert text.startswith("4 pair(s) of places cannot reach each other")
    assert (
        "P012 (Hoh nuur) cannot reach D001 (transfer station) by road: "
        "they are in separate road components"
    ) in text
    assert "2 road component(s) of 2, 1 place(s)" in text


def test_unreachable_by_one_way_roads():
    roads = utm_roads([[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)]], oneway=[True, True])
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (500, 0), "B": (1500, 0)}))
    with pytest.raises(NetworkError, match="B cannot reach A by road: one-way roads allow no"):
        travel_matrices(G, s)


def test_long_paths_use_coarser_steps(monkeypatch):
    # Pretend millisecond steps overflow after 65.5 s: every path here takes 60 or 120 s
    # by paved road, so the matrices come from the second pass, in steps of 64 ms.
    import planner.network._matrices as matrices

    roads = utm_roads([[(0, 0), (1000, 0), (2000, 0)], [(1000, 0), (1000, 1000)]])
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (0, 0), "B": (2000, 0), "C": (1000, 1000)}))
    fine = travel_matrices(G, s)
    monkeypatch.setattr(matrices, "_MAX_STEPS", float(2**16))
    coarse = travel_matrices(G, s)
    np.testing.assert_allclose(coarse.duration_s, fine.duration_s, atol=2 * 0.032 + 1e-9)
    np.testing.assert_allclose(coarse.distance_m, fine.distance_m, atol=2.0)
    assert not np.array_equal(coarse.duration_s, fine.duration_s)


def test_snapping_from_another_graph():
    G = build_graph(utm_roads([[(0, 0), (1000, 0)]]), crs=UTM)
    other = build_graph(utm_roads([[(0, 0), (500, 0)], [(500, 0), (1000, 0)]]), crs=UTM)
    s = snap(other, places_at({"A": (700, 0)}))
    with pytest.raises(NetworkError, match="snap the places on this graph"):
        travel_matrices(G, s)


def test_workers_give_the_same_matrices():
    rng = np.random.default_rng(7)
    lines = [[(x, y), (x + 1000, y)] for x in range(0, 5000, 1000) for y in range(0, 5000, 1000)]
    lines += [[(x, y), (x, y + 1000)] for x in range(0, 5000, 1000) for y in range(0, 4000, 1000)]
    G = build_graph(utm_roads(lines), crs=UTM)
    points = {f"P{i}": tuple(rng.uniform(0, 4000, 2)) for i in range(12)}
    s = snap(G, places_at(points))
    serial = travel_matrices(G, s)
    parallel = travel_matrices(G, s, workers=2)
    np.testing.assert_array_equal(serial.duration_s, parallel.duration_s)
    np.testing.assert_array_equal(serial.distance_m, parallel.distance_m)


# --- property test against networkx ----------------------------------------------


@st.composite
def small_graphs(draw):
    """Nodes on a 1 km circle (so no straight edge passes through another node), a
    directed cycle through all of them (so all can reach all), and random extra
    directed edges, parallel ones included; small integer times and lengths make
    ties between paths common."""
    n = draw(st.integers(2, 7))
    G = nx.MultiDiGraph(crs=pyproj.CRS(UTM))
    for i in range(n):
        angle = 2 * math.pi * i / n
        G.add_node(i, x=X0 + 1000 * math.cos(angle), y=Y0 + 1000 * math.sin(angle))
    pairs = [(i, (i + 1) % n) for i in range(n)]
    pairs += draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
            max_size=12,
        )
    )
    for u, v in pairs:
        G.add_edge(u, v, travel_time=draw(st.integers(1, 4)), length=draw(st.integers(1, 4)))
    places = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return G, places


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_graphs())
def test_matrices_match_networkx(case):
    G, at = case
    xy = np.array([(G.nodes[p]["x"], G.nodes[p]["y"]) for p in at])
    lon, lat = TO_WGS84.transform(xy[:, 0], xy[:, 1])
    places = pd.DataFrame({"id": [f"N{p}" for p in at], "lon": lon, "lat": lat})
    s = snap(G, places)
    assert s.connector_m == pytest.approx(0, abs=1e-6)
    m = travel_matrices(G, s)

    # Lexicographic (time, length) with exact integers: fastest, then shortest.
    def weight(_u, _v, parallel):
        return min(d["travel_time"] * 10**6 + d["length"] for d in parallel.values())

    for i, p in enumerate(at):
        best = nx.single_source_dijkstra_path_length(G, p, weight=weight)
        for j, q in enumerate(at):
            time, length = divmod(best[q], 10**6)
            assert m.duration_s[i, j] == pytest.approx(time, abs=1e-6)
            assert m.distance_m[i, j] == pytest.approx(length, abs=1e-6)


@st.composite
def places_on_edges(draw):
    """Nodes at irregular angles on a circle, a directed cycle plus random edges (at
    most one per direction), and places on edges at quarters of their length, so that
    every time and length is exact in the planner's steps (1 ms, and 1, 2 or 5 mm)."""
    n = draw(st.integers(3, 7))
    G = nx.MultiDiGraph(crs=pyproj.CRS(UTM))
    for i in range(n):
        angle = 2 * math.pi * (i + 0.3 * math.sin(3.7 * i)) / n
        G.add_node(i, x=X0 + 1000 * math.cos(angle), y=Y0 + 1000 * math.sin(angle))
    pairs = {(i, (i + 1) % n) for i in range(n)}
    extra = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    pairs |= {e for e in draw(st.lists(extra, max_size=10)) if e[0] != e[1]}
    for u, v in sorted(pairs):
        G.add_edge(u, v, travel_time=draw(st.integers(1, 4)), length=draw(st.integers(1, 4)))
    edges = sorted(pairs)
    spots = st.tuples(st.integers(0, len(edges) - 1), st.integers(1, 3))

    def same_spot(spot):
        # (u, v) at 1/4 and (v, u) at 3/4 are one spot: keep one place there
        u, v = edges[spot[0]]
        return min(u, v), max(u, v), spot[1] if u < v else 4 - spot[1]

    chosen = draw(st.lists(spots, min_size=1, max_size=6, unique_by=same_spot))
    return G, [(edges[e], quarters / 4) for e, quarters in chosen]


def _split_at_places(G, places):
    """G as a DiGraph with each place a node inside its road piece."""
    on: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for name, ((u, v), f) in places.items():
        a, b = sorted((u, v))
        on.setdefault((a, b), []).append((f if u == a else 1 - f, name))
    H = nx.DiGraph()
    for u, v, data in G.edges(data=True):
        a, b = sorted((u, v))
        stops = sorted(on.get((a, b), []))
        if u != a:
            stops = [(1 - f, name) for f, name in reversed(stops)]
        chain = [(0.0, u), *stops, (1.0, v)]
        for (f0, n0), (f1, n1) in itertools.pairwise(chain):
            H.add_edge(n0, n1, t=data["travel_time"] * (f1 - f0), l=data["length"] * (f1 - f0))
    return H


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(places_on_edges())
def test_places_inside_edges_match_networkx(case):
    G, spots = case
    names = [f"P{k}" for k in range(len(spots))]
    xy = []
    for (u, v), f in spots:
        a, b = (
            np.array([G.nodes[u]["x"], G.nodes[u]["y"]]),
            np.array([G.nodes[v]["x"], G.nodes[v]["y"]]),
        )
        xy.append(a + f * (b - a))
    lon, lat = TO_WGS84.transform(*np.array(xy).T)
    s = snap(G, pd.DataFrame({"id": names, "lon": lon, "lat": lat}))
    m = travel_matrices(G, s)
    H = _split_at_places(G, dict(zip(names, spots, strict=True)))
    for i, p in enumerate(names):
        # Fastest, then shortest; all values are multiples of 1/4, so exact.
        best = nx.single_source_dijkstra_path_length(
            H, p, weight=lambda _u, _v, d: d["t"] * 10**6 + d["l"]
        )
        for j, q in enumerate(names):
            time = math.floor(best[q] / 250_000) * 0.25
            assert m.duration_s[i, j] == pytest.approx(time, abs=1e-6)
            assert m.distance_m[i, j] == pytest.approx(best[q] - time * 10**6, abs=1e-6)


# --- route_geometry ---------------------------------------------------------------


def test_route_geometry_follows_the_roads():
    roads = utm_roads(
        [[(0, 0), (1000, 0)], [(1000, 0), (1000, 800), (0, 800)]], road_class=["dirt", "paved"]
    )
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (300, -50), "B": (500, 850)}))
    m = travel_matrices(G, s)
    line = route_geometry(G, s, 0, 1)
    x, y = TO_UTM.transform(*np.asarray(line.coords).T)
    drawn = np.column_stack([x - X0, y - Y0])
    assert drawn[0] == pytest.approx((300, -50), abs=1e-6)
    assert drawn[-1] == pytest.approx((500, 850), abs=1e-6)
    np.testing.assert_allclose(
        drawn[1:-1], [[300, 0], [1000, 0], [1000, 800], [500, 800]], atol=1e-6
    )
    assert shapely.LineString(drawn).length == pytest.approx(m.distance_m[0, 1], abs=0.05)
    # The same edge, backwards; and a place to itself.
    back, still = route_geometries(G, s, [(1, 0), (0, 0)])
    x, y = TO_UTM.transform(*np.asarray(back.coords).T)
    assert shapely.LineString(np.column_stack([x, y])).length == pytest.approx(
        m.distance_m[1, 0], abs=0.05
    )
    assert len(still.coords) == 2 and still.length == 0


def test_route_lengths_match_the_matrix():
    # A 4 x 4 grid (1 km blocks) with mixed classes and some one-way streets, and
    # random places: every drawn route is as long as the matrix says.
    rng = np.random.default_rng(3)
    lines = [[(x, y), (x + 1000, y)] for x in range(0, 3000, 1000) for y in range(0, 4000, 1000)]
    lines += [[(x, y), (x, y + 1000)] for x in range(0, 4000, 1000) for y in range(0, 3000, 1000)]
    roads = utm_roads(
        lines,
        road_class=list(rng.choice(["paved", "gravel", "dirt"], len(lines))),
        oneway=list(rng.random(len(lines)) < 0.2),
    )
    G = build_graph(roads, crs=UTM)
    points = {f"P{i}": tuple(rng.uniform(-100, 3100, 2)) for i in range(8)}
    points["Q"] = points["P0"][0] + 5, points["P0"][1]  # likely on P0's road piece
    s = snap(G, places_at(points))
    m = travel_matrices(G, s)
    pairs = [(i, j) for i in range(len(s)) for j in range(len(s))]
    for (i, j), line in zip(pairs, route_geometries(G, s, pairs), strict=True):
        x, y = TO_UTM.transform(*np.asarray(line.coords).T)
        drawn = shapely.LineString(np.column_stack([x, y])).length
        assert drawn == pytest.approx(m.distance_m[i, j], abs=0.1), (i, j)


def test_route_geometry_unreachable():
    roads = utm_roads([[(0, 0), (1000, 0)], [(5000, 0), (6000, 0)]])
    G = build_graph(roads, crs=UTM)
    s = snap(G, places_at({"A": (100, 0), "B": (5500, 0)}))
    with pytest.raises(NetworkError, match="A cannot reach B by road"):
        route_geometry(G, s, 0, 1)


# --- cache ------------------------------------------------------------------------


def test_cache_computes_once(tmp_path):
    calls = []

    def compute() -> Matrices:
        calls.append(1)
        return Matrices(("a", "b"), np.array([[0, 5.0], [6, 0]]), np.array([[0, 1.0], [2, 0]]))

    key = matrix_key(b"roads bytes", "places", "15.0")
    first = load_or_compute(tmp_path / "cache", key, compute)
    second = load_or_compute(tmp_path / "cache", key, compute)
    assert len(calls) == 1
    assert second.ids == ("a", "b")
    np.testing.assert_array_equal(second.distance_m, first.distance_m)
    np.testing.assert_array_equal(second.duration_s, first.duration_s)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"matrices-{key}.npz"]

    # A damaged file is recomputed and replaced.
    (tmp_path / "cache" / f"matrices-{key}.npz").write_bytes(b"half a file")
    load_or_compute(tmp_path / "cache", key, compute)
    assert len(calls) == 2
    load_or_compute(tmp_path / "cache", key, compute)
    assert len(calls) == 2


def test_matrix_key():
    assert matrix_key("ab", "c") != matrix_key("a", "bc")
    assert matrix_key("ab", b"c") == matrix_key(b"ab", "c")
    assert len(matrix_key()) == 64
    with pytest.raises(ValueError, match="cache key"):
        load_or_compute(
            Path("."), "../escape", lambda: Matrices((), np.zeros((0, 0)), np.zeros((0, 0)))
        )
