"""Atomic, byte-reproducible writers for the generated files.

Every file is written to a temporary name in its directory and moved into place
with :func:`os.replace`, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

LonLatLine = tuple[tuple[tuple[float, float], ...], str, str]

# GeoPackage stores a "last change" timestamp; pinning it makes the bytes reproducible.
_GPKG_DATE = "2026-01-01T00:00:00.000Z"


def write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def f6(x: float) -> str:
    """A coordinate with 6 decimals (about 0.1 m)."""
    return f"{x:.6f}"


def round_line(coords: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Coordinates rounded to 6 decimals, consecutive duplicates dropped."""
    out: list[tuple[float, float]] = []
    for x, y in coords:
        c = (round(float(x), 6), round(float(y), 6))
        if not out or c != out[-1]:
            out.append(c)
    return tuple(out)


def split_at_junctions(lines: Sequence[LonLatLine]) -> list[LonLatLine]:
    """Cut lines at every interior vertex another line (or the line itself) shares,
    so each output line runs from junction to junction."""
    seen: Counter[tuple[float, float]] = Counter()
    for coords, _, _ in lines:
        seen.update(coords)  # a vertex used twice anywhere is a junction
    out: list[LonLatLine] = []
    done: set[tuple[tuple[float, float], ...]] = set()
    for coords, cls, name in lines:
        start = 0
        for k in range(1, len(coords)):
            if k == len(coords) - 1 or seen[coords[k]] >= 2:
                piece = coords[start : k + 1]
                key = min(piece, piece[::-1])
                if len(piece) >= 2 and key not in done:
                    done.add(key)
                    out.append((piece, cls, name))
                start = k
    return out


@contextmanager
def _fixed_gpkg_date() -> Iterator[None]:
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def write_roads(path: Path, lines: Sequence[LonLatLine]) -> None:
    """``roads.gpkg``: layer ``roads``, EPSG:4326, road_class, name, synthetic."""
    gdf = gpd.GeoDataFrame(
        {
            "road_class": [cls for _, cls, _ in lines],
            "name": [name for _, _, name in lines],
            "synthetic": [True] * len(lines),
        },
        geometry=[LineString(c) for c, _, _ in lines],
        crs="EPSG:4326",
    )
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.gpkg")
    try:
        with _fixed_gpkg_date():
            pyogrio.write_dataframe(gdf, tmp, layer="roads", driver="GPKG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def geojson_text(features: Sequence[tuple[dict[str, object], BaseGeometry]]) -> str:
    """A FeatureCollection, one feature a line, coordinates with 6 decimals."""
    parts = []
    for props, geom in features:
        feature = {"type": "Feature", "properties": props, "geometry": _rounded(geom)}
        parts.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(parts)
    return '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"


def _rounded(geom: BaseGeometry) -> dict[str, object]:
    mapping = geom.__geo_interface__

    def walk(obj: object) -> object:
        if isinstance(obj, (list, tuple)):
            if obj and isinstance(obj[0], float):
                return [round(v, 6) for v in obj]
            return [walk(o) for o in obj]
        return obj

    return {"type": mapping["type"], "coordinates": walk(mapping["coordinates"])}
