"""The checks of an import: every record against the registered plans.

:class:`Reference` holds what the ledger knows (runs, stops and their planned kg,
prices and points, goods price list, households, stations and facilities), kept
between imports while the registered plans are unchanged, and turns each record
into the row to store (a tuple in :data:`ENTRY_ROW` order), or into a
:class:`~planner.ledger.errors.Problem` (an error rejects the file; a warning is
reported and recorded with it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from planner.ledger.codes import parse_household
from planner.ledger.errors import Problem
from planner.ledger.records import STREAMS, RunClose, TallyLine, natural_key
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


# The values that make two entries "the same" (the rest is bookkeeping), and the
# stored row the checks build: key, month, date, off_stop, then those values.
ENTRY_VALUES: tuple[str, ...] = (
    "run_id",
    "point_id",
    "household_id",
    "stream",
    "category",
    "grams",
    "items_milli",
    "price_fen_kg_milli",
    "cash_fen",
    "goods_item",
    "goods_qty",
    "goods_fen",
    "milli_points_earned",
    "milli_points_redeemed",
    "compost_declared",
    "note",
)
ENTRY_ROW: tuple[str, ...] = ("key", "month", "date", "off_stop", *ENTRY_VALUES)
VALUES_AT = ENTRY_ROW.index(ENTRY_VALUES[0])
EntryRow = tuple[Any, ...]
# The columns of a natural key (records.natural_key), and a stored row's values of them.
NATURAL_COLUMNS = ("run_id", "point_id", "household_id", "stream", "category", "goods_item")
natural_of = itemgetter(*(ENTRY_ROW.index(c) for c in NATURAL_COLUMNS))
_MEMO_KEY = "plan-reference"
_STREAM_IDS = {name: name for name in STREAMS}


@dataclass
class Reference:
    """What the registered plans say, as plain values, for the checks of imports.

    Read with Core selects (no ORM objects) and kept in the ledger's memo between
    imports while the ``plans`` table is unchanged: every change to runs, stops,
    households, places and prices comes with a new plan row (``register_plan``), so
    the plans' ids and hashes, read under the import's lock, say whether it is still
    true. Households, prices and places are read whole; runs (with their stops and
    planned kg) a plan at a time, when an import first names one of its runs.
    """

    version: tuple[tuple[int, str], ...] = ()
    runs: dict[str, _Run] = field(default_factory=dict)
    stops: dict[tuple[str, str], _Stop] = field(default_factory=dict)
    stops_of: dict[str, list[str]] = field(default_factory=dict)
    kg: dict[tuple[str, str, str], int] = field(default_factory=dict)
    prices: dict[tuple[int, str], _Price] = field(default_factory=dict)
    goods: dict[tuple[int, str], _Goods] = field(default_factory=dict)
    households: dict[str, _Household] = field(default_factory=dict)
    places: dict[str, _Place] = field(default_factory=dict)
    settings: dict[int, dict[str, Any]] = field(default_factory=dict)
    # per plan: kg_floor, kg_reject_factor, kg_warn_factor as floats
    kg_limits: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    # what was written in a household cell -> its household (card codes resolved once)
    codes: dict[str, _Household] = field(default_factory=dict)
    # the plans whose runs are read (all of a plan's runs at once)
    plans_read: set[int] = field(default_factory=set)

    @classmethod
    def load(
        cls,
        s: Session,
        run_ids: Iterable[str],
        memo: dict[str, Any],
        version: tuple[tuple[int, str], ...] | None = None,
    ) -> Reference:
        """The reference for an import naming ``run_ids``, from ``memo`` if still true.

        ``version``: the plans' version as read before any of this reference's reads,
        if the caller has it (the read-ahead worker reads it once). The reference is
        then labelled with it even if a plan is registered meanwhile; such a label
        is older than what was read, and the importer's comparison under the lock
        sees the difference.
        """
        version = cls.version_of(s) if version is None else version
        ref = memo.get(_MEMO_KEY)
        if not isinstance(ref, Reference) or ref.version != version:
            ref = cls(version=version)
            ref._load_plans(s)
            memo[_MEMO_KEY] = ref
        missing = sorted(set(run_ids) - ref.runs.keys())
        plan_ids: set[int] = set()
        for chunk in chunks(missing):
            q = select(RunRow.plan_id).where(RunRow.id.in_(chunk)).distinct()
            plan_ids.update(s.scalars(q))
        # every run of those plans at once: a month's files name its runs one by one
        for plan_id in sorted(plan_ids - ref.plans_read):
            ref._load_runs(s, RunRow.plan_id == plan_id)
            ref.plans_read.add(plan_id)
        return ref

    @staticmethod
    def version_of(s: Session) -> tuple[tuple[int, str], ...]:
        """The registered plans' ids and content hashes: what a reference was read from.

        Plans are only ever added, so a reference read while this stayed the same
        describes one state of the ledger.
        """
        q = select(PlanRow.id, PlanRow.content_hash).order_by(PlanRow.id)
        return tuple((int(i), str(h)) for i, h in s.execute(q))

    def _load_plans(self, s: Session) -> None:
        """Prices, goods, settings of every plan; every household and place."""
        for row in s.execute(select(*_columns(Price, _Price))):
            p = _Price(*row)
            self.prices[(p.plan_id, p.category)] = p
        for row in s.execute(select(*_columns(GoodsPrice, _Goods))):
            g = _Goods(*row)
            self.goods[(g.plan_id, g.item)] = g
        for pid, settings in s.execute(select(PlanRow.id, PlanRow.settings)):
            cfg = settings["ledger"]
            self.settings[pid] = cfg
            self.kg_limits[pid] = (
                float(cfg["kg_floor"]),
                float(cfg["kg_reject_factor"]),
                float(cfg["kg_warn_factor"]),
            )
        hq = select(*_columns(HouseholdRow, _Household))
        self.households.update((r[0], _Household(*r)) for r in s.execute(hq))
        pq = select(*_columns(PlaceRow, _Place))
        self.places.update((r[0], _Place(*r)) for r in s.execute(pq))

    def _load_runs(self, s: Session, which: ColumnElement[bool]) -> None:
        """The runs ``which`` selects (a condition on ``runs``), their stops (in order)
        and the stops' planned kg per category."""
        rq = select(*_columns(RunRow, _Run)).where(which)
        self.runs.update((r[0], _Run(*r)) for r in s.execute(rq))
        sq = select(*_columns(StopRow, _Stop)).join(RunRow, RunRow.id == StopRow.run_id)
        stops = sorted(
            (_Stop(*row) for row in s.execute(sq.where(which))),
            key=lambda st: (st.run_id, st.seq),
        )
        for st in stops:
            self.stops[(st.run_id, st.point_id)] = st
            self.stops_of.setdefault(st.run_id, []).append(st.point_id)
        kq = select(StopKg.run_id, StopKg.point_id, StopKg.category, StopKg.grams).join(
            RunRow, RunRow.id == StopKg.run_id
        )
        for run_id, point_id, category, grams in s.execute(kq.where(which)):
            self.kg[(run_id, point_id, category)] = grams

    def check_entries(
        self, source: str, entries: Sequence[tuple[int, TallyLine]]
    ) -> tuple[list[EntryRow], list[Problem]]:
        """The rows to store (:data:`ENTRY_ROW` order) and the problems, in file order."""
        problems: list[Problem] = []
        out: list[EntryRow] = []
        seen: dict[str, int] = {}
        for row, e in entries:
            rec = self._entry_row(source, row, e, problems)
            if rec is None:
                continue
            key = rec[0] or natural_of(rec)
            if key in seen:
                problems.append(
                    _problem(
                        source,
                        row,
                        "household",
                        f"one row per household, stream and category (row {seen[key]} has it)",
                        repr(e.household),
                    )
                )
                continue
            seen[key] = row
            out.append(rec)
        return out, problems

    def _entry_row(
        self, source: str, row: int, e: TallyLine, problems: list[Problem]
    ) -> EntryRow | None:
        """The row to store for one line, or None with its problem listed.

        One function on purpose: it runs for every line of a month (hundreds of
        thousands); the rare problems are built by the helpers below.
        """
        run_id, point, household, stream, category, kg = e[:6]
        _cash, goods_item, goods_qty, _points, declared, note, key = e[8:]
        run = self.runs.get(run_id)
        if run is None:
            problems.append(_unknown_run(source, row, run_id))
            return None
        stop = self.stops.get((run_id, point))
        if stop is None:
            problems.append(self._not_a_stop(source, row, run_id, point))
            return None
        # A card code (what a filled tally mostly holds) is resolved once per text.
        hh = (
            self.codes.get(household)
            or self.households.get(household)
            or self._household(source, row, household, problems)
        )
        if hh is None:
            return None
        off_stop = hh.point_id != point
        if off_stop:
            problems.append(_off_stop(source, row, point, hh))
        grams = items_milli = price_fen_kg_milli = None
        cash_fen = goods_fen = earned = redeemed = 0
        category_id = item_id = ""
        if category is not None:
            price = self.prices.get((run.plan_id, category))
            if price is None or price.stream != stream:
                problems.append(self._not_a_category(source, row, run.plan_id, stream, category))
                return None
            category_id = price.category
            if kg is not None:
                grams = round(kg * GRAMS)
                if not self._plausible(source, row, e, stop, hh, run.plan_id, problems):
                    return None
            if stream == "sell":
                price_fen_kg_milli, cash_fen, earned = _sold(source, row, e, price, problems)
            elif stream == "exchange":
                items_milli, earned = _exchanged(e, price)
        if goods_item is not None:
            g = self.goods.get((run.plan_id, goods_item))
            if g is None:
                problems.append(self._not_an_item(source, row, run.plan_id, goods_item))
                return None
            goods_fen, redeemed = _handed_out(source, row, e, g, problems)
            item_id = g.item
        if key is None or key == natural_key(
            run.id, stop.point_id, hh.id, stream, category, goods_item
        ):
            key = ""  # the natural key: the row's own columns hold it (Entry.key)
        # The reference's own strings where they are equal (run, point, household,
        # stream, category, item): a row sent to another process then pickles each
        # once per file, not once per row.
        return (
            key,
            run.month,
            run.date,
            off_stop,
            run.id,
            stop.point_id,
            hh.id,
            _STREAM_IDS[stream],
            category_id,
            grams,
            items_milli,
            price_fen_kg_milli,
            cash_fen,
            item_id,
            goods_qty or 0,
            goods_fen,
            earned,
            redeemed,
            declared,
            note,
        )

    def _household(
        self, source: str, row: int, text: str, problems: list[Problem]
    ) -> _Household | None:
        """The household a cell names that is not yet known by that text (a card code
        seen for the first time, or a typo), or None with the problem."""
        hid, why = parse_household(text, self.households)
        if hid is None:
            problems.append(
                _problem(source, row, "household", "a household id or card code of the plan", why)
            )
            return None
        hh = self.codes[text] = self.households[hid]
        return hh

    def _not_a_stop(self, source: str, row: int, run_id: str, point: str) -> Problem:
        planned = ", ".join(self.stops_of.get(run_id, [])[:8]) or "none"
        return _problem(source, row, "point", f"a stop of run {run_id} ({planned})", repr(point))

    def _not_a_category(
        self, source: str, row: int, plan_id: int, stream: str, category: str
    ) -> Problem:
        known = sorted(
            c for (p, c), pr in self.prices.items() if p == plan_id and pr.stream == stream
        )
        return _problem(
            source, row, "category", f"a {stream} category ({', '.join(known)})", repr(category)
        )

    def _not_an_item(self, source: str, row: int, plan_id: int, item: str) -> Problem:
        known = sorted(i for (p, i) in self.goods if p == plan_id)
        return _problem(
            source,
            row,
            "goods_item",
            f"an item of the price list ({', '.join(known)})",
            repr(item),
        )

    def _plausible(
        self,
        source: str,
        row: int,
        e: TallyLine,
        stop: _Stop,
        hh: _Household,
        plan_id: int,
        problems: list[Problem],
    ) -> bool:
        """False (with the error) for kg above the reject bound; a warning above the warn one."""
        kg = e.kg
        if kg is None or e.category is None:
            return True
        if e.stream == "compost":
            planned_g = stop.compost_g
        else:
            planned_g = self.kg.get((e.run_id, e.point, e.category), 0)
        share = hh.people / stop.people if stop.people else 0.0
        forecast = planned_g * share / GRAMS
        floor, reject_factor, warn_factor = self.kg_limits[plan_id]
        reject = reject_factor * forecast + floor
        warn = warn_factor * forecast + floor
        if kg > reject:
            cfg = self.settings[plan_id]
            problems.append(
                Problem(
                    source,
                    row,
                    "kg",
                    f"at most {reject:.1f} kg ({cfg['kg_reject_factor']:g} x the forecast "
                    f"{forecast:.2f} kg + {floor:g})",
                    f"{kg:g}",
                )
            )
            return False
        if kg > warn:
            problems.append(
                Problem(
                    source,
                    row,
                    "kg",
                    f"about {forecast:.2f} kg (the forecast; warning above {warn:.1f})",
                    f"{kg:g}",
                    "warning",
                )
            )
        return True

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


