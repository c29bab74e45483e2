"""The sweep grid: --vary parsing, key checks, expansion, written and validated cells."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner._errors import ScenarioError
from planner.cli import app
from planner.dist._grid import expand, parse_axes, parse_value, split_values
from planner.dist._sweep import prepare_sweep

DATA = Path(__file__).parent / "data"
BASE = DATA / "tiny.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def base() -> dict:
    return tomllib.loads(BASE.read_text(encoding="utf-8"))


def test_values_split_outside_brackets_and_read_as_toml():
    assert split_values('1, [2, 3], "a,b", x') == ["1", "[2, 3]", '"a,b"', "x"]
    assert parse_value("45") == 45 and parse_value("1.5") == 1.5 and parse_value("true") is True
    assert parse_value("2027-01") == "2027-01"  # not TOML: the text itself
    assert parse_value("08:30") == "08:30"  # a TOML time, a string in scenario files
    assert str(parse_value("2026-12-25")) == "2026-12-25"


def test_grid_expands_every_combination_first_axis_slowest(base):
    axes = parse_axes(["visits.default=2,3", "windows.width_min=45,60,90"], base)
    cells = expand(base, axes)
    assert [c.cell_id for c in cells] == [f"c{i:03d}" for i in range(1, 7)]
    assert [(c.data["visits"]["default"], c.data["windows"]["width_min"]) for c in cells] == [
        (2, 45), (2, 60), (2, 90), (3, 45), (3, 60), (3, 90),
    ]  # fmt: skip
    assert cells[0].folder == "c001_default-2_width_min-45"
    assert base["windows"]["width_min"] != 45 or True  # the base table is not changed
    assert tomllib.loads(BASE.read_text(encoding="utf-8")) == base


def test_selectors_and_special_keys(base):
    first = base["fleet"][0]
    axes = parse_axes(
        [
            "fleet[*].cost_per_km=3.5",
            f"categories[{base['categories'][0]['id']}].buy_price_cny_kg=2.5",
            "fleet.per_depot=3",
            "stations.add=none,108.0:39.5+108.1:39.6",
        ],
        base,
    )
    plain, added = expand(base, axes)
    assert plain.data["categories"][0]["buy_price_cny_kg"] == 2.5
    depots = {t["depot"] for t in base["fleet"]}
    assert len(plain.data["fleet"]) == 3 * len(depots)
    copies = [t for t in plain.data["fleet"] if t["id"].startswith(f"{first['id']}-")]
    assert copies and all(t["cost_per_km"] == 3.5 for t in plain.data["fleet"])
    assert len({t["id"] for t in plain.data["fleet"]}) == len(plain.data["fleet"])
    assert plain.new_stations == ()
    assert [(s.id, s.lon, s.lat) for s in added.new_stations] == [
        ("NEW1", 108.0, 39.5), ("NEW2", 108.1, 39.6),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("option", "message"),
    [
        # a typo in a key: one message naming the keys there are
        ("visits.defualt=2", "expected a key of visits (default, min_gap_days"),
        # an index past the end of the fleet
        ("fleet[99].payload_kg=1", "expected an index below"),
        # an id that is not a category
        ("categories[plutonium].buy_price_cny_kg=1", "found 'plutonium'"),
        # an array of tables without a selector
        ("fleet.payload_kg=1", "expected a selector on fleet"),
        # a whole table, not a value
        ("windows=3", "expected a key inside windows (a table)"),
        # no '=' at all
        ("visits.default", "expected KEY=V1,V2,…, found 'visits.default'"),
        # an empty value between commas
        ("visits.default=2,,3", "expected values separated by commas"),
        # the same value twice
        ("visits.default=2,2", "expected distinct values, found 2 twice"),
        # special keys check their values up front
        ("fleet.per_depot=0", "expected an integer >= 1 (trucks per depot), found '0'"),
        ("stations.add=108.0", "expected 'none' or LON:LAT positions"),
    ],
)
def test_malformed_vary_options_are_one_message_each(base, option, message):
    with pytest.raises(ScenarioError) as exc:
        parse_axes([option], base)
    (issue,) = exc.value.issues
    assert issue.where == f"--vary {option.partition('=')[0]}" or issue.where == "--vary"
    assert message in issue.message


def test_invalid_cells_are_reported_and_the_others_validated(tmp_path):
    sweep = prepare_sweep(BASE, ["visits.default=2,9", "windows.width_min=60"], tmp_path)
    good, bad = sweep.cells
    assert good.task is not None and good.scenario.is_file()
    assert bad.task is None
    (problem,) = bad.problems
    assert "visits.default" in problem and "<= 6" in problem and "found 9" in problem
    # The written variant reads back with the cell's value and the base's data files.
    again = prepare_sweep(BASE, ["visits.default=2,9", "windows.width_min=60"], tmp_path)
    assert again.cells[0].task.scenario_hash == good.task.scenario_hash


def test_sweep_cli_reports_grid_errors_and_bad_cells_without_a_traceback(tmp_path):
    args = ["sweep", str(BASE), "--vary", "visits.defualt=2", "-o", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "--vary visits.defualt: expected a key of visits" in res.output
    res = runner.invoke(
        app, ["sweep", str(BASE), "--vary", "visits.default=2,9", "-o", str(tmp_path), "--dry-run"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "cell c002 (visits.default=9):" in res.output and "found 9" in res.output
    assert "cell c001" not in res.output


def test_workbook_keeps_text_as_text(tmp_path):
    from openpyxl import load_workbook

    from planner.dist._tables import write_xlsx

    path = write_xlsx(tmp_path / "t.xlsx", "t", ["cell", "x"], [{"cell": "=1+1", "x": 2.5}])
    ws = load_workbook(path).active
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"
    assert ws["B2"].value == 2.5
