"""GIS layers of a plan: one GeoPackage for QGIS and GeoJSON files for the web.

``OUT/gis/plan.gpkg`` holds the layers ``points``, ``visits``, ``stations``,
``depots``, ``facilities``, ``routes`` and ``boundary`` (EPSG:4326, one geometry
type per layer). ``routes`` has one line along the roads per run and trip, a trip
being the part of a run from its start or an unload to the next unload or its end.
``OUT/gis/{routes,points,stations}.geojson`` are RFC 7946 copies for web maps.

The road lines of every run are computed once per bundle (:func:`all_leg_lines`)
and shared with the maps.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export.bundle import PlanBundle, stop_numbers
from planner.plan.model import Run, Step

CRS = "EPSG:4326"
Features = list[tuple[dict[str, Any], Any]]  # (properties, shapely geometry) per feature
LAYERS = ("points", "visits", "stations", "depots", "facilities", "routes", "boundary")


@dataclass(frozen=True)
class Trip:
    """Part of a run: from ``first`` (start or unload step) to ``last`` (unload or end)."""

    number: int
    first: int
    last: int


def run_trips(run: Run) -> list[Trip]:
    """Split a run's steps into trips at every ``unload`` and at ``end``.

    The leg into step ``k`` belongs to the trip whose ``first < k <= last``, so the
    trips of a run share no leg and together hold all of them.
    """
    trips: list[Trip] = []
    first = 0
    for k, st in enumerate(run.steps):
        if k > 0 and st.type in ("unload", "end"):
            trips.append(Trip(len(trips) + 1, first, k))
            first = k
    if first < len(run.steps) - 1:  # a run that does not close with end
        trips.append(Trip(len(trips) + 1, first, len(run.steps) - 1))
    return trips


def all_leg_lines(bundle: PlanBundle) -> dict[str, list[shapely.LineString]]:
    """Road lines of every run (run id -> one line per step after ``start``).

    See :meth:`PlanBundle.all_leg_lines`, which computes them once per bundle.
    """
    return bundle.all_leg_lines()


def join_lines(lines: Iterable[shapely.LineString]) -> shapely.LineString:
    """Lines laid end to end as one line (shared end points kept once)."""
    coords: list[tuple[float, float]] = []
    for line in lines:
        pts = [(float(x), float(y)) for x, y, *_ in line.coords]
        if coords and pts and coords[-1] == pts[0]:
            pts = pts[1:]
        coords.extend(pts)
    if len(coords) < 2:
        coords = (coords * 2) if coords else [(0.0, 0.0), (0.0, 0.0)]
    return shapely.LineString(coords)


def _hhmm(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


def _minutes_between(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 60.0


def _kg(steps: Iterable[Step]) -> float:
    return round(sum(st.collected_kg for st in steps), 3)


def _vehicles(bundle: PlanBundle) -> dict[str, Any]:
    return {v.id: v for v in bundle.scenario.fleet}


def route_features(bundle: PlanBundle) -> list[tuple[dict[str, Any], shapely.LineString]]:
    """One ``(properties, line)`` per run and trip, in plan order."""
    lines = all_leg_lines(bundle)
    fleet = _vehicles(bundle)
    out = []
    for run in bundle.runs:
        steps = run.steps
        trips = run_trips(run)
        v = fleet.get(run.vehicle)
        for trip in trips:
            legs = steps[trip.first + 1 : trip.last + 1]
            props = {
                "run_id": run.id,
                "trip": trip.number,
                "trips": len(trips),
                "date": run.date.isoformat(),
                "vehicle": run.vehicle,
                "vehicle_name": v.name if v else "",
                "driver": v.driver if v else "",
                "from_place": steps[trip.first].place,
                "to_place": steps[trip.last].place,
                "leave": _hhmm(steps[trip.first].departure),
                "arrive": _hhmm(steps[trip.last].arrival),
                "km": round(sum(float(s.leg_km) for s in legs), 3),
                "drive_min": round(sum(float(s.leg_min) for s in legs), 1),
                # departure to departure, so a run's trips add up to its duration
                "minutes": round(
                    _minutes_between(steps[trip.first].departure, steps[trip.last].departure), 1
                ),
                "load_kg": _kg(legs),
                "stops": sum(1 for s in legs if s.type == "collect"),
            }
            out.append((props, join_lines(lines[run.id][trip.first : trip.last])))
    return out


def point_features(
    bundle: PlanBundle,
) -> tuple[list[tuple[dict[str, Any], shapely.Point]], list[tuple[dict[str, Any], shapely.Point]]]:
    """Collection points (one feature each) and their visits (one per collect step)."""
    fleet = _vehicles(bundle)
    # (run, step, stop number) per point; the number is the one the run sheet prints.
    visits_at: dict[str, list[tuple[Run, Step, int | None]]] = defaultdict(list)
    for run in bundle.runs:
        for st, number in zip(run.steps, stop_numbers(run), strict=True):
            if st.type == "collect":
                visits_at[st.place].append((run, st, number))
    unserved: dict[str, int] = defaultdict(int)
    for u in bundle.plan.unserved:
        unserved[u.point] += 1
    points, visits = [], []
    for pp in bundle.plan.points:
        pid = pp.id
        place = bundle.places.get(pid)
        sp = bundle.points.get(pid)
        if place is None:
            raise PlanError(f"plan.json: points: expected {pid!r} among places, found none")
        geom = shapely.Point(float(place.lon), float(place.lat))
        made = sorted(visits_at.get(pid, []), key=lambda rs: rs[1].arrival)
        win = pp.window
        required = pp.required_visits
        status = "full" if len(made) >= required else ("partial" if made else "none")
        calendar = []
        for run, st, number in made:
            v = fleet.get(run.vehicle)
            label = f"{run.vehicle} {v.name}".strip() if v else run.vehicle
            calendar.append(f"{run.date.isoformat()} {_hhmm(st.arrival)} {label}")
            visits.append(
                (
                    {
                        "point": pid,
                        "name": place.name,
                        "gacha": sp.gacha if sp else "",
                        "township": sp.township if sp else "",
                        "date": run.date.isoformat(),
                        "run_id": run.id,
                        "vehicle": run.vehicle,
                        "seq": number,
                        "arrival": _hhmm(st.arrival),
                        "departure": _hhmm(st.departure),
                        "collected_kg": round(st.collected_kg, 3),
                    },
                    geom,
                )
            )
        props = {
            "id": pid,
            "name": place.name,
            "gacha": sp.gacha if sp else "",
            "gacha_code": sp.gacha_code if sp else "",
            "township": sp.township if sp else "",
            "township_code": sp.township_code if sp else "",
            "households": sp.households if sp else 0,
            "people": sp.people if sp else 0,
            "required_visits": required,
            "min_gap_days": pp.min_gap_days,
            "window": f"{win[0]}-{win[1]}" if win else None,
            "visit_dates": ",".join(run.date.isoformat() for run, _, _ in made),
            "visits_made": len(made),
            "unserved": unserved.get(pid, 0),
            "status": status,
            "calendar": "; ".join(calendar),
            "collected_kg": _kg(st for _, st, _ in made),
            "synthetic": bool(sp.synthetic) if sp else False,
        }
        points.append((props, geom))
    return points, visits


def place_features(bundle: PlanBundle) -> dict[str, list[tuple[dict[str, Any], shapely.Point]]]:
    """Stations (with unloads made), depots (with trucks based there) and facilities."""
    sc = bundle.scenario
    unloads: dict[str, int] = defaultdict(int)
    unloaded: dict[str, float] = defaultdict(float)
    runs_from: dict[str, int] = defaultdict(int)
    fleet = _vehicles(bundle)
    for run in bundle.runs:
        v = fleet.get(run.vehicle)
        if v is not None:
            runs_from[v.depot] += 1
        for st in run.steps:
            if st.type == "unload":
                unloads[st.place] += 1
                unloaded[st.place] += sum((st.unloaded or {}).values())

    def at(rec: Any) -> shapely.Point:
        place = bundle.places.get(rec.id)
        lon, lat = (place.lon, place.lat) if place else (rec.lon, rec.lat)
        return shapely.Point(float(lon), float(lat))

    stations = [
        (
            {
                "id": s.id,
                "name": s.name,
                "township": s.township,
                "unloads": unloads.get(s.id, 0),
                "unloaded_kg": round(unloaded.get(s.id, 0.0), 3),
            },
            at(s),
        )
        for s in sc.stations
    ]
    depots = [
        (
            {
                "id": d.id,
                "name": d.name,
                "township": d.township,
                "vehicles": ",".join(v.id for v in sc.fleet if v.depot == d.id),
                "runs": runs_from.get(d.id, 0),
            },
            at(d),
        )
        for d in sc.depots
    ]
    facilities = [({"id": f.id, "name": f.name, "kind": f.kind}, at(f)) for f in sc.facilities]
    return {"stations": stations, "depots": depots, "facilities": facilities}


def _boundary(bundle: PlanBundle) -> shapely.MultiPolygon | None:
    geom = bundle.scenario.boundary
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, shapely.Polygon)]
    return shapely.MultiPolygon(polys) if polys else None


def _frame(features: Features, columns: list[str]) -> Any:
    import geopandas as gpd
    import pandas as pd

    data = pd.DataFrame([p for p, _ in features], columns=columns)
    return gpd.GeoDataFrame(data, geometry=[g for _, g in features], crs=CRS)


def _columns(features: Features, default: list[str]) -> list[str]:
    return list(features[0][0]) if features else default


def layer_features(bundle: PlanBundle) -> dict[str, Features]:
    """Every layer's ``(properties, geometry)`` pairs, in :data:`LAYERS` order."""
    points, visits = point_features(bundle)
    places = place_features(bundle)
    layers: dict[str, Features] = {
        "points": points,
        "visits": visits,
        "stations": places["stations"],
        "depots": places["depots"],
        "facilities": places["facilities"],
        "routes": route_features(bundle),
    }
    boundary = _boundary(bundle)
    if boundary is not None:
        layers["boundary"] = [({"name": bundle.plan.scenario}, boundary)]
    return layers


