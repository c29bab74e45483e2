"""The scenario's documented rules on times (docs/scenario.md), checked on a plan.

:mod:`planner.plan.check` runs these when it has the scenario. Each finding is a
``(run id or None, step or None, rule, message)`` tuple; the checker turns them
into violations. Like the checker, nothing here uses the solver's arithmetic: the
rules are read from the scenario's settings and the plan's own steps.

- ``[windows]``: no announced window opens before ``earliest`` or closes after
  ``latest``; a window is at least ``width_min`` wide (or as wide as those bounds
  allow); a point announced no window is still visited between the bounds;
- ``[visits]``: a truck stays at least ``service_min_base`` plus
  ``service_min_per_household`` per household at each stop;
- ``[stations_settings]``: at least ``unload_min`` at each unloading;
- ``[[fleet]]``: the plan's ``cost_cny`` is ``cost_per_km`` per km plus
  ``cost_per_hour`` per hour of its runs.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from planner.scenario.model import Scenario
from planner.scenario.settings import minutes_of

Finding = tuple[str | None, int | None, str, str]


def _hm(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def window_rules(plan: dict[str, Any], sc: Scenario) -> list[Finding]:
    """Announced windows against ``[windows]``."""
    w = sc.settings.windows
    first, last = minutes_of(w.earliest), minutes_of(w.latest)
    width = min(w.width_min, last - first)
    out: list[Finding] = []
    for p in plan["points"]:
        if p["window"] is None:
            continue
        try:
            lo, hi = (minutes_of(t) for t in p["window"])
        except ValueError:
            continue  # the checker reports a window that is no time range
        text = "–".join(p["window"])
        if lo < first:
            out.append((None, None, "window", f"point {p['id']}: window {text} opens before "
                        f"windows.earliest {w.earliest}"))  # fmt: skip
        if hi > last:
            out.append((None, None, "window", f"point {p['id']}: window {text} closes after "
                        f"windows.latest {w.latest}"))  # fmt: skip
        if hi - lo < width:
            out.append((None, None, "window", f"point {p['id']}: window {text} is "
                        f"{hi - lo} min wide, windows.width_min is {w.width_min}"))  # fmt: skip
    return out


def stop_rules(plan: dict[str, Any], sc: Scenario, tol_min: float) -> list[Finding]:
    """Minutes at stops and unloadings, and arrivals of points without a window."""
    s = sc.settings
    first, last = minutes_of(s.windows.earliest), minutes_of(s.windows.latest)
    households = Counter(h.point for h in sc.households)
    per_point = {p.id: households[p.id] if sc.households else p.households for p in sc.points}
    unwindowed = {p["id"] for p in plan["points"] if p["window"] is None}
    out: list[Finding] = []
    for run in plan["runs"]:
        for i, st in enumerate(run["steps"]):
            arr, dep = _minute(st["arrival"]), _minute(st["departure"])
            if arr is None or dep is None:
                continue  # the checker reports times it cannot read
            place = st["place"]
            if st["type"] == "collect" and place in per_point:
                need = math.ceil(
                    s.visits.service_min_base
                    + s.visits.service_min_per_household * per_point[place]
                )
                if dep - arr < need - tol_min:
                    out.append((run["id"], i, "service", f"run {run['id']}: stays {dep - arr} min "
                                f"at {place} (step {i}); its {per_point[place]} households need "
                                f"{need} min (visits.service_min_*)"))  # fmt: skip
                if place in unwindowed and not first - tol_min <= arr <= last + tol_min:
                    out.append((run["id"], i, "window", f"run {run['id']}: arrives at {place} at "
                                f"{_hm(arr)}, outside windows.earliest–latest "
                                f"{s.windows.earliest}–{s.windows.latest}"))  # fmt: skip
            elif st["type"] == "unload":
                need = math.ceil(s.stations_settings.unload_min)
                if dep - arr < need - tol_min:
                    out.append((run["id"], i, "service", f"run {run['id']}: unloads at {place} "
                                f"(step {i}) in {dep - arr} min; stations_settings.unload_min is "
                                f"{need}"))  # fmt: skip
    return out


def cost_rule(plan: dict[str, Any], sc: Scenario) -> list[Finding]:
    """``summary.cost_cny`` against the fleet's rates."""
    found = plan["summary"].get("cost_cny")
    if found is None:
        return []
    fleet = {v.id: v for v in sc.fleet}
    want = 0.0
    for run in plan["runs"]:
        v = fleet.get(run["vehicle"])
        if v is not None:
            want += v.cost_per_km * run["distance_km"] + v.cost_per_hour * run["duration_min"] / 60
    if abs(found - want) > 0.01 * max(1.0, len(plan["runs"])):
        return [(None, None, "summary", f"summary cost_cny is {found:,.2f}; the fleet's "
                 f"cost_per_km and cost_per_hour give {want:,.2f}")]  # fmt: skip
    return []


def _minute(stamp: str) -> int | None:
    try:
        return int(stamp[11:13]) * 60 + int(stamp[14:16])
    except (ValueError, IndexError):
        return None
