"""Synthetic filled tallies for a plan: the whole loop without real data.

:func:`simulate_month` draws what "really" happened on every run of a plan from a
:class:`Truth` — per township and category multipliers on the forecast, a
household-size effect, a seasonal swing, absences, how often a household hands
in a category, noise — and returns the filled tally rows and run closes, with a
few faults of the kinds the office meets (:data:`FAULTS`): a skipped stop, a
mistyped household id, a price typo, cash, goods, weigh-ticket and hazardous
delivery mismatches. Every row says ``synthetic`` in its note and the folder gets
a ``SYNTHETIC.md`` and ``faults.json``.

A forecaster can simulate a history whose truth differs from the scenario's
assumptions by passing its own :class:`Truth`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from planner._atomic import write_json_atomic, write_text_atomic
from planner.ledger.codes import household_code
from planner.ledger.forms import write_csv
from planner.ledger.plans import PlanSource
from planner.ledger.tallyfile import CLOSE_COLUMNS, TALLY_COLUMNS
from planner.money.exchange import hand_out

FAULTS = (
    "skipped_stop",
    "mistyped_household",
    "price_typo",
    "cash_mismatch",
    "goods_mismatch",
    "weigh_ticket_low",
    "hazardous_undelivered",
)
LABEL = "synthetic"


@dataclass(frozen=True)
class Truth:
    """What really happens, relative to the scenario's forecast.

    Attributes
    ----------
    township_factor, category_factor
        Multipliers on the forecast kg by township name and by category id (1 if absent).
    size_elasticity
        kg per person scale with (people / mean people) ** size_elasticity: negative
        when larger households waste less per person.
    seasonal_amplitude, seasonal_peak_month
        An extra swing ``1 + a cos(2 pi (month - peak) / 12)`` on top of the scenario's.
    absence_rate
        Chance a household is not there when the truck comes.
    handin_rate
        Chance a present household hands in a category at a visit (it keeps the rest
        for later, so what it does hand in is larger).
    noise_cv
        Coefficient of variation of the kg handed in (lognormal).
    redeem_rate
        Chance a household with enough points takes goods.
    faults
        Inject one of each of :data:`FAULTS`.
    """

    township_factor: Mapping[str, float] = field(default_factory=dict)
    category_factor: Mapping[str, float] = field(default_factory=dict)
    size_elasticity: float = 0.0
    seasonal_amplitude: float = 0.0
    seasonal_peak_month: int = 7
    absence_rate: float = 0.08
    handin_rate: float = 0.6
    noise_cv: float = 0.35
    redeem_rate: float = 0.8
    faults: bool = True

    def __post_init__(self) -> None:
        for name in ("absence_rate", "redeem_rate"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"Truth.{name}: expected 0..1, found {v}")
        if not 0 < self.handin_rate <= 1:
            raise ValueError(f"Truth.handin_rate: expected > 0 and <= 1, found {self.handin_rate}")
        if self.noise_cv < 0:
            raise ValueError(f"Truth.noise_cv: expected >= 0, found {self.noise_cv}")


@dataclass
class SimulatedMonth:
    """Filled tally rows and close rows per run, and the faults injected."""

    tallies: dict[str, list[dict[str, str]]]
    closes: dict[str, list[dict[str, str]]]
    faults: list[dict[str, Any]]
    seed: int
    truth: Truth


def simulate_month(
    source: PlanSource,
    truth: Truth | None = None,
    *,
    seed: int = 0,
    balances: Mapping[str, float] | None = None,
) -> SimulatedMonth:
    """Draw the month's actuals for every run of ``source``'s plan (seeded)."""
    truth = truth or Truth()
    rng = np.random.default_rng(seed)
    draw = _Draw(source, truth, rng, defaultdict(float, balances or {}))
    forecast: dict[tuple[str, str], dict[str, dict[str, float]]] = defaultdict(dict)
    for t in source.forecast.rows:
        if t.unit == "kg":
            forecast[(t.run_id, t.point)].setdefault(t.household, {})[t.category] = t.quantity

    faults: list[dict[str, Any]] = []
    runs = sorted(source.plan.runs, key=lambda r: (r.date, r.id))
    collect_runs = [r for r in runs if r.collects]
    skip: tuple[str, str] | None = None
    if truth.faults and collect_runs:
        r = collect_runs[int(rng.integers(len(collect_runs)))]
        skip = (r.id, r.collects[int(rng.integers(len(r.collects)))].place)
        faults.append({"fault": "skipped_stop", "run_id": skip[0], "point": skip[1]})

    tallies: dict[str, list[dict[str, str]]] = {}
    for run in runs:
        rows: list[dict[str, str]] = []
        seen: set[str] = set()
        for stop_no, st in enumerate(run.collects, start=1):
            if st.place in seen or (run.id, st.place) == skip:
                continue
            seen.add(st.place)
            for hid, per_cat in forecast.get((run.id, st.place), {}).items():
                rows += draw.household_visit(run, stop_no, st.place, hid, per_cat)
        tallies[run.id] = rows
    if truth.faults:
        _mistype(rng, tallies, draw.households, faults)
        _price_typo(rng, tallies, draw.cats, draw.paid, faults)
    closes = {
        run.id: _close(
            source, run.id, rng, draw.paid[run.id], draw.handed[run.id], draw.kg_run[run.id]
        )
        for run in runs
    }
    if truth.faults and collect_runs:
        plants = {p.id for p in source.plan.places if p.kind == "plant"}
        _close_faults(rng, [r.id for r in collect_runs], closes, faults, plants)
    return SimulatedMonth(tallies, closes, faults, seed, truth)


class _Draw:
    """The month's draws, household by household, with the running sums the run
    closes need (cash paid, goods handed, kg sold and exchanged per run)."""

    def __init__(
        self,
        source: PlanSource,
        truth: Truth,
        rng: np.random.Generator,
        balance: dict[str, float],
    ) -> None:
        sc = source.scenario
        self.truth, self.rng, self.balance = truth, rng, balance
        self.cats = {c.id: c for c in sc.settings.categories}
        self.goods = list(sc.settings.goods)
        self.township = {p.id: p.township for p in sc.points}
        self.households = {h.id: h for h in sc.households}
        self.mean_people = (
            float(np.mean([h.people for h in sc.households])) if sc.households else 1.0
        )
        month = int(source.month[5:7])
        self.season = 1 + truth.seasonal_amplitude * math.cos(
            2 * math.pi * (month - truth.seasonal_peak_month) / 12
        )
        self.sigma = math.sqrt(math.log(1 + truth.noise_cv**2))
        self.last_item: dict[str, int] = {}
        self.paid: dict[str, float] = defaultdict(float)
        self.handed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.kg_run: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def household_visit(
        self, run: Any, stop_no: int, place: str, hid: str, per_cat: dict[str, float]
    ) -> list[dict[str, str]]:
        """One household's rows at one stop: nothing if absent, else what it hands in
        per category and the goods it takes for its points."""
        truth, rng = self.truth, self.rng
        if rng.random() < truth.absence_rate:
            return []
        tf = truth.township_factor.get(self.township.get(place, ""), 1.0)
        size = (self.households[hid].people / self.mean_people) ** truth.size_elasticity
        base = {
            "run_id": run.id,
            "date": run.date.isoformat(),
            "stop": str(stop_no),
            "point": place,
            "household": household_code(hid),
            "note": LABEL,
        }
        rows: list[dict[str, str]] = []
        earned = 0.0
        for cid, f in per_cat.items():
            row, points = self._category_row(base, run.id, cid, f, tf, size)
            if row is not None:
                rows.append(row)
                earned += points
        self.balance[hid] += earned
        if self.goods and rng.random() < truth.redeem_rate:
            given, self.balance[hid], self.last_item[hid] = hand_out(
                self.goods, self.balance[hid], self.last_item.get(hid, -1)
            )
            for g, n in given:
                rows.append(base | {"stream": "exchange", "goods_item": g.id, "goods_qty": str(n)})
                self.handed[run.id][g.id] += n
        return rows

    def _category_row(
        self, base: dict[str, str], run_id: str, cid: str, f: float, tf: float, size: float
    ) -> tuple[dict[str, str] | None, float]:
        """The row for one category (None if not handed in) and the points it earns;
        ``f`` is the forecast kg, ``tf`` and ``size`` the township and household-size
        effects."""
        truth, rng = self.truth, self.rng
        c = self.cats[cid]
        if c.stream == "compost":
            declared = "yes" if rng.random() < 0.9 else "no"
            return base | {"stream": "compost", "category": cid, "compost_declared": declared}, 0.0
        if rng.random() >= truth.handin_rate:
            return None, 0.0
        mean = f * tf * truth.category_factor.get(cid, 1.0) * size * self.season
        sigma = self.sigma
        kg = round(mean / truth.handin_rate * rng.lognormal(-(sigma**2) / 2, sigma), 1)
        if kg <= 0:
            return None, 0.0
        row = base | {"stream": c.stream, "category": cid, "kg": f"{kg:.1f}"}
        if c.stream == "sell":
            cash = round(kg * c.buy_price_cny_kg, 2)
            row |= {"price_cny_kg": f"{c.buy_price_cny_kg:g}", "cash_cny": f"{cash:.2f}"}
            self.paid[run_id] += cash
            self.kg_run[run_id][0] += kg
            return row, 0.0
        items = kg / c.kg_per_item if c.kg_per_item > 0 else 0.0
        if c.kg_per_item > 0:
            row["items"] = str(max(1, round(items)))
        self.kg_run[run_id][1] += kg
        return row, kg * c.exchange_points_per_kg + items * c.exchange_points_per_item


def _mistype(
    rng: np.random.Generator,
    tallies: dict[str, list[dict[str, str]]],
    households: Mapping[str, Any],
    faults: list[dict[str, Any]],
) -> None:
    """Write one household visit under another household's id (a typed id, no check)."""
    runs = [r for r, rows in tallies.items() if rows]
    if not runs:
        return
    run_id = runs[int(rng.integers(len(runs)))]
    rows = tallies[run_id]
    victim = rows[int(rng.integers(len(rows)))]
    code, point = victim["household"], victim["point"]
    hid = code.rpartition("-")[0]
    wrong = None
    digits = list(hid)
    for i in range(len(digits) - 1, 0, -1):
        swapped = digits.copy()
        swapped[i - 1], swapped[i] = swapped[i], swapped[i - 1]
        cand = "".join(swapped)
        if cand != hid and cand in households and households[cand].point != point:
            wrong = cand
            break
    if wrong is None:
        others = sorted(h for h, rec in households.items() if rec.point != point)
        if not others:
            return
        wrong = others[int(rng.integers(len(others)))]
    for r in rows:
        if r["household"] == code and r["point"] == point:
            r["household"] = wrong
    faults.append(
        {
            "fault": "mistyped_household",
            "run_id": run_id,
            "point": point,
            "household": hid,
            "written": wrong,
        }
    )


