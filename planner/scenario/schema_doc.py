"""The scenario format's reference, generated from the settings models.

``docs/scenario.schema.json`` and the key tables of ``docs/scenario.md`` come from
here, so the documentation cannot drift from what the loader accepts (a test
compares the committed files with a fresh rendering).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from planner.scenario.model import CollectionPoint, Depot, Facility, Household, Station
from planner.scenario.settings import (
    Budget,
    CalendarSettings,
    CarrySettings,
    Category,
    GoodsItem,
    LedgerSettings,
    MonthSettings,
    NoticeSettings,
    RegionSettings,
    ScenarioSettings,
    StationSettings,
    VehicleSpec,
    VisitRule,
    VisitSettings,
    WindowSettings,
)

SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top level", ScenarioSettings),
    ("[region]", RegionSettings),
    ("[month]", MonthSettings),
    ("[visits]", VisitSettings),
    ("[[visits.rules]]", VisitRule),
    ("[windows]", WindowSettings),
    ("[stations_settings]", StationSettings),
    ("[[fleet]] (one per truck)", VehicleSpec),
    ("[[categories]]", Category),
    ("[[goods]]", GoodsItem),
    ("[budget]", Budget),
    ("[carry]", CarrySettings),
    ("[notices]", NoticeSettings),
    ("[calendars]", CalendarSettings),
    ("[ledger]", LedgerSettings),
)

TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("points.csv", CollectionPoint),
    ("households.csv", Household),
    ("depots.csv", Depot),
    ("stations.csv", Station),
    ("facilities.csv", Facility),
)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario TOML (as parsed into JSON types)."""
    schema = ScenarioSettings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "scenario.schema.json"
    return schema


def _type_name(info: FieldInfo) -> str:
    ann = info.annotation
    text = getattr(ann, "__name__", None) or str(ann)
    return (
        text.replace("typing.", "")
        .replace("pathlib.", "")
        .replace("datetime.", "")
        .replace("planner.scenario.settings.", "")
        .replace("NoneType", "none")
    )


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    factory = info.default_factory
    value = factory() if factory is not None else info.default  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        return "see its section"
    if value is None:
        return "—"
    return f"`{json.dumps(value, ensure_ascii=False, default=str)}`"


def _table(model: type[BaseModel]) -> list[str]:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        desc = (info.description or "").replace("|", "\\|")
        typ = _type_name(info).replace("|", "or")
        lines.append(f"| `{name}` | {typ} | {_default(info)} | {desc} |")
    return lines


INTRO = """\
# The scenario file

A scenario is one TOML file for one month. It names the region's data files (paths
relative to the scenario file) and holds the month's settings. `planner validate
SCENARIO` checks it and every file it names, and lists every problem at once;
`docs/scenario.schema.json` is its JSON Schema (generated from the same models the
loader validates with, as is the key reference below).

An example: `scenarios/otog.toml` (the Otog Banner default). A minimal one:
`tests/data/tiny.toml`.

## Formats the region data may come in

| data | formats |
| --- | --- |
| points, households, depots, stations, buyer/plant | CSV, UTF-8 (a GBK file from Chinese Excel gets its own message: save as "CSV UTF-8") |
| roads | GeoPackage, GeoJSON, ESRI Shapefile (column `road_class`, optional `speed_kmh`, `oneway`, `name`), or an OpenStreetMap `.osm`/`.osm.pbf` extract (the `highway` tag is mapped to a class) |
| boundary | GeoJSON, GeoPackage or Shapefile polygons in any CRS (reprojected to WGS84) |

## What is checked

- every key and value against the models below; unknown keys (typos) are errors;
- place ids unique across all tables; households on known points; vehicles at known depots;
- coordinates in range, inside the region boundary (with `outside_tolerance_km`), and a
  separate message when lon/lat look swapped;
- the month has at least one service day; the visits fit the month at the minimum gap;
- sell categories have a price, exchange categories earn points, goods cost points;
- each truck's shift starts before it ends, and its lunch break (if `lunch_min` > 0) fits
  in the shift;
- roads readable, with a speed for every road class; every place reachable by road
  (`planner validate` builds the network); a place farther than `snap_warn_km` from any
  road is a warning (`--strict` makes warnings errors), worded for stations, depots and
  the buyer/plant as a missing access road.

## Key reference

"""


def render_scenario_doc() -> str:
    """The whole of ``docs/scenario.md``."""
    return INTRO + render_key_reference()


def write_docs(folder: Path) -> None:
    """Write ``scenario.md`` and ``scenario.schema.json`` into ``folder``."""
    from planner._atomic import write_text_atomic

    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "scenario.md", render_scenario_doc())
    schema = json.dumps(scenario_json_schema(), indent=1, ensure_ascii=False) + "\n"
    write_text_atomic(folder / "scenario.schema.json", schema)


def render_key_reference() -> str:
    """Markdown tables of every TOML key and every CSV column."""
    out = ["<!-- generated by planner.scenario.schema_doc: do not edit by hand -->", ""]
    for title, model in SECTIONS:
        out += [f"### {title}", ""]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            out += [doc[0], ""]
        out += [*_table(model), ""]
    out += ["## Region tables (CSV, UTF-8, header row)", ""]
    for title, model in TABLES:
        out += [f"### {title}", ""]
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            out += [doc[0], ""]
        out += [*_table(model), ""]
    return "\n".join(out).rstrip() + "\n"