def check_records(
    s: Session,
    memo: dict[str, Any],
    source: str,
    entries: Sequence[tuple[int, TallyLine]],
    closes: Sequence[tuple[dict[str, int], RunClose]],
    version: tuple[tuple[int, str], ...] | None = None,
) -> tuple[tuple[tuple[int, str], ...], list[EntryRow], list[dict[str, Any]], list[Problem]]:
    """One file's (or batch's) records against the plans: the plans' version checked
    against (see :meth:`Reference.load`), the entry rows, the run closes and the problems."""
    run_ids = {e.run_id for _, e in entries} | {c.run_id for _, c in closes}
    ref = Reference.load(s, run_ids, memo, version)
    rows, problems = ref.check_entries(source, entries)
    close_rows, close_problems = ref.check_closes(source, closes)
    return ref.version, rows, close_rows, problems + close_problems


def _problem(
    source: str, row: int | None, col: str, expected: str, found: str, warn: bool = False
) -> Problem:
    return Problem(source, row, col, expected, found, "warning" if warn else "error")


def _unknown_run(source: str, row: int | None, run_id: str) -> Problem:
    expected = "a run of a registered plan (planner ledger plan DIR)"
    return _problem(source, row, "run_id", expected, repr(run_id))


def _off_stop(source: str, row: int, point: str, hh: _Household) -> Problem:
    return _problem(
        source,
        row,
        "household",
        f"a household of point {point}",
        f"{hh.id}, who belongs to point {hh.point_id}",
        warn=True,
    )


