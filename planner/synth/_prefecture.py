"""A synthetic prefecture: several banners, each a synthetic region of its own.

For ``planner run-many`` where no real prefecture's data exist (Ordos has 9
county-level divisions, Inner Mongolia about 100). Each banner is made by
:func:`~planner.synth.synthetic_params` with its own size, drawn from the seed
around the ``points`` asked for, and moved onto a grid of squares so that the
banners lie side by side. Everything is synthetic and labelled so.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from planner.synth._generate import generate_region
from planner.synth._params import LonLat, RegionParams, RegionSummary
from planner.synth._regions import synthetic_params
from planner.synth._write import write_text

KM_PER_DEG_LAT = 110.57


@dataclass(frozen=True)
class PrefectureSummary:
    """What :func:`generate_prefecture` wrote: one summary per banner and the list file."""

    out_dir: Path
    banners: tuple[RegionSummary, ...]
    list_file: Path

    def __str__(self) -> str:
        pts = sum(b.points for b in self.banners)
        hh = sum(b.households for b in self.banners)
        trucks = sum(b.trucks for b in self.banners)
        return (
            f"{len(self.banners)} banners, {pts} points, {hh} households, {trucks} trucks; "
            f"scenarios listed in {self.list_file}"
        )


def banner_params(index: int, *, points: int, spread: float, seed: int) -> RegionParams:
    """Banner ``index``'s parameters (1-based), from the prefecture's seed.

    Its points are ``points`` times a factor drawn in ``1 ± spread``; townships one
    per 25 points (1–6), 30–60 households a point, 40–120 km² a point, one truck per
    12 points (at least one per township).
    """
    rng = np.random.default_rng([seed, 17, index])
    p = max(6, round(points * rng.uniform(1 - spread, 1 + spread)))
    townships = int(min(6, max(1, round(p / 25))))
    params = synthetic_params(
        points=p,
        households=round(p * rng.uniform(30, 60)),
        townships=townships,
        area_km2=round(p * rng.uniform(40, 120), -1),
        trucks=max(townships, round(p / 12)),
        seed=seed * 1000 + index,
    )
    name = f"banner-{index:02d}"
    return dataclasses.replace(
        params,
        name=name,
        description=f"Synthetic banner {index} of a synthetic prefecture: {p} points, seed {seed}",
        recipe=f"planner synth prefecture (banner {index}); {params.recipe}",
    )


def _shifted(params: RegionParams, dlon: float, dlat: float) -> RegionParams:
    """The same region moved by (dlon, dlat) degrees: outline, seats, anchors, focus."""

    def move(p: LonLat) -> LonLat:
        return (round(p[0] + dlon, 6), round(p[1] + dlat, 6))

    doc = json.loads(params.boundary_geojson)
    for feature in doc["features"]:
        geom = feature["geometry"]
        geom["coordinates"] = [
            [list(move((x, y))) for x, y in ring] for ring in geom["coordinates"]
        ]
    townships = tuple(
        dataclasses.replace(
            t,
            seat=move(t.seat),
            anchors=tuple(map(move, t.anchors)),
            focus=tuple(map(move, t.focus)),
        )
        for t in params.townships
    )
    return dataclasses.replace(
        params, boundary_geojson=json.dumps(doc, ensure_ascii=False), townships=townships
    )


def generate_prefecture(
    out_dir: Path, *, banners: int = 9, points: int = 60, spread: float = 0.5, seed: int = 2026
) -> PrefectureSummary:
    """Write ``banners`` synthetic banners to ``out_dir/banner-NN/`` (each with its
    ``scenario.toml``) and ``out_dir/regions.txt`` listing them for ``planner run-many``.

    Raises
    ------
    ValueError
        When a parameter is out of range.
    """
    if not 1 <= banners <= 200:
        raise ValueError(f"expected 1 to 200 banners, found {banners}")
    if points < 6:
        raise ValueError(f"expected points >= 6 per banner, found {points}")
    if not 0 <= spread < 1:
        raise ValueError(f"expected a spread in 0..1 (exclusive), found {spread}")
    out_dir = Path(out_dir)
    params = [
        banner_params(i, points=points, spread=spread, seed=seed) for i in range(1, banners + 1)
    ]
    cols = math.ceil(math.sqrt(banners))
    side_km = 1.15 * math.sqrt(max(_area_km2(p) for p in params))
    written = []
    for i, p in enumerate(params):
        row, col = divmod(i, cols)
        lat = _centre_lat(p)
        dlon = (col - (cols - 1) / 2) * side_km / (111.32 * math.cos(math.radians(lat)))
        dlat = -row * side_km / KM_PER_DEG_LAT
        written.append(generate_region(_shifted(p, dlon, dlat), out_dir / p.name))
    listing = "".join(f"{s.scenario_path.relative_to(out_dir).as_posix()}\n" for s in written)
    list_file = out_dir / "regions.txt"
    write_text(
        list_file,
        "# Synthetic prefecture (planner synth prefecture): one scenario a line\n" + listing,
    )
    return PrefectureSummary(out_dir, tuple(written), list_file)


def _ring(params: RegionParams) -> list[list[float]]:
    ring: list[list[float]] = json.loads(params.boundary_geojson)["features"][0]["geometry"][
        "coordinates"
    ][0]
    return ring


def _centre_lat(params: RegionParams) -> float:
    ys = [y for _, y in _ring(params)]
    return (min(ys) + max(ys)) / 2


def _area_km2(params: RegionParams) -> float:
    ring = _ring(params)
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    kx = 111.32 * math.cos(math.radians(_centre_lat(params)))
    return (max(xs) - min(xs)) * kx * (max(ys) - min(ys)) * KM_PER_DEG_LAT
