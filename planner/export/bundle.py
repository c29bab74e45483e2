"""What every exporter reads: a written plan folder, seen through the scenario.

The exporters work from files (``plan.json``, ``tallies.csv``, ``summary.json``)
rather than from the solver's objects, so a plan someone edited by hand can be
exported again. The scenario adds what the plan does not carry: Chinese names of
gachas and townships, households, the banner outline and the roads.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import shapely

from planner._errors import PlanError
from planner.model import CollectionPoint, Household, Scenario
from planner.money.files import read_tallies
from planner.money.tallies import Tally
from planner.plan.io import read_plan

# One row of tallies.csv (PLAN_FORMAT.md): run_id, date, point, household, stream,
# category, quantity, unit, value_cny.
TallyRow = Tally


@dataclass(frozen=True)
class Stop:
    """One step of a run, with the names a person reads."""

    run_id: str
    index: int
    type: str
    place: str
    name: str
    gacha: str
    township: str
    lon: float
    lat: float
    arrival: dt.datetime
    departure: dt.datetime
    leg_km: float
    leg_min: float
    collected: dict[str, float] = field(default_factory=dict)
    unloaded: dict[str, float] = field(default_factory=dict)
    load_after: dict[str, float] = field(default_factory=dict)


@dataclass
class PlanBundle:
    """A plan folder's files plus the scenario they were planned from."""

    out_dir: Path
    plan: dict[str, Any]
    scenario: Scenario
    tallies: list[TallyRow]
    summary: dict[str, Any] | None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.plan["period"]["timezone"])

    @cached_property
    def places(self) -> dict[str, dict[str, Any]]:
        """Plan places by id (``{id, name, kind, lon, lat}``)."""
        return {p["id"]: p for p in self.plan["places"]}

    @cached_property
    def points(self) -> dict[str, CollectionPoint]:
        """The scenario's collection points by id (gacha, township, households)."""
        return {p.id: p for p in self.scenario.points}

    @cached_property
    def households(self) -> dict[str, list[Household]]:
        """Households per point id, in file order (empty lists without a households file)."""
        out: dict[str, list[Household]] = defaultdict(list)
        for h in self.scenario.households:
            out[h.point].append(h)
        return dict(out)

    @cached_property
    def windows(self) -> dict[str, tuple[str, str] | None]:
        """Announced window per point (``("HH:MM", "HH:MM")``) or None."""
        return {p["id"]: (tuple(p["window"]) if p["window"] else None) for p in self.plan["points"]}

    @property
    def runs(self) -> list[dict[str, Any]]:
        return list(self.plan["runs"])

    def run(self, run_id: str) -> dict[str, Any]:
        for r in self.plan["runs"]:
            if r["id"] == run_id:
                return dict(r)
        raise KeyError(run_id)

    def stops(self, run: dict[str, Any]) -> list[Stop]:
        """The run's steps as :class:`Stop` records, with names and local times."""
        tz = self.tz
        out = []
        for k, st in enumerate(run["steps"]):
            place = self.places[st["place"]]
            point = self.points.get(st["place"])
            out.append(
                Stop(
                    run_id=run["id"],
                    index=k,
                    type=st["type"],
                    place=st["place"],
                    name=place["name"],
                    gacha=point.gacha if point else "",
                    township=point.township if point else "",
                    lon=float(place["lon"]),
                    lat=float(place["lat"]),
                    arrival=_local(st["arrival"], tz),
                    departure=_local(st["departure"], tz),
                    leg_km=float(st["leg_km"]),
                    leg_min=float(st["leg_min"]),
                    collected=dict(st.get("collected", {})),
                    unloaded=dict(st.get("unloaded", {})),
                    load_after=dict(st.get("load_after", {})),
                )
            )
        return out

    def tallies_of(self, run_id: str, point: str | None = None) -> list[TallyRow]:
        """Tally rows of one run (and one point)."""
        return [
            t
            for t in self.tallies
            if t.run_id == run_id and (point is None or t.point == point)
        ]

    def run_carry(self, run_id: str) -> dict[str, Any] | None:
        """The run's cash float and goods from ``summary.json`` (None without one)."""
        if not self.summary:
            return None
        for r in self.summary.get("runs", []):
            if r["run_id"] == run_id:
                return dict(r)
        return None

    @cached_property
    def _travel(self) -> Any:
        from planner.travel import build_travel

        return build_travel(self.scenario)

    def leg_lines(self, run: dict[str, Any]) -> list[shapely.LineString]:
        """Per step after ``start``, the road line (WGS84) from the previous step's place."""
        from planner.network import route_geometries

        travel = self._travel
        ix = travel.index()
        places = [st["place"] for st in run["steps"]]
        pairs = [(ix[a], ix[b]) for a, b in itertools.pairwise(places)]
        return route_geometries(travel.graph, travel.snapping, pairs)

    def run_line(self, run: dict[str, Any]) -> shapely.LineString:
        """The whole run as one line along the roads (WGS84)."""
        coords: list[tuple[float, float]] = []
        for line in self.leg_lines(run):
            pts = list(line.coords)
            if coords and pts and coords[-1] == pts[0]:
                pts = pts[1:]
            coords.extend((float(x), float(y)) for x, y, *_ in pts)
        if len(coords) < 2:
            coords = coords * 2 or [(0.0, 0.0), (0.0, 0.0)]
        return shapely.LineString(coords)


def _local(stamp: str, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M").replace(tzinfo=tz)


def read_bundle(out_dir: Path, scenario: Scenario | None = None) -> PlanBundle:
    """Read a plan folder; without ``scenario``, load the one named in ``run.json``.

    Raises
    ------
    PlanError
        A file is missing or malformed, or no scenario can be found.
    """
    from planner.io.scenario import load_scenario

    out_dir = Path(out_dir)
    plan = read_plan(out_dir / "plan.json")
    if scenario is None:
        meta_path = out_dir / "run.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            scenario_path = Path(meta["scenario_path"])
        except (OSError, ValueError, KeyError, TypeError):
            raise PlanError(
                f"{meta_path}: expected the run record naming the scenario file; "
                "give the scenario explicitly"
            ) from None
        scenario = load_scenario(scenario_path)
    summary_path = out_dir / "summary.json"
    summary = None
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise PlanError(f"{summary_path}: not valid JSON ({exc})") from None
    return PlanBundle(
        out_dir=out_dir,
        plan=plan,
        scenario=scenario,
        tallies=read_tallies(out_dir / "tallies.csv"),
        summary=summary,
    )
