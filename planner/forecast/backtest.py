"""The backtest: simulated history → throw-away ledger → forecast → compared with the truth.

1. The scenario's month is planned once on its assumptions (or a given plan is used).
2. For each of the ``months`` before it, that plan's runs are moved to the month
   (same day of the month; a 31st is dropped in a 30-day month), their expected kg
   recomputed with that month's seasonal factors, and the month's actuals drawn by
   the ledger's :func:`~planner.ledger.simulate.simulate_month` from a
   :class:`~planner.ledger.simulate.Truth` that differs from the scenario (by
   township and category, household size, a seasonal swing, absences). Each month
   is registered and imported into a throw-away SQLite ledger.
3. The forecast is read back from the ledger (:mod:`reader`), fitted and made for
   the scenario's month; the same truth draws that month's actuals on the plan's
   stops: per-stop kg WAPE (assumptions vs forecast), coverage of the 90 % interval,
   cash-per-run WAPE.
4. Consequences: the assumption plan's runs against the truth (a run whose true
   load exceeds a capacity before it reaches a station: an unplanned trip; cash or
   goods that run out), then the same for a plan made on the forecast (re-planned
   with ``--demand ledger``; its truth drawn on its own stops).

Moving one plan's stops from month to month instead of planning each history month
is sound for the forecast: the estimator sees only household, point, date (for the
month) and days since the previous visit, and the truth depends on nothing else;
which truck came, and in what order, does not change what a household hands in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.forecast.demand import LedgerDemand, run_stops
from planner.forecast.estimate import TOTAL, fit_rates
from planner.forecast.predict import Forecast, forecast_month, gamma_intervals, month_first
from planner.forecast.reader import read_observations
from planner.money.carry import run_carry
from planner.money.tallies import household_tallies
from planner.plan.model import Plan
from planner.scenario.model import Scenario
from planner.scenario.waste import LoadModel, collected_categories, point_daily_kg

if TYPE_CHECKING:
    from planner.ledger.db import Ledger
    from planner.ledger.plans import PlanSource
    from planner.ledger.simulate import SimulatedMonth, Truth


def default_truth(scenario: Scenario) -> Truth:
    """The backtest's truth: townships 0.65–1.45 in turn, batteries +40 %, glass −30 %,
    per-person rates falling with household size, a ±15 % swing peaking in July."""
    from planner.ledger.simulate import Truth

    towns = sorted({p.township for p in scenario.points})
    cycle = (1.35, 0.7, 1.15, 0.8, 1.45, 0.65)
    return Truth(
        township_factor={t: cycle[i % len(cycle)] for i, t in enumerate(towns)},
        category_factor={"batteries": 1.4, "glass": 0.7, "paper": 1.2},
        size_elasticity=-0.3,
        seasonal_amplitude=0.15,
        seasonal_peak_month=7,
        absence_rate=0.1,
        faults=False,
    )


def month_scenario(scenario: Scenario, month: str) -> Scenario:
    """``scenario`` with its planning month set to ``month`` (``YYYY-MM``)."""
    s = scenario.settings
    settings = s.model_copy(update={"month": s.month.model_copy(update={"month": month})})
    return dataclasses.replace(scenario, settings=settings)


def shift_month(month: str, back: int) -> str:
    d = month_first(month)
    k = d.year * 12 + d.month - 1 - back
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def moved_plan(
    plan: Plan, scenario: Scenario, month: str, previous: Mapping[str, dt.date] | None = None
) -> Plan:
    """``plan``'s runs moved to ``month``, with the expected kg of that month's assumptions."""
    first = plan.period.start
    new_first = month_first(month)
    sc = month_scenario(scenario, month)
    last = sc.settings.month.last_day

    def move(d: dt.date) -> dt.date:
        return new_first + (d - first)

    runs = []
    for r in plan.runs:
        day = move(r.date)
        if day > last:
            continue
        delta = dt.datetime.combine(day, dt.time()) - dt.datetime.combine(r.date, dt.time())
        steps = tuple(
            st.model_copy(update={"arrival": st.arrival + delta, "departure": st.departure + delta})
            for st in r.steps
        )
        runs.append(
            r.model_copy(
                update={
                    "id": r.id.replace(r.date.isoformat(), day.isoformat()),
                    "date": day,
                    "steps": steps,
                }
            )
        )
    period = plan.period.model_copy(
        update={
            "start": new_first,
            "end": last,
            "service_dates": tuple(move(d) for d in plan.period.service_dates if move(d) <= last),
        }
    )
    moved = plan.model_copy(update={"runs": tuple(runs), "period": period, "unserved": ()})
    return assumption_plan(moved, sc, previous)


def assumption_plan(
    plan: Plan, scenario: Scenario, previous: Mapping[str, dt.date] | None = None
) -> Plan:
    """``plan`` with every stop's ``collected`` kg as the scenario's waste model expects
    over the days since the point's previous visit (``previous``: its last one before)."""
    daily = point_daily_kg(scenario)
    days = stop_days(plan, scenario, previous)
    runs = []
    for r in plan.runs:
        steps = []
        for st in r.steps:
            if st.type == "collect":
                n = days[(r.id, st.place)]
                kg = {c: round(v * n, 3) for c, v in daily[st.place].items()}
                st = st.model_copy(update={"collected": kg})
            steps.append(st)
        runs.append(r.model_copy(update={"steps": tuple(steps)}))
    return plan.model_copy(update={"runs": tuple(runs), "demand": None})


