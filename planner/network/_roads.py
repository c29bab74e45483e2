"""Reading road files into one normalised GeoDataFrame."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from planner._errors import NetworkError, issue

# OSM highway values and the road class a collection truck experiences on them in the
# banner; everything not listed (track, path, ...) counts as "dirt". "*_link" ramps take
# the class of the road they belong to.
OSM_ROAD_CLASSES: dict[str, str] = {
    "motorway": "highway",
    "trunk": "highway",
    "primary": "highway",
    "secondary": "paved",
    "tertiary": "paved",
    "unclassified": "gravel",
    "residential": "gravel",
    "service": "gravel",
}

_LINE_TYPES = ("LineString", "MultiLineString")
_TRUE = frozenset({"yes", "true", "1", "y", "t"})
_FALSE = frozenset({"no", "false", "0", "n", "f", ""})
_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    pyogrio.errors.FeatureError,
)


def read_roads(path: Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a road file into a GeoDataFrame in WGS84.

    Reads GeoPackage, GeoJSON and ESRI Shapefile files, and OpenStreetMap ``.osm`` /
    ``.osm.pbf`` extracts through GDAL's OSM driver (layer ``"lines"``; ways without a
    ``highway`` tag are left out and the highway value is mapped to a road class, see
    :data:`OSM_ROAD_CLASSES`).

    Parameters
    ----------
    path
        The road file.
    layer
        Layer to read. Default: the only layer, or the only line layer of a file with
        several; ``"lines"`` for OSM files.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per road with columns ``road_class`` (str), ``speed_kmh`` (float, NaN
        where the class speed applies), ``oneway`` (bool), ``name`` (str, missing
        where the road has none),
        ``osm_highway`` (OSM files only) and ``geometry`` (LineString or
        MultiLineString), in EPSG:4326. A file without a CRS is taken to be WGS84.

    Raises
    ------
    NetworkError
        The file is missing or unreadable, has no line features, has other geometries
        than lines, or (non-OSM files) has no ``road_class`` column or bad values in it,
        in ``speed_kmh`` or in ``oneway``.
    """
    path = Path(path)
    if not path.is_file():
        found = "a directory" if path.is_dir() else "no file at that path"
        raise _fail(path, "a road file", found)
    osm = _is_osm(path)
    try:
        if layer is None:
            layer = "lines" if osm else _pick_layer(path)
        frame = pyogrio.read_dataframe(path, layer=layer)
    except _PYOGRIO_ERRORS as exc:
        reason = str(exc).split(";")[0].strip()
        raise _fail(
            path,
            "a GeoPackage, GeoJSON, Shapefile or OSM file GDAL can read",
            f"an unreadable file ({reason})",
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise _fail(path, "line features", "a table without geometry")
    if osm:
        frame = _from_osm(path, frame)
    if len(frame) == 0:
        raise _fail(path, "line features", "none")
    problem = line_geometry_problem(frame)
    if problem:
        raise _fail(path, "LineString or MultiLineString geometries", problem)
    if osm:
        out = frame
    else:
        out = gpd.GeoDataFrame(
            {
                "road_class": _road_classes(path, frame),
                "speed_kmh": _speeds(path, frame),
                "oneway": _oneway(path, frame),
                "name": _names(frame),
            },
            geometry=frame.geometry.values,
            crs=frame.crs,
        )
    out = out.reset_index(drop=True)
    if out.crs is None:
        return out.set_crs("EPSG:4326")
    return out.to_crs("EPSG:4326")


def line_geometry_problem(frame: gpd.GeoDataFrame) -> str:
    """Describe what is wrong with ``frame``'s geometries, or return ``""`` if all are lines."""
    geoms = frame.geometry
    missing = np.asarray(geoms.isna() | geoms.is_empty)
    if missing.any():
        return f"no geometry in {features(missing)}"
    types = np.asarray(geoms.geom_type)
    bad = ~np.isin(types, _LINE_TYPES)
    if bad.any():
        kinds = ", ".join(sorted(set(types[bad])))
        return f"{kinds} geometry in {features(bad)}"
    return ""


def _pick_layer(path: Path) -> str | None:
    layers = pyogrio.list_layers(path)
    if len(layers) <= 1:
        return None
    lines = [str(name) for name, kind in layers if str(kind) in _LINE_TYPES]
    if len(lines) == 1:
        return lines[0]
    names = ", ".join(str(name) for name, _ in layers)
    raise _fail(path, "one line layer or an explicit layer", f"layers {names}")


def _is_osm(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".osm", ".osm.pbf", ".pbf"))