# Geometry type and the columns of an empty layer.
_SCHEMA = {
    "points": ("Point", ["id", "name"]),
    "visits": ("Point", ["point", "date", "run_id"]),
    "stations": ("Point", ["id", "name"]),
    "depots": ("Point", ["id", "name"]),
    "facilities": ("Point", ["id", "name", "kind"]),
    "routes": ("LineString", ["run_id", "trip", "date", "vehicle"]),
    "boundary": ("MultiPolygon", ["name"]),
}


def write_gpkg(bundle: PlanBundle, path: Path, layers: dict[str, Features] | None = None) -> Path:
    """Write every layer to the GeoPackage ``path`` atomically (temp file, then rename)."""
    import pyogrio

    if layers is None:
        layers = layer_features(bundle)
    # The GeoPackage's last_change stamps: the plan's first day, not the clock.
    stamp = f"{bundle.plan.period.start.isoformat()}T00:00:00Z"
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = tmpdir / path.name
        old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
        try:
            for name, feats in layers.items():
                gtype, default = _SCHEMA[name]
                frame = _frame(feats, _columns(feats, default))
                pyogrio.write_dataframe(
                    frame,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    geometry_type=gtype,
                    promote_to_multi=False,
                )
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


def _rounded(obj: Any, digits: int = 6) -> Any:
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, (list, tuple)):
        return [_rounded(x, digits) for x in obj]
    return obj


def write_geojson(features: Features, path: Path) -> Path:
    """Write an RFC 7946 FeatureCollection (WGS84 lon/lat, 6 decimals) atomically."""
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": geom.geom_type,
                    "coordinates": _rounded(mapping(geom)["coordinates"]),
                },
            }
            for props, geom in features
        ],
    }
    with atomic_writer(path, "w") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        fh.write("\n")
    return path


def write_gis(bundle: PlanBundle, out_dir: Path) -> list[Path]:
    """Write ``OUT/gis/plan.gpkg`` and the GeoJSON files; returns the paths written.

    Parameters
    ----------
    bundle
        The plan folder read with :func:`planner.export.read_bundle`.
    out_dir
        The output folder; files go to its ``gis`` subfolder.

    Raises
    ------
    PlanError
        The plan names places the scenario lacks.
    """
    folder = Path(out_dir) / "gis"
    folder.mkdir(parents=True, exist_ok=True)
    layers = layer_features(bundle)
    written = [write_gpkg(bundle, folder / "plan.gpkg", layers)]
    for name in ("routes", "points", "stations"):
        written.append(write_geojson(layers[name], folder / f"{name}.geojson"))
    return written
