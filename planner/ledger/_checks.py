"""The checks of an import: every record against the registered plans.

:class:`Reference` loads, for the runs a file names, what the ledger knows (runs,
stops and their planned kg, prices and points, goods price list, households,
stations and facilities) and turns each record into the row to store, or into a
:class:`~planner.ledger.errors.Problem` (an error rejects the file; a warning is
reported and recorded with it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.ledger.codes import parse_household
from planner.ledger.errors import Problem
from planner.ledger.records import RunClose, TallyEntry
from planner.ledger.schema import (
    FEN,
    GRAMS,
    MILLI,
    GoodsPrice,
    HouseholdRow,
    PlaceRow,
    PlanRow,
    Price,
    RunRow,
    StopKg,
    StopRow,
)


@dataclass(frozen=True, slots=True)
class _Run:
    id: str
    plan_id: int
    month: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class _Stop:
    run_id: str
    point_id: str
    seq: int
    people: int
    compost_g: int


@dataclass(frozen=True, slots=True)
class _Household:
    id: str
    point_id: str
    people: int


@dataclass(frozen=True, slots=True)
class _Price:
    plan_id: int
    category: str
    stream: str
    buy_fen_kg: int
    milli_points_per_kg: int
    kg_per_item_g: int
    milli_points_per_item: int


@dataclass(frozen=True, slots=True)
class _Goods:
    plan_id: int
    item: str
    name: str
    milli_points: int
    value_fen: int


@dataclass(frozen=True, slots=True)
class _Place:
    id: str
    kind: str


def _columns(model: Any, light: type) -> list[Any]:
    """The columns of ``model`` that the light row ``light`` holds, in its field order."""
    return [getattr(model, f.name) for f in fields(light)]


@dataclass
class Reference:
    """What the ledger knows about the runs of one import, as plain values.

    Read with Core selects (no ORM objects): an import checks a thousand or more rows
    against these per file, and attribute reads on mapped objects cost more than the
    checks themselves.
    """

    runs: dict[str, _Run] = field(default_factory=dict)
    stops: dict[tuple[str, str], _Stop] = field(default_factory=dict)
    stops_of: dict[str, list[str]] = field(default_factory=dict)
    kg: dict[tuple[str, str, str], int] = field(default_factory=dict)
    prices: dict[tuple[int, str], _Price] = field(default_factory=dict)
    goods: dict[tuple[int, str], _Goods] = field(default_factory=dict)
    households: dict[str, _Household] = field(default_factory=dict)
    places: dict[str, _Place] = field(default_factory=dict)
    settings: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        s: Session,
        entries: Iterable[tuple[int, TallyEntry]],
        closes: Iterable[tuple[Any, RunClose]],
    ) -> Reference:
        ref = cls()
        entries = list(entries)
        closes = list(closes)
        run_ids = sorted({e.run_id for _, e in entries} | {c.run_id for _, c in closes})
        for chunk in chunks(run_ids):
            ref._load_runs(s, chunk)
        for (run, point), _st in sorted(ref.stops.items(), key=lambda x: (x[0][0], x[1].seq)):
            ref.stops_of.setdefault(run, []).append(point)
        plans = sorted({r.plan_id for r in ref.runs.values()})
        for row in s.execute(select(*_columns(Price, _Price)).where(Price.plan_id.in_(plans))):
            p = _Price(*row)
            ref.prices[(p.plan_id, p.category)] = p
        gq = select(*_columns(GoodsPrice, _Goods)).where(GoodsPrice.plan_id.in_(plans))
        for row in s.execute(gq):
            g = _Goods(*row)
            ref.goods[(g.plan_id, g.item)] = g
        for pid, settings in s.execute(
            select(PlanRow.id, PlanRow.settings).where(PlanRow.id.in_(plans))
        ):
            ref.settings[pid] = settings["ledger"]
        names = {e.household for _, e in entries}
        names |= {n.rpartition("-")[0] for n in names if "-" in n}
        for chunk in chunks(sorted(names)):
            q = select(*_columns(HouseholdRow, _Household)).where(HouseholdRow.id.in_(chunk))
            ref.households.update((r[0], _Household(*r)) for r in s.execute(q))
        refs = {t.station for _, c in closes for t in c.weigh_tickets}
        refs |= {d.facility for _, c in closes for d in c.deliveries}
        for chunk in chunks(sorted(refs)):
            pq = select(*_columns(PlaceRow, _Place)).where(PlaceRow.id.in_(chunk))
            ref.places.update((r[0], _Place(*r)) for r in s.execute(pq))
        return ref

    def _load_runs(self, s: Session, chunk: Sequence[str]) -> None:
        """Runs, their stops and the stops' planned kg per category."""
        rq = select(*_columns(RunRow, _Run)).where(RunRow.id.in_(chunk))
        self.runs.update((r[0], _Run(*r)) for r in s.execute(rq))
        sq = select(*_columns(StopRow, _Stop)).where(StopRow.run_id.in_(chunk))
        for row in s.execute(sq):
            st = _Stop(*row)
            self.stops[(st.run_id, st.point_id)] = st
        kq = select(StopKg.run_id, StopKg.point_id, StopKg.category, StopKg.grams)
        for run_id, point_id, category, grams in s.execute(kq.where(StopKg.run_id.in_(chunk))):
            self.kg[(run_id, point_id, category)] = grams

    def check_entries(
        self, source: str, entries: Sequence[tuple[int, TallyEntry]]
    ) -> tuple[list[dict[str, Any]], list[Problem]]:
        problems: list[Problem] = []
        out: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for row, e in entries:
            rec = self._entry_record(source, row, e, problems)
            if rec is None:
                continue
            rec["key"] = _entry_key(e, rec["household_id"])
            if rec["key"] in seen:
                problems.append(
                    _problem(
                        source,
                        row,
                        "household",
                        f"one row per household, stream and category (row {seen[rec['key']]} "
                        "has it)",
                        repr(e.household),
                    )
                )
                continue
            seen[rec["key"]] = row
            out.append(rec)
        return out, problems

    def _entry_record(
        self, source: str, row: int, e: TallyEntry, problems: list[Problem]
    ) -> dict[str, Any] | None:
        """The row to store for one tally record, or None with its problem listed."""
        found = self._resolve(source, row, e, problems)
        if found is None:
            return None
        run, stop, hh = found
        rec = _base_record(e, run, hh)
        if e.category is not None and not self._add_category(
            rec, source, row, e, run, stop, hh, problems
        ):
            return None
        if e.goods_item is not None and not self._add_goods(rec, source, row, e, run, problems):
            return None
        return rec

    def _resolve(
        self, source: str, row: int, e: TallyEntry, problems: list[Problem]
    ) -> tuple[_Run, _Stop, _Household] | None:
        """The record's run, stop and household; a household off its stop is a warning."""
        run = self.runs.get(e.run_id)
        if run is None:
            problems.append(
                _problem(
                    source,
                    row,
                    "run_id",
                    "a run of a registered plan (planner ledger plan DIR)",
                    repr(e.run_id),
                )
            )
            return None
        stop = self.stops.get((e.run_id, e.point))
        if stop is None:
            planned = ", ".join(self.stops_of.get(e.run_id, [])[:8]) or "none"
            problems.append(
                _problem(
                    source, row, "point", f"a stop of run {e.run_id} ({planned})", repr(e.point)
                )
            )
            return None
        hid, why = parse_household(e.household, self.households)
        if hid is None:
            problems.append(
                _problem(source, row, "household", "a household id or card code of the plan", why)
            )
            return None
        hh = self.households[hid]
        if hh.point_id != e.point:
            problems.append(
                _problem(
                    source,
                    row,
                    "household",
                    f"a household of point {e.point}",
                    f"{hid}, who belongs to point {hh.point_id}",
                    warn=True,
                )
            )
        return run, stop, hh

    def _add_category(
        self,
        rec: dict[str, Any],
        source: str,
        row: int,
        e: TallyEntry,
        run: _Run,
        stop: _Stop,
        hh: _Household,
        problems: list[Problem],
    ) -> bool:
        """Grams, price, cash and points earned for a record with a category."""
        price = self.prices.get((run.plan_id, e.category or ""))
        if price is None or price.stream != e.stream:
            known = sorted(
                c
                for (p, c), pr in self.prices.items()
                if p == run.plan_id and pr.stream == e.stream
            )
            problems.append(
                _problem(
                    source,
                    row,
                    "category",
                    f"a {e.stream} category ({', '.join(known)})",
                    repr(e.category),
                )
            )
            return False
        if e.kg is not None:
            rec["grams"] = round(e.kg * GRAMS)
            cfg = self.settings[run.plan_id]
            if not self._plausible(source, row, e, stop, hh, cfg, problems):
                return False
        self._money(rec, e, price, source, row, problems)
        return True

    def _add_goods(
        self,
        rec: dict[str, Any],
        source: str,
        row: int,
        e: TallyEntry,
        run: _Run,
        problems: list[Problem],
    ) -> bool:
        """Goods value and points redeemed (the price list's unless the record says)."""
        g = self.goods.get((run.plan_id, e.goods_item or ""))
        if g is None:
            known = sorted(i for (p, i) in self.goods if p == run.plan_id)
            problems.append(
                _problem(
                    source,
                    row,
                    "goods_item",
                    f"an item of the price list ({', '.join(known)})",
                    repr(e.goods_item),
                )
            )
            return False
        qty = e.goods_qty or 0
        rec["goods_fen"] = qty * g.value_fen
        listed = qty * g.milli_points
        if e.points_redeemed is not None:
            given = round(e.points_redeemed * MILLI)
            if given != listed:
                problems.append(
                    _problem(
                        source,
                        row,
                        "points_redeemed",
                        f"{listed / MILLI:g} points for {qty} {g.name} (the price list)",
                        f"{e.points_redeemed:g}",
                        warn=True,
                    )
                )
            listed = given
        rec["milli_points_redeemed"] = listed
        return True

    def _plausible(
        self,
        source: str,
        row: int,
        e: TallyEntry,
        stop: _Stop,
        hh: _Household,
        cfg: dict[str, Any],
        problems: list[Problem],
    ) -> bool:
        if e.kg is None or e.category is None:
            return True
        if e.stream == "compost":
            planned_g = stop.compost_g
        else:
            planned_g = self.kg.get((e.run_id, e.point, e.category), 0)
        share = hh.people / stop.people if stop.people else 0.0
        forecast = planned_g * share / GRAMS
        floor = float(cfg["kg_floor"])
        reject = float(cfg["kg_reject_factor"]) * forecast + floor
        warn = float(cfg["kg_warn_factor"]) * forecast + floor
        if e.kg > reject:
            problems.append(
                Problem(
                    source,
                    row,
                    "kg",
                    f"at most {reject:.1f} kg ({cfg['kg_reject_factor']:g} x the forecast "
                    f"{forecast:.2f} kg + {floor:g})",
                    f"{e.kg:g}",
                )
            )
            return False
        if e.kg > warn:
            problems.append(
                Problem(
                    source,
                    row,
                    "kg",
                    f"about {forecast:.2f} kg (the forecast; warning above {warn:.1f})",
                    f"{e.kg:g}",
                    "warning",
                )
            )
        return True

    def _money(
        self,
        rec: dict[str, Any],
        e: TallyEntry,
        price: _Price,
        source: str,
        row: int,
        problems: list[Problem],
    ) -> None:
        kg = e.kg or 0.0
        if e.stream == "sell":
            unit = e.price_cny_kg if e.price_cny_kg is not None else price.buy_fen_kg / FEN
            rec["price_fen_kg_milli"] = round(unit * FEN * MILLI)
            paid = e.cash_cny if e.cash_cny is not None else round(kg * unit, 2)
            if e.cash_cny is not None and abs(e.cash_cny - kg * unit) > 0.01 + 0.005 * kg:
                problems.append(
                    Problem(
                        source,
                        row,
                        "cash_cny",
                        f"{kg * unit:.2f} ({kg:g} kg x {unit:g} CNY/kg)",
                        f"{e.cash_cny:g}",
                        "warning",
                    )
                )
            rec["cash_fen"] = round(paid * FEN)
            rec["milli_points_earned"] = round(kg * price.milli_points_per_kg)
        elif e.stream == "exchange":
            if e.items is not None:
                rec["items_milli"] = round(e.items * MILLI)
            items = e.items
            if items is None and price.kg_per_item_g > 0:
                items = kg * GRAMS / price.kg_per_item_g
            pts = kg * price.milli_points_per_kg + (items or 0.0) * price.milli_points_per_item
            rec["milli_points_earned"] = round(pts)

    def check_closes(
        self, source: str, closes: Sequence[tuple[dict[str, int], RunClose]]
    ) -> tuple[list[dict[str, Any]], list[Problem]]:
        problems: list[Problem] = []
        out = []
        for where, c in closes:
            row = min(where.values()) if where else None
            run = self.runs.get(c.run_id)
            if run is None:
                problems.append(
                    Problem(
                        source,
                        row,
                        "run_id",
                        "a run of a registered plan (planner ledger plan DIR)",
                        repr(c.run_id),
                    )
                )
                continue
            found = self._close_ref_problems(source, where, c, run)
            problems += found
            if found:
                continue
            values = {
                "cash_out_fen": _fen(c.cash_float_out_cny),
                "cash_returned_fen": _fen(c.cash_returned_cny),
                "odometer_start_m": _m(c.odometer_start_km),
                "odometer_end_m": _m(c.odometer_end_km),
                "note": c.note,
            }
            goods = [{"item": g.item, "loaded": g.loaded, "returned": g.returned} for g in c.goods]
            tickets = [
                {"station": t.station, "grams": round(t.kg * GRAMS), "ticket": t.ticket}
                for t in c.weigh_tickets
            ]
            deliveries = [
                {"facility": d.facility, "grams": round(d.kg * GRAMS), "ticket": d.ticket}
                for d in c.deliveries
            ]
            doc = {
                "run_id": c.run_id,
                **values,
                "goods": sorted([g["item"], g["loaded"], g["returned"]] for g in goods),
                "tickets": sorted([t["station"], t["grams"], t["ticket"]] for t in tickets),
                "deliveries": sorted([d["facility"], d["grams"], d["ticket"]] for d in deliveries),
            }
            out.append(
                {
                    "key": c.close_key,
                    "run_id": c.run_id,
                    "month": run.month,
                    "values": values,
                    "goods": goods,
                    "tickets": tickets,
                    "deliveries": deliveries,
                    "doc": doc,
                }
            )
        return out, problems

    def _close_ref_problems(
        self, source: str, where: dict[str, int], c: RunClose, run: _Run
    ) -> list[Problem]:
        """Goods items, stations and facilities a run close names that the plan lacks."""
        problems: list[Problem] = []
        for g in c.goods:
            if (run.plan_id, g.item) not in self.goods:
                r = where.get(f"goods_loaded:{g.item}", where.get(f"goods_returned:{g.item}"))
                problems.append(
                    _problem(source, r, "ref", "an item of the price list", repr(g.item))
                )
        places = [
            (t.station, "weigh_ticket_kg", ("station",), "a transfer station of the plan")
            for t in c.weigh_tickets
        ] + [
            (d.facility, "delivered_kg", ("buyer", "plant"), "the buyer or the plant of the plan")
            for d in c.deliveries
        ]
        for place_id, field_name, kinds, expected in places:
            place = self.places.get(place_id)
            if place is None or place.kind not in kinds:
                at = where.get(f"{field_name}:{place_id}")
                problems.append(_problem(source, at, "ref", expected, repr(place_id)))
        return problems


