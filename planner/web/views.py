"""What the office pages show, computed from a plan folder and the ledger's read-outs.

The map is drawn from the plan's own coordinates (and the scenario's outline) as
SVG, so the page needs no tiles, scripts or network: lon/lat are projected
equirectangularly at the region's mean latitude, which is exact enough for a
banner-sized area.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from typing import Any

from planner.web.plans import PlanFolder

# Colours per truck (colour-blind-safe palette, repeated).
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
)  # fmt: skip
MAP_W = 900
MAP_H = 620
PAD = 16


class _Projection:
    def __init__(self, lons: list[float], lats: list[float]):
        self.lon0, self.lon1 = min(lons), max(lons)
        self.lat0, self.lat1 = min(lats), max(lats)
        self.kx = math.cos(math.radians((self.lat0 + self.lat1) / 2))
        w = max((self.lon1 - self.lon0) * self.kx, 1e-9)
        h = max(self.lat1 - self.lat0, 1e-9)
        self.scale = min((MAP_W - 2 * PAD) / w, (MAP_H - 2 * PAD) / h)
        self.height = h * self.scale + 2 * PAD
        self.width = w * self.scale + 2 * PAD

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x = PAD + (lon - self.lon0) * self.kx * self.scale
        y = PAD + (self.lat1 - lat) * self.scale
        return round(x, 1), round(y, 1)


def route_map(folder: PlanFolder, run_ids: set[str] | None = None) -> dict[str, Any]:
    """The SVG's parts: size, outline path, one polyline per run, place markers."""
    plan = folder.plan
    places = plan.places_by_id
    boundary = folder.bundle.scenario.boundary
    lons = [p.lon for p in plan.places]
    lats = [p.lat for p in plan.places]
    rings: list[list[tuple[float, float]]] = []
    if boundary is not None:
        polys = getattr(boundary, "geoms", [boundary])
        for poly in polys:
            ring = [(float(x), float(y)) for x, y, *_ in poly.exterior.coords]
            rings.append(ring)
            lons += [x for x, _ in ring]
            lats += [y for _, y in ring]
    if not lons:
        return {"width": MAP_W, "height": 100, "outline": "", "runs": [], "places": []}
    proj = _Projection(lons, lats)
    outline = " ".join(
        "M" + " L".join(f"{x},{y}" for x, y in (proj(lo, la) for lo, la in ring)) + " Z"
        for ring in rings
    )
    vehicles = sorted({r.vehicle for r in plan.runs})
    colour = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(vehicles)}
    runs = []
    for run in plan.runs:
        if run_ids is not None and run.id not in run_ids:
            continue
        pts = [proj(places[s.place].lon, places[s.place].lat) for s in run.steps]
        runs.append(
            {
                "id": run.id,
                "vehicle": run.vehicle,
                "colour": colour[run.vehicle],
                "points": " ".join(f"{x},{y}" for x, y in pts),
            }
        )
    marks = []
    for p in plan.places:
        x, y = proj(p.lon, p.lat)
        marks.append({"id": p.id, "name": p.name, "kind": p.kind, "x": x, "y": y})
    return {
        "width": round(proj.width),
        "height": round(proj.height),
        "outline": outline,
        "runs": runs,
        "places": marks,
        "legend": [{"vehicle": v, "colour": c} for v, c in colour.items()],
    }


def month_calendar(folder: PlanFolder) -> dict[str, Any]:
    """Weeks of the plan's month; each day with its runs (truck, id, stops)."""
    start = folder.plan.period.start
    by_date: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for run in folder.plan.runs:
        by_date[run.date].append({"id": run.id, "vehicle": run.vehicle, "stops": len(run.collects)})
    service = set(folder.plan.period.service_dates)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(start.year, start.month):
        days = []
        for d in week:
            days.append(
                {
                    "day": d.day,
                    "in_month": d.month == start.month,
                    "service": d in service,
                    "runs": sorted(by_date.get(d, []), key=lambda r: r["vehicle"]),
                }
            )
        weeks.append(days)
    return {"year": start.year, "month": start.month, "weeks": weeks}


MONEY_FIELDS = ("sold_kg", "exchanged_kg", "cash_paid_cny", "goods_value_cny", "net_cost_cny")


def money_rows(
    folder: PlanFolder, report: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per gacha: planned and actual money (the ledger's report; the plan's summary.json
    where the ledger has no line) against the month's share of the 农维费; and totals."""
    summary = folder.bundle.summary or {}
    lines = report.get("gachas", {})
    rows = []
    for g in summary.get("gachas", []):
        line = lines.get((g.get("township", ""), g.get("gacha", "")))
        planned = line["planned"] if line else {k: g.get(k, 0.0) for k in MONEY_FIELDS}
        actual = line["actual"] if line else dict.fromkeys(MONEY_FIELDS, 0.0)
        rows.append(
            {
                "gacha": g.get("gacha", ""),
                "township": g.get("township", ""),
                "households": g.get("households", 0),
                "planned": {k: planned.get(k, 0.0) for k in MONEY_FIELDS},
                "actual": {k: actual.get(k, 0.0) for k in MONEY_FIELDS},
                "budget": g.get("fee_budget_cny", 0.0),
            }
        )
    total = {
        "households": sum(r["households"] for r in rows),
        "planned": {k: sum(r["planned"][k] for r in rows) for k in MONEY_FIELDS},
        "actual": {k: sum(r["actual"][k] for r in rows) for k in MONEY_FIELDS},
        "budget": sum(r["budget"] for r in rows),
    }
    return rows, total
