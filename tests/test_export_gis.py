"""GeoPackage and GeoJSON layers, read back with pyogrio and compared to plan.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely

from planner._errors import PlanError
from planner.export import PlanBundle, read_bundle
from planner.export.gis import LAYERS, all_leg_lines, run_trips, write_gis
from planner.plan.model import Plan

TOL = 1e-6  # degrees; place positions make a round trip through UTM


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


@pytest.fixture(scope="module")
def gis(bundle: PlanBundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gis")
    write_gis(bundle, out)
    return out / "gis"


def _layer(gis: Path, name: str) -> Any:
    return pyogrio.read_dataframe(gis / "plan.gpkg", layer=name)


def test_layers_have_one_geometry_type_each_in_wgs84(gis: Path) -> None:
    layers = {str(n): str(t) for n, t in pyogrio.list_layers(gis / "plan.gpkg")}
    assert layers == {
        "points": "Point",
        "visits": "Point",
        "stations": "Point",
        "depots": "Point",
        "facilities": "Point",
        "routes": "LineString",
        "boundary": "MultiPolygon",
    }
    assert set(layers) == set(LAYERS)
    for name in layers:
        info = pyogrio.read_info(gis / "plan.gpkg", layer=name)
        assert info["crs"] == "EPSG:4326"


def test_routes_are_one_feature_per_run_and_trip(gis: Path, bundle: PlanBundle) -> None:
    routes = _layer(gis, "routes")
    # A trip ends at every unload and at the end of the run.
    expected = sum(
        sum(1 for st in run["steps"][1:] if st["type"] in ("unload", "end"))
        for run in bundle.plan.to_json_dict()["runs"]
    )
    assert len(routes) == expected
    for run in bundle.plan.to_json_dict()["runs"]:
        mine = routes[routes["run_id"] == run["id"]].sort_values("trip")
        assert list(mine["trip"]) == list(range(1, len(mine) + 1))
        assert set(mine["date"]) == {run["date"]}
        assert set(mine["vehicle"]) == {run["vehicle"]}
        assert mine["km"].sum() == pytest.approx(run["distance_km"], abs=0.01)
        assert mine["minutes"].sum() == pytest.approx(run["duration_min"], abs=0.1)
        collected = sum(sum(st.get("collected", {}).values()) for st in run["steps"])
        assert mine["load_kg"].sum() == pytest.approx(collected, abs=0.01)
        assert mine["stops"].sum() == sum(1 for st in run["steps"] if st["type"] == "collect")


def test_every_stop_lies_on_its_trip_line(gis: Path, bundle: PlanBundle) -> None:
    routes = _layer(gis, "routes")
    places = {p["id"]: p for p in bundle.plan.to_json_dict()["places"]}
    for run in bundle.plan.to_json_dict()["runs"]:
        steps = run["steps"]
        mine = routes[routes["run_id"] == run["id"]].sort_values("trip")
        for trip, line in zip(run_trips(bundle.run(run["id"])), mine.geometry, strict=True):
            ends = [steps[trip.first]["place"], steps[trip.last]["place"]]
            coords = list(line.coords)
            for place, (x, y) in zip(ends, (coords[0], coords[-1]), strict=True):
                assert (x, y) == pytest.approx(
                    (places[place]["lon"], places[place]["lat"]), abs=TOL
                )
            for st in steps[trip.first + 1 : trip.last]:
                p = shapely.Point(places[st["place"]]["lon"], places[st["place"]]["lat"])
                assert line.distance(p) < TOL, (run["id"], st["place"])


def test_points_and_visits_match_the_plan(gis: Path, bundle: PlanBundle) -> None:
    points = _layer(gis, "points").set_index("id")
    visits = _layer(gis, "visits")
    dates: dict[str, list[str]] = {p["id"]: [] for p in bundle.plan.to_json_dict()["points"]}
    arrivals = []
    for run in bundle.plan.to_json_dict()["runs"]:
        for st in run["steps"]:
            if st["type"] == "collect":
                dates[st["place"]].append(run["date"])
                arrivals.append((st["place"], run["id"], st["arrival"][11:16]))
    assert set(points.index) == set(dates)
    for pid, ds in dates.items():
        assert points.loc[pid, "visit_dates"] == ",".join(sorted(ds))
        assert points.loc[pid, "visits_made"] == len(ds)
        assert points.loc[pid, "households"] == bundle.points[pid].households
        assert points.loc[pid, "gacha"] == bundle.points[pid].gacha
    got = sorted(zip(visits["point"], visits["run_id"], visits["arrival"], strict=True))
    assert got == sorted(arrivals)


def test_geojson_is_rfc7946_and_matches_the_geopackage(gis: Path) -> None:
    for name in ("routes", "points", "stations"):
        path = gis / f"{name}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        assert "crs" not in doc  # RFC 7946: WGS84 only, no crs member
        assert len(doc["features"]) == len(_layer(gis, name))
        for feat in doc["features"]:
            geom = shapely.geometry.shape(feat["geometry"])
            assert geom.is_valid
            lon, lat = shapely.get_coordinates(geom)[0]
            assert 73 < lon < 136 and 18 < lat < 54  # lon first, inside China
        back = pyogrio.read_dataframe(path)
        assert len(back) == len(doc["features"])


def test_output_is_deterministic(bundle: PlanBundle, gis: Path, tmp_path: Path) -> None:
    write_gis(bundle, tmp_path)
    for name in ("plan.gpkg", "routes.geojson", "points.geojson", "stations.geojson"):
        assert (tmp_path / "gis" / name).read_bytes() == (gis / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "gis").iterdir()) == [
        "plan.gpkg",
        "points.geojson",
        "routes.geojson",
        "stations.geojson",
    ]  # no temporary files left


def test_leg_lines_are_computed_once_per_bundle(bundle: PlanBundle) -> None:
    first = all_leg_lines(bundle)
    assert all_leg_lines(bundle) is first
    run = bundle.plan.to_json_dict()["runs"][0]
    assert len(first[run["id"]]) == len(run["steps"]) - 1


def test_unknown_place_is_a_plan_error(bundle: PlanBundle, tmp_path: Path) -> None:
    plan = bundle.plan.to_json_dict()
    plan["runs"][0]["steps"][1]["place"] = "NOWHERE"
    bad = PlanBundle(tmp_path, Plan.from_json_dict(plan), bundle.scenario, [], None)
    with pytest.raises(PlanError, match="NOWHERE"):
        write_gis(bad, tmp_path)


def test_visit_seq_is_the_run_sheets_stop_number(gis: Path, bundle: PlanBundle) -> None:
    visits = _layer(gis, "visits")
    for run in bundle.runs:
        numbers = {s.place: s.number for s in bundle.stops(run) if s.type == "collect"}
        mine = visits[visits["run_id"] == run.id]
        assert dict(zip(mine["point"], mine["seq"], strict=True)) == numbers