def _sold(
    source: str, row: int, e: TallyLine, price: _Price, problems: list[Problem]
) -> tuple[int, int, int]:
    """A sell line's price (milli-fen per kg), cash paid (fen) and points earned (milli)."""
    kg = e.kg or 0.0
    unit = e.price_cny_kg if e.price_cny_kg is not None else price.buy_fen_kg / FEN
    paid = e.cash_cny if e.cash_cny is not None else round(kg * unit, 2)
    if e.cash_cny is not None and abs(e.cash_cny - kg * unit) > 0.01 + 0.005 * kg:
        problems.append(
            _problem(
                source,
                row,
                "cash_cny",
                f"{kg * unit:.2f} ({kg:g} kg x {unit:g} CNY/kg)",
                f"{e.cash_cny:g}",
                warn=True,
            )
        )
    return round(unit * FEN * MILLI), round(paid * FEN), round(kg * price.milli_points_per_kg)


def _exchanged(e: TallyLine, price: _Price) -> tuple[int | None, int]:
    """An exchange line's items (milli, if counted) and points earned (milli)."""
    kg = e.kg or 0.0
    items = e.items
    if items is None and price.kg_per_item_g > 0:
        items = kg * GRAMS / price.kg_per_item_g
    pts = kg * price.milli_points_per_kg + (items or 0.0) * price.milli_points_per_item
    return (None if e.items is None else round(e.items * MILLI)), round(pts)


def _handed_out(
    source: str, row: int, e: TallyLine, g: _Goods, problems: list[Problem]
) -> tuple[int, int]:
    """Goods value (fen) and points redeemed (milli; the price list's unless written)."""
    qty = e.goods_qty or 0
    listed = qty * g.milli_points
    if e.points_redeemed is None:
        return qty * g.value_fen, listed
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
    return qty * g.value_fen, given


def _fen(x: float | None) -> int | None:
    return None if x is None else round(x * FEN)


def _m(x: float | None) -> int | None:
    return None if x is None else round(x * 1000)


def chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """``items`` in slices small enough for an ``IN (...)`` on every database."""
    return [items[i : i + size] for i in range(0, len(items), size)]
