"""Ready-made region parameters: the Otog Banner default and generic synthetic regions."""

from __future__ import annotations

import csv
import io
import json
import math
from importlib import resources

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon, box

from planner.synth._geo import apportion, kmeans, parse_outline, region_projection, sample_in
from planner.synth._params import (
    FARMING,
    HERDING,
    FacilitySpec,
    GachaSpec,
    LonLat,
    RegionParams,
    TownshipSpec,
)

# Figures of the 2018 report (reference/000_611715363b321793.txt).
OTOG_POINTS = 363  # 自然村
OTOG_PEOPLE = 59_000  # 农牧民
# Assumption: about 2.7 people per rural household.
OTOG_HOUSEHOLDS = 22_000
OTOG_TRUCKS = 14  # assumption: volume (~0.9 box-loads per truck-day) binds; to tune

# Per township: rural people (targets), transfer stations, monthly-visit rule.
# People: 蒙西 from its agricultural population (8,751, township facts), 阿尔巴斯 from
# "9000+" (facts); the rest is an assumption splitting the report's 59,000.
# Stations: the report's 12, more around 棋盘井 (assumption).
_OTOG_TOWNSHIPS: dict[str, tuple[int, int, int | None]] = {
    "150624100000": (9_800, 2, None),  # 乌兰镇
    "150624101000": (9_500, 4, None),  # 棋盘井镇
    "150624102000": (8_700, 1, 3),  # 蒙西镇: river farming villages, 3 visits
    "150624103000": (15_500, 2, None),  # 木凯淖尔镇: 17 farming villages
    "150624200000": (6_500, 1, None),  # 苏米图苏木
    "150624201000": (9_000, 2, None),  # 阿尔巴斯苏木
}

_OTOG_FACILITIES = (
    # Synthetic: a partner recycling company between 棋盘井 and Wuhai, and a
    # hazardous-waste plant in the 棋盘井 industrial area.
    FacilitySpec("F01", "棋盘井再生资源回收公司", "buyer", "150624101000", (-4.5, 3.5)),
    FacilitySpec("F02", "棋盘井危险废物处置厂", "plant", "150624101000", (7.0, -3.0)),
)


_OTOG_SOURCES = (
    ("townships", "reference/otog_admin_units_nbs2023.csv (NBS 2023); report: 6 苏木镇"),
    (
        "gachas",
        "reference/otog_admin_units_nbs2023.csv: village-level units with ur_code 220 "
        "(the report counts 75 嘎查村; see the note below)",
    ),
    ("points", "report: 363 自然村"),
    ("people", "report: 农牧民 5.9万人"),
    ("households", "assumption: about 2.7 people per household"),
    ("stations", "report: 垃圾压缩站 12 座"),
    ("outline", "reference/otog_boundary_simplified_wgs84.geojson (copied verbatim)"),
    ("seat", "synthetic, except 乌兰镇: reference/otog_reference_points.csv (GeoNames)"),
    ("fee", "report: 农维费 每年5万元 (旗级财政 2万 + 市级财政 3万)"),
    ("reward fund", "report: 环境综合管理奖励资金 200万元"),
    (
        "zone areas",
        "targets from reference/otog_township_facts_web.csv (阿尔巴斯 6,250 km², 棋盘井 "
        "3,558-3,614 km², 蒙西 1,938-1,985 km²), the others an assumption; zones are "
        "synthetic and match the targets only roughly",
    ),
    (
        "township people",
        "蒙西 8,700 (its agricultural population 8,751) and 阿尔巴斯 9,000 ('9000+') from "
        "reference/otog_township_facts_web.csv, the rest of the report's 59,000 split by "
        "assumption",
    ),
)

