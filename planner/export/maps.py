"""Maps of the month's routes: the banner, and each township zoomed in.

Drawn with matplotlib's Agg canvas (no pyplot state, no map tiles): the roads
faintly, the region outline, each truck's road-following routes in its own
colour, stations, depots, facilities and the collection points (served, partly
served, not served), with a graticule in degrees, a scale bar and a north arrow.
PNG and SVG output is byte-identical for the same plan: the SVG's id salt and
the files' metadata are fixed.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export._map_labels import LABEL_STYLE, place_labels
from planner.export.bundle import PlanBundle
from planner.export.gis import all_leg_lines, point_features

# Distinct truck colours: Tableau's ten, then darker ColorBrewer hues.
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#08306b",
    "#e6ab02",
    "#00a676",
    "#c51b7d",
    "#6a3d9a",
    "#b15928",
    "#1b9e77",
    "#66a61e",
    "#a6761d",
    "#e7298a",
)
LAND = "#f6f4ee"
EDGE = "#5b5b5b"
ROAD = "#c9c4b8"
FORMATS = ("png", "svg")
LABEL_MAX = 90  # township maps name their points up to this many
OFFSET_PT = 1.4  # side-by-side spacing of trucks' routes on a shared road, in points


@dataclass(frozen=True)
class _View:
    """What one map shows: its extent, titles and which runs and points it features."""

    title: str
    subtitle: str
    west: float
    east: float
    south: float
    north: float
    run_ids: frozenset[str]
    focus_points: frozenset[str]
    zoomed: bool


def _township_of(bundle: PlanBundle, township: str) -> tuple[str, str, list[str]]:
    """(name, code, point ids) of a township given by name or code."""
    pts = [p for p in bundle.scenario.points if township in (p.township, p.township_code)]
    if not pts:
        known = sorted({p.township for p in bundle.scenario.points})
        raise PlanError(
            f"township: expected one of {', '.join(known)} (name or code), found {township!r}"
        )
    return pts[0].township, pts[0].township_code, [p.id for p in pts]


def _extent(lons: list[float], lats: list[float], pad: float, min_km: float) -> tuple[float, ...]:
    lat0 = (min(lats) + max(lats)) / 2.0
    kx = 111.32 * math.cos(math.radians(lat0))
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    dx = max((east - west) * pad, min_km / kx)
    dy = max((north - south) * pad, min_km / 111.32)
    return west - dx, east + dx, south - dy, north + dy


def _view(bundle: PlanBundle, township: str | None) -> _View:
    plan = bundle.plan
    period = f"{plan.period.start.isoformat()} – {plan.period.end.isoformat()}"
    if township is None:
        lons = [float(p.lon) for p in plan.places]
        lats = [float(p.lat) for p in plan.places]
        boundary = bundle.scenario.boundary
        if boundary is not None and not boundary.is_empty:
            x0, y0, x1, y1 = boundary.bounds
            lons += [x0, x1]
            lats += [y0, y1]
        w, e, s, n = _extent(lons, lats, 0.03, 1.0)
        runs = bundle.runs
        visits = sum(len(r.collects) for r in runs)
        km = sum(float(r.distance_km) for r in runs)
        return _View(
            title=f"{plan.scenario} 收运路线 collection routes  {period}",
            subtitle=(
                f"{len(runs)} 车次 runs · {visits} 次收运 visits · {km:,.0f} km · "
                f"{len(plan.unserved)} 次未收运 visits not made"
            ),
            west=w,
            east=e,
            south=s,
            north=n,
            run_ids=frozenset(r.id for r in bundle.runs),
            focus_points=frozenset(bundle.points),
            zoomed=False,
        )
    name, code, ids = _township_of(bundle, township)
    mine = set(ids)
    runs = tuple(r for r in bundle.runs if any(st.place in mine for st in r.steps))
    visits = sum(1 for r in runs for st in r.collects if st.place in mine)
    missed = sum(1 for u in plan.unserved if u.point in mine)
    places = bundle.places
    lons = [float(places[i].lon) for i in ids if i in places]
    lats = [float(places[i].lat) for i in ids if i in places]
    w, e, s, n = _extent(lons, lats, 0.06, 3.0)
    label = f"{name} {code}" if code else name
    return _View(
        title=f"{label} 收运路线 collection routes  {period}",
        subtitle=(
            f"{len(ids)} 收运点 points · {len(runs)} 车次 runs · {visits} 次收运 visits · "
            f"{missed} 次未收运 visits not made"
        ),
        west=w,
        east=e,
        south=s,
        north=n,
        run_ids=frozenset(r.id for r in runs),
        focus_points=frozenset(ids),
        zoomed=True,
    )


def _colours(bundle: PlanBundle) -> dict[str, str]:
    ids = [v.id for v in bundle.scenario.fleet]
    ids += sorted({r.vehicle for r in bundle.runs} - set(ids))
    return {vid: PALETTE[k % len(PALETTE)] for k, vid in enumerate(ids)}


def _nice_km(span_km: float) -> float:
    """A round scale-bar length near a fifth of the map's width."""
    target = span_km / 5.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if step >= target * 0.7:
            return float(step)
    return 1000.0