def _price_typo(
    rng: np.random.Generator,
    tallies: dict[str, list[dict[str, str]]],
    cats: Mapping[str, Any],
    paid: dict[str, float],
    faults: list[dict[str, Any]],
) -> None:
    """One sell line paid at ten times the price (the driver's typo, and the cash with it)."""
    cands = [
        (run_id, k)
        for run_id, rows in sorted(tallies.items())
        for k, r in enumerate(rows)
        if r.get("stream") == "sell" and float(r.get("kg", 0) or 0) >= 1
    ]
    if not cands:
        return
    run_id, k = cands[int(rng.integers(len(cands)))]
    r = tallies[run_id][k]
    price = cats[r["category"]].buy_price_cny_kg * 10
    kg = float(r["kg"])
    old = float(r["cash_cny"])
    r["price_cny_kg"] = f"{price:g}"
    r["cash_cny"] = f"{kg * price:.2f}"
    paid[run_id] += round(kg * price, 2) - old
    faults.append(
        {
            "fault": "price_typo",
            "run_id": run_id,
            "point": r["point"],
            "household": r["household"].rpartition("-")[0] or r["household"],
            "category": r["category"],
            "price_cny_kg": price,
        }
    )


def _close(
    source: PlanSource,
    run_id: str,
    rng: np.random.Generator,
    paid: float,
    handed: Mapping[str, int],
    kg: list[float],
) -> list[dict[str, str]]:
    from planner.ledger.forms import close_form_rows

    plants = {p.id for p in source.plan.places if p.kind == "plant"}
    run = source.plan.run(run_id)
    rows = close_form_rows(source, run_id)
    planned_float = float(source.carry.get(run_id, {}).get("cash_float_cny", 0.0))
    out_cash = max(planned_float, math.ceil(paid / 50) * 50)
    start = float(rng.integers(20_000, 90_000))
    dist = float(run.distance_km) if run else 0.0
    unload_total = sum(float(r["planned"] or 0) for r in rows if r["field"] == "weigh_ticket_kg")
    loaded: dict[str, int] = {}
    for r in rows:
        f, ref = r["field"], r["ref"]
        if f == "cash_float_out_cny":
            v = f"{out_cash:.2f}"
        elif f == "cash_returned_cny":
            v = f"{out_cash - paid:.2f}"
        elif f == "odometer_start_km":
            v = f"{start:.0f}"
        elif f == "odometer_end_km":
            v = f"{start + dist * rng.uniform(0.98, 1.06):.0f}"
        elif f == "goods_loaded":
            loaded[ref] = max(int(r["planned"] or 0), handed.get(ref, 0))
            v = str(loaded[ref])
        elif f == "goods_returned":
            v = str(loaded.get(ref, 0) - handed.get(ref, 0))
        elif f == "weigh_ticket_kg":
            share = float(r["planned"] or 0) / unload_total if unload_total else 0.0
            v = f"{sum(kg) * share * (1 + rng.normal(0, 0.005)):.1f}"
            r["ticket"] = f"W{int(rng.integers(10_000, 99_999))}"
        else:  # delivered_kg: the buyer gets what was sold, the plant the hazardous kg
            q = kg[1] if r["ref"] in plants else kg[0]
            v = f"{q * (1 + rng.normal(0, 0.002)):.1f}"
        r["value"] = v
        r["note"] = LABEL
    for item, n in handed.items():  # goods handed that the plan did not expect
        if item not in loaded:
            rows.append(
                {
                    "run_id": run_id,
                    "field": "goods_loaded",
                    "ref": item,
                    "value": str(n),
                    "note": LABEL,
                }
            )
            rows.append(
                {
                    "run_id": run_id,
                    "field": "goods_returned",
                    "ref": item,
                    "value": "0",
                    "note": LABEL,
                }
            )
    return rows


