"""What the ledger knows before anything is recorded: the plans and their scenarios.

:func:`load_plan` reads a plan folder (``plan.json`` through the typed
:class:`~planner.plan.model.Plan`, the scenario named in ``run.json`` or given) and
computes the month's forecast once (:func:`planner.money.tallies.household_tallies`):
per household and visit, what it is expected to sell, exchange and compost.

:func:`register_plan` stores in the ledger what later imports are checked against:
places (with gacha and township), households, runs, their stops with the planned
kg, cash, goods, points and compost, and the scenario's prices and points. It is
idempotent (a plan already registered is recognised by its content hash).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from planner._errors import PlanError, ScenarioError
from planner.ledger.db import Ledger
from planner.ledger.errors import LedgerError
from planner.ledger.schema import (
    FEN,
    GRAMS,
    MILLI,
    GoodsPrice,
    HouseholdRow,
    PlaceRow,
    PlanRow,
    Price,
    RunGoods,
    RunRow,
    RunUnload,
    StopKg,
    StopRow,
)
from planner.ledger.schema import table as sa_table
from planner.money.carry import run_carry
from planner.money.tallies import MonthTallies, household_tallies
from planner.plan.io import read_run_record
from planner.plan.model import Plan
from planner.scenario.model import Scenario


@dataclass(frozen=True)
class PlanSource:
    """A plan folder read with its scenario."""

    plan_dir: Path
    plan: Plan
    scenario: Scenario
    plan_sha256: str
    # The money step's tallies when the caller already has them (the exporters do).
    tallies: MonthTallies | None = None

    @property
    def content_hash(self) -> str:
        """Identifies this plan with this scenario (plan.json bytes + scenario files)."""
        h = hashlib.sha256(self.plan_sha256.encode())
        h.update(self.scenario.content_hash.encode())
        return h.hexdigest()

    @property
    def month(self) -> str:
        return self.scenario.settings.month.month

    @cached_property
    def forecast(self) -> MonthTallies:
        """Every household's expected tally at every visit (the money step's)."""
        if self.tallies is not None:
            return self.tallies
        return household_tallies(self.plan, self.scenario)

    @cached_property
    def carry(self) -> dict[str, dict[str, Any]]:
        """Per run: the planned cash float and goods to load."""
        return {r["run_id"]: r for r in run_carry(self.plan, self.scenario, self.forecast)}


def load_plan(plan_dir: Path, scenario: Path | Scenario | None = None) -> PlanSource:
    """Read ``plan_dir/plan.json`` and its scenario.

    Raises
    ------
    LedgerError
        The plan or the scenario cannot be read (the message says which and why).
    """
    from planner.scenario.load import load_scenario

    plan_dir = Path(plan_dir)
    path = plan_dir / "plan.json" if plan_dir.is_dir() else plan_dir
    folder = path.parent
    try:
        raw = path.read_bytes()
        plan = Plan.read(path)
        if scenario is None:
            record = read_run_record(folder)
            if record is None:
                raise LedgerError(
                    f"{folder / 'run.json'}: expected the run record naming the scenario "
                    "file; give the scenario with --scenario"
                )
            scenario = record[0]
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(Path(scenario))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the plan ({exc.strerror})") from None
    except (PlanError, ScenarioError) as exc:
        raise LedgerError(str(exc)) from None
    if sc.settings.name != plan.scenario:
        raise LedgerError(
            f"{path}: expected a plan of scenario {sc.settings.name!r}, found {plan.scenario!r}"
        )
    return PlanSource(folder, plan, sc, hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class Registered:
    """What :func:`register_plan` did."""

    plan_id: int
    new: bool
    month: str
    runs: int
    stops: int
    households: int


def register_plan(ledger: Ledger, source: PlanSource, *, who: str = "") -> Registered:
    """Store the plan's runs, stops, households and prices (once; idempotent)."""
    sc = source.scenario
    with ledger.begin() as s:
        known = s.scalars(
            select(PlanRow).where(PlanRow.content_hash == source.content_hash)
        ).first()
        if known is not None:
            n_runs = len(source.plan.runs)
            n_stops = sum(len(r.collects) for r in source.plan.runs)
            return Registered(known.id, False, known.month, n_runs, n_stops, len(sc.households))
        row = PlanRow(
            content_hash=source.content_hash,
            scenario=sc.settings.name,
            month=source.month,
            registered_at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            registered_by=who or "",
            settings=_settings_snapshot(sc),
        )
        s.add(row)
        s.flush()
        pid = row.id
        s.add_all(_prices(pid, sc))
        _upsert(s, PlaceRow, _places(source))
        _upsert(s, HouseholdRow, _households(sc))
        runs, stops, kgs, goods, unloads = _runs(pid, source)
        run_ids = [r["id"] for r in runs]
        for table in (StopKg, StopRow, RunGoods, RunUnload):
            for chunk in _chunks(run_ids):
                s.execute(delete(table).where(table.run_id.in_(chunk)))
        _upsert(s, RunRow, runs)
        for table, rows in (
            (StopRow, stops),
            (StopKg, kgs),
            (RunGoods, goods),
            (RunUnload, unloads),
        ):
            if rows:
                s.execute(sa_table(table).insert(), rows)
        return Registered(pid, True, source.month, len(runs), len(stops), len(sc.households))


