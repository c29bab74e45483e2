"""Region geometry: the boundary and the plausibility of place coordinates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from planner._errors import Issue, issue

if TYPE_CHECKING:
    from planner.scenario.model import Zone


def read_boundary(path: Path, issues: list[Issue]) -> BaseGeometry | None:
    """The union of the polygons in ``path`` (GeoJSON, GeoPackage, Shapefile), in WGS84."""
    if not path.exists():
        issues.append(issue(path, "", "boundary file not found"))
        return None
    try:
        import geopandas as gpd

        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        issues.append(issue(path, "", f"expected a readable GeoJSON/GeoPackage/Shapefile: {exc}"))
        return None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    polys = [g for g in gdf.geometry if g is not None and g.geom_type.endswith("Polygon")]
    if not polys:
        issues.append(issue(path, "", "expected polygon features, found none"))
        return None
    return unary_union(polys)


def read_zones(path: Path, issues: list[Issue]) -> list[Zone]:
    """Township and gacha polygons of ``path``, in WGS84, in file order.

    Each feature needs ``level`` (``township`` or ``gacha``) and ``name``; ``code`` is
    optional. Features of other levels are skipped; a bad row is an error naming it.
    """
    from planner.scenario.model import Zone

    if not path.exists():
        issues.append(issue(path, "", "zones file not found"))
        return []
    try:
        import geopandas as gpd

        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        issues.append(issue(path, "", f"expected a readable GeoJSON/GeoPackage/Shapefile: {exc}"))
        return []
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    missing = [c for c in ("level", "name") if c not in gdf.columns]
    if missing:
        issues.append(issue(path, "", f"expected the properties level and name, missing {missing}"))
        return []
    out = []
    for k, row in enumerate(gdf.itertuples(index=False), start=1):
        level = str(row.level)
        if level not in ("township", "gacha"):
            continue
        geom = row.geometry
        if geom is None or not geom.geom_type.endswith("Polygon"):
            issues.append(issue(path, f"feature {k}", "expected a polygon"))
            continue
        code = getattr(row, "code", "")
        code = "" if code is None or code != code else str(code)  # NaN: no code
        out.append(Zone(level=level, code=code, name=str(row.name), geometry=geom))
    return out


def _projector(geom: BaseGeometry) -> Any:
    from pyproj import CRS, Transformer

    c = geom.centroid
    zone = int((c.x + 180) // 6) + 1
    epsg = (32600 if c.y >= 0 else 32700) + zone
    t = Transformer.from_crs("EPSG:4326", CRS.from_epsg(epsg), always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return project


def transform(project: Any, geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, project)


def check_positions(
    tables: Sequence[tuple[Path | None, Sequence[Any]]],
    boundary: BaseGeometry | None,
    tolerance_km: float,
    issues: list[Issue],
) -> None:
    """Places must lie in the region; swapped lon/lat get their own message."""
    proj = _projector(boundary) if boundary is not None else None
    region = transform(proj, boundary) if boundary is not None else None
    for file, rows in tables:
        for rowno, row in enumerate(rows, start=2):
            lon, lat = row.lon, row.lat
            where = f"row {rowno} (id {row.id})"
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                hint = (
                    " (they look swapped: lat is the one between -90 and 90)"
                    if -90 <= lon <= 90 and -180 <= lat <= 180
                    else ""
                )
                issues.append(
                    issue(
                        file,
                        where,
                        "expected lon in -180..180 and lat in -90..90, "
                        f"found lon={lon}, lat={lat}{hint}",
                    )
                )
                continue
            if region is None:
                continue
            here = transform(proj, Point(lon, lat))
            off_km = region.distance(here) / 1000.0
            if off_km <= tolerance_km:
                continue
            swapped_ok = -90 <= lon <= 90 and region.distance(transform(proj, Point(lat, lon))) < 1
            if swapped_ok:
                issues.append(
                    issue(
                        file,
                        where,
                        f"lon/lat look swapped: found lon={lon}, lat={lat}, but "
                        f"lon={lat}, lat={lon} lies inside the region",
                    )
                )
            else:
                issues.append(
                    issue(
                        file,
                        where,
                        f"expected a position inside the region boundary, found "
                        f"lon={lon}, lat={lat}, {off_km:,.0f} km outside it",
                    )
                )