def stop_days(
    plan: Plan, scenario: Scenario, previous: Mapping[str, dt.date] | None = None
) -> dict[tuple[str, str], float]:
    """Days of waste each stop ``(run, point)`` of ``plan`` collects."""
    stops = run_stops(plan, scenario, previous)
    return {(rid, p): d for rid, st in stops.items() for p, d in st}


def last_visits(plan: Plan) -> dict[str, dt.date]:
    """Each point's last visit in ``plan``."""
    out: dict[str, dt.date] = {}
    for run, st in plan.collect_steps():
        out[st.place] = max(out.get(st.place, run.date), run.date)
    return out


def plan_source(plan: Plan, scenario: Scenario, folder: Path) -> PlanSource:
    """The ledger's view of ``plan`` (written to ``folder``) for registering and simulating."""
    from planner.ledger.plans import PlanSource

    folder.mkdir(parents=True, exist_ok=True)
    plan.write(folder / "plan.json")
    import hashlib

    sha = hashlib.sha256((folder / "plan.json").read_bytes()).hexdigest()
    return PlanSource(folder, plan, scenario, sha)


@dataclasses.dataclass(frozen=True)
class Actuals:
    """What the truth did at each stop and run of a plan."""

    stop_kg: Mapping[tuple[str, str], dict[str, float]]
    run_cash: Mapping[str, float]
    run_goods: Mapping[str, dict[str, int]]


def draw_actuals(source: PlanSource, truth: Truth, seed: int) -> tuple[Actuals, SimulatedMonth]:
    """The ledger's simulation of ``source``'s month: per stop kg, per run cash and goods."""
    from planner.ledger.simulate import simulate_month

    sim = simulate_month(source, truth, seed=seed)
    kg: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cash: dict[str, float] = defaultdict(float)
    goods: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rid, rows in sim.tallies.items():
        for row in rows:
            if row.get("kg") and row["stream"] in ("sell", "exchange"):
                kg[(rid, row["point"])][row["category"]] += float(row["kg"])
            if row.get("cash_cny"):
                cash[rid] += float(row["cash_cny"])
            if row.get("goods_qty"):
                goods[rid][row["goods_item"]] += int(row["goods_qty"])
    return Actuals(kg, cash, goods), sim


def import_month(ledger: Ledger, source: PlanSource, sim: SimulatedMonth, folder: Path) -> None:
    """Register ``source``'s plan and import the simulated month as one tally file."""
    from planner.ledger.forms import write_csv
    from planner.ledger.importer import import_file
    from planner.ledger.plans import register_plan
    from planner.ledger.tallyfile import TALLY_COLUMNS

    register_plan(ledger, source, who="backtest")
    # Compost lines are left out: the forecast does not use them, and they are a
    # third of a month's rows (a household that hands in nothing else is absent).
    rows = [
        row for rid in sorted(sim.tallies) for row in sim.tallies[rid] if row["stream"] != "compost"
    ]
    path = folder / f"{source.month}.tally.csv"
    write_csv(path, TALLY_COLUMNS, rows)
    import_file(ledger, path, who="backtest")