def _settings_snapshot(sc: Scenario) -> dict[str, Any]:
    st = sc.settings
    return {
        "scenario": st.name,
        "month": st.month.month,
        "ledger": st.ledger.model_dump(mode="json"),
        "fee_per_gacha_year_cny": st.budget.fee_per_gacha_year_cny,
        "reward_fund_cny": st.budget.reward_fund_cny,
    }


def _prices(pid: int, sc: Scenario) -> list[Any]:
    ppk = sc.settings.ledger.points_per_kg
    out: list[Any] = []
    for c in sc.settings.categories:
        pts = c.exchange_points_per_kg if c.stream == "exchange" else ppk.get(c.id, 0.0)
        out.append(
            Price(
                plan_id=pid,
                category=c.id,
                name=c.name,
                stream=c.stream,
                buy_fen_kg=round(c.buy_price_cny_kg * FEN),
                resale_fen_kg=round(c.resale_price_cny_kg * FEN),
                milli_points_per_kg=round(pts * MILLI),
                kg_per_item_g=round(c.kg_per_item * GRAMS),
                milli_points_per_item=round(c.exchange_points_per_item * MILLI),
                hazardous=c.hazardous,
            )
        )
    for g in sc.settings.goods:
        out.append(
            GoodsPrice(
                plan_id=pid,
                item=g.id,
                name=g.name,
                unit=g.unit,
                milli_points=round(g.points * MILLI),
                value_fen=round(g.value_cny * FEN),
            )
        )
    return out


def _places(source: PlanSource) -> list[dict[str, Any]]:
    points = {p.id: p for p in source.scenario.points}
    out = []
    for pl in source.plan.places:
        pt = points.get(pl.id)
        out.append(
            {
                "id": pl.id,
                "name": pl.name,
                "kind": pl.kind,
                "gacha_code": pt.gacha_code if pt else "",
                "gacha": pt.gacha if pt else "",
                "township_code": pt.township_code if pt else "",
                "township": pt.township if pt else "",
            }
        )
    seen = {p["id"] for p in out}
    for pt in source.scenario.points:
        if pt.id not in seen:
            out.append(
                {
                    "id": pt.id,
                    "name": pt.name,
                    "kind": "point",
                    "gacha_code": pt.gacha_code,
                    "gacha": pt.gacha,
                    "township_code": pt.township_code,
                    "township": pt.township,
                }
            )
    return out


def _households(sc: Scenario) -> list[dict[str, Any]]:
    return [
        {"id": h.id, "point_id": h.point, "people": h.people, "name": h.name} for h in sc.households
    ]


