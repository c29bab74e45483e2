"""Readers of the benchmark instances: every published instance and every malformed fixture."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from planner._errors import InstanceError
from planner.bench.evaluate import parse_pvrpif_options
from planner.bench.pvrpif import evenly_spaced_patterns, read_pvrpif
from planner.bench.solomon import read_solomon
from planner.bench.vrplib_format import read_vrplib

BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
DATA = Path(__file__).resolve().parent / "data" / "bench"


def shared(pattern: str) -> list:
    """The shared benchmark files matching ``pattern``, or one skipped case if absent."""
    if not BENCH.is_dir():
        reason = f"benchmark instances not found at {BENCH}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return [pytest.param(p, id=p.name) for p in sorted(BENCH.glob(pattern))]


# ------------------------------------------------------------------------------ PVRP-IF


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (0, ()),  # no visit needed
        (1, ((0,), (1,), (2,), (3,))),
        (2, ((0, 2), (1, 3))),
        (4, ((0, 1, 2, 3),)),
    ],
)
def test_evenly_spaced_patterns_horizon_4(frequency: int, expected: tuple) -> None:
    assert evenly_spaced_patterns(frequency, 4) == expected


def test_evenly_spaced_patterns_reject_a_frequency_not_dividing_the_horizon() -> None:
    with pytest.raises(ValueError, match="dividing the horizon 4"):
        evenly_spaced_patterns(3, 4)


@pytest.mark.parametrize("path", shared("pvrpif/planning_horizon_4/*.geojson"))
def test_read_pvrpif_every_instance(path: Path) -> None:
    raw = json.loads(path.read_text())
    info, props = raw["info"], [f["properties"] for f in raw["features"]]
    bench = read_pvrpif(path)
    problem = bench.problem
    n = len(props)

    assert bench.name == path.stem
    assert bench.kind == "pvrpif" and bench.scale == 1
    assert bench.node_ids == tuple(range(n))
    assert problem.num_nodes == n and problem.duration.shape == (n, n)
    assert not problem.duration.flags.writeable
    np.testing.assert_array_equal(problem.duration, np.array(raw["duration"]))
    assert problem.num_days == info["planningHorizon"] == 4
    assert len(problem.customers) == info["customer"]
    assert len(problem.facilities) == info["intermediateFacility"]
    assert problem.depots == (0,) and 0 not in problem.facilities
    assert problem.objective == "duration" and problem.facility_service == 0
    assert len(problem.vehicles) == info["numVehicles"]
    for vehicle in problem.vehicles:
        assert vehicle.capacity == (info["maxCapacity"],)
        assert vehicle.max_duration == info["maxDuration"]
        assert vehicle.days == (0, 1, 2, 3)
        assert vehicle.shift[1] >= info["maxDuration"]
    for customer in problem.customers:
        p = props[customer.node]
        assert p["type"] == "customer"
        assert customer.frequency == p["frequency"]
        assert customer.service == p["service"]
        for pattern in customer.patterns:
            assert pattern.demands == ((p["demand"],),) * len(pattern.days)
    # The counts in info match what was read (demand is per visit).
    total = sum(c.patterns[0].demands[0][0] * c.frequency for c in problem.customers)
    assert total == info["totDemand"]


@pytest.mark.parametrize("report", shared("pvrpif/solutions/report_*.txt"))
def test_pvrpif_patterns_are_the_reports_options(report: Path) -> None:
    instance = report.name.removeprefix("report_").split("_feasible_")[0]
    bench = read_pvrpif(BENCH / "pvrpif" / "planning_horizon_4" / f"{instance}.geojson")
    options = parse_pvrpif_options(report)
    assert sorted(options) == list(range(bench.problem.num_nodes))
    patterns = {c.node: [list(p.days) for p in c.patterns] for c in bench.problem.customers}
    for node, listed in options.items():
        # Depot and facilities have no options in the reports.
        assert patterns.get(node, []) == listed, f"node {node}"


def test_read_pvrpif_tiny_fixture() -> None:
    bench = read_pvrpif(DATA / "pvrpif_tiny.geojson")
    problem = bench.problem
    assert problem.facilities == (4,)
    assert [c.frequency for c in problem.customers] == [1, 2, 4]
    assert [c.service for c in problem.customers] == [2, 2, 1]
    assert problem.customers[1].patterns[1].days == (1, 3)
    assert problem.customers[1].patterns[1].demands == ((5,), (5,))
    assert problem.vehicles[0].capacity == (10,) and problem.vehicles[0].max_duration == 60


# ------------------------------------------------------------------------------- VRPLIB


@pytest.mark.parametrize("path", shared("cvrp_x/*.vrp"))
def test_read_vrplib_every_x_instance(path: Path) -> None:
    bench = read_vrplib(path)
    problem = bench.problem
    dim = int(path.stem.split("-")[1][1:])
    assert bench.name == path.stem and bench.kind == "cvrp" and bench.scale == 1
    assert problem.num_nodes == dim and problem.duration.shape == (dim, dim)
    assert bench.node_ids == tuple(range(1, dim + 1))
    assert bench.depot_id == 1 and problem.depots == (0,) and problem.facilities == (0,)
    assert problem.num_days == 1 and len(problem.customers) == dim - 1
    assert len(problem.vehicles) == dim - 1  # one truck per customer: never short
    assert all(c.patterns[0].days == (0,) and c.window is None for c in problem.customers)
    np.testing.assert_array_equal(problem.duration, problem.distance)
    # Spot-check nint distances against the coordinates in the file.
    lines = path.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("NODE_COORD_SECTION"))
    xy = {
        int(t[0]): (float(t[1]), float(t[2]))
        for t in map(str.split, lines[start + 1 : start + 1 + dim])
    }
    for a, b in [(1, 2), (2, dim), (dim // 2, 1)]:
        expected = math.floor(math.dist(xy[a], xy[b]) + 0.5)
        assert problem.duration[a - 1, b - 1] == expected


def test_read_vrplib_tiny_fixture() -> None:
    bench = read_vrplib(DATA / "tiny.vrp")
    problem = bench.problem
    assert problem.duration[0].tolist() == [0, 5, 10, 5]  # (3,4) -> 5, (6,8) -> 10
    assert [c.patterns[0].demands for c in problem.customers] == [((4,),), ((5,),), ((3,),)]
    assert problem.vehicles[0].capacity == (10,)
    assert problem.max_reloads is None


@pytest.mark.parametrize("path", shared("solomon/RC208.vrp"))
def test_read_vrplib_rc208_in_tenths(path: Path) -> None:
    bench = read_vrplib(path)
    problem = bench.problem
    assert bench.kind == "vrptw" and bench.scale == 10
    assert len(problem.vehicles) == 25 and problem.vehicles[0].capacity == (1000,)
    assert problem.vehicles[0].shift == (0, 9600)
    assert problem.customers[0].window == (3880, 9110) and problem.customers[0].service == 100
    assert problem.max_reloads == 0


# ------------------------------------------------------------------------------ Solomon


@pytest.mark.parametrize("path", shared("solomon/*.txt"))
def test_read_solomon_every_instance(path: Path) -> None:
    bench = read_solomon(path)
    problem = bench.problem
    rows = [ln.split() for ln in path.read_text().splitlines()[9:] if ln.strip()]
    assert bench.name == path.stem and bench.kind == "vrptw" and bench.scale == 1000
    assert problem.num_nodes == 101 and len(problem.customers) == 100
    assert bench.node_ids == tuple(range(101))
    assert len(problem.vehicles) == 25
    assert problem.vehicles[0].shift == (0, int(rows[0][5]) * 1000)
    for customer in problem.customers:
        row = rows[customer.node]
        assert customer.window == (int(row[4]) * 1000, int(row[5]) * 1000)
        assert customer.service == int(row[6]) * 1000
        assert customer.patterns[0].demands == ((int(row[3]),),)
    assert bench.exact_cost is not None
    # Rounded to the nearest thousandth.
    assert np.abs(problem.duration / 1000 - bench.exact_cost).max() <= 0.0005 + 1e-12


@pytest.mark.parametrize("path", shared("solomon/RC208.vrp"))
def test_rc208_solomon_and_vrplib_forms_agree(path: Path) -> None:
    txt, vrp = read_solomon(path.with_suffix(".txt")), read_vrplib(path)
    assert vrp.node_ids == tuple(i + 1 for i in txt.node_ids)
    pt, pv = txt.problem, vrp.problem
    for ct, cv in zip(pt.customers, pv.customers, strict=True):
        assert ct.node == cv.node and ct.patterns == cv.patterns
        assert ct.window is not None and cv.window is not None
        assert [w / 1000 for w in ct.window] == [w / 10 for w in cv.window]
        assert ct.service / 1000 == cv.service / 10
    assert pt.vehicles[0].capacity == pv.vehicles[0].capacity
    assert len(pt.vehicles) == len(pv.vehicles)
    assert pt.vehicles[0].shift[1] / 1000 == pv.vehicles[0].shift[1] / 10
    # Thousandths rounded vs tenths truncated: within a tenth of each other.
    gap = pt.duration / 1000 - pv.duration / 10
    assert gap.min() >= -0.0005 - 1e-12 and gap.max() < 0.1 + 0.0005


def test_read_solomon_tiny_fixture() -> None:
    bench = read_solomon(DATA / "tiny_solomon.txt")
    problem = bench.problem
    assert bench.name == "tiny"
    assert problem.duration[0].tolist() == [0, 5000, 10000, 5000]
    assert problem.customers[1].window == (10000, 60000)
    assert len(problem.vehicles) == 2 and problem.vehicles[0].shift == (0, 100000)


# ---------------------------------------------------------------------------- malformed

MALFORMED = [
    # (fixture, fragments the one-line message must contain)
    ("truncated_X.vrp", ["line 148 (DEMAND_SECTION)", "expected 101 rows", "found 39"]),
    ("vrplib_missing_demand_section.vrp", ["DEMAND_SECTION", "found none"]),
    ("vrplib_non_numeric_coordinate.vrp", ["line 9 (NODE_COORD_SECTION)", "number", "'eight'"]),
    ("vrplib_missing_capacity.vrp", ["CAPACITY", "'CAPACITY : value'", "found none"]),
    ("vrplib_unterminated_depot_section.vrp", ["line 17 (DEPOT_SECTION)", "-1", "end of the file"]),
    ("vrplib_short_row.vrp", ["line 14 (DEMAND_SECTION)", "2 values per row", "found 1"]),
    ("vrplib_explicit_weights.vrp", ["line 4 (EDGE_WEIGHT_TYPE)", "EUC_2D", "'EXPLICIT'"]),
    ("truncated_C101.txt", ["line 67", "7 numbers", "found 2 values"]),
    ("solomon_non_numeric_demand.txt", ["line 12", "a number for DEMAND", "'five'"]),
    ("solomon_missing_vehicle_block.txt", ["line 3", "'VEHICLE'", "'CUSTOMER'"]),
    ("solomon_duplicate_id.txt", ["line 13", "CUST NO. not used before", "2 again"]),
    ("pvrpif_missing_duration.geojson", ["key duration", "'duration'", "features, info, type"]),
    ("pvrpif_bad_json.geojson", ["line 59, column 1", "valid JSON", "delimiter"]),
    ("pvrpif_fractional_demand.geojson", ["key features[2].properties.demand", "whole", "5.5"]),
    ("pvrpif_non_numeric_demand.geojson", ["features[2].properties.demand", "number", "'five'"]),
    (
        "pvrpif_frequency_not_dividing_horizon.geojson",
        ["frequency", "divisor of the horizon 4", "found 3"],
    ),
    ("pvrpif_missing_num_vehicles.geojson", ["key info.numVehicles", "'numVehicles'"]),
    ("pvrpif_duration_missing_row.geojson", ["key duration", "5 x 5 matrix", "found 4 rows"]),
    ("pvrpif_missing_feature.geojson", ["key features", "3 features of type customer", "found 2"]),
    ("pvrpif_unknown_node_type.geojson", ["features[1].properties.type", "'bin'"]),
]
READERS = {".vrp": read_vrplib, ".txt": read_solomon, ".geojson": read_pvrpif}


@pytest.mark.parametrize(("name", "fragments"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_instance_raises_instance_error(name: str, fragments: list[str]) -> None:
    path = DATA / name
    with pytest.raises(InstanceError) as info:
        READERS[path.suffix](path)
    message = str(info.value)
    assert "\n" not in message
    assert name in message
    assert "expected" in message and "found" in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file_raises_instance_error(tmp_path: Path) -> None:
    for suffix, reader in READERS.items():
        with pytest.raises(InstanceError, match="expected a readable"):
            reader(tmp_path / f"nothing{suffix}")


def test_read_pvrpif_frequency_zero_needs_no_visit(tmp_path: Path) -> None:
    raw = json.loads((DATA / "pvrpif_tiny.geojson").read_text())
    raw["features"][1]["properties"]["frequency"] = 0.0
    path = tmp_path / "tiny_zero.geojson"
    path.write_text(json.dumps(raw))
    customer = read_pvrpif(path).problem.customers[0]
    assert customer.node == 1 and customer.patterns == () and customer.frequency == 0