def _scale_bar(fig: Any, ax: Any, view: _View, lat0: float, x_in: float, y_in: float) -> None:
    """A scale bar and north arrow in the legend column, at ``(x_in, y_in)`` inches.

    Drawn beside the map rather than on it so that it never hides a point.
    """
    from matplotlib.patches import FancyArrow, Rectangle

    ax.apply_aspect()  # the axes box the map really gets, to measure inches per degree
    box = ax.get_position()
    inch_per_deg = box.width * fig.get_figwidth() / (view.east - view.west)
    kx = 111.32 * math.cos(math.radians(lat0))
    km = _nice_km((view.east - view.west) * kx)
    while km / kx * inch_per_deg > 1.9 and km > 1:  # keep it inside the legend column
        km = max(k for k in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if k < km)
    width = km / kx * inch_per_deg
    inches = fig.dpi_scale_trans
    fig.add_artist(
        FancyArrow(
            x_in + 0.08,
            y_in,
            0,
            0.3,
            width=0.02,
            head_width=0.1,
            head_length=0.12,
            length_includes_head=True,
            transform=inches,
            color="#333333",
        )
    )
    fig.text(x_in + 0.08, y_in + 0.34, "N", ha="center", va="bottom", fontsize=9, transform=inches)
    x_in += 0.45
    h = 0.07
    for k in range(4):
        fig.add_artist(
            Rectangle(
                (x_in + k * width / 4, y_in),
                width / 4,
                h,
                transform=inches,
                facecolor="#333333" if k % 2 == 0 else "white",
                edgecolor="#333333",
                linewidth=0.6,
            )
        )
    for k, frac in enumerate((0.0, 0.5, 1.0)):
        fig.text(
            x_in + width * frac,
            y_in + h + 0.05,
            f"{km * frac:g}" + (" km" if k == 2 else ""),
            ha="center",
            va="bottom",
            fontsize=7,
            transform=inches,
        )


def _degrees(value: float, pos: str, neg: str) -> str:
    number = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return f"{number}°{pos if value >= 0 else neg}"


@dataclass(frozen=True)
class _Frame:
    """Where the map sits in the figure, in inches."""

    left: float
    bottom: float
    map_w: float
    map_h: float
    fig_w: float
    fig_h: float


def _frame(view: _View) -> tuple[_Frame, float]:
    """The figure's layout for ``view`` and the map's aspect (cos-latitude scaling)."""
    lat0 = (view.south + view.north) / 2.0
    aspect = 1.0 / math.cos(math.radians(lat0))
    ratio = (view.north - view.south) * aspect / (view.east - view.west)  # height / width
    # The map's longer side is 9.5 in; margins and the legend column are fixed in inches.
    map_w, map_h = (9.5, 9.5 * ratio) if ratio <= 1 else (9.5 / ratio, 9.5)
    map_w, map_h = max(map_w, 5.0), max(map_h, 4.0)
    left, bottom, top, legend_w = 0.75, 0.55, 0.95, 3.0
    frame = _Frame(left, bottom, map_w, map_h, left + map_w + legend_w, bottom + map_h + top)
    return frame, aspect


