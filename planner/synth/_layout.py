"""Where things are: township and gacha zones, collection points, households.

Township zones are Voronoi cells around hand-placed anchors, clipped to the
outline; gacha zones are Voronoi cells of k-means centres inside their township
(denser towards the township's farming focus, so farming villages get smaller
zones there); points are sampled inside gacha zones — clustered near the focus
for farming villages, spread far apart for herding gacha.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from planner.synth._geo import (
    FloatArray,
    Projection,
    apportion,
    focus_geometry,
    inner,
    kmeans,
    parse_outline,
    region_projection,
    sample_in,
    voronoi_zones,
)
from planner.synth._params import FARMING, GachaSpec, RegionParams, TownshipSpec

# Assumptions steering the layout (see data/otog/README.md).
GACHA_WEIGHT = {FARMING: 1.6, "herding": 1.0}  # relative rural population of a gacha
HOUSEHOLDS_PER_POINT = {FARMING: 75.0, "herding": 35.0}  # before scaling to the total
MAX_HOUSEHOLDS_PER_POINT = 140  # keeps one point's load well inside a truck box
MIN_HOUSEHOLDS_PER_POINT = 3
FOCUS_SCALE_M = 12_000.0  # farming villages thin out over this distance from the focus
OUTLINE_MARGIN_M = 1_000.0
ZONE_MARGIN_M = 400.0


@dataclass(frozen=True)
class PlacedPoint:
    """A collection point as generated (metres; converted to lon/lat on writing)."""

    id: str
    name: str
    gacha: GachaSpec
    township: TownshipSpec
    x: float
    y: float
    households: int
    people: int
    visits: str
    hub: bool


@dataclass(frozen=True)
class Layout:
    """Zones, points and households of a region (geometry in metres)."""

    proj: Projection
    outline_m: Polygon
    township_zones: dict[str, Polygon]
    gacha_zones: dict[str, Polygon]
    points: tuple[PlacedPoint, ...]
    household_people: tuple[tuple[str, int], ...]  # (point id, people) per household


def stage_rng(seed: int, stage: int) -> np.random.Generator:
    """An independent random stream per generation stage (changing one stage's draws
    leaves the others unchanged)."""
    return np.random.default_rng([seed, stage])


def build_layout(params: RegionParams) -> Layout:
    outline = parse_outline(params.boundary_geojson)
    proj = region_projection(outline)
    outline_m = proj.geom_to_m(outline)
    if not isinstance(outline_m, Polygon):
        raise ValueError("Expected the projected outline to be a polygon.")
    seeds, labels = [], []
    for t in params.townships:
        for ll in (t.seat, *t.anchors):
            seeds.append(proj.point_m(ll))
            labels.append(t.code)
    tzones = voronoi_zones(outline_m, np.array(seeds), labels)
    focus = {
        t.code: focus_geometry([proj.point_m(ll) for ll in (t.focus or (t.seat,))])
        for t in params.townships
    }
    gzones: dict[str, Polygon] = {}
    rng = stage_rng(params.seed, 1)
    for t in params.townships:
        mine = [g for g in params.gachas if g.township_code == t.code]
        gzones.update(_gacha_zones(tzones[t.code], mine, focus[t.code], rng))
    hh_point, n_point = _allocate(params, stage_rng(params.seed, 2))
    points, hh_people = _place(
        params, outline_m, gzones, focus, hh_point, n_point, stage_rng(params.seed, 3)
    )
    return Layout(proj, outline_m, tzones, gzones, points, hh_people)


def _focus_weight(focus: BaseGeometry, scale: float) -> Callable[[FloatArray], FloatArray]:
    """Sampling density falling from 1 at the focus to 0.25 far from it."""

    def weight(xy: FloatArray) -> FloatArray:
        d = shapely.distance(shapely.points(xy), focus)
        return np.asarray(0.25 + 0.75 * np.exp(-d / scale), float)

    return weight


def _gacha_zones(
    zone: Polygon, gachas: list[GachaSpec], focus: BaseGeometry, rng: np.random.Generator
) -> dict[str, Polygon]:
    if len(gachas) == 1:
        return {gachas[0].code: zone}
    samples = sample_in(zone, 150 * len(gachas), rng, _focus_weight(focus, 2 * FOCUS_SCALE_M))
    centres = kmeans(samples, len(gachas), rng)
    near_first = np.argsort(shapely.distance(shapely.points(centres), focus), kind="stable")
    # Farming villages take the centres nearest the focus, herding gacha the rest.
    ordered = sorted(gachas, key=lambda g: (g.kind != FARMING, g.code))
    labels = [""] * len(gachas)
    for g, c in zip(ordered, near_first, strict=True):
        labels[int(c)] = g.code
    return voronoi_zones(zone, centres, labels)


def _allocate(params: RegionParams, rng: np.random.Generator) -> tuple[list[list[int]], list[int]]:
    """Households of every point, gacha by gacha (in ``params.gachas`` order)."""
    gacha_people = np.zeros(len(params.gachas))
    for t in params.townships:
        idx = [i for i, g in enumerate(params.gachas) if g.township_code == t.code]
        w = np.array([GACHA_WEIGHT[params.gachas[i].kind] for i in idx])
        w *= rng.lognormal(0.0, 0.35, len(idx))
        gacha_people[idx] = (t.people or 1) * w / w.sum()
    hh = apportion(params.households, gacha_people, minimum=2 * MIN_HOUSEHOLDS_PER_POINT)
    per_point = [HOUSEHOLDS_PER_POINT[g.kind] for g in params.gachas]
    n_point = apportion(params.points, np.array(hh) / np.array(per_point), minimum=2)
    # A gacha cannot have more points than its households allow.
    for i in range(len(hh)):
        while hh[i] < MIN_HOUSEHOLDS_PER_POINT * n_point[i]:
            j = int(np.argmax(np.array(hh) - MIN_HOUSEHOLDS_PER_POINT * np.array(n_point)))
            hh[i] += 1
            hh[j] -= 1
    out = []
    for h, n in zip(hh, n_point, strict=True):
        cap = max(MAX_HOUSEHOLDS_PER_POINT, -(-h // n) + 10)
        out.append(apportion(h, rng.dirichlet(np.full(n, 4.0)), MIN_HOUSEHOLDS_PER_POINT, cap))
    return out, n_point


def _place(
    params: RegionParams,
    outline_m: Polygon,
    gzones: dict[str, Polygon],
    focus: dict[str, BaseGeometry],
    hh_point: list[list[int]],
    n_point: list[int],
    rng: np.random.Generator,
) -> tuple[tuple[PlacedPoint, ...], tuple[tuple[str, int], ...]]:
    townships = {t.code: t for t in params.townships}
    inside = inner(outline_m, OUTLINE_MARGIN_M)
    raw: list[tuple[GachaSpec, FloatArray, list[int]]] = []
    for g, hh, n in zip(params.gachas, hh_point, n_point, strict=True):
        region = inner(gzones[g.code].intersection(inside), ZONE_MARGIN_M)
        if g.kind == FARMING:
            xy = _clustered(region, n, focus[g.township_code], rng)
        else:
            xy = _spread(region, n, rng)
        # The biggest natural village is the gacha's centre (its hub).
        centre = np.array(region.representative_point().coords[0])
        near = np.argsort(np.hypot(*(xy - centre).T), kind="stable")
        hub = int(near[0])
        hh_sorted = sorted(hh, reverse=True)
        order = [hub] + [int(i) for i in rng.permutation([i for i in range(n) if i != hub])]
        pos = xy[order]
        # Hub first, then by distance from it: ids read outwards from the centre.
        by_dist = np.argsort(np.hypot(*(pos - pos[0]).T), kind="stable")
        raw.append((g, pos[by_dist], [hh_sorted[int(k)] for k in by_dist]))
    total_hh = sum(sum(h) for _, _, h in raw)
    sizes = _household_sizes(total_hh, params.people, rng)
    points: list[PlacedPoint] = []
    hh_people: list[tuple[str, int]] = []
    k = 0
    for g, pos, hhs in raw:
        t = townships[g.township_code]
        for j, ((x, y), h) in enumerate(zip(pos, hhs, strict=True)):
            pid = f"P{len(points) + 1:03d}"
            people = sizes[k : k + h]
            k += h
            hh_people.extend((pid, int(p)) for p in people)
            points.append(
                PlacedPoint(
                    id=pid,
                    name=_point_name(g, j + 1, params.chinese_names),
                    gacha=g,
                    township=t,
                    x=float(x),
                    y=float(y),
                    households=h,
                    people=int(people.sum()),
                    visits=_visits(g, t, h),
                    hub=j == 0,
                )
            )
    return tuple(points), tuple(hh_people)


def _clustered(
    region: BaseGeometry, n: int, focus: BaseGeometry, rng: np.random.Generator
) -> FloatArray:
    """Farming villages: near the focus, at least ~1 km apart."""
    cand = sample_in(region, 40 * n + 40, rng, _focus_weight(focus, FOCUS_SCALE_M))
    return _pick_apart(cand, n, 1_200.0)


def _spread(region: BaseGeometry, n: int, rng: np.random.Generator) -> FloatArray:
    """Herding groups: best-candidate sampling keeps them far apart."""
    chosen: list[FloatArray] = []
    for _ in range(n):
        cand = sample_in(region, 30, rng)
        if not chosen:
            chosen.append(cand[0])
            continue
        d = np.min(np.hypot(*(cand[:, None, :] - np.array(chosen)[None]).transpose(2, 0, 1)), 1)
        chosen.append(cand[int(np.argmax(d))])
    return np.array(chosen)


def _pick_apart(cand: FloatArray, n: int, sep: float) -> FloatArray:
    while True:
        chosen = [cand[0]]
        for c in cand[1:]:
            if len(chosen) == n:
                break
            if np.min(np.hypot(*(np.array(chosen) - c).T)) >= sep:
                chosen.append(c)
        if len(chosen) == n:
            return np.array(chosen)
        sep /= 2  # a small zone: accept villages closer together


def _household_sizes(n: int, people: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` household sizes (1-9 people) summing exactly to ``people``."""
    mean_extra = max(people / n - 1.0, 0.0)
    sizes = np.clip(1 + rng.poisson(mean_extra, n), 1, 9)
    diff = people - int(sizes.sum())
    while diff != 0:
        pool = np.flatnonzero(sizes < 9) if diff > 0 else np.flatnonzero(sizes > 1)
        pick = rng.choice(pool, min(abs(diff), len(pool)), replace=False)
        sizes[pick] += 1 if diff > 0 else -1
        diff = people - int(sizes.sum())
    return sizes


_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(k: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    if not 0 < k < 100:
        raise ValueError(f"Expected 1..99, got {k}.")
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def _point_name(g: GachaSpec, k: int, chinese: bool) -> str:
    if not chinese:
        return f"{g.name} group {k}"
    # Farming villages have 村民小组 (组), herding gacha 牧业社 (社).
    return f"{g.name}{chinese_number(k)}{'组' if g.kind == FARMING else '社'}"


def _visits(g: GachaSpec, t: TownshipSpec, households: int) -> str:
    """Explicit visits where the township rule does not fit; blank = scenario rule."""
    if t.visits == 3 and g.kind != FARMING:
        return "2"  # sparse herding gacha inside a 3-visit farming township
    if t.visits is None and g.kind == FARMING and households >= 100:
        return "3"  # big farming villages fill a truck box in 12 days
    return ""
