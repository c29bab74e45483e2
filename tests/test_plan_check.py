"""Tests of planner.plan: reading, validating and atomically writing plans, and the checker.

``tests/data/plans/valid.json`` is a hand-built two-run plan that passes every check;
every other file there differs from it by one fault and is named after it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from planner._atomic import write_json_atomic
from planner._errors import PlanError
from planner.plan import (
    PLAN_FORMAT,
    check_plan,
    format_report,
    load_schema,
    read_plan,
    validate_schema,
)
from planner.scenario.model import CollectionPoint, Depot, Scenario, Station
from planner.scenario.settings import (
    Category,
    MonthSettings,
    RegionSettings,
    ScenarioSettings,
    StationSettings,
    VehicleSpec,
    VisitSettings,
    WindowSettings,
)

PLANS = Path(__file__).parent / "data" / "plans"
SHARED = Path(__file__).resolve().parents[2] / "shared"

Plan = dict[str, Any]


def valid_plan() -> Plan:
    return json.loads((PLANS / "valid.json").read_text(encoding="utf-8"))


_VALID = valid_plan()


def _shift(stamp: str, minutes: int) -> str:
    t = dt.datetime.fromisoformat(stamp) + dt.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M")


# -- the scenario valid.json was planned for (built directly: no files needed) ---------------

TRUCK = {"id": "T01", "depot": "D1", "payload_kg": 2500.0, "box_m3": 10.0, "hazard_kg": 100.0}


def scenario(
    *,
    truck: dict[str, Any] | None = None,
    month: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    **visits: int,
) -> Scenario:
    """The tiny scenario of valid.json; keywords change the truck, the month, other
    settings (``windows``, ``visits``, ``stations_settings`` as models) or visits."""
    cats = (
        Category(id="pet_bottles", name="塑料瓶", stream="sell", density_kg_m3=25,
                 kg_per_person_day=0.05),
        Category(id="cardboard", name="纸板", stream="sell", density_kg_m3=50,
                 kg_per_person_day=0.1),
        Category(id="batteries", name="废电池", stream="exchange", density_kg_m3=1000,
                 kg_per_person_day=0.001, hazardous=True),
        Category(id="kitchen_waste", name="厨余", stream="compost", density_kg_m3=500,
                 kg_per_person_day=0.3),
    )  # fmt: skip
    settings_ = ScenarioSettings(
        name="tiny-test",
        region=RegionSettings(
            points=Path("points.csv"),
            depots=Path("depots.csv"),
            stations=Path("stations.csv"),
            roads=Path("roads.geojson"),
        ),
        month=MonthSettings(month="2026-12", **(month or {})),
        fleet=(VehicleSpec(**{**TRUCK, **(truck or {})}),),
        categories=cats,
        **(settings or {}),
    )
    places = {p["id"]: p for p in _VALID["places"]}

    def row(pid: str) -> dict[str, Any]:
        p = places[pid]
        return {"id": pid, "name": p["name"], "lon": p["lon"], "lat": p["lat"], "synthetic": True}

    points = tuple(
        CollectionPoint(**row(pid), households=5, people=12) for pid in ("P1", "P2", "P3", "P4")
    )
    return Scenario(
        path=Path("tiny.toml"),
        settings=settings_,
        points=points,
        households=(),
        depots=(Depot(**row("D1")),),
        stations=(Station(**row("S1")),),
        facilities=(),
        roads=None,
        visits={"P1": 2, "P2": 2, "P3": 1, "P4": 1, **visits},
    )


class PlanLegs:
    """A road lookup that agrees with every leg of a plan (a stand-in for the matrices)."""

    def __init__(self, plan: Plan):
        self.legs: dict[tuple[str, str], tuple[float, float]] = {}
        for run in plan["runs"]:
            for prev, s in pairwise(run["steps"]):
                if s["type"] != "break":
                    self.legs[prev["place"], s["place"]] = (s["leg_km"], s["leg_min"])

    def km(self, a: str, b: str) -> float:
        return self.legs[a, b][0]

    def minutes(self, a: str, b: str, _vehicle_id: str) -> float:
        return self.legs[a, b][1]


# -- the schema copy ----------------------------------------------------------------------


# Optional top-level fields added to the package's copy (planner replan writes the
# first three, a --wall-limit plan the last two) until the shared contract carries
# them too; nothing else may differ.
ADDED_OPTIONAL = ("version", "predecessor", "replan", "reproducible", "reproducible_reason")


def test_packaged_schema_is_the_contract() -> None:
    contract = SHARED / "contracts" / "plan.schema.json"
    if not contract.exists():
        pytest.skip(f"the shared contract is not at {contract}")
    ours = json.loads(json.dumps(load_schema()))  # a copy: load_schema is cached
    theirs = json.loads(contract.read_text(encoding="utf-8"))
    added = {k: ours["properties"].pop(k) for k in ADDED_OPTIONAL if k not in theirs["properties"]}
    assert ours == theirs
    assert not set(added) & set(ours["required"])


def test_packaged_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(load_schema())
    assert load_schema()["properties"]["format"]["const"] == PLAN_FORMAT


# -- reading and validating ---------------------------------------------------------------


def test_read_plan_reads_the_file_or_its_folder(tmp_path: Path) -> None:
    assert read_plan(PLANS / "valid.json") == _VALID
    write_json_atomic(tmp_path / "plan.json", _VALID)
    assert read_plan(tmp_path) == _VALID
    bom = tmp_path / "bom.json"  # as Notepad saves it
    bom.write_bytes(b"\xef\xbb\xbf" + (PLANS / "valid.json").read_bytes())
    assert read_plan(bom) == _VALID


def test_truncated_file_names_line_and_column() -> None:
    with pytest.raises(PlanError, match=r"truncated\.json: line \d+, column \d+: not valid JSON"):
        read_plan(PLANS / "truncated.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "plan file not found"),  # no file at all
        ("[1, 2]", "expected a JSON object, found list"),  # JSON, but not a plan
        ('{"format": "rural-waste-plan/0"}', "expected format 'rural-waste-plan/1'"),  # old
        ("{}", "found None"),  # no format at all
        ('{"format": "rural-waste-plan/1", "x": NaN}', "NaN is not a JSON number"),  # not JSON
    ],
)
def test_read_plan_errors(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "plan.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError, match=message):
        read_plan(path)


def test_read_plan_rejects_other_encodings(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes('{"scenario": "鄂托克旗"}'.encode("gbk"))
    with pytest.raises(PlanError, match="expected a UTF-8 JSON file"):
        read_plan(path)


def test_validate_schema_gives_json_paths() -> None:
    plan = valid_plan()
    assert validate_schema(plan) == []
    plan["runs"][1]["steps"][2]["leg_km"] = -1
    del plan["summary"]["visits"]
    errors = validate_schema(plan)
    assert errors == [
        "$.runs[1].steps[2].leg_km: -1 is less than the minimum of 0",
        "$.summary: 'visits' is a required property",
    ]


def test_validate_schema_rejects_non_finite_numbers() -> None:
    plan = valid_plan()
    plan["runs"][0]["distance_km"] = float("nan")
    assert validate_schema(plan) == ["$.runs[0].distance_km: nan is not a finite number"]


# -- the checker on the fixtures -------------------------------------------------------------


def test_valid_plan_passes() -> None:
    report = check_plan(valid_plan())
    assert report.ok, format_report(report)
    assert report.violations == ()
    assert (report.stats.runs, report.stats.visits, report.stats.unserved) == (2, 5, 1)
    assert report.stats.distance_km == pytest.approx(262.9)
    text = format_report(report)
    assert text.splitlines()[-1].startswith("OK: the plan passes every check (2 runs")
    # Without the scenario and roads, the report says what it could not check.
    assert "not checked:" in text and "no scenario" in text and "no road data" in text


def test_valid_plan_passes_with_its_scenario_and_roads() -> None:
    plan = valid_plan()
    report = check_plan(plan, scenario(), travel=PlanLegs(plan))
    assert report.ok, format_report(report)


@pytest.mark.parametrize(
    ("name", "rule", "run", "step"),
    [
        ("over_capacity.json", "capacity", "T01-2026-12-07", 1),
        ("window_missed.json", "window", "T01-2026-12-07", 1),
        ("gap_too_short.json", "gap", None, None),
        ("no_unload_before_end.json", "unload_before_end", "T01-2026-12-07", 3),
        ("wrong_leg_sum.json", "legs", "T01-2026-12-21", None),
        ("visit_count_mismatch.json", "visits", None, None),
        ("not_a_service_date.json", "service_date", "T01-2026-12-19", None),
        ("bad_schema.json", "schema", None, None),
    ],
)
def test_each_fault_fixture_breaks_exactly_its_rule(
    name: str, rule: str, run: str | None, step: int | None
) -> None:
    report = check_plan(read_plan(PLANS / name))
    assert [v.rule for v in report.violations] == [rule], format_report(report)
    (v,) = report.violations
    assert (v.run, v.step) == (run, step)
    if run is not None:
        assert v.message.startswith(f"run {run}: ")


def test_messages_name_the_run_the_point_and_the_figures() -> None:
    (v,) = check_plan(read_plan(PLANS / "over_capacity.json")).violations
    assert v.message == "run T01-2026-12-07: load 2,505 kg after step 1 exceeds T01's 2,500 kg"
    (v,) = check_plan(read_plan(PLANS / "gap_too_short.json")).violations
    assert "P1" in v.message and "2026-12-07" in v.message and "2026-12-14" in v.message


def test_format_report_groups_by_rule_and_ends_with_a_verdict() -> None:
    plan = valid_plan()
    plan["points"][0]["window"] = ["10:00", "10:30"]  # both P1 visits arrive earlier
    plan["summary"]["runs"] = 3
    text = format_report(check_plan(plan))
    lines = text.splitlines()
    assert lines[0] == "window (2):"
    assert lines[3] == "summary (1):"
    assert lines[-1] == "FAILED: 3 violations of 2 rules (2 runs, 5 visits, 1 unserved, 262.9 km)."


def test_another_format_is_reported_and_nothing_else() -> None:
    plan = valid_plan()
    plan["format"] = "rural-waste-plan/2"
    report = check_plan(plan)
    assert [v.rule for v in report.violations] == ["format"]
    assert format_report(report).endswith("FAILED: 1 violation of 1 rule.")


# -- one fault at a time, plan only -------------------------------------------------------------

Mutation = Callable[[Plan], object]


def _steps(plan: Plan, run: int) -> list[dict[str, Any]]:
    return plan["runs"][run]["steps"]


def _set_duration(plan: Plan) -> None:
    plan["runs"][0]["duration_min"] += 10
    plan["summary"]["duration_min"] += 10


def _unchanged(_plan: Plan) -> None:
    """For faults that are in the scenario, not the plan."""


def _move_start(plan: Plan) -> None:
    for key in ("arrival", "departure"):
        _steps(plan, 0)[0][key] = "2026-12-07T07:00"  # 30 min idle at the depot


PLAN_FAULTS: list[tuple[str, Mutation, set[str]]] = [
    # the truck's home is a transfer station: the depot rule flags the vehicle and both ends
    ("depot_not_a_depot", lambda p: p["vehicles"][0].update(depot="S1"), {"depot"}),
    # the lunch break is taken at the depot though the truck stands at S1
    ("break_moves", lambda p: _steps(p, 1)[4].update(place="D1"), {"break"}),
    # unloading at a collection point
    ("unload_at_point", lambda p: _steps(p, 0)[3].update(place="P4"), {"places"}),
    # leaves P2 before it arrives, and S1 is reached too early for the drive
    ("departs_before_arrival", lambda p: _steps(p, 0)[2].update(departure="2026-12-07T09:00"),
     {"time"}),
    # the start's departure moves but the first arrival does not follow
    ("start_moved", _move_start, {"time", "duration"}),
    # run length written 10 min too long (summary kept consistent)
    ("duration_written_wrong", _set_duration, {"duration"}),
    # the truck may only work 300 min; run 2 lasts 390
    ("too_long", lambda p: p["vehicles"][0].update(max_duration_min=300), {"duration"}),
    # 200 kg of cardboard left at the station though 225 kg were on board
    ("unloads_less", lambda p: _steps(p, 0)[3]["unloaded"].update(cardboard=200),
     {"mass_balance"}),
    # a collect figure on the unload step
    ("collected_on_unload", lambda p: _steps(p, 0)[3].update(collected={"cardboard": 1}),
     {"mass_balance"}),
    # the depot's load claims 5 kg of an unknown dimension
    ("load_at_start", lambda p: _steps(p, 0)[0]["load_after"].update(crates=5),
     {"mass_balance"}),
    # m3 over the 10 m³ box, though only claimed: no scenario recomputes it
    ("box_over", lambda p: _steps(p, 0)[2]["load_after"].update(m3=10.5), {"capacity"}),
    # the summary counts a run too many
    ("summary_runs", lambda p: p["summary"].update(runs=3), {"summary"}),
    # both runs carry the same id
    ("duplicate_run_id", lambda p: p["runs"][1].update(id="T01-2026-12-07"), {"runs"}),
    # a time with a UTC offset, not a local time
    ("offset_time", lambda p: _steps(p, 0)[1].update(arrival="2026-12-07T08:30+08:00"),
     {"time"}),
    # a window that closes before it opens
    ("window_backwards", lambda p: p["points"][3].update(window=["12:00", "11:00"]),
     {"window"}),
    # the start has a leg
    ("leg_at_start", lambda p: _steps(p, 1)[0].update(leg_km=3.0), {"legs"}),
    # a run for a vehicle the plan does not list
    ("unknown_vehicle", lambda p: p["runs"][1].update(vehicle="T09"), {"vehicles"}),
    # a service date outside the period
    ("date_outside_period", lambda p: p["period"]["service_dates"].append("2027-01-04"),
     {"service_date"}),
    # P1 collected twice on 12-07 (instead of P2): P1 has 3 visits, P2 one
    ("same_point_twice", lambda p: _steps(p, 0)[2].update(place="P1"), {"gap", "visits"}),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "rules"), [f[1:] for f in PLAN_FAULTS],
                         ids=[f[0] for f in PLAN_FAULTS])  # fmt: skip
def test_plan_fault_is_found(mutate: Mutation, rules: set[str]) -> None:
    plan = valid_plan()
    mutate(plan)
    report = check_plan(plan)
    assert report.rules == rules, format_report(report)


# -- one fault at a time, against the scenario ------------------------------------------------

SCENARIO_FAULTS: list[tuple[str, Mutation, dict[str, Any], set[str]]] = [
    # the shift starts at 08:00; run 1 leaves at 07:30
    ("before_shift", _unchanged, {"truck": {"shift_start": "08:00"}}, {"shift"}),
    # the shift ends at 14:00; run 2 is back at 14:30
    ("after_shift", _unchanged, {"truck": {"shift_end": "14:00"}}, {"shift"}),
    # lunch must start 12:30-13:00; run 2 (08:00-14:30) breaks at 11:30
    ("lunch_outside_window", _unchanged,
     {"truck": {"lunch_start": "12:30", "lunch_end": "13:00"}}, {"break"}),
    # lunch is 60 min; run 2 breaks 40 min
    ("lunch_too_short", _unchanged, {"truck": {"lunch_min": 60}}, {"break"}),
    # the fleet's truck may only work 300 min: the plan's vehicle and run 2 exceed it
    ("max_work", _unchanged, {"truck": {"max_work_min": 300}}, {"vehicles", "duration"}),
    # the fleet's truck carries 2,000 kg, the plan says 2,500
    ("payload_differs", _unchanged, {"truck": {"payload_kg": 2000.0}}, {"vehicles"}),
    # the truck has no hazard locker, but the plan gives it one and loads batteries
    ("no_locker", _unchanged, {"truck": {"hazard_kg": 0.0}}, {"vehicles", "capacity"}),
    # the volume after P1 is written as 6 m³; densities give 8.005
    ("m3_wrong", lambda p: _steps(p, 0)[1]["load_after"].update(m3=6.0), {}, {"mass_balance"}),
    # hazardous kg after P3 written as 0; batteries are 3 kg
    ("hazard_wrong", lambda p: _steps(p, 1)[2]["load_after"].update(hazard_kg=0), {},
     {"mass_balance"}),
    # kitchen waste stays in the household's compost pit
    ("compost_collected", lambda p: _steps(p, 0)[1]["collected"].update(kitchen_waste=0.0), {},
     {"mass_balance"}),
    # P3 moved 0.01 degrees
    ("point_moved", lambda p: p["places"][3].update(lon=107.86), {}, {"places"}),
    # S1 called a treatment plant
    ("station_kind", lambda p: p["places"][5].update(kind="plant"), {}, {"places"}),
    # the scenario wants P4 visited twice, so at least 12 days apart
    ("required_visits", _unchanged, {"P4": 2}, {"visits", "gap"}),
    # Christmas closure: the plan still lists 12-25 as a service date
    ("closure", _unchanged, {"month": {"closures": [dt.date(2026, 12, 25)]}},
     {"service_date"}),
    # P1 may be seen twice 10 days apart instead of 12
    ("gap_relaxed", lambda p: p["points"][0].update(min_gap_days=10), {}, {"gap"}),
    # another scenario's plan
    ("scenario_name", lambda p: p.update(scenario="other"), {}, {"scenario"}),
    # docs/scenario.md [windows]: "no window opens before" earliest (08:30)
    ("window_before_earliest", lambda p: p["points"][0].update(window=["08:00", "09:30"]), {},
     {"window"}),
    # ... "no window closes after" latest: 10:30 here; P3 is announced 10:00-11:00 and
    # P4 (no window) is met at 12:55
    ("window_after_latest", _unchanged,
     {"settings": {"windows": WindowSettings(earliest="08:30", latest="10:30")}}, {"window"}),
    # ... width_min 60: P3's window cut to 30 minutes
    ("window_too_narrow", lambda p: p["points"][2].update(window=["10:00", "10:30"]), {},
     {"window"}),
    # [visits]: 12 + 1 per household = 17 min at a stop; P2, P3, P4 get 15
    ("stop_too_short", _unchanged,
     {"settings": {"visits": VisitSettings(service_min_base=12.0)}}, {"service"}),
    # [stations_settings]: unloading takes 25 min; two unloadings take 20
    ("unload_too_short", _unchanged,
     {"settings": {"stations_settings": StationSettings(unload_min=25.0)}}, {"service"}),
    # [[fleet]] costs: 2 CNY/km on 262.9 km is not the plan's 0
    ("cost_wrong", _unchanged, {"truck": {"cost_per_km": 2.0}}, {"summary"}),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "changes", "rules"), [f[1:] for f in SCENARIO_FAULTS],
                         ids=[f[0] for f in SCENARIO_FAULTS])  # fmt: skip
def test_scenario_fault_is_found(
    mutate: Mutation, changes: dict[str, Any], rules: set[str]
) -> None:
    plan = valid_plan()
    mutate(plan)
    report = check_plan(plan, scenario(**changes))
    assert report.rules == rules, format_report(report)


def test_legs_are_compared_with_the_roads() -> None:
    plan = valid_plan()
    roads = PlanLegs(plan)
    roads.legs["P1", "P2"] = (18.5, 40.0)  # the road takes 40 min, the plan drove 25
    report = check_plan(plan, travel=roads)
    assert [(v.rule, v.run, v.step) for v in report.violations] == [("legs", "T01-2026-12-07", 2)]
    del roads.legs["P1", "P2"]
    (v,) = check_plan(plan, travel=roads).violations
    assert "no road data for the leg P1 → P2" in v.message


def test_lunch_not_owed_when_it_fits_before_or_after_the_run() -> None:
    plan = valid_plan()
    # Drop run 2's break and shift what follows 40 min earlier.
    steps = _steps(plan, 1)
    del steps[4]
    for s in steps[4:]:
        s["arrival"], s["departure"] = _shift(s["arrival"], -40), _shift(s["departure"], -40)
    plan["runs"][1]["duration_min"] -= 40
    plan["summary"]["duration_min"] -= 40
    assert check_plan(plan).ok
    assert check_plan(plan, scenario()).rules == {"break"}  # out 08:00-13:50
    assert check_plan(plan, scenario(truck={"lunch_end": "14:00"})).ok  # lunch after 13:50
    assert check_plan(plan, scenario(truck={"lunch_min": 0})).ok


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_changed_load_or_time_is_detected(data: st.DataObject) -> None:
    plan = valid_plan()
    run = data.draw(st.sampled_from(plan["runs"]))
    steps = run["steps"]
    if data.draw(st.booleans()):
        step = data.draw(st.sampled_from(steps))
        dim = data.draw(st.sampled_from(["kg", "m3", "hazard_kg"]))
        delta = data.draw(st.floats(0.1, 3000) | st.floats(-3000, -0.1))
        step["load_after"][dim] += delta
    else:
        step = data.draw(st.sampled_from(steps[1:]))  # a start's arrival means nothing
        # Beyond the checker's 1-minute tolerance for rounding.
        shift = data.draw(st.integers(-240, 240).filter(lambda m: abs(m) > 1))
        step["arrival"] = _shift(step["arrival"], shift)
    assert not check_plan(plan, scenario()).ok


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_checker_never_raises_on_a_schema_valid_plan(data: st.DataObject) -> None:
    plan = valid_plan()
    names = st.sampled_from(["D1", "P1", "P4", "S1", "T01", "X9", "", "2026-13-40"])
    for _ in range(data.draw(st.integers(1, 4))):
        run = data.draw(st.sampled_from(plan["runs"]))
        step = data.draw(st.sampled_from(run["steps"]))
        target = data.draw(st.sampled_from(["place", "vehicle", "date", "type", "depot"]))
        if target == "place":
            step["place"] = data.draw(names)
        elif target == "vehicle":
            run["vehicle"] = data.draw(names)
        elif target == "date":
            run["date"] = data.draw(st.sampled_from(["2026-12-19", "2026-02-30", "2026-12-07"]))
        elif target == "type":
            step["type"] = data.draw(
                st.sampled_from(["start", "collect", "unload", "break", "end"])
            )
        else:
            plan["vehicles"][0]["depot"] = data.draw(names)
    report = check_plan(plan, scenario())
    assert all(v.message for v in report.violations)
    format_report(report)
