"""Benchmark of the road network: build, snap, travel matrices, against plain networkx.

A synthetic road network (a jittered grid with random gaps near Otog Banner, seeded;
not real roads) with about ``--edges`` directed edges, and ``--places`` random places.
Times :func:`planner.network.travel_matrices` and, for comparison, networkx's
``single_source_dijkstra`` from one end node of each place's edge. networkx is slow
here, so by default it runs from a measured subset of sources (``--nx-sources``) and
the total is extrapolated; ``--nx-sources 0`` runs it from all of them.

Run::

    python benchmarks/bench_network.py [--edges 200000] [--places 500] [--seed 1]
        [--workers 2] [--repeat 3] [--nx-sources 20]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.network import build_graph, snap, travel_matrices

CRS = "EPSG:32649"  # UTM 49 N, the zone of Otog Banner
ORIGIN = (300_000.0, 4_250_000.0)  # metres; roughly 108.7 E, 38.4 N
SPACING_M = 500.0
KEEP = 0.8  # share of grid segments that exist
CLASSES = np.array(["highway", "paved", "gravel", "dirt"])
CLASS_SHARE = [0.05, 0.15, 0.4, 0.4]
T = TypeVar("T")


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
    """Random places over the roads' bounding box, as lon/lat."""
    west, south, east, north = roads.total_bounds
    x = rng.uniform(west, east, count)
    y = rng.uniform(south, north, count)
    lon, lat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    return pd.DataFrame({"id": [f"P{i:04d}" for i in range(count)], "lon": lon, "lat": lat})


def cpu_seconds() -> float:
    """CPU time of this process and its finished child processes (Unix only)."""
    if resource is None:
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edges", type=int, default=200_000, help="directed edges, about")
    parser.add_argument("--places", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--nx-sources", type=int, default=20, help="networkx sources to time (0: all)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="also time with this many"
    )
    parser.add_argument("--repeat", type=int, default=1, help="time matrices this often, keep best")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    rows: list[tuple[str, float, float, str]] = []

    def timed(name: str, step: Callable[[], T], note: Callable[[T], str], repeat: int = 1) -> T:
        """Run ``step`` ``repeat`` times; keep the fastest (others share this machine)."""
        best = (math.inf, math.inf)
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), cpu_seconds()
            result = step()
            best = min(best, (time.perf_counter() - wall, cpu_seconds() - cpu))
        rows.append((name, *best, note(result)))
        return result

    roads = timed(
        "synthetic roads", lambda: synthetic_roads(args.edges, rng), lambda r: f"{len(r)} lines"
    )
    places = synthetic_places(roads, args.places, rng)
    G = timed(
        "build_graph",
        lambda: build_graph(roads, crs=CRS),
        lambda g: f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges",
    )
    snapping = timed("snap", lambda: snap(G, places), lambda s: f"{len(s)} places")
    serial = timed(
        "travel_matrices, workers=1",
        lambda: travel_matrices(G, snapping),
        lambda m: f"{len(m.ids)} x {len(m.ids)}",
        args.repeat,
    )
    ours = rows[-1][1]
    if args.workers > 1:
        parallel = timed(
            f"travel_matrices, workers={args.workers}",
            lambda: travel_matrices(G, snapping, workers=args.workers),
            lambda _m: "CPU includes the worker process",
            args.repeat,
        )
        if not (
            np.array_equal(parallel.duration_s, serial.duration_s)
            and np.array_equal(parallel.distance_m, serial.distance_m)
        ):
            raise SystemExit("parallel and serial matrices differ")
        ours = min(ours, rows[-1][1])

    sources = list(dict.fromkeys(int(u) for u in snapping.edge[:, 0]))
    measured = sources if args.nx_sources <= 0 else sources[: args.nx_sources]

    def plain() -> None:
        for s in measured:
            nx.single_source_dijkstra(G, s, weight="travel_time")

    timed("networkx single_source_dijkstra", plain, lambda _: "")
    scale = len(sources) / len(measured)
    name, wall, cpu, _ = rows.pop()
    how = (
        f"all {len(sources)} sources"
        if scale == 1
        else f"{len(measured)} sources timed, x{scale:.0f} for {len(sources)}"
    )
    rows.append((name, wall * scale, cpu * scale, how))

    width = max(len(r[0]) for r in rows)
    print(f"{os.cpu_count()} cpus; load average {os.getloadavg()[0]:.1f}; seed {args.seed}")
    print(f"{'step':<{width}}  {'wall s':>7}  {'cpu s':>7}  notes")
    for name, wall, cpu, note in rows:
        print(f"{name:<{width}}  {wall:7.2f}  {cpu:7.2f}  {note}")
    print(f"networkx / travel_matrices (wall): {rows[-1][1] / ours:.0f}x")
    print(f"mean duration between places: {serial.duration_s.mean() / 60:.1f} min")


if __name__ == "__main__":
    main()