def _close_faults(
    rng: np.random.Generator,
    run_ids: list[str],
    closes: dict[str, list[dict[str, str]]],
    faults: list[dict[str, Any]],
    plants: set[str],
) -> None:
    order = [run_ids[int(i)] for i in rng.permutation(len(run_ids))]
    used: set[str] = set()

    def pick(want: str, ok: Any) -> tuple[str, dict[str, str]] | None:
        for run_id in order:
            if run_id in used:
                continue
            for r in closes[run_id]:
                if r["field"] == want and r.get("value") and ok(r):
                    used.add(run_id)
                    return run_id, r
        return None

    got = pick("cash_returned_cny", lambda r: float(r["value"]) >= 50)
    if got:
        got[1]["value"] = f"{float(got[1]['value']) - 50:.2f}"
        faults.append({"fault": "cash_mismatch", "run_id": got[0], "missing_cny": 50})
    got = pick("goods_returned", lambda r: int(r["value"]) >= 2)
    if got:
        got[1]["value"] = str(int(got[1]["value"]) - 2)
        faults.append(
            {"fault": "goods_mismatch", "run_id": got[0], "item": got[1]["ref"], "missing": 2}
        )
    got = pick("weigh_ticket_kg", lambda r: float(r["value"]) >= 300)
    if got:
        got[1]["value"] = f"{float(got[1]['value']) * 0.8:.1f}"
        faults.append({"fault": "weigh_ticket_low", "run_id": got[0], "station": got[1]["ref"]})
    got = pick("delivered_kg", lambda r: r["ref"] in plants and float(r["value"]) >= 5)
    if got:
        got[1]["value"] = f"{float(got[1]['value']) * 0.5:.1f}"
        faults.append(
            {"fault": "hazardous_undelivered", "run_id": got[0], "facility": got[1]["ref"]}
        )


