"""GPX 1.1 files for the drivers' phones: one per run.

Each file holds the run's steps as waypoints, in order and timed at the planned
arrival (UTC, as GPX wants), and the route as one track with one segment per
leg along the roads the planner measured, so that OsmAnd or Organic Maps show
the way the times were computed for rather than straight lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import gpxpy.gpx as gpx

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export.bundle import PlanBundle, Stop
from planner.export.notices import file_key, span_zh, stops_of
from planner.plan.model import Run

STEP_ZH = {"start": "出发", "collect": "收集", "unload": "卸货", "break": "午休", "end": "返回"}
# OsmAnd and Organic Maps group waypoints by <type>.
GROUP_ZH = {
    "start": "车库",
    "end": "车库",
    "collect": "收集点",
    "unload": "中转站",
    "break": "午休",
}
CREATOR = "planner (rural waste collection planner)"
DIGITS = 6  # about 0.1 m: finer than any road geometry we have


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC)


def _num(x: float) -> str:
    return f"{x:.1f}"


def _kg_text(amounts: dict[str, float], names: dict[str, str]) -> str:
    total = sum(amounts.values())
    parts = "、".join(f"{names.get(c, c)} {_num(q)} kg" for c, q in amounts.items() if q > 0)
    return f"{_num(total)} kg（{parts}）" if parts else f"{_num(total)} kg"


def waypoint_name(stop: Stop) -> str:
    """``3 一组 · 甲嘎查`` for a collection stop, ``4 卸货 站名`` for a station, ``出发 车库名``
    for the steps without a stop number (start, lunch break, return)."""
    if stop.type == "collect":
        return f"{stop.number} {stop.name}" + (f" · {stop.gacha}" if stop.gacha else "")
    step = f"{STEP_ZH.get(stop.type, stop.type)} {stop.name}"
    return f"{stop.number} {step}" if stop.number is not None else step


def _description(bundle: PlanBundle, stop: Stop, names: dict[str, str]) -> str:
    parts = [STEP_ZH.get(stop.type, stop.type)]
    window = bundle.windows.get(stop.place) if stop.type == "collect" else None
    if window:
        parts.append(f"约定时间 {window[0]}—{window[1]}")
    if stop.type in ("start", "end"):
        parts.append(f"{stop.arrival:%H:%M}")
    else:
        parts.append(f"到达—离开 {span_zh(stop.arrival, stop.departure)}")
    if stop.type == "collect":
        parts.append("预计收集 " + _kg_text(stop.collected, names))
    elif stop.type == "unload":
        parts.append("卸下 " + _kg_text(stop.unloaded, names))
    if stop.leg_km > 0:
        parts.append(f"距上一站 {_num(stop.leg_km)} km")
    return " · ".join(parts)


def _legs(bundle: PlanBundle, run: Run, stops: list[Stop]) -> list[list[tuple[float, float]]]:
    """Per leg, ``(lon, lat)`` along the road, starting and ending exactly at the places."""
    try:
        lines = bundle.leg_lines(run)
    except KeyError as exc:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: run {run.id!r}: expected places of "
            f"scenario {bundle.scenario.name!r}, found {exc} which it does not have"
        ) from None
    if len(lines) != len(stops) - 1:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: run {run.id!r}: expected {len(stops) - 1} "
            f"road legs, found {len(lines)}"
        )
    legs = []
    for (a, b), line in zip(itertools.pairwise(stops), lines, strict=True):
        inner = [(round(float(x), DIGITS), round(float(y), DIGITS)) for x, y, *_ in line.coords]
        # The road line starts and ends at the place through a UTM round trip;
        # pinning the ends makes the track meet the waypoints exactly.
        legs.append([(a.lon, a.lat), *inner[1:-1], (b.lon, b.lat)])
    return legs


def _synthetic(bundle: PlanBundle, stops: list[Stop]) -> bool:
    ids = {s.place for s in stops}
    return any(p.synthetic for p in bundle.scenario.places() if p.id in ids)


def run_gpx(bundle: PlanBundle, run: Run) -> gpx.GPX:
    """The GPX document of one run.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    run
        One of ``bundle.runs``.

    Returns
    -------
    gpxpy.gpx.GPX
        Waypoints: every step in order (collection points and stations named by
        their stop number, as on the run sheet), timed at its arrival in UTC. One
        track, one segment per leg.

    Raises
    ------
    PlanError
        The run names places or times the plan or scenario do not have.
    """
    stops = stops_of(bundle, run)
    if len(stops) < 2:
        raise PlanError(
            f"{bundle.out_dir / 'plan.json'}: run {run.id!r}: expected at least "
            f"a start and an end step, found {len(stops)} step(s)"
        )
    names = {c.id: c.name for c in bundle.scenario.settings.categories}
    vehicle = run.vehicle
    spec = bundle.vehicle(vehicle)
    truck = f"{spec.name}（{vehicle}）" if spec and spec.name else vehicle
    collects = sum(1 for s in stops if s.type == "collect")
    about = (
        f"{truck} · {stops[0].departure:%Y-%m-%d} · {collects}个收集点 · "
        f"{_num(float(run.distance_km))} km · "
        f"{float(run.duration_min):.0f} 分钟"
    )
    if _synthetic(bundle, stops):
        about += " · 位置和道路为合成数据（synthetic），不可用于实地导航"

    doc = gpx.GPX()
    doc.creator = CREATOR
    doc.name = f"{run.id} {spec.name}" if spec and spec.name else run.id
    doc.description = about
    doc.time = _utc(stops[0].departure)
    for s in stops:
        doc.waypoints.append(
            gpx.GPXWaypoint(
                latitude=s.lat,
                longitude=s.lon,
                time=_utc(s.arrival),
                name=waypoint_name(s),
                description=_description(bundle, s, names),
                type=GROUP_ZH.get(s.type, s.type),
            )
        )
    track = gpx.GPXTrack(name=doc.name, description=about)
    for (a, b), leg in zip(itertools.pairwise(stops), _legs(bundle, run, stops), strict=True):
        seg = gpx.GPXTrackSegment()
        for k, (lon, lat) in enumerate(leg):
            # Only the ends have planned times; GPX allows untimed points between.
            t = _utc(a.departure) if k == 0 else _utc(b.arrival) if k == len(leg) - 1 else None
            seg.points.append(gpx.GPXTrackPoint(latitude=lat, longitude=lon, time=t))
        track.segments.append(seg)
    doc.tracks.append(track)
    return doc


def write_gpx(bundle: PlanBundle, out_dir: Path) -> list[Path]:
    """Write ``OUT/gpx/<run id>.gpx`` for every run of the plan.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    out_dir
        The output folder; ``gpx/`` is made inside it.

    Returns
    -------
    list of Path
        The files written, in the plan's run order.
    """
    folder = Path(out_dir) / "gpx"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for run in bundle.runs:
        path = folder / f"{file_key(run.id)}.gpx"
        xml = run_gpx(bundle, run).to_xml(version="1.1")
        with atomic_writer(path, "w") as fh:
            fh.write(xml)
        paths.append(path)
    return paths