def _draw(bundle: PlanBundle, view: _View, fmt: str) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from planner.export.fonts import register_with_matplotlib

    font = register_with_matplotlib()
    fr, aspect = _frame(view)
    with matplotlib.rc_context(
        {
            "svg.hashsalt": "planner-map",
            "font.family": [font, "DejaVu Sans"],
            "axes.unicode_minus": False,
        }
    ):
        fig = Figure(figsize=(fr.fig_w, fr.fig_h), dpi=150)
        FigureCanvasAgg(fig)
        ax = fig.add_axes(
            (fr.left / fr.fig_w, fr.bottom / fr.fig_h, fr.map_w / fr.fig_w, fr.map_h / fr.fig_h)
        )
        ax.set_facecolor("#e9eef2")
        ax.set_xlim(view.west, view.east)
        ax.set_ylim(view.south, view.north)
        ax.set_aspect(aspect)
        _background(ax, bundle, view)
        handles = _routes(fig, ax, bundle, view)
        sym = _places(ax, bundle, view)
        _axes_style(ax)
        _titles_and_legends(fig, ax, bundle, view, fr, (handles, sym))
        buf = io.BytesIO()
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "planner"})
        else:
            fig.savefig(buf, format="png", metadata={"Software": "planner"})
    return buf.getvalue()


def _routes(fig: Any, ax: Any, bundle: PlanBundle, view: _View) -> list[Any]:
    """Each truck's road-following routes in its colour; returns the legend handles."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.transforms import offset_copy

    colours = _colours(bundle)
    lines = all_leg_lines(bundle)
    by_vehicle: dict[str, list[Any]] = defaultdict(list)
    for run in bundle.runs:
        if run.id in view.run_ids:
            by_vehicle[run.vehicle].extend(_xy(line) for line in lines[run.id] if line.length > 0)
    fleet = {v.id: v for v in bundle.scenario.fleet}
    handles = []
    drawn = [vid for vid in colours if by_vehicle.get(vid)]
    for k, vid in enumerate(drawn):
        # Trucks sharing a road are drawn side by side: each truck's lines are
        # shifted by its own small offset (points, so the same at every zoom).
        shift = (k - (len(drawn) - 1) / 2.0) * OFFSET_PT
        ax.add_collection(
            LineCollection(
                by_vehicle[vid],
                colors=colours[vid],
                linewidths=1.3,
                alpha=0.9,
                capstyle="round",
                joinstyle="round",
                zorder=5,
                transform=offset_copy(ax.transData, fig=fig, x=shift, y=-shift, units="points"),
            )
        )
        runs_n = sum(1 for r in bundle.runs if r.vehicle == vid and r.id in view.run_ids)
        name = fleet[vid].name if vid in fleet else ""
        label = f"{vid} {name} ({runs_n})".replace("  ", " ")
        handles.append(Line2D([], [], color=colours[vid], lw=2.4, label=label))
    return handles


def _axes_style(ax: Any) -> None:
    """Graticule in degrees, small grey ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _degrees(v, "E", "W")))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _degrees(v, "N", "S")))
    ax.tick_params(labelsize=7, colors="#444444")
    ax.grid(True, color="#9aa5ad", lw=0.4, ls=(0, (4, 4)), alpha=0.6)
    ax.set_axisbelow(False)
    for side in ax.spines.values():
        side.set_color("#777777")


def _titles_and_legends(
    fig: Any,
    ax: Any,
    bundle: PlanBundle,
    view: _View,
    fr: _Frame,
    handles: tuple[list[Any], list[Any]],
) -> None:
    """Title, subtitle, the trucks' and the symbols' legends, scale bar, synthetic note."""
    trucks_h, symbols_h = handles
    x_text = fr.left / fr.fig_w
    fig.text(x_text, 1 - 0.38 / fr.fig_h, view.title, fontsize=13, va="baseline")
    fig.text(
        x_text, 1 - 0.66 / fr.fig_h, view.subtitle, fontsize=8.5, va="baseline", color="#444444"
    )
    legend_x = (fr.left + fr.map_w + 0.25) / fr.fig_w
    top_y = (fr.bottom + fr.map_h) / fr.fig_h
    trucks = fig.legend(
        handles=trucks_h,
        loc="upper left",
        bbox_to_anchor=(legend_x, top_y),
        title="车辆 truck (车次 runs)",
        fontsize=8,
        title_fontsize=9,
        frameon=False,
        alignment="left",
    )
    fig.add_artist(trucks)
    lat0 = (view.south + view.north) / 2.0
    _scale_bar(fig, ax, view, lat0, fr.left + fr.map_w + 0.35, fr.bottom)
    fig.legend(
        handles=symbols_h,
        loc="lower left",
        bbox_to_anchor=(legend_x, (fr.bottom + 0.6) / fr.fig_h),
        title="图例 legend",
        fontsize=8,
        title_fontsize=9,
        frameon=False,
        alignment="left",
    )
    if any(p.synthetic for p in bundle.scenario.points):
        fig.text(
            x_text,
            0.12 / fr.fig_h,
            "位置与道路为合成数据 positions and roads are synthetic",
            fontsize=7,
            color="#8a5a00",
        )


