"""What every exporter reads: a written plan folder, seen through the scenario.

The exporters work from files (``plan.json``, ``tallies.csv``, ``summary.json``)
rather than from the solver's objects, so a plan someone edited by hand can be
exported again. The scenario adds what the plan does not carry: Chinese names of
gachas and townships, households, the banner outline and the roads.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from planner._errors import PlanError
from planner.money.exchange import Handout
from planner.money.files import GOODS_HEADER, read_tallies
from planner.money.tallies import Tally
from planner.network.travel import Travel
from planner.plan.model import Place, Plan, Run
from planner.scenario.model import CollectionPoint, Household, Scenario
from planner.scenario.settings import VehicleSpec

# One row of tallies.csv (PLAN_FORMAT.md): run_id, date, point, household, stream,
# category, quantity, unit, value_cny.
TallyRow = Tally


@dataclass(frozen=True)
class Stop:
    """One step of a run, with the names a person reads.

    ``number`` is the stop number every output prints (run sheet, map, GPX, ICS,
    workbook, GeoPackage): collection points and stations are numbered 1, 2, … in
    the order the truck reaches them; the start, the lunch break and the return take
    no number (None). ``index`` is the step's position in ``run.steps``.
    """

    run_id: str
    index: int
    number: int | None
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


NUMBERED = ("collect", "unload")


def stop_numbers(run: Run) -> list[int | None]:
    """Per step of ``run``, its stop number (see :class:`Stop`), None for unnumbered steps."""
    out: list[int | None] = []
    n = 0
    for st in run.steps:
        if st.type in NUMBERED:
            n += 1
            out.append(n)
        else:
            out.append(None)
    return out


@dataclass
class PlanBundle:
    """A plan folder's files plus the scenario they were planned from.

    ``handouts`` are goods.csv's rows (the goods each household is expected to take
    at each visit); when not given they are read from ``out_dir/goods.csv`` on first
    use (none without the file).
    """

    out_dir: Path
    plan: Plan
    scenario: Scenario
    tallies: list[TallyRow]
    summary: dict[str, Any] | None
    handouts: list[Handout] | None = None
    _lines: dict[str, list[shapely.LineString]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # Products made once per bundle and shared (the maps the report embeds too).
    memo: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.plan.period.timezone)

    @cached_property
    def places(self) -> dict[str, Place]:
        """Plan places by id."""
        return self.plan.places_by_id

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
        return {p.id: p.window for p in self.plan.points}

    @property
    def runs(self) -> tuple[Run, ...]:
        return self.plan.runs

    def run(self, run_id: str) -> Run:
        found = self.plan.run(run_id)
        if found is None:
            raise KeyError(run_id)
        return found

    def vehicle(self, vehicle_id: str) -> VehicleSpec | None:
        """The scenario's truck of that id (None when the scenario has no such truck)."""
        return next((v for v in self.scenario.fleet if v.id == vehicle_id), None)

    def stops(self, run: Run) -> list[Stop]:
        """The run's steps as :class:`Stop` records, with names, numbers and local times.

        Raises
        ------
        PlanError
            A step names a place the plan does not list.
        """
        tz = self.tz
        out = []
        for k, (st, number) in enumerate(zip(run.steps, stop_numbers(run), strict=True)):
            place = self.places.get(st.place)
            if place is None:
                raise PlanError(
                    f"{self.out_dir / 'plan.json'}: run {run.id}: expected places listed in "
                    f"places, found {st.place!r}"
                )
            point = self.points.get(st.place)
            out.append(
                Stop(
                    run_id=run.id,
                    index=k,
                    number=number,
                    type=st.type,
                    place=st.place,
                    name=place.name,
                    gacha=point.gacha if point else "",
                    township=point.township if point else "",
                    lon=float(place.lon),
                    lat=float(place.lat),
                    arrival=st.arrival.replace(tzinfo=tz),
                    departure=st.departure.replace(tzinfo=tz),
                    leg_km=float(st.leg_km),
                    leg_min=float(st.leg_min),
                    collected={k2: float(v) for k2, v in (st.collected or {}).items()},
                    unloaded={k2: float(v) for k2, v in (st.unloaded or {}).items()},
                    load_after={k2: float(v) for k2, v in st.load_after.items()},
                )
            )
        return out

    def tallies_of(self, run_id: str, point: str | None = None) -> list[TallyRow]:
        """Tally rows of one run (and one point)."""
        return [
            t for t in self.tallies if t.run_id == run_id and (point is None or t.point == point)
        ]

    @cached_property
    def handout_rows(self) -> list[Handout]:
        """goods.csv's rows: the ones given, else read from ``out_dir`` (none without it)."""
        return self.handouts if self.handouts is not None else read_handouts(self.out_dir)

    @cached_property
    def goods_due(self) -> dict[tuple[str, str], dict[str, list[Handout]]]:
        """``(run id, point)`` -> household -> the goods it is expected to take there."""
        out: dict[tuple[str, str], dict[str, list[Handout]]] = defaultdict(dict)
        for h in self.handout_rows:
            out[h.run_id, h.point].setdefault(h.household, []).append(h)
        return dict(out)

    @cached_property
    def points_balances(self) -> dict[tuple[str, str, str], float]:
        """``(run id, point, household)`` -> the household's points balance after that visit.

        Points earned (exchange kg and items × the category's points, tallies.csv) minus
        the points of the goods handed out (goods.csv), over the month's visits in date
        order from a balance of 0 (the money step's assumption). Empty without goods.csv.
        """
        out: dict[tuple[str, str, str], float] = {}
        if not self.goods_due:
            return out
        rates = {
            c.id: (c.exchange_points_per_kg, c.exchange_points_per_item)
            for c in self.scenario.settings.categories
        }
        delta: dict[tuple[str, str, str, str], float] = defaultdict(float)
        for t in self.tallies:
            if t.stream == "exchange" and t.category in rates:
                per = rates[t.category][1 if t.unit == "item" else 0]
                delta[t.date, t.run_id, t.point, t.household] += t.quantity * per
        for (run_id, point), per_household in self.goods_due.items():
            for hid, goods in per_household.items():
                for g in goods:
                    delta[g.date, run_id, point, hid] -= g.points
        balance: dict[str, float] = defaultdict(float)
        for key in sorted(delta):
            _, run_id, point, hid = key
            balance[hid] += delta[key]
            out[run_id, point, hid] = max(balance[hid], 0.0)
        return out

    def run_carry(self, run_id: str) -> dict[str, Any] | None:
        """The run's cash float and goods from ``summary.json`` (None without one)."""
        if not self.summary:
            return None
        for r in self.summary.get("runs", []):
            if r["run_id"] == run_id:
                return dict(r)
        return None

    @cached_property
    def road_index(self) -> tuple[Any, shapely.STRtree | None]:
        """The scenario's road lines (WGS84) and a spatial index over them (None: no roads)."""
        roads = self.scenario.roads
        if roads is None or not len(roads):
            return [], None
        geoms = np.array([g for g in roads.geometry if g is not None and not g.is_empty])
        return geoms, shapely.STRtree(geoms)

    @cached_property
    def travel(self) -> Travel:
        """The scenario's road graph, snapping and matrices (built once per bundle)."""
        from planner.network.travel import build_travel

        return build_travel(self.scenario)

    def all_leg_lines(self) -> dict[str, list[shapely.LineString]]:
        """Road lines (WGS84) of every run: run id -> one line per step after ``start``.

        All legs of the month go to the router in one call, which prepares the road
        graph once; computed on first use and kept.

        Raises
        ------
        PlanError
            A step names a place the scenario does not have.
        """
        if self._lines is not None:
            return self._lines
        from planner.network import route_geometries

        ix = self.travel.index()
        pairs: list[tuple[int, int]] = []
        for run in self.plan.runs:
            places = [st.place for st in run.steps]
            for a, b in itertools.pairwise(places):
                if a not in ix or b not in ix:
                    missing = a if a not in ix else b
                    raise PlanError(
                        f"plan.json: run {run.id}: expected a place of the scenario, "
                        f"found {missing!r}"
                    )
                pairs.append((ix[a], ix[b]))
        unique = sorted(set(pairs))
        lines = route_geometries(self.travel.graph, self.travel.snapping, unique)
        drawn = dict(zip(unique, lines, strict=True))
        out: dict[str, list[shapely.LineString]] = {}
        at = 0
        for run in self.plan.runs:
            n = max(len(run.steps) - 1, 0)
            out[run.id] = [drawn[p] for p in pairs[at : at + n]]
            at += n
        self._lines = out
        return out

    def leg_lines(self, run: Run) -> list[shapely.LineString]:
        """Per step after ``start``, the road line (WGS84) from the previous step's place."""
        return self.all_leg_lines()[run.id]

    def run_line(self, run: Run) -> shapely.LineString:
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