_OTOG_NOTES = """## Package data (copied from the shared reference folder)

| package file | copied from | origin |
| --- | --- | --- |
| planner/synth/otog_admin_units.csv | reference/otog_admin_units_nbs2023.csv (verbatim) | \
NBS 2023 statistical division codes of 鄂托克旗 |
| planner/synth/otog_boundary.geojson | reference/otog_boundary_simplified_wgs84.geojson \
(verbatim) | Aliyun DataV polygon, GCJ-02 converted to WGS84, simplified at 0.01° |
| planner/synth/otog_anchors.csv | hand-placed for the generator | 乌兰镇 seat from \
reference/otog_reference_points.csv (GeoNames); every other row says why it is where it is |

The generator reads only these package files, never the reference folder.

## Notes

- **74 gacha, not 75.** The report counts 75 嘎查村; the NBS 2023 list has 74 village-level
  units coded ur_code 220 (rural), three of them communities (察汗淖尔社区, 草籽场社区,
  三北羊场社区). The four 嘎查/村 at town or township centres (乌兰图克嘎查 122, 水泉子村
  121, 查汗敖包嘎查 210, 布隆嘎查 210) are served daily by the town system and have no
  collection points. 71 嘎查/村 + these 4 = the report's 75.
- **Six depots.** All six townships have gacha (the 经济开发区 has none and is left out),
  so there is one depot per township seat: six.
- Township seats other than 乌兰镇 are placed where the township facts put the township
  (蒙西 north-west on the Yellow River, 棋盘井 west next to Wuhai, 阿尔巴斯 west and
  south-west, 木凯淖尔 east, 苏米图 south), not at their real towns.
"""


def _package_text(name: str) -> str:
    return resources.files("planner.synth").joinpath(name).read_text(encoding="utf-8")


def is_collection_unit(row: dict[str, str]) -> bool:
    """Whether an admin-unit row is a gacha whose natural villages are collection points.

    Village-level units coded ``ur_code`` 220 (rural village); town and township
    centres (121/122/123, 210) are served daily by the town sanitation system.
    """
    return row["level"] == "village" and row["ur_code"] == "220"


def otog_params(seed: int = 2026) -> RegionParams:
    """The Otog Banner default region: real units and outline, synthetic positions.

    Parameters
    ----------
    seed
        Seed of every random draw.

    Returns
    -------
    RegionParams
        Six townships, their rural gacha, 363 points, 22,000 households,
        59,000 people, 12 trucks.
    """
    rows = list(csv.DictReader(io.StringIO(_package_text("otog_admin_units.csv"))))
    anchors = list(csv.DictReader(io.StringIO(_package_text("otog_anchors.csv"))))
    gachas = tuple(
        GachaSpec(
            code=r["code"],
            name=r["name"],
            township_code=r["town_code"],
            # 牧委会 = herding committee; 村委会 and rural communities are settled farming.
            kind=HERDING if "牧委会" in r["unit_kind"] else FARMING,
        )
        for r in rows
        if is_collection_unit(r)
    )
    townships = []
    for r in rows:
        if r["level"] != "township" or r["code"] not in _OTOG_TOWNSHIPS:
            continue
        people, stations, visits = _OTOG_TOWNSHIPS[r["code"]]
        mine = [a for a in anchors if a["township_code"] == r["code"]]
        seat = next(a for a in mine if a["role"] == "seat")

        def coords(role: str, mine: list[dict[str, str]] = mine) -> tuple[LonLat, ...]:
            return tuple((float(a["lon"]), float(a["lat"])) for a in mine if a["role"] == role)

        townships.append(
            TownshipSpec(
                code=r["code"],
                name=r["name"],
                short=r["name"].removesuffix("苏木").removesuffix("镇"),
                seat=(float(seat["lon"]), float(seat["lat"])),
                anchors=coords("zone"),
                focus=coords("focus"),
                people=people,
                stations=stations,
                visits=visits,
                seat_real=seat["source"].startswith("real"),
            )
        )
    return RegionParams(
        name="otog-2026-12",
        description=(
            "Otog Banner, December 2026 (synthetic positions and roads; see data/otog/README.md)"
        ),
        boundary_geojson=_package_text("otog_boundary.geojson"),
        townships=tuple(townships),
        gachas=gachas,
        facilities=_OTOG_FACILITIES,
        points=OTOG_POINTS,
        households=OTOG_HOUSEHOLDS,
        people=OTOG_PEOPLE,
        trucks=OTOG_TRUCKS,
        seed=seed,
        remote_points=4,
        chinese_names=True,
        sources=_OTOG_SOURCES,
        notes=_OTOG_NOTES,
        recipe=f"planner synth otog --out data/otog --scenario scenarios/otog.toml --seed {seed}",
    )


