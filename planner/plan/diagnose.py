"""Why a visit was not planned, in words an office can act on."""

from __future__ import annotations

from planner.scenario.model import Scenario
from planner.solve.engines.finish import break_reserve
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

    # One truck alone: out from its depot at the start of its shift, wait for the
    # window to open, serve, and home via a station. The truck that misses its
    # limits by least says why none can make the visit.
    best: tuple[int, str] | None = None  # (minutes over its limits, why)
    w = visit.window
    for vi in p.vehicles_on(day):
        v = p.vehicles[vi]
        depot = sp.node_ids[v.depot]
        depot_label = depot_name.get(depot, depot)
        out = scaled_time(int(p.duration[v.depot, visit.node]), v.speed_factor)
        _, _, back = end_facility(p, vi, visit.node)
        unload = p.facility_service if v.depot not in p.facilities else 0
        lunch = break_reserve(p, vi)
        reach = v.shift[0] + out
        if w is not None and reach > w[1]:
            why = (
                f"a truck leaving depot {depot_label} at {_hm(v.shift[0])} reaches {point} at "
                f"{_hm(reach)}, after its window closes at {_hm(w[1])}; start the shift earlier "
                "or let the window close later"
            )
            over = reach - w[1]
        else:
            start = max(reach, w[0]) if w is not None else reach
            home = start + visit.service + back + unload + lunch
            need = out + visit.service + back + unload + lunch
            allowed = min(v.max_duration, v.shift[1] - v.shift[0])
            over = max(home - v.shift[1], need - allowed)
            if need > allowed:
                why = (
                    f"needs {need / 60:.1f} h from depot {depot_label} and back via a "
                    f"station, the shift allows {allowed / 60:.1f} h"
                )
            else:
                wait = f", waits for its window to open at {_hm(start)}" if start > reach else ""
                why = (
                    f"a truck leaving depot {depot_label} at {_hm(v.shift[0])} reaches {point} "
                    f"at {_hm(reach)}{wait} and is back via a station at {_hm(home)}, after its "
                    f"shift ends at {_hm(v.shift[1])}; start the shift earlier, end it later or "
                    "open the window earlier"
                )
        if over > 0 and (best is None or over < best[0]):
            best = (over, why)
        elif over <= 0:
            best = (over, "")
            break
    assert best is not None  # some truck works on the day
    over, why = best
    if over > 0:
        return why
    return (
        f"the trucks' hours on {sp.dates[day]} are taken by other visits; add a truck or a "
        f"service day"
    )