def _text(cell: str) -> str:
    # The money files put ' before formula-like text (CSV injection); one is taken off.
    return cell[1:] if cell.startswith("'") else cell


def read_handouts(out_dir: Path) -> list[Handout]:
    """The rows of ``out_dir/goods.csv`` (none without the file).

    Raises
    ------
    PlanError
        The file's header or a row is malformed (names the row).
    """
    path = Path(out_dir) / "goods.csv"
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in GOODS_HEADER if c not in (reader.fieldnames or [])]
        if missing:
            raise PlanError(f"{path}: expected the columns {','.join(GOODS_HEADER)}")
        for n, rec in enumerate(reader, start=2):
            try:
                rows.append(
                    Handout(
                        run_id=_text(rec["run_id"]),
                        date=_text(rec["date"]),
                        point=_text(rec["point"]),
                        household=_text(rec["household"]),
                        item=_text(rec["item"]),
                        count=int(rec["count"]),
                        points=float(rec["points"]),
                        value_cny=float(rec["value_cny"]),
                    )
                )
            except (TypeError, ValueError):
                raise PlanError(
                    f"{path}: row {n}: expected a whole count and numbers for points "
                    f"and value_cny, found {rec!r}"
                ) from None
    return rows


def read_bundle(out_dir: Path, scenario: Scenario | None = None) -> PlanBundle:
    """Read a plan folder; without ``scenario``, load the one named in ``run.json``.

    Raises
    ------
    PlanError
        A file is missing or malformed, or no scenario can be found.
    """
    from planner.scenario.load import load_scenario

    out_dir = Path(out_dir)
    plan = Plan.read(out_dir / "plan.json")
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


def refresh_money(bundle: PlanBundle) -> tuple[PlanBundle, bool]:
    """Recompute tallies.csv and summary.json when they are missing or do not match plan.json.

    A plan edited by hand (a visit moved to another truck, a stop dropped) makes the
    households' kg disagree with the stops'; the money files are then made again
    from the plan and written beside it. Returns the bundle to export and whether
    the files were remade.
    """
    from planner.money import month_money
    from planner.money.balance import balance_violations
    from planner.money.files import write_money

    plan = bundle.plan
    fresh = (
        bundle.summary is not None
        and bool(bundle.tallies or not plan.runs)
        and not balance_violations(plan, bundle.tallies)
    )
    if fresh:
        return bundle, False
    money = month_money(plan, bundle.scenario)
    write_money(bundle.out_dir, money)
    return (
        PlanBundle(
            out_dir=bundle.out_dir,
            plan=bundle.plan,
            scenario=bundle.scenario,
            tallies=list(money.tallies.rows),
            summary=money.summary,
            handouts=list(money.tallies.handouts),
        ),
        True,
    )