def _runs(pid: int, source: PlanSource) -> tuple[list[dict[str, Any]], ...]:
    sc = source.scenario
    fleet = {v.id: v for v in sc.settings.fleet}
    cats = {c.id: c for c in sc.settings.categories}
    ppk = sc.settings.ledger.points_per_kg
    people: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for h in sc.households:
        people[h.point] += h.people
        count[h.point] += 1
    money: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for t in source.forecast.rows:
        m = money[(t.run_id, t.point)]
        cat = cats.get(t.category)
        if t.stream == "sell":
            m[0] += t.value_cny
            m[2] += t.quantity * ppk.get(t.category, 0.0)
        elif t.stream == "compost":
            m[3] += t.quantity
        elif cat is not None:
            per = cat.exchange_points_per_kg if t.unit == "kg" else cat.exchange_points_per_item
            m[2] += t.quantity * per
    for ho in source.forecast.handouts:
        money[(ho.run_id, ho.point)][1] += ho.value_cny
        money[(ho.run_id, ho.point)][4] += ho.points
    runs, stops, kgs, goods, unloads = [], [], [], [], []
    for run in source.plan.runs:
        spec = fleet.get(run.vehicle)
        carry = source.carry.get(run.id, {})
        runs.append(
            {
                "id": run.id,
                "plan_id": pid,
                "month": run.date.strftime("%Y-%m"),
                "date": run.date,
                "vehicle": run.vehicle,
                "distance_m": round(float(run.distance_km) * 1000),
                "duration_min": round(float(run.duration_min)),
                "fuel_fen": round((spec.cost_per_km if spec else 0) * float(run.distance_km) * FEN),
                "driver_fen": round(
                    (spec.cost_per_hour if spec else 0) * float(run.duration_min) / 60 * FEN
                ),
                "cash_float_fen": round(float(carry.get("cash_float_cny", 0.0)) * FEN),
            }
        )
        for line in carry.get("goods", []):
            goods.append(
                {
                    "run_id": run.id,
                    "item": line["item"],
                    "expected": line["expected"],
                    "load": line["load"],
                }
            )
        unloaded: dict[str, float] = defaultdict(float)
        seen: set[str] = set()
        for seq, st in enumerate(run.steps):
            if st.type == "unload":
                unloaded[st.place] += float(sum((st.unloaded or {}).values()))
            if st.type != "collect" or st.place in seen:
                continue
            seen.add(st.place)
            m = money[(run.id, st.place)]
            stops.append(
                {
                    "run_id": run.id,
                    "point_id": st.place,
                    "seq": seq,
                    "arrival": st.arrival.strftime("%Y-%m-%dT%H:%M"),
                    "households": count[st.place],
                    "people": people[st.place],
                    "cash_fen": round(m[0] * FEN),
                    "goods_fen": round(m[1] * FEN),
                    "milli_points": round(m[2] * MILLI),
                    "milli_points_redeemed": round(m[4] * MILLI),
                    "compost_g": round(m[3] * GRAMS),
                }
            )
            for cid, kg in sorted((st.collected or {}).items()):
                kgs.append(
                    {
                        "run_id": run.id,
                        "point_id": st.place,
                        "category": cid,
                        "grams": round(float(kg) * GRAMS),
                    }
                )
        for station, kg in sorted(unloaded.items()):
            unloads.append({"run_id": run.id, "station": station, "grams": round(kg * GRAMS)})
    return runs, stops, kgs, goods, unloads


def _upsert(s: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose id is new; update those whose values changed."""
    if not rows:
        return
    cols = [c.name for c in table.__table__.columns]
    have: dict[str, tuple[Any, ...]] = {}
    ids = [r["id"] for r in rows]
    for chunk in _chunks(ids):
        for rec in s.execute(select(*[getattr(table, c) for c in cols]).where(table.id.in_(chunk))):
            have[rec[0]] = tuple(rec)
    new = [r for r in rows if r["id"] not in have]
    changed = [r for r in rows if r["id"] in have and tuple(r[c] for c in cols) != have[r["id"]]]
    if new:
        s.execute(sa_table(table).insert(), new)
    if changed:
        s.execute(update(table), changed)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
