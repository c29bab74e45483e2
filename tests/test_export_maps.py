"""Route maps: the PNG decodes and shows the routes, the SVG parses, output is stable."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from planner._errors import PlanError
from planner.export import PlanBundle, read_bundle
from planner.export.maps import PALETTE, render_map, write_maps


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


@pytest.fixture(scope="module")
def month_png(bundle: PlanBundle) -> bytes:
    return render_map(bundle)


@pytest.fixture(scope="module")
def month_svg(bundle: PlanBundle) -> bytes:
    return render_map(bundle, fmt="svg")


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def _has_colour(px: np.ndarray, hex_colour: str, at_least: int = 50) -> bool:
    rgb = np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)])
    close = np.abs(px.astype(int) - rgb).sum(axis=2) <= 30
    return int(close.sum()) >= at_least


def test_png_decodes_and_shows_routes_in_truck_colours(month_png: bytes) -> None:
    px = _pixels(month_png)
    h, w, _ = px.shape
    assert w >= 1200 and h >= 900
    packed = (px[..., 0].astype(np.int32) << 16) | (px[..., 1].astype(np.int32) << 8) | px[..., 2]
    colours = np.unique(packed)
    assert len(colours) > 50  # not blank: land, water, roads, text, routes
    assert _has_colour(px, PALETTE[0])  # the one truck's route lines


def test_svg_parses_and_carries_no_date(month_svg: bytes) -> None:
    data = month_svg
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    assert b"<dc:date>" not in data
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 20


def test_maps_are_deterministic(bundle: PlanBundle, month_png: bytes, month_svg: bytes) -> None:
    assert render_map(bundle) == month_png
    assert render_map(bundle, fmt="svg") == month_svg


def test_township_map_by_name_or_code(bundle: PlanBundle, month_png: bytes) -> None:
    point = bundle.scenario.points[0]
    by_name = render_map(bundle, township=point.township)
    assert by_name == render_map(bundle, township=point.township_code)
    assert by_name != month_png
    assert _has_colour(_pixels(by_name), PALETTE[0])


def test_bad_township_or_format_is_a_plan_error(bundle: PlanBundle) -> None:
    with pytest.raises(PlanError, match="township"):
        render_map(bundle, township="no such town")
    with pytest.raises(PlanError, match="format"):
        render_map(bundle, fmt="gif")


def test_write_maps_writes_month_and_townships(bundle: PlanBundle, tmp_path: Path) -> None:
    written = write_maps(bundle, tmp_path)
    codes = {p.township_code for p in bundle.scenario.points}
    names = {p.name for p in written}
    assert names == {"month.png", "month.svg", *(f"{c}.png" for c in codes)}
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == sorted(names)
    for path in written:
        assert path.stat().st_size > 1000


def test_labels_never_overlap_and_give_way_when_crowded() -> None:
    from matplotlib.figure import Figure

    from planner.export._map_labels import _overlap, place_labels

    fig = Figure(figsize=(4, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    # 40 names around nearly one spot (村四组 on 村五组, as on the 蒙西镇 map before).
    items = [(f"羊场村{k}组", 0.5 + 0.002 * k, 0.5 + 0.001 * (k % 3)) for k in range(40)]
    drawn = place_labels(ax, items, {})
    assert 0 < len(drawn) < len(items)
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert not _overlap(a[1:], b[1:]), (a[0], b[0])


def test_township_zones_are_read_for_the_maps(tmp_path: Path) -> None:
    from planner.scenario.geometry import read_zones

    root = Path(__file__).resolve().parents[1]
    issues: list = []
    zones = read_zones(root / "data" / "otog" / "zones.geojson", issues)
    assert not issues
    towns = [z for z in zones if z.level == "township"]
    assert len(towns) == 6 and all(z.geometry.is_valid for z in towns)
    assert "蒙西镇" in {z.name for z in towns}
    bad = tmp_path / "zones.geojson"
    bad.write_text('{"type":"FeatureCollection","features":[]}', encoding="utf-8")
    assert read_zones(bad, issues) == [] and issues
