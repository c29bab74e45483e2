"""Travel between a scenario's places: the road graph, snapping and cached matrices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from planner._errors import Issue
from planner.network import (
    Matrices,
    Snapping,
    build_graph,
    load_or_compute,
    matrix_key,
    snap,
    travel_matrices,
)
from planner.scenario.model import Scenario


@dataclass(frozen=True)
class Travel:
    """Road distances and times between every place of a scenario.

    ``ids`` follows :meth:`Scenario.places` order (depots, points, stations,
    facilities); ``distance_m`` and ``duration_s`` are read-only square arrays.
    """

    ids: tuple[str, ...]
    distance_m: np.ndarray
    duration_s: np.ndarray
    graph: nx.MultiDiGraph
    snapping: Snapping
    warnings: tuple[Issue, ...]

    def index(self) -> dict[str, int]:
        return {pid: k for k, pid in enumerate(self.ids)}

    def km(self, a: str, b: str) -> float:
        ix = self.index()
        return float(self.distance_m[ix[a], ix[b]]) / 1000.0

    def minutes(self, a: str, b: str) -> float:
        ix = self.index()
        return float(self.duration_s[ix[a], ix[b]]) / 60.0


def default_cache_dir(scenario: Scenario) -> Path:
    return scenario.path.parent / ".planner-cache"


def build_travel(scenario: Scenario, *, cache_dir: Path | None = None) -> Travel:
    """Build the road graph, snap every place and get the matrices (cached on disk).

    Raises
    ------
    NetworkError
        When some places cannot reach each other by road.
    """
    reg = scenario.settings.region
    graph = build_graph(scenario.roads, speeds_kmh=reg.road_speeds_kmh)
    places = scenario.places()
    table = pd.DataFrame(
        {
            "id": [p.id for p in places],
            "lon": [p.lon for p in places],
            "lat": [p.lat for p in places],
            "name": [p.name for p in places],
            "kind": [scenario.place_kind(p.id) for p in places],
        }
    )
    snapping = snap(graph, table, offroad_speed_kmh=reg.offroad_speed_kmh, warn_km=reg.snap_warn_km)
    key = matrix_key(
        scenario.content_hash,
        repr(sorted(reg.road_speeds_kmh.items())),
        repr((reg.offroad_speed_kmh, [(p.id, p.lon, p.lat) for p in places])),
    )

    def compute() -> Matrices:
        return travel_matrices(graph, snapping, offroad_speed_kmh=reg.offroad_speed_kmh)

    mats = load_or_compute(cache_dir or default_cache_dir(scenario), key, compute)
    return Travel(
        ids=tuple(mats.ids),
        distance_m=mats.distance_m,
        duration_s=mats.duration_s,
        graph=graph,
        snapping=snapping,
        warnings=tuple(snapping.warnings),
    )


def describe(travel: Travel) -> dict[str, Any]:
    """Network size figures for ``planner info``."""
    g = travel.graph
    length_km = sum(d.get("length", 0.0) for _, _, d in g.edges(data=True)) / 2000.0
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(), "road_km": length_km}