def backtest(
    scenario: Scenario,
    *,
    months: int = 3,
    seed: int = 0,
    plan: Plan | None = None,
    time_limit: float = 10.0,
    replan: bool = True,
    truth: Truth | None = None,
    workdir: Path | None = None,
    headroom: str = "tangent",
) -> dict[str, Any]:
    """Run the backtest (see the module docstring); the figures as one JSON-able dict.

    ``headroom``: how the plan on the forecast keeps room for its spread
    (:data:`planner.forecast.headroom.METHODS`, or ``"none"``: the means as they are).
    """
    from planner.ledger.db import open_ledger

    t0 = time.monotonic()
    truth = truth or default_truth(scenario)
    with tempfile.TemporaryDirectory(prefix="planner-backtest-") as tmp:
        work = Path(workdir or tmp)
        timings: dict[str, float] = {}
        if plan is None:
            plan = _plan(scenario, work / "plan-assumptions", time_limit, seed, None)
        timings["plan_assumptions_s"] = time.monotonic() - t0
        target = scenario.settings.month.month
        ledger = open_ledger(f"sqlite:///{work / 'ledger.sqlite'}")
        last: dict[str, dt.date] = {}
        try:
            for k in range(months, 0, -1):
                month = shift_month(target, k)
                sc_m = month_scenario(scenario, month)
                moved = moved_plan(plan, scenario, month, last)
                last.update(last_visits(moved))
                src = plan_source(moved, sc_m, work / month)
                _, sim = draw_actuals(src, truth, seed * 1000 + k)
                import_month(ledger, src, sim, work / month)
            timings["history_s"] = time.monotonic() - t0 - sum(timings.values())
            obs = read_observations(ledger, scenario, before=target)
        finally:
            ledger.close()
        model = fit_rates(obs, scenario)
        fc = forecast_month(model, scenario, target)
        timings["forecast_s"] = time.monotonic() - t0 - sum(timings.values())
        base = assumption_plan(plan, scenario, last)
        actual, _ = draw_actuals(plan_source(base, scenario, work / "truth"), truth, seed * 1000)
        result = _scores(fc, scenario, base, actual, last)
        before = consequences(base, scenario, actual, _carry(base, scenario))
        after = None
        if replan:
            demand = LedgerDemand(fc, scenario, last, headroom)
            p1 = _plan(scenario, work / "plan-ledger", time_limit, seed, demand)
            p1a = assumption_plan(p1, scenario, last)
            act1, _ = draw_actuals(
                plan_source(p1a, scenario, work / "truth-ledger"), truth, seed * 1000
            )
            after = consequences(p1, scenario, act1, _carry(p1, scenario))
        timings["consequences_s"] = time.monotonic() - t0 - sum(timings.values())
    result.update(
        {
            "scenario": scenario.name,
            "month": target,
            "months": months,
            "seed": seed,
            "headroom": headroom,
            "history": {"months": list(model.months), "visits": model.visits, "rows": model.rows},
            "truth": _truth_doc(truth),
            "consequences": {"before": before, "after": after},
            "seconds": {k: round(v, 1) for k, v in timings.items()}
            | {"total": round(time.monotonic() - t0, 1)},
        }
    )
    return result


def _plan(
    scenario: Scenario, out: Path, time_limit: float, seed: int, demand: LedgerDemand | None
) -> Plan:
    from planner.app.pipeline import plan_month

    return plan_month(scenario, out, time_limit=time_limit, seed=seed, demand=demand).plan


def _carry(plan: Plan, scenario: Scenario) -> dict[str, dict[str, Any]]:
    return {c["run_id"]: c for c in run_carry(plan, scenario, household_tallies(plan, scenario))}


def _truth_doc(truth: Truth) -> dict[str, Any]:
    doc = dataclasses.asdict(truth)
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in doc.items()}