def synthetic_params(
    *,
    points: int,
    households: int,
    townships: int,
    area_km2: float,
    trucks: int,
    seed: int,
    outline: str = "square",
) -> RegionParams:
    """A generic synthetic region for tests and benchmarks.

    Parameters
    ----------
    points, households
        Exact numbers of collection points and households (people = 2.7 per
        household, rounded).
    townships
        Number of townships; gacha are about five points each (at least one per
        township, at least two points each).
    area_km2
        Area of the region.
    trucks
        Fleet size (at least one per township).
    seed
        Seed of every random draw.
    outline
        ``"square"`` or ``"otog"`` (the Otog outline scaled to ``area_km2``).
    """
    if townships < 1 or area_km2 <= 0:
        raise ValueError("Expected townships >= 1 and area_km2 > 0.")
    poly = _synthetic_outline(outline, area_km2)
    rng = np.random.default_rng([seed, 7])
    proj = region_projection(poly)
    poly_m = proj.geom_to_m(poly)
    samples = sample_in(poly_m.buffer(-0.1 * math.sqrt(poly_m.area)), 400 * townships, rng)
    centres = kmeans(samples, townships, rng)
    order = np.lexsort((centres[:, 0], -centres[:, 1]))  # north to south: stable names
    lon, lat = proj.to_lonlat(centres[order, 0], centres[order, 1])
    n_gacha = max(townships, min(points // 2, round(points / 5)))
    per_t = apportion(n_gacha, [1.0] * townships, minimum=1)
    stations = apportion(max(townships, round(points / 30)), per_t, minimum=1)
    people = max(households, round(households * 2.7))
    people_t = apportion(people, per_t)
    specs, gachas = [], []
    for i in range(townships):
        code = f"T{i + 1}"
        specs.append(
            TownshipSpec(
                code=code,
                name=f"T{i + 1} Township",
                short=f"T{i + 1}",
                seat=(round(float(lon[i]), 6), round(float(lat[i]), 6)),
                people=people_t[i],
                stations=stations[i],
            )
        )
        for j in range(per_t[i]):
            kind = FARMING if rng.random() < 0.4 else HERDING
            gachas.append(GachaSpec(f"G{i + 1}-{j + 1}", f"G{i + 1}-{j + 1} Gacha", code, kind))
    step = 0.03 * math.sqrt(area_km2)  # facilities a few km from the first seat
    facilities = (
        FacilitySpec("F01", "Recycling buyer", "buyer", "T1", (-step, step)),
        FacilitySpec("F02", "Hazardous-waste plant", "plant", "T1", (step, -step)),
    )
    return RegionParams(
        name=f"synthetic-{points}p-s{seed}",
        description=f"Synthetic region: {points} points, {area_km2:g} km², seed {seed}",
        boundary_geojson=_outline_geojson(poly, outline),
        townships=tuple(specs),
        gachas=tuple(gachas),
        facilities=facilities,
        points=points,
        households=households,
        people=people,
        trucks=trucks,
        seed=seed,
        recipe=(
            f"synthetic_params(points={points}, households={households}, "
            f"townships={townships}, area_km2={area_km2:g}, trucks={trucks}, seed={seed}, "
            f"outline={outline!r})"
        ),
    )


def _synthetic_outline(kind: str, area_km2: float) -> Polygon:
    otog = parse_outline(_package_text("otog_boundary.geojson"))
    c = otog.centroid
    kx = 111.32 * math.cos(math.radians(c.y))  # km per degree of longitude
    ky = 110.57
    if kind == "square":
        half = math.sqrt(area_km2) / 2
        return box(c.x - half / kx, c.y - half / ky, c.x + half / kx, c.y + half / ky)
    if kind == "otog":
        proj = region_projection(otog)
        m = proj.geom_to_m(otog)
        f = math.sqrt(area_km2 * 1e6 / m.area)
        scaled = affinity.scale(m, f, f, origin=m.centroid)
        simple = scaled.simplify(50.0 * f)
        ll = proj.geom_to_lonlat(simple)
        if not isinstance(ll, Polygon):
            raise ValueError("Scaled outline is not a polygon.")
        return Polygon([(round(x, 6), round(y, 6)) for x, y in ll.exterior.coords])
    raise ValueError(f"Expected outline 'square' or 'otog', got {kind!r}.")


def _outline_geojson(poly: Polygon, kind: str) -> str:
    coords = [[round(x, 6), round(y, 6)] for x, y in poly.exterior.coords]
    feature = {
        "type": "Feature",
        "properties": {"name": f"synthetic {kind} region", "synthetic": True},
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False)
