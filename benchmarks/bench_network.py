"""Benchmark of the road network: build, snap, travel matrices, against plain networkx.

A synthetic road network (a jittered grid with random gaps near Otog Banner, seeded;
not real roads) with about ``--edges`` directed edges, and ``--places`` random places.
Times :func:`planner.network.travel_matrices` and, for comparison, networkx's
``single_source_dijkstra`` from one end node of each place's edge. networkx is slow
here, so by default it runs from a measured subset of sources (``--nx-sources``) and
the total is extrapolated; ``--nx-sources 0`` runs it from all of them.

Run::

    python benchmarks/bench_network.py [--edges 200000] [--places 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.network import build_graph, snap, travel_matrices  # noqa: E402

CRS = "EPSG:32649"  # UTM 49 N, the zone of Otog Banner
ORIGIN = (300_000.0, 4_250_000.0)  # metres; roughly 108.7 E, 38.4 N
SPACING_M = 500.0
KEEP = 0.8  # share of grid segments that exist
CLASSES = np.array(["highway", "paved", "gravel", "dirt"])
CLASS_SHARE = [0.05, 0.15, 0.4, 0.4]


def synthetic_roads(edges: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Segments of a jittered grid, one bent LineString each, some one-way."""
    # A side x side grid has 2 side (side - 1) segments, each two directed edges.
    side = max(2, round(math.sqrt(edges / (4 * KEEP))))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = ORIGIN[0] + gx * SPACING_M + rng.uniform(-100, 100, gx.shape)
    y = ORIGIN[1] + gy * SPACING_M + rng.uniform(-100, 100, gy.shape)
    ids = np.arange(side * side).reshape(side, side)
    a = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    b = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(a.size) < KEEP
    a, b = a[keep], b[keep]
    xa, ya, xb, yb = x.ravel()[a], y.ravel()[a], x.ravel()[b], y.ravel()[b]
    mx = (xa + xb) / 2 + rng.uniform(-30, 30, a.size)
    my = (ya + yb) / 2 + rng.uniform(-30, 30, a.size)
    coords = np.stack([np.column_stack(p) for p in ((xa, ya), (mx, my), (xb, yb))], axis=1)
    lines = shapely.linestrings(coords)
    return gpd.GeoDataFrame(
        {
            "road_class": rng.choice(CLASSES, a.size, p=CLASS_SHARE),
            "oneway": rng.random(a.size) < 0.02,
        },
        geometry=lines,
        crs=CRS,
    )


def synthetic_places(roads: gpd.GeoDataFrame, count: int, rng: np.random.Generator) -> pd.DataFrame:
    west, south, east, north = roads.total_bounds
    x = rng.uniform(west, east, count)
    y = rng.uniform(south, north, count)
    lon, lat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    return pd.DataFrame({"id": [f"P{i:04d}" for i in range(count)], "lon": lon, "lat": lat})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=200_000, help="directed edges, about")
    parser.add_argument("--places", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--nx-sources", type=int, default=20, help="networkx sources to time (0: all)"
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    rows: list[tuple[str, float, str]] = []
    t0 = time.perf_counter()
    roads = synthetic_roads(args.edges, rng)
    places = synthetic_places(roads, args.places, rng)
    rows.append(("synthetic roads and places", time.perf_counter() - t0, f"{len(roads)} lines"))

    t0 = time.perf_counter()
    G = build_graph(roads, crs=CRS)
    rows.append(
        (
            "build_graph",
            time.perf_counter() - t0,
            f"{G.number_of_nodes()} nodes, {G.number_of_edges()} edges",
        )
    )

    t0 = time.perf_counter()
    snapping = snap(G, places)
    rows.append(("snap", time.perf_counter() - t0, f"{len(snapping)} places"))

    t0 = time.perf_counter()
    matrices = travel_matrices(G, snapping)
    ours = time.perf_counter() - t0
    rows.append(("travel_matrices", ours, f"{len(snapping)} x {len(snapping)}"))

    sources = list(dict.fromkeys(int(u) for u in snapping.edge[:, 0]))
    measured = sources if args.nx_sources <= 0 else sources[: args.nx_sources]
    t0 = time.perf_counter()
    for s in measured:
        nx.single_source_dijkstra(G, s, weight="travel_time")
    per_source = (time.perf_counter() - t0) / len(measured)
    plain = per_source * len(sources)
    how = (
        "all sources, measured"
        if len(measured) == len(sources)
        else f"{len(measured)} sources measured, extrapolated to {len(sources)}"
    )
    rows.append(("networkx single_source_dijkstra", plain, how))

    width = max(len(r[0]) for r in rows)
    print(f"cpus: {os.cpu_count()}, seed {args.seed}")
    print(f"{'step':<{width}}  {'seconds':>8}  notes")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {note}")
    print(f"networkx / travel_matrices: {plain / ours:.1f}x")
    print(f"mean duration between places: {matrices.duration_s.mean() / 60:.1f} min")


if __name__ == "__main__":
    main()