def wape(forecast: np.ndarray, truth: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |f − t| / sum t."""
    total = float(np.sum(truth))
    return float(np.sum(np.abs(forecast - truth)) / total) if total > 0 else 0.0


def _scores(
    fc: Forecast,
    scenario: Scenario,
    plan: Plan,
    actual: Actuals,
    previous: Mapping[str, dt.date],
) -> dict[str, Any]:
    cats = fc.categories
    days = stop_days(plan, scenario, previous)
    assumed, mean, var, truth = [], [], [], []
    run_truth, run_assumed, run_fc = [], [], []
    prices = {c.id: c.buy_price_cny_kg for c in scenario.settings.categories}
    for r in plan.runs:
        ra = rf = 0.0
        for st in r.collects:
            n = days[(r.id, st.place)]
            rates = fc.rates[st.place]
            assumed.append(sum(float(v) for v in (st.collected or {}).values()))
            mean.append(sum(rates[c].mean for c in cats) * n)
            var.append(rates[TOTAL].visit_moments(n)[1])
            truth.append(sum(actual.stop_kg.get((r.id, st.place), {}).values()))
            ra += sum(float(v) * prices.get(c, 0.0) for c, v in (st.collected or {}).items())
            rf += rates["cash_cny"].mean * n
        if r.collects:
            run_truth.append(actual.run_cash.get(r.id, 0.0))
            run_assumed.append(ra)
            run_fc.append(rf)
    y = np.array(truth)
    lo, hi = gamma_intervals(np.array(mean), np.array(var), 0.9)
    wa, wf = wape(np.array(assumed), y), wape(np.array(mean), y)
    ct, ca, cf = np.array(run_truth), np.array(run_assumed), np.array(run_fc)
    return {
        "stops": len(y),
        "wape_assumptions": round(wa, 4),
        "wape_forecast": round(wf, 4),
        "wape_reduction": round(1 - wf / wa, 4) if wa > 0 else None,
        "coverage_90": round(float(np.mean((y >= lo) & (y <= hi))), 4) if len(y) else None,
        "cash_per_run": {
            "runs": len(ct),
            "wape_assumptions": round(wape(ca, ct), 4),
            "wape_forecast": round(wape(cf, ct), 4),
        },
    }


def consequences(
    plan: Plan, scenario: Scenario, actual: Actuals, carry: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """Runs whose true load exceeds a capacity before a station, or whose cash/goods run out.

    ``goods_short``: the goods' value handed out exceeds the value loaded;
    ``goods_item_short``: some item runs out (households take items in catalogue
    order, which no forecast of value sees).
    """
    model = LoadModel(collected_categories(scenario))
    fleet = {v.id: v for v in scenario.settings.fleet}
    value = {g.id: g.value_cny for g in scenario.settings.goods}
    over = cash_short = goods_short = item_short = 0
    for r in plan.runs:
        if not r.collects:
            continue
        v = fleet[r.vehicle]
        cap = {"kg": v.payload_kg, "m3": v.box_m3, "hazard_kg": v.hazard_kg}
        load = dict.fromkeys(cap, 0.0)
        exceeded = False
        for st in r.steps:
            if st.type == "unload":
                load = dict.fromkeys(cap, 0.0)
            elif st.type == "collect":
                add = model.load(actual.stop_kg.get((r.id, st.place), {}))
                load = {d: load[d] + add[d] for d in cap}
                exceeded |= any(load[d] > cap[d] + 1e-9 for d in cap if cap[d] > 0)
        over += exceeded
        c = carry.get(r.id, {})
        cash_short += actual.run_cash.get(r.id, 0.0) > float(c.get("cash_float_cny", 0.0)) + 1e-9
        loaded = {g["item"]: int(g["load"]) for g in c.get("goods", [])}
        handed = actual.run_goods.get(r.id, {})
        need = sum(n * value.get(i, 0.0) for i, n in handed.items())
        goods_short += need > float(c.get("goods_value_cny", 0.0)) + 1e-9
        item_short += any(n > loaded.get(i, 0) for i, n in handed.items())
    runs = sum(1 for r in plan.runs if r.collects)
    cash_total = sum(float(c.get("cash_float_cny", 0.0)) for c in carry.values())
    return {
        "runs": runs,
        "overloaded": over,
        "cash_short": cash_short,
        "goods_short": goods_short,
        "goods_item_short": item_short,
        "cash_float_cny": round(cash_total, 2),
        "cost_cny": plan.summary.cost_cny,
    }
