"""The region generator: totals, placement, roads, reproducibility, speed.

Totals are exact (tolerance 0): the generator apportions points, households and
people with integer largest-remainder splits, so the files hold exactly the
parameters' numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import filecmp
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from planner.synth import (
    RegionSummary,
    generate_region,
    otog_params,
    synthetic_params,
)
from planner.synth._geo import Projection, apportion
from planner.synth._layout import chinese_number
from planner.synth._regions import is_collection_unit

ROOT = Path(__file__).resolve().parents[1]
REGION_FILES = (
    "points.csv",
    "households.csv",
    "depots.csv",
    "stations.csv",
    "facilities.csv",
    "roads.gpkg",
    "boundary.geojson",
    "zones.geojson",
    "README.md",
)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def road_graph(path: Path) -> nx.Graph:
    """Lines joined at identical vertices, as the network builder joins them."""
    g = nx.Graph()
    for line in pyogrio.read_dataframe(path).geometry:
        coords = list(line.coords)
        g.add_edges_from(itertools.pairwise(coords))
    return g


_PROJ = Projection(107.8, 39.2)


def metres(lonlat: np.ndarray) -> np.ndarray:
    x, y = _PROJ.to_m(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack((x, y))


def road_distances(region: Path, table: str) -> np.ndarray:
    """Distance in metres from each row of ``table`` to the nearest road."""
    roads = pyogrio.read_dataframe(region / "roads.gpkg").to_crs(_PROJ.crs)
    r = rows(region / table)
    xy = metres(np.array([(float(p["lon"]), float(p["lat"])) for p in r]))
    _, dist = shapely.STRtree(roads.geometry.values).query_nearest(
        shapely.points(xy), return_distance=True, all_matches=False
    )
    return np.asarray(dist)


@pytest.fixture(scope="module")
def otog(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegionSummary, Path]:
    base = tmp_path_factory.mktemp("otog")
    summary = generate_region(otog_params(2026), base / "data", base / "scenarios" / "otog.toml")
    return summary, base


# -- the Otog default ------------------------------------------------------------------


def test_otog_totals(otog: tuple[RegionSummary, Path]) -> None:
    s, base = otog
    d = base / "data"
    points, households = rows(d / "points.csv"), rows(d / "households.csv")
    assert (s.townships, s.gachas, s.points, s.depots, s.stations) == (6, 74, 363, 6, 12)
    assert len(points) == 363
    assert len(households) == 22_000 == s.households
    assert sum(int(h["people"]) for h in households) == 59_000 == s.people
    assert sum(int(p["households"]) for p in points) == 22_000
    assert sum(int(p["people"]) for p in points) == 59_000
    # Each point's counts are its households' rows.
    per_point = Counter(h["point"] for h in households)
    people = Counter()
    for h in households:
        people[h["point"]] += int(h["people"])
    for p in points:
        assert per_point[p["id"]] == int(p["households"])
        assert people[p["id"]] == int(p["people"])
    assert all(int(h["people"]) >= 1 for h in households)
    assert {p["visits"] for p in points} <= {"", "2", "3"}
    assert all(p["synthetic"] == "true" for p in points)
    assert points[0]["id"] == "P001" and households[0]["id"] == "H00001"


def test_every_gacha_has_points(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    units = rows(ROOT / "planner" / "synth" / "otog_admin_units.csv")
    gacha = {u["code"]: u["name"] for u in units if is_collection_unit(u)}
    per_gacha = Counter(p["gacha_code"] for p in rows(base / "data" / "points.csv"))
    assert len(gacha) == 74
    assert set(per_gacha) == set(gacha)
    assert min(per_gacha.values()) >= 2
    # Town-centre units are served daily, never collection points.
    assert "150624201206" not in per_gacha  # 布隆嘎查, township centre (210)
    assert "150624404498" not in per_gacha  # 经济开发区 virtual community


def test_points_inside_boundary_and_zones(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    d = base / "data"
    boundary = shape(json.loads((d / "boundary.geojson").read_text())["features"][0]["geometry"])
    zones = json.loads((d / "zones.geojson").read_text())["features"]
    zone = {
        (z["properties"]["level"], z["properties"]["code"]): shape(z["geometry"]) for z in zones
    }
    for p in rows(d / "points.csv"):
        pt = Point(float(p["lon"]), float(p["lat"]))
        assert boundary.contains(pt), p["id"]
        assert zone["township", p["township_code"]].contains(pt), p["id"]
        assert zone["gacha", p["gacha_code"]].contains(pt), p["id"]
    for table in ("depots.csv", "stations.csv", "facilities.csv"):
        for r in rows(d / table):
            assert boundary.contains(Point(float(r["lon"]), float(r["lat"]))), r["id"]


def test_boundary_is_copied_verbatim(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    package = ROOT / "planner" / "synth" / "otog_boundary.geojson"
    assert (base / "data" / "boundary.geojson").read_bytes() == package.read_bytes()


def test_depots_stations_and_facilities(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    d = base / "data"
    depots, stations = rows(d / "depots.csv"), rows(d / "stations.csv")
    assert [r["id"] for r in depots] == [f"D0{i}" for i in range(1, 7)]
    # 乌兰's depot stands at the real banner seat; the others are synthetic.
    assert (depots[0]["lon"], depots[0]["lat"], depots[0]["synthetic"]) == (
        "107.980220",
        "39.093740",
        "false",
    )
    assert all(r["synthetic"] == "true" for r in depots[1:])
    assert len(stations) == 12
    per_town = Counter(r["township"] for r in stations)
    assert set(per_town) == {r["township"] for r in depots}
    assert per_town.most_common(1)[0][0] == "棋盘井镇"
    kinds = sorted(r["kind"] for r in rows(d / "facilities.csv"))
    assert kinds == ["buyer", "plant"]


def test_roads_connected_and_labelled(otog: tuple[RegionSummary, Path]) -> None:
    s, base = otog
    path = base / "data" / "roads.gpkg"
    info = pyogrio.read_info(path, layer="roads")
    assert info["crs"] == "EPSG:4326"
    roads = pyogrio.read_dataframe(path, layer="roads")
    assert set(roads.road_class) == {"highway", "paved", "gravel", "dirt"}
    assert roads.synthetic.all()
    g = road_graph(path)
    assert nx.is_connected(g)
    assert 5_000 <= g.number_of_edges() <= 20_000
    assert g.number_of_edges() == s.road_segments
    assert path.stat().st_size < 5_000_000


def test_lines_meet_only_at_shared_vertices(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    roads = pyogrio.read_dataframe(base / "data" / "roads.gpkg")
    segs = []
    for line in roads.geometry:
        c = np.array(line.coords)
        segs.extend(shapely.linestrings(np.stack((c[:-1], c[1:]), axis=1)))
    pairs = shapely.STRtree(segs).query(segs, predicate="crosses")
    assert pairs.shape[1] == 0  # every crossing is a shared vertex


def test_places_near_roads(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    d = base / "data"
    for table in ("depots.csv", "stations.csv", "facilities.csv"):
        assert road_distances(d, table).max() < 500.0, table
    dist = road_distances(d, "points.csv")
    assert np.median(dist) < 350.0
    assert 1 <= (dist > 1_000.0).sum() <= 5  # a handful of remote herding groups
    assert dist.max() < 3_000.0


def test_scenario_toml(otog: tuple[RegionSummary, Path]) -> None:
    s, base = otog
    toml_path = base / "scenarios" / "otog.toml"
    sc = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert sc["name"] == "otog-2026-12"
    assert sc["region"]["points"] == "../data/points.csv"
    for key in ("points", "households", "depots", "stations", "facilities", "roads", "boundary"):
        assert (toml_path.parent / sc["region"][key]).is_file(), key
    depots = {r["id"] for r in rows(base / "data" / "depots.csv")}
    fleet = sc["fleet"]
    assert len(fleet) == s.trucks and 10 <= len(fleet) <= 14
    assert {t["depot"] for t in fleet} == depots
    assert len({t["id"] for t in fleet}) == len(fleet)
    assert sc["visits"]["rules"] == [{"township": "蒙西镇", "visits": 3}]
    streams = Counter(c["stream"] for c in sc["categories"])
    assert streams == {"sell": 6, "exchange": 3, "compost": 3}
    assert all(c["hazardous"] == (c["stream"] == "exchange") for c in sc["categories"])
    assert all(len(c["seasonal"]) == 12 for c in sc["categories"])
    sell = sum(c["kg_per_person_day"] for c in sc["categories"] if c["stream"] == "sell")
    assert sell < 0.5
    assert {"soap", "salt", "detergent", "toilet_paper"} <= {g["id"] for g in sc["goods"]}
    assert sc["budget"] == {"fee_per_gacha_year_cny": 50000.0, "reward_fund_cny": 2000000.0}


def test_readme_lists_sources(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    text = (base / "data" / "README.md").read_text(encoding="utf-8")
    for needle in (
        "planner synth otog",
        "reference/otog_admin_units_nbs2023.csv",
        "reference/otog_boundary_simplified_wgs84.geojson",
        "planner/synth/otog_anchors.csv",
        "assumption",
        "synthetic",
    ):
        assert needle in text


# -- reproducibility ---------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(otog: tuple[RegionSummary, Path], tmp_path: Path) -> None:
    _, base = otog
    # Another process with another hash seed: no set or dict order may leak out.
    code = (
        "import sys; from pathlib import Path; from planner.synth import generate_region, "
        "otog_params; b = Path(sys.argv[1]); "
        "generate_region(otog_params(2026), b / 'data', b / 'scenarios' / 'otog.toml')"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env)
    for name in REGION_FILES:
        assert filecmp.cmp(base / "data" / name, tmp_path / "data" / name, shallow=False), name
    assert filecmp.cmp(
        base / "scenarios" / "otog.toml", tmp_path / "scenarios" / "otog.toml", shallow=False
    )


def test_different_seed_moves_points(otog: tuple[RegionSummary, Path], tmp_path: Path) -> None:
    _, base = otog
    generate_region(otog_params(2027), tmp_path)
    a = rows(base / "data" / "points.csv")
    b = rows(tmp_path / "points.csv")
    assert [(p["lon"], p["lat"]) for p in a] != [(p["lon"], p["lat"]) for p in b]
    assert sum(int(p["households"]) for p in b) == 22_000


def test_committed_region_matches_generator(otog: tuple[RegionSummary, Path]) -> None:
    """data/otog is exactly what ``planner synth otog --seed 2026`` writes."""
    committed = ROOT / "data" / "otog"
    if not (committed / "points.csv").exists():
        pytest.skip("data/otog not generated")
    _, base = otog
    for name in REGION_FILES:
        assert filecmp.cmp(base / "data" / name, committed / name, shallow=False), name


def test_writes_leave_no_temporary_files(otog: tuple[RegionSummary, Path]) -> None:
    _, base = otog
    assert not [p.name for p in (base / "data").iterdir() if "tmp" in p.name]


# -- synthetic regions -------------------------------------------------------------------


def test_small_synthetic_region_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    params = synthetic_params(
        points=30, households=600, townships=2, area_km2=900.0, trucks=2, seed=1
    )
    s = generate_region(params, tmp_path)
    assert time.perf_counter() - start < 2.0
    assert (s.points, s.households, s.people, s.depots, s.trucks) == (30, 600, 1620, 2, 2)
    assert nx.is_connected(road_graph(tmp_path / "roads.gpkg"))
    sc = tomllib.loads((tmp_path / "scenario.toml").read_text(encoding="utf-8"))
    assert sc["region"]["points"] == "points.csv"
    assert len(sc["fleet"]) == 2
    assert "rules" not in sc["visits"]
    names = {p["gacha"] for p in rows(tmp_path / "points.csv")}
    assert "G1-1 Gacha" in names


def test_synthetic_otog_outline(tmp_path: Path) -> None:
    params = synthetic_params(
        points=40, households=900, townships=3, area_km2=3000.0, trucks=3, seed=5, outline="otog"
    )
    s = generate_region(params, tmp_path / "r", tmp_path / "s.toml")
    boundary = shape(
        json.loads((tmp_path / "r" / "boundary.geojson").read_text())["features"][0]["geometry"]
    )
    area = shapely.area(shapely.Polygon(metres(np.array(boundary.exterior.coords))))
    assert area / 1e6 == pytest.approx(3000.0, rel=0.05)
    assert s.points == 40 and s.stations >= 3


@settings(max_examples=6, deadline=None)
@given(
    points=st.integers(6, 40),
    townships=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_synthetic_invariants(points: int, townships: int, seed: int) -> None:
    households = points * 20
    params = synthetic_params(
        points=points,
        households=households,
        townships=townships,
        area_km2=400.0 * townships,
        trucks=townships + 1,
        seed=seed,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        s = generate_region(params, out)
        assert (s.points, s.households) == (points, households)
        assert s.people == params.people
        assert s.stations >= townships and s.depots == townships
        assert nx.is_connected(road_graph(out / "roads.gpkg"))
        pts = rows(out / "points.csv")
        assert Counter(p["gacha_code"] for p in pts).most_common()[-1][1] >= 2


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"points": 10}, "points >= 2 per gacha"),  # fewer points than gacha need
        ({"households": 50}, "households >= 3 per point"),  # households too few
        ({"people": 10}, "1-9 people per household"),  # fewer people than households
        ({"trucks": 1}, "trucks >= one per township"),  # a depot without a truck
        ({"remote_points": 9}, "remote_points"),  # more than a handful off-road
    ],
)
def test_invalid_params(changes: dict[str, int], words: str) -> None:
    base = synthetic_params(
        points=30, households=600, townships=2, area_km2=900.0, trucks=2, seed=1
    )
    with pytest.raises(ValueError, match=words):
        dataclasses.replace(base, **changes)


# -- helpers ------------------------------------------------------------------------------


@given(
    total=st.integers(0, 500),
    weights=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=12),
)
def test_apportion_sums_and_bounds(total: int, weights: list[float]) -> None:
    n = len(weights)
    lo = min(2, total // n)
    shares = apportion(total, weights, minimum=lo)
    assert sum(shares) == total and min(shares) >= lo


def test_apportion_respects_maximum() -> None:
    assert apportion(10, [100.0, 1.0, 1.0], minimum=1, maximum=4) == [4, 3, 3]


@pytest.mark.parametrize(
    ("k", "text"), [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (23, "二十三")]
)
def test_chinese_number(k: int, text: str) -> None:
    assert chinese_number(k) == text