def _lonlat(bundle: PlanBundle, rec: Any) -> tuple[float, float]:
    place = bundle.places.get(rec.id)
    return (float(place.lon), float(place.lat)) if place else (float(rec.lon), float(rec.lat))


def _xy(line: shapely.LineString) -> Any:
    return shapely.get_coordinates(line)


def _background(ax: Any, bundle: PlanBundle, view: _View) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    boundary = bundle.scenario.boundary
    if boundary is not None and not boundary.is_empty:
        polys = list(getattr(boundary, "geoms", [boundary]))
        verts: list[tuple[float, float]] = []
        codes: list[Any] = []
        for poly in polys:
            if not isinstance(poly, shapely.Polygon):
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = [(x, y) for x, y, *_ in ring.coords]
                verts += pts
                codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(pts) - 2) + [MplPath.CLOSEPOLY]
        if verts:
            ax.add_patch(
                PathPatch(MplPath(verts, codes), facecolor=LAND, edgecolor="none", zorder=1)
            )
            ax.add_patch(
                PathPatch(
                    MplPath(verts, codes), facecolor="none", edgecolor=EDGE, linewidth=1.3, zorder=4
                )
            )
    _zones(ax, bundle, view)
    roads = bundle.scenario.roads
    if roads is not None and len(roads):
        box = shapely.box(view.west, view.south, view.east, view.north)
        geoms = [g for g in roads.geometry if g is not None and g.intersects(box)]
        segs = []
        for g in geoms:
            for part in getattr(g, "geoms", [g]):
                segs.append(_xy(part))
        ax.add_collection(LineCollection(segs, colors=ROAD, linewidths=0.5, zorder=2))


def _zones(ax: Any, bundle: PlanBundle, view: _View) -> None:
    """Township outlines (and, zoomed in, the gachas') from the scenario's ``zones``."""
    from matplotlib.collections import LineCollection

    box = shapely.box(view.west, view.south, view.east, view.north)
    for level, width, style, colour in (
        ("gacha", 0.5, (0, (1, 2)), "#9a8f7a"),
        ("township", 1.0, (0, (5, 3)), "#6b5f4b"),
    ):
        if level == "gacha" and not view.zoomed:
            continue
        segs = []
        for z in bundle.scenario.zones:
            if z.level != level or not z.geometry.intersects(box):
                continue
            for poly in getattr(z.geometry, "geoms", [z.geometry]):
                segs += [_xy(ring) for ring in (poly.exterior, *poly.interiors)]
        if segs:
            ax.add_collection(
                LineCollection(segs, colors=colour, linewidths=width, linestyles=[style], zorder=4)
            )
    if not view.zoomed:
        for z in bundle.scenario.zones:
            if z.level == "township":
                at = z.geometry.representative_point()
                ax.text(
                    at.x,
                    at.y,
                    z.name,
                    fontsize=10,
                    color="#6b5f4b",
                    alpha=0.85,
                    ha="center",
                    va="center",
                    zorder=3,
                )