def write_simulation(sim: SimulatedMonth, out_dir: Path) -> list[Path]:
    """Write ``<run>.tally.csv``/``<run>.close.csv`` per run, faults.json and SYNTHETIC.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for run_id in sorted(sim.tallies):
        t = out_dir / f"{run_id}.tally.csv"
        c = out_dir / f"{run_id}.close.csv"
        write_csv(t, TALLY_COLUMNS, sim.tallies[run_id])
        write_csv(c, CLOSE_COLUMNS, sim.closes[run_id])
        made += [t, c]
    doc = {
        "synthetic": True,
        "seed": sim.seed,
        "truth": json.loads(json.dumps(dataclasses.asdict(sim.truth), default=dict)),
        "faults": sim.faults,
    }
    write_json_atomic(out_dir / "faults.json", doc)
    lines = [
        "# SYNTHETIC tallies — not real data",
        "",
        f"Made by `planner ledger simulate` (seed {sim.seed}) from the plan's forecast with",
        "noise, absences and these deliberate faults (also in faults.json):",
        "",
        *[
            f"- {f['fault']}: " + ", ".join(f"{k}={v}" for k, v in f.items() if k != "fault")
            for f in sim.faults
        ],
        "",
    ]
    write_text_atomic(out_dir / "SYNTHETIC.md", "\n".join(lines))
    return [*made, out_dir / "faults.json", out_dir / "SYNTHETIC.md"]
