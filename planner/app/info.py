"""``planner info``: what a scenario holds, as tables on the terminal."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from planner.network.travel import Travel, build_travel, describe
from planner.scenario.model import Scenario
from planner.scenario.waste import daily_kg_per_person, point_people

if TYPE_CHECKING:
    from planner.app.pipeline import FleetRow


def region_info(scenario: Scenario, console: Console) -> None:
    """Print counts, fleet, month, weekly waste by stream, network size and reachability."""
    s = scenario.settings
    people = point_people(scenario)
    # Names and descriptions are input: printed as Text, never read as markup.
    console.print(Text.assemble((s.name, "bold"), f" — {s.description}"), highlight=False)

    towns: dict[str, list[str]] = defaultdict(list)
    for p in scenario.points:
        towns[p.township or "(none)"].append(p.id)
    gacha = {p.gacha_code or p.gacha for p in scenario.points}
    t = Table(title="Region")
    for col in ("township", "gacha", "points", "households", "people", "visits/month"):
        t.add_column(col, justify="right" if col != "township" else "left")
    hh = Counter(h.point for h in scenario.households)
    for town, ids in sorted(towns.items()):
        g = {p.gacha_code or p.gacha for p in scenario.points if p.id in set(ids)}
        households = (
            sum(hh[i] for i in ids)
            if scenario.households
            else sum(p.households for p in scenario.points if p.id in set(ids))
        )
        t.add_row(
            Text(town),
            str(len(g)),
            str(len(ids)),
            f"{households:,}",
            f"{sum(people[i] for i in ids):,}",
            str(sum(scenario.visits[i] for i in ids)),
        )
    n_households = len(scenario.households) or sum(p.households for p in scenario.points)
    t.add_row(
        Text("total", style="bold"),
        str(len(gacha)),
        str(len(scenario.points)),
        f"{n_households:,}",
        f"{sum(people.values()):,}",
        str(sum(scenario.visits.values())),
    )
    console.print(t)
    console.print(
        f"{len(scenario.depots)} depots, {len(scenario.stations)} transfer stations, "
        f"{len(scenario.facilities)} buyer/plant",
        highlight=False,
    )

    f = Table(title="Fleet")
    for col in ("id", "depot", "payload kg", "box m³", "hazard kg", "shift", "max h", "CNY/km"):
        f.add_column(col)
    for v in s.fleet:
        f.add_row(
            Text(v.id),
            Text(v.depot),
            f"{v.payload_kg:,.0f}",
            f"{v.box_m3:g}",
            f"{v.hazard_kg:g}",
            f"{v.shift_start}–{v.shift_end}",
            f"{v.max_work_min / 60:g}",
            f"{v.cost_per_km:g}",
        )
    console.print(f)

    dates = scenario.service_dates
    console.print(
        f"Month {s.month.month} ({s.month.timezone}): {len(dates)} service days, "
        f"{dates[0]} … {dates[-1]}"
        if dates
        else f"Month {s.month.month}: no service day",
        highlight=False,
    )

    rates = daily_kg_per_person(scenario)
    total_people = sum(people.values())
    w = Table(title="Waste generated per week")
    for col in ("stream", "kg/week", "categories"):
        w.add_column(col)
    for stream in ("sell", "exchange", "compost"):
        cats = [c for c in s.categories if c.stream == stream]
        kg = sum(rates[c.id] for c in cats) * total_people * 7
        w.add_row(stream, f"{kg:,.0f}", Text(", ".join(c.id for c in cats)))
    console.print(w)

    with console.status("Building the road graph and travel matrix…"):
        travel = build_travel(scenario)
    net = describe(travel)
    console.print(
        f"Road network: {net['nodes']:,} nodes, {net['edges']:,} directed edges, "
        f"{net['road_km']:,.0f} km of road; all {len(travel.ids)} places reach each other",
        highlight=False,
    )
    for warning in (*scenario.warnings, *travel.warnings)[:10]:
        console.print(Text.assemble(("warning:", "yellow"), f" {warning}"), highlight=False)

    fleet_report(scenario, travel, console)


def fleet_report(scenario: Scenario, travel: Travel, console: Console) -> None:
    """The smallest fleet per depot that the month needs, and what binds it."""
    from planner.app.pipeline import FleetRow
    from planner.solve.fleet import fleet_needs
    from planner.solve.from_scenario import build_problem

    sp = build_problem(scenario, travel)
    rows = [
        FleetRow(sp.node_ids[n.depot], n.trucks, n.have, n.reason, len(n.unreachable))
        for n in fleet_needs(sp.problem)
    ]
    console.print(fleet_table(rows))


def fleet_table(rows: Sequence[FleetRow]) -> Table:
    """``planner info``'s and ``planner run``'s table of the fleet estimate."""
    t = Table(title="Smallest fleet the month needs (estimate; points at their nearest depot)")
    for col in ("depot", "trucks needed", "trucks", "binding"):
        t.add_column(col, justify="left" if col in ("depot", "binding") else "right")
    for row in rows:
        short = row.needed > row.have or row.unreachable
        t.add_row(
            Text(row.depot),
            Text(str(row.needed), style="bold red" if short else ""),
            str(row.have),
            Text(row.reason),
        )
    return t