def _places(ax: Any, bundle: PlanBundle, view: _View) -> list[Any]:
    """Draw points, stations, depots and facilities; return legend handles."""
    from matplotlib.lines import Line2D

    points, _ = point_features(bundle)
    label = view.zoomed and len(view.focus_points) <= LABEL_MAX
    groups: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("full", "partial", "none", "other")
    }
    names: list[tuple[str, float, float]] = []
    for props, geom in points:
        key = props["status"] if props["id"] in view.focus_points else "other"
        groups[key][0].append(geom.x)
        groups[key][1].append(geom.y)
        if label and props["id"] in view.focus_points:
            names.append((props["name"], geom.x, geom.y))
    size = 26 if view.zoomed else 14
    style = {
        "other": {"marker": "o", "s": size * 0.6, "c": "#bdbdbd", "edgecolors": "none"},
        "full": {
            "marker": "o",
            "s": size,
            "c": "white",
            "edgecolors": "#222222",
            "linewidths": 0.7,
        },
        "partial": {
            "marker": "o",
            "s": size * 1.8,
            "c": "#ffb000",
            "edgecolors": "#7a4d00",
            "linewidths": 0.8,
        },
        "none": {
            "marker": "X",
            "s": size * 3,
            "c": "#e00000",
            "edgecolors": "white",
            "linewidths": 0.6,
        },
    }
    for key in ("other", "full", "partial", "none"):
        xs, ys = groups[key]
        if xs:
            ax.scatter(xs, ys, zorder=10 if key != "other" else 3, **style[key])
    sc = bundle.scenario
    styles: dict[tuple[str, float, float], tuple[float, str]] = {}
    marks = (
        ("station", sc.stations, "s", "#111111", 42),
        ("depot", sc.depots, "^", "#0b3d91", 70),
        ("facility", sc.facilities, "D", "#7b2d8b", 38),
    )
    for kind, recs, marker, colour, s in marks:
        xs = [float(_lonlat(bundle, r)[0]) for r in recs]
        ys = [float(_lonlat(bundle, r)[1]) for r in recs]
        if xs:
            ax.scatter(
                xs, ys, marker=marker, s=s, c=colour, edgecolors="white", linewidths=0.9, zorder=14
            )
        if kind in ("depot", "station"):
            inside = [
                (r.name, x, y)
                for r, x, y in zip(recs, xs, ys, strict=True)
                if r.name and view.west <= x <= view.east and view.south <= y <= view.north
            ]
            # Depots and stations are named first: a point's name gives way to them.
            names[:0] = [(f"{n}", x, y) for n, x, y in inside]
            styles.update({(n, x, y): LABEL_STYLE[kind] for n, x, y in inside})
    place_labels(ax, names, styles)

    def mark(marker: str, colour: str, edge: str, size: float, label: str) -> Any:
        return Line2D(
            [],
            [],
            ls="none",
            marker=marker,
            markersize=size,
            markerfacecolor=colour,
            markeredgecolor=edge,
            label=label,
        )

    handles = [
        mark("^", "#0b3d91", "white", 9, "车库 depot"),
        mark("s", "#111111", "white", 7, "中转站 transfer station"),
        mark("D", "#7b2d8b", "white", 6, "回收/处理 buyer / plant"),
        mark("o", "white", "#222222", 5, "收运点 point, all visits"),
        mark("o", "#ffb000", "#7a4d00", 6, "部分收运 partly served"),
        mark("X", "#e00000", "white", 8, "未收运 not served"),
    ]
    if groups["other"][0]:
        handles.append(mark("o", "#bdbdbd", "none", 4, "其他苏木镇 other townships"))
    return handles


def render_map(bundle: PlanBundle, *, township: str | None = None, fmt: str = "png") -> bytes:
    """The month's routes as a PNG or SVG image.

    Parameters
    ----------
    bundle
        The plan folder read with :func:`planner.export.read_bundle`.
    township
        A township name or code: zoom to its points and draw the runs serving them.
        None: the whole region.
    fmt
        ``"png"`` or ``"svg"``.

    Raises
    ------
    PlanError
        Unknown township or format.
    """
    if fmt not in FORMATS:
        raise PlanError(f"map format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    # The maps product and the report show the same images: each is drawn once.
    key = ("map", township, fmt)
    made = bundle.memo.get(key)
    if made is None:
        made = bundle.memo[key] = _draw(bundle, _view(bundle, township), fmt)
    return made


def townships(bundle: PlanBundle) -> dict[str, str]:
    """Township key (code, else name) -> name, in the scenario's order."""
    out: dict[str, str] = {}
    for p in bundle.scenario.points:
        key = p.township_code or p.township
        if key:
            out.setdefault(key, p.township or key)
    return out


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "township"


def write_maps(bundle: PlanBundle, out_dir: Path) -> list[Path]:
    """Write ``OUT/maps/month.{png,svg}`` and one PNG per township; returns the paths.

    Township maps are named by the township's code, or its name without one.
    """
    folder = Path(out_dir) / "maps"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in FORMATS:
        path = folder / f"month.{fmt}"
        data = render_map(bundle, fmt=fmt)
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
        written.append(path)
    for key in sorted(townships(bundle)):
        path = folder / f"{_safe(key)}.png"
        data = render_map(bundle, township=key)
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
        written.append(path)
    return written
