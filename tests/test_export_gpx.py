"""GPX per run: parsed back with gpxpy and compared to plan.json."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import gpxpy
import pytest
import shapely

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.gpx import run_gpx, write_gpx
from planner.plan.model import Plan

GPX11 = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


@pytest.fixture(scope="module")
def written(bundle: PlanBundle, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_gpx(bundle, tmp_path_factory.mktemp("gpx-out"))


def _utc(stamp: str, tz: str) -> dt.datetime:
    local = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC)


def _parse(path: Path) -> gpxpy.gpx.GPX:
    with path.open(encoding="utf-8") as fh:
        return gpxpy.parse(fh)


def test_one_gpx_1_1_file_per_run(bundle: PlanBundle, written: list[Path]) -> None:
    assert [p.name for p in written] == [
        f"{r['id']}.gpx" for r in bundle.plan.to_json_dict()["runs"]
    ]
    for path in written:
        root = ET.parse(path).getroot()
        assert root.tag == f"{GPX11}gpx"
        assert root.get("version") == "1.1"
        assert _parse(path).version == "1.1"


def test_every_step_is_a_waypoint_in_order_at_its_arrival(
    bundle: PlanBundle, written: list[Path]
) -> None:
    plan = bundle.plan.to_json_dict()
    tz = plan["period"]["timezone"]
    places = {p["id"]: p for p in plan["places"]}
    for run, path in zip(plan["runs"], written, strict=True):
        wpts = _parse(path).waypoints
        assert len(wpts) == len(run["steps"])
        numbered = 0
        for step, w in zip(run["steps"], wpts, strict=True):
            place = places[step["place"]]
            assert w.name is not None
            # Stop numbers as on the run sheet: points and stations only, never the break.
            if step["type"] in ("collect", "unload"):
                numbered += 1
                assert w.name.startswith(f"{numbered} ")
            else:
                assert not w.name[0].isdigit()
            assert place["name"] in w.name
            assert (w.latitude, w.longitude) == pytest.approx((place["lat"], place["lon"]))
            assert w.time is not None
            assert w.time.utcoffset() == dt.timedelta(0)
            assert w.time == _utc(step["arrival"], tz)
            if step["type"] == "collect":
                window = next(p["window"] for p in plan["points"] if p["id"] == step["place"])
                assert w.description is not None
                assert f"{window[0]}—{window[1]}" in w.description
                assert bundle.points[step["place"]].gacha in w.name


def test_track_has_one_segment_per_leg_along_the_roads(
    bundle: PlanBundle, written: list[Path]
) -> None:
    plan = bundle.plan.to_json_dict()
    places = {p["id"]: p for p in plan["places"]}
    roads = shapely.union_all(bundle.scenario.roads.geometry.values)
    for run, path in zip(plan["runs"], written, strict=True):
        tracks = _parse(path).tracks
        assert len(tracks) == 1
        segments = tracks[0].segments
        assert len(segments) == len(run["steps"]) - 1
        total = sum(len(s.points) for s in segments)
        assert total > len(run["steps"])  # not straight lines between stops
        for (prev, step), seg in zip(itertools.pairwise(run["steps"]), segments, strict=True):
            a, b = places[prev["place"]], places[step["place"]]
            first, last = seg.points[0], seg.points[-1]
            assert (first.latitude, first.longitude) == (a["lat"], a["lon"])
            assert (last.latitude, last.longitude) == (b["lat"], b["lon"])
            # Every bend between the ends lies on a road of the scenario.
            for pt in seg.points[1:-1]:
                assert roads.distance(shapely.Point(pt.longitude, pt.latitude)) < 1e-5
        depot = places[run["steps"][0]["place"]]
        start, end = segments[0].points[0], segments[-1].points[-1]
        assert (start.latitude, start.longitude) == (depot["lat"], depot["lon"])
        assert (end.latitude, end.longitude) == (depot["lat"], depot["lon"])


def test_some_leg_bends_along_the_road(written: list[Path]) -> None:
    segs = [s for p in written for t in _parse(p).tracks for s in t.segments]
    assert any(len(s.points) > 2 for s in segs)


def test_same_plan_gives_identical_bytes(bundle: PlanBundle, tmp_path: Path) -> None:
    one = write_gpx(bundle, tmp_path / "a")
    two = write_gpx(bundle, tmp_path / "b")
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]


def test_unknown_place_is_a_plan_error(bundle: PlanBundle) -> None:
    plan = bundle.plan.to_json_dict()
    plan["runs"][0]["steps"][1]["place"] = "NOPE"
    bad = PlanBundle(bundle.out_dir, Plan.from_json_dict(plan), bundle.scenario, [], None)
    with pytest.raises(PlanError, match="NOPE"):
        run_gpx(bad, bad.runs[0])