def _problem(
    source: str, row: int | None, col: str, expected: str, found: str, warn: bool = False
) -> Problem:
    return Problem(source, row, col, expected, found, "warning" if warn else "error")


def _base_record(e: TallyEntry, run: _Run, hh: _Household) -> dict[str, Any]:
    """The row to store before prices and goods are applied."""
    return {
        "run_id": e.run_id,
        "point_id": e.point,
        "household_id": hh.id,
        "month": run.month,
        "date": run.date,
        "stream": e.stream,
        "category": e.category or "",
        "grams": None,
        "items_milli": None,
        "price_fen_kg_milli": None,
        "cash_fen": 0,
        "goods_item": e.goods_item or "",
        "goods_qty": e.goods_qty or 0,
        "goods_fen": 0,
        "milli_points_earned": 0,
        "milli_points_redeemed": 0,
        "compost_declared": e.compost_declared,
        "off_stop": hh.point_id != e.point,
        "note": e.note,
    }


def _entry_key(e: TallyEntry, household_id: str) -> str:
    if e.key is not None:
        return e.key
    return "|".join(
        (e.run_id, e.point, household_id, e.stream, e.category or "", e.goods_item or "")
    )


def _fen(x: float | None) -> int | None:
    return None if x is None else round(x * FEN)


def _m(x: float | None) -> int | None:
    return None if x is None else round(x * 1000)


def chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """``items`` in slices small enough for an ``IN (...)`` on every database."""
    return [items[i : i + size] for i in range(0, len(items), size)]
