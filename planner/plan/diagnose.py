"""Why a visit was not planned, in words an office can act on."""

from __future__ import annotations

from planner.scenario.model import Scenario
from planner.solve.from_scenario import LOAD_UNITS, ScenarioProblem
from planner.solve.problem import DayVisit
from planner.solve.schedule import end_facility, scaled_time

_UNIT_NAMES = {"kg": "kg", "m3": "m³", "hazard_kg": "kg of hazardous waste"}


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def unserved_reason(
    scenario: Scenario, sp: ScenarioProblem, customer: int, day: int, visit: DayVisit
) -> str:
    """The first rule that keeps every truck from making ``visit`` on ``day``."""
    p = sp.problem
    point = sp.customer_points[customer]
    dims = p.dimensions
    trucks = [p.vehicles[i] for i in p.vehicles_on(day)]
    if not trucks:
        return f"no truck works on {sp.dates[day]}"
    depot_name = {d.id: d.name or d.id for d in scenario.depots}

    for k, dim in enumerate(dims):
        biggest = max(v.capacity[k] for v in trucks)
        if visit.demand[k] > biggest:
            need = visit.demand[k] / LOAD_UNITS[dim]
            cap = biggest / LOAD_UNITS[dim]
            return (
                f"one visit collects {need:,.1f} {_UNIT_NAMES[dim]} but the largest truck "
                f"carries {cap:,.1f}; visit more often or send a bigger truck"
            )

    best: tuple[int, str, int] | None = None  # (needed minutes, depot, allowed)
    for vi in p.vehicles_on(day):
        v = p.vehicles[vi]
        out = scaled_time(int(p.duration[v.depot, visit.node]), v.speed_factor)
        _, _, back = end_facility(p, vi, visit.node)
        need = out + visit.service + back + p.facility_service
        if v.break_duration and v.break_window is not None:
            need += v.break_duration
        allowed = min(v.max_duration, v.shift[1] - v.shift[0])
        arrive = v.shift[0] + out
        if visit.window is not None and arrive > visit.window[1]:
            continue
        if best is None or need - allowed < best[0] - best[2]:
            best = (need, sp.node_ids[v.depot], allowed)
    if best is None:
        w = visit.window
        assert w is not None
        return (
            f"no truck can reach {point} before its window closes at {_hm(w[1])} "
            f"when leaving at the start of its shift"
        )
    need, depot, allowed = best
    if need > allowed:
        return (
            f"needs {need / 60:.1f} h from depot {depot_name.get(depot, depot)} and back via a "
            f"station, the shift allows {allowed / 60:.1f} h"
        )
    return (
        f"the trucks' hours on {sp.dates[day]} are taken by other visits; add a truck or a "
        f"service day"
    )