def _from_osm(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "highway" not in frame.columns:
        raise _fail(path, "an OSM lines layer with a highway field", "no highway field")
    frame = frame[frame["highway"].notna()]
    highway = frame["highway"].astype(str)
    base = highway.str.removesuffix("_link")
    road_class = base.map(OSM_ROAD_CLASSES).fillna("dirt")
    tags = frame["other_tags"] if "other_tags" in frame.columns else pd.Series("", frame.index)
    tags = tags.fillna("").astype(str)
    oneway_tag = tags.map(lambda t: _osm_tag(t, "oneway")).str.lower()
    junction = tags.map(lambda t: _osm_tag(t, "junction"))
    reverse = oneway_tag == "-1"
    # OSM implies one-way for motorways and roundabouts unless tagged otherwise.
    implied = ((base == "motorway") | (junction == "roundabout")) & (oneway_tag == "")
    oneway = oneway_tag.isin(_TRUE - {""}) | reverse | implied
    geometry = frame.geometry.values.copy()
    if reverse.any():
        geometry[reverse.to_numpy()] = geometry[reverse.to_numpy()].reverse()
    names = frame["name"] if "name" in frame.columns else pd.Series(None, frame.index)
    return gpd.GeoDataFrame(
        {
            "road_class": road_class.to_numpy(dtype=object),
            "speed_kmh": tags.map(_osm_maxspeed).to_numpy(dtype=float),
            "oneway": oneway.to_numpy(dtype=bool),
            "name": names.astype(object).where(names.notna(), None).to_numpy(),
            "osm_highway": highway.to_numpy(dtype=object),
        },
        geometry=geometry,
        crs=frame.crs,
    )


def _osm_tag(other_tags: str, key: str) -> str:
    # GDAL packs tags it has no field for as '"key"=>"value","key2"=>"value2"'.
    match = re.search(rf'"{re.escape(key)}"=>"((?:[^"\\]|\\.)*)"', other_tags)
    return match.group(1) if match else ""


def _osm_maxspeed(other_tags: str) -> float:
    match = re.fullmatch(
        r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*", _osm_tag(other_tags, "maxspeed")
    )
    if not match:
        return float("nan")  # "none", "RU:rural" and the like: use the class speed
    value = float(match.group(1))
    return value * 1.609344 if match.group(2) == "mph" else value


def _road_classes(path: Path, frame: gpd.GeoDataFrame) -> np.ndarray:
    if "road_class" not in frame.columns:
        columns = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
        raise _fail(path, "a road_class column", f"columns {columns or '(none)'}")
    values = frame["road_class"]
    missing = np.asarray(values.isna() | (values.astype(str).str.strip() == ""))
    if missing.any():
        raise _fail(path, "a road_class in every feature", f"none in {features(missing)}")
    classes: np.ndarray = values.astype(str).to_numpy(dtype=object)  # pandas is untyped
    return classes


def _speeds(path: Path, frame: gpd.GeoDataFrame) -> np.ndarray:
    if "speed_kmh" not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame["speed_kmh"], errors="coerce")
    bad = np.asarray(values.isna() & frame["speed_kmh"].notna())
    if bad.any():
        raise _fail(path, "a number or nothing in speed_kmh", f"text in {features(bad)}")
    speeds: np.ndarray = values.to_numpy(dtype=float)
    return speeds


def _oneway(path: Path, frame: gpd.GeoDataFrame) -> np.ndarray:
    if "oneway" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    flags, bad = parse_flags(frame["oneway"])
    if bad.any():
        raise _fail(path, "yes/no, true/false or 1/0 in oneway", f"other values in {features(bad)}")
    return flags


def parse_flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Read yes/no-like values as booleans (missing: no); also return where they are not."""
    flags = np.zeros(len(values), dtype=bool)
    bad = np.zeros(len(values), dtype=bool)
    if values.dtype == bool:
        return values.to_numpy(dtype=bool), bad
    for row, value in enumerate(values):
        if isinstance(value, bool | np.bool_):
            flags[row] = bool(value)
        elif value is None or pd.isna(value):
            continue
        elif isinstance(value, int | float | np.number):
            flags[row] = value == 1
            bad[row] = value not in (0, 1)
        else:
            text = str(value).strip().lower()
            flags[row] = text in _TRUE
            bad[row] = text not in _TRUE | _FALSE
    return flags, bad


def _names(frame: gpd.GeoDataFrame) -> np.ndarray:
    if "name" not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    names = frame["name"]
    out: np.ndarray = names.astype(object).where(names.notna(), None).to_numpy()
    return out


def features(mask: np.ndarray) -> str:
    """Name the features where ``mask`` is true, 1-based, at most five."""
    rows = np.flatnonzero(mask) + 1
    shown = ", ".join(str(r) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    word = "feature" if len(rows) == 1 else "features"
    return f"{word} {shown}{more} (counting from 1)"


def _fail(path: Path, expected: str, found: str) -> NetworkError:
    return NetworkError(str(issue(path, "", f"expected {expected}, found {found}")))
