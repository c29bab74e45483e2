"""Generate a region's files from its parameters: the one entry point."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString

from planner.synth._layout import Layout, build_layout, stage_rng
from planner.synth._network import ROAD_CLASSES
from planner.synth._params import RegionParams, RegionSummary
from planner.synth._readme import ReadmeFacts, readme_text
from planner.synth._roads import Roads, build_roads
from planner.synth._scenario import fleet_sizes, scenario_toml
from planner.synth._sites import Site, build_sites
from planner.synth._write import (
    LonLatLine,
    csv_text,
    f6,
    geojson_text,
    round_line,
    split_at_junctions,
    write_roads,
    write_text,
)

OFF_ROAD_M = 1_000.0


def generate_region(
    params: RegionParams, out_dir: Path, scenario_path: Path | None = None
) -> RegionSummary:
    """Generate a region's data files and its scenario TOML.

    Parameters
    ----------
    params
        What to generate (:func:`otog_params`, :func:`synthetic_params`).
    out_dir
        Folder for points.csv, households.csv, depots.csv, stations.csv,
        facilities.csv, roads.gpkg, boundary.geojson, zones.geojson and README.md;
        created if missing.
    scenario_path
        Where to write the scenario TOML (default ``out_dir / "scenario.toml"``);
        its region paths are relative to it.

    Returns
    -------
    RegionSummary
        The files written and the region's totals.
    """
    out_dir = Path(out_dir)
    scenario_path = Path(scenario_path) if scenario_path else out_dir / "scenario.toml"
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario_path.parent.mkdir(parents=True, exist_ok=True)

    layout = build_layout(params)
    sites = build_sites(params, layout, stage_rng(params.seed, 4))
    roads = build_roads(params, layout, sites, stage_rng(params.seed, 5))
    lines = _lonlat_lines(roads, layout)
    off, far = _off_road(roads, layout)
    fleet = fleet_sizes(params, layout)
    road_km = _road_km(roads)
    facts = ReadmeFacts(
        road_km=road_km,
        road_lines=len(lines),
        road_segments=sum(len(c) - 1 for c, _, _ in lines),
        points_off_road=off,
        max_point_road_km=far,
        fleet=tuple(fleet),
    )

    files = {
        "points": out_dir / "points.csv",
        "households": out_dir / "households.csv",
        "depots": out_dir / "depots.csv",
        "stations": out_dir / "stations.csv",
        "facilities": out_dir / "facilities.csv",
        "roads": out_dir / "roads.gpkg",
        "boundary": out_dir / "boundary.geojson",
    }
    write_text(files["points"], _points_csv(layout))
    write_text(files["households"], _households_csv(layout))
    write_text(files["depots"], _sites_csv(layout, sites, "depot"))
    write_text(files["stations"], _sites_csv(layout, sites, "station"))
    write_text(files["facilities"], _facilities_csv(layout, sites))
    write_roads(files["roads"], lines)
    write_text(files["boundary"], params.boundary_geojson)
    zones = out_dir / "zones.geojson"
    write_text(zones, _zones_geojson(params, layout))
    readme = out_dir / "README.md"
    write_text(readme, readme_text(params, layout, facts))
    rel = {
        k: Path(os.path.relpath(p.resolve(), scenario_path.parent.resolve())).as_posix()
        for k, p in files.items()
    }
    write_text(scenario_path, scenario_toml(params, layout, rel))

    return RegionSummary(
        name=params.name,
        out_dir=out_dir,
        scenario_path=scenario_path,
        files=(*files.values(), zones, readme, scenario_path),
        townships=len(params.townships),
        gachas=len(params.gachas),
        points=len(layout.points),
        households=len(layout.household_people),
        people=sum(p for _, p in layout.household_people),
        depots=sum(s.kind == "depot" for s in sites),
        stations=sum(s.kind == "station" for s in sites),
        facilities=sum(s.kind in ("buyer", "plant") for s in sites),
        trucks=sum(fleet),
        road_lines=facts.road_lines,
        road_segments=facts.road_segments,
        road_km=road_km,
        points_off_road=off,
        max_point_road_km=far,
    )


def _lonlat(layout: Layout, x: float, y: float) -> tuple[str, str]:
    lon, lat = layout.proj.to_lonlat(np.array([x]), np.array([y]))
    return f6(float(lon[0])), f6(float(lat[0]))


def _points_csv(layout: Layout) -> str:
    header = ["id", "name", "gacha_code", "gacha", "township_code", "township", "lon", "lat",
              "households", "people", "visits", "synthetic"]  # fmt: skip
    rows = []
    for p in layout.points:
        lon, lat = _lonlat(layout, p.x, p.y)
        rows.append(
            (p.id, p.name, p.gacha.code, p.gacha.name, p.township.code, p.township.name,
             lon, lat, p.households, p.people, p.visits, "true")
        )  # fmt: skip
    return csv_text(header, rows)


def _households_csv(layout: Layout) -> str:
    rows = (
        (f"H{k + 1:05d}", pid, people, "", "true")
        for k, (pid, people) in enumerate(layout.household_people)
    )
    return csv_text(("id", "point", "people", "name", "synthetic"), rows)


def _sites_csv(layout: Layout, sites: list[Site], kind: str) -> str:
    rows = (
        (s.id, s.name, s.township, *_lonlat(layout, s.x, s.y), _bool(s.synthetic))
        for s in sites
        if s.kind == kind
    )
    return csv_text(("id", "name", "township", "lon", "lat", "synthetic"), rows)


def _facilities_csv(layout: Layout, sites: list[Site]) -> str:
    rows = (
        (s.id, s.name, s.kind, *_lonlat(layout, s.x, s.y), _bool(s.synthetic))
        for s in sites
        if s.kind in ("buyer", "plant")
    )
    return csv_text(("id", "name", "kind", "lon", "lat", "synthetic"), rows)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _lonlat_lines(roads: Roads, layout: Layout) -> list[LonLatLine]:
    out: list[LonLatLine] = []
    for coords, cls, name in roads.lines:
        xy = np.asarray(coords, float)
        lon, lat = layout.proj.to_lonlat(xy[:, 0], xy[:, 1])
        rounded = round_line(zip(lon.tolist(), lat.tolist(), strict=True))
        if len(rounded) >= 2:
            out.append((rounded, cls, name))
    return split_at_junctions(out)


def _road_km(roads: Roads) -> tuple[tuple[str, float], ...]:
    km = dict.fromkeys(ROAD_CLASSES, 0.0)
    for coords, cls, _ in roads.lines:
        km[cls] += LineString(coords).length / 1000.0
    return tuple((cls, round(v, 1)) for cls, v in km.items())


def _off_road(roads: Roads, layout: Layout) -> tuple[int, float]:
    """Points farther than 1 km from a road, and the farthest distance (km)."""
    tree = shapely.STRtree([LineString(c) for c, _, _ in roads.lines])
    pts = shapely.points([(p.x, p.y) for p in layout.points])
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return int((dist > OFF_ROAD_M).sum()), round(float(dist.max()) / 1000.0, 2)


def _zones_geojson(params: RegionParams, layout: Layout) -> str:
    feats: list[tuple[dict[str, object], shapely.Geometry]] = []
    for t in params.townships:
        zone = layout.township_zones[t.code]
        props: dict[str, object] = {
            "level": "township", "code": t.code, "name": t.name,
            "area_km2": round(zone.area / 1e6, 1), "synthetic": True,
        }  # fmt: skip
        feats.append((props, layout.proj.geom_to_lonlat(zone)))
    for g in params.gachas:
        zone = layout.gacha_zones[g.code]
        props = {
            "level": "gacha", "code": g.code, "name": g.name, "township_code": g.township_code,
            "kind": g.kind, "area_km2": round(zone.area / 1e6, 1), "synthetic": True,
        }  # fmt: skip
        feats.append((props, layout.proj.geom_to_lonlat(zone)))
    return geojson_text(feats)
