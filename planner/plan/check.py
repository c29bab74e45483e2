"""Independent re-verification of a plan (``rural-waste-plan/1``).

:func:`check_plan` trusts nothing the solver computed: it re-derives times, loads,
distances, visit counts and totals from the plan's own steps and, when given, from
the scenario and a road-network lookup. It shares no code with the solver on
purpose — a checker that reused the solver's arithmetic would repeat its bugs.

Every finding is a :class:`Violation` with a short ``rule`` code and a sentence
naming the run, step, point or date, so that an office clerk can read it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, Protocol

from planner.plan._rules import cost_rule, stop_rules, window_rules
from planner.plan.io import PLAN_FORMAT, validate_schema
from planner.plan.model import Plan
from planner.scenario.model import Scenario
from planner.scenario.settings import VehicleSpec, minutes_of

CAPACITY_RTOL = 1e-6  # loads are floats summed step by step
COORD_TOL_DEG = 1e-5  # about a metre: coordinates written with 5+ decimals


class TravelLookup(Protocol):
    """Road distances and driving times between place ids, e.g. from the network matrices."""

    def km(self, a: str, b: str) -> float:
        """Road distance from place ``a`` to place ``b``."""
        ...

    def minutes(self, a: str, b: str, vehicle_id: str) -> float:
        """Driving time from ``a`` to ``b`` for the vehicle (its speed factor applied)."""
        ...


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    Parameters
    ----------
    run
        Id of the run concerned, or ``None`` for plan-wide findings.
    step
        Index of the step in the run's ``steps`` (0 is ``start``), or ``None``.
    rule
        Short code: ``schema``, ``format``, ``depot``, ``places``, ``vehicles``,
        ``runs``, ``time``, ``legs``, ``duration``, ``shift``, ``break``,
        ``mass_balance``, ``capacity``, ``unload_before_end``, ``window``,
        ``visits``, ``gap``, ``service_date``, ``summary``, ``service`` (minutes at a
        stop or unloading) or ``scenario``.
    message
        A plain sentence naming the run, point or date.
    """

    run: str | None
    step: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass(frozen=True)
class PlanStats:
    """Totals recomputed from the plan's runs (zeros when the plan fails the schema)."""

    runs: int = 0
    visits: int = 0
    unserved: int = 0
    distance_km: float = 0.0


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check_plan`."""

    violations: tuple[Violation, ...]
    stats: PlanStats
    not_checked: tuple[str, ...] = ()
    """What this check could not verify, and why (say, no scenario was given)."""

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return not self.violations

    @property
    def rules(self) -> frozenset[str]:
        """The codes of the rules broken."""
        return frozenset(v.rule for v in self.violations)


def check_plan(
    plan: Plan | dict[str, Any],
    scenario: Scenario | None = None,
    *,
    tolerance_min: float = 1.0,
    tolerance_km: float = 0.05,
    tolerance_load: float = 0.05,
    travel: TravelLookup | None = None,
) -> CheckReport:
    """Re-verify ``plan`` from scratch.

    Parameters
    ----------
    plan
        A plan, or a parsed plan.json document (see :func:`planner.plan.read_plan`).
        The checker reads the document as the contract defines it, not the typed
        model, so that it shares nothing with the writer.
    scenario
        The scenario it was planned for. With it the checker also recomputes the
        ``m3`` and ``hazard_kg`` loads from category densities, and checks shifts,
        lunch breaks, places, the fleet, required visits and the service dates.
    tolerance_min
        Slack on every time comparison (plan times are whole minutes).
    tolerance_km
        Slack on every distance comparison.
    tolerance_load
        Slack on every load comparison, in the dimension's unit (kg, m³).
    travel
        Road distances and times to compare each leg with.

    Returns
    -------
    CheckReport
        Every violation found. A plan of another format, or one failing the JSON
        Schema, gets only those violations: its content cannot be relied on.
    """
    if isinstance(plan, Plan):
        plan = plan.to_json_dict()
    found = plan.get("format") if isinstance(plan, dict) else type(plan).__name__
    if found != PLAN_FORMAT:
        msg = f"expected format {PLAN_FORMAT!r}, found {found!r}"
        return CheckReport((Violation(None, None, "format", msg),), PlanStats())
    errors = validate_schema(plan)
    if errors:
        schema = tuple(Violation(None, None, "schema", e) for e in errors)
        return CheckReport(schema, PlanStats())
    tol = (tolerance_min, tolerance_km, tolerance_load)
    report = _Checker(plan, scenario, tol, travel).check()
    return replace(report, not_checked=_not_checked(scenario, travel))


def _not_checked(scenario: Scenario | None, travel: TravelLookup | None) -> tuple[str, ...]:
    skipped = []
    if scenario is None:
        skipped.append(
            "the scenario's rules (shifts, lunch breaks, the fleet, required visits, service "
            "dates, windows.earliest/latest/width_min, minutes at stops, costs): no scenario"
        )
    if travel is None:
        skipped.append("leg km and minutes against the road network: no road data")
    skipped.append(
        "the kg each visit collects against the waste rates (kg_per_person_day, seasonal); "
        "only their loads, units and balance are checked"
    )
    return tuple(skipped)


def format_report(report: CheckReport, passed: str = "OK: the plan passes every check") -> str:
    """A plain-text listing of ``report``, grouped by rule, ending with a one-line verdict.

    ``passed`` opens that line when the plan passes (a caller that checks more files
    after it names the plan's file there and gives the verdict itself).
    """
    s = report.stats
    totals = f" ({s.runs} runs, {s.visits} visits, {s.unserved} unserved, {_n(s.distance_km)} km)"
    skipped = "".join(f"\n  - {s}" for s in report.not_checked)
    skipped = f"not checked:{skipped}\n" if skipped else ""
    if report.ok:
        return f"{skipped}{passed}{totals}."
    if report.rules & {"format", "schema"}:
        totals = ""  # nothing was counted
    groups: dict[str, list[Violation]] = {}
    for v in report.violations:
        groups.setdefault(v.rule, []).append(v)
    lines = []
    for rule, items in groups.items():
        lines.append(f"{rule} ({len(items)}):")
        lines.extend(f"  - {v.message}" for v in items)
    n, k = len(report.violations), len(groups)
    if skipped:
        lines.append(skipped.rstrip("\n"))
    lines.append(f"FAILED: {n} violation{'s' * (n != 1)} of {k} rule{'s' * (k != 1)}{totals}.")
    return "\n".join(lines)


class _Checker:
    """One pass over a schema-valid plan; collects violations in reading order."""

    def __init__(
        self,
        plan: dict[str, Any],
        scenario: Scenario | None,
        tol: tuple[float, float, float],
        travel: TravelLookup | None,
    ):
        self.plan, self.scenario, self.travel = plan, scenario, travel
        self.tol_min, self.tol_km, self.tol_load = tol
        self.out: list[Violation] = []
        self.rid: str | None = None  # the run being checked
        self.places = {p["id"]: p for p in plan["places"]}
        self.vehicles = {v["id"]: v for v in plan["vehicles"]}
        self.points = {p["id"]: p for p in plan["points"]}
        self.windows = {p["id"]: self._window(p) for p in plan["points"]}
        self.fleet: dict[str, VehicleSpec] = {v.id: v for v in scenario.fleet} if scenario else {}
        cats = scenario.settings.categories if scenario else ()
        self.categories = {c.id: c for c in cats}
        self.visits: dict[str, list[tuple[dt.date, str]]] = {}  # point -> (date, run id)
        self.vid = ""  # the vehicle of the run being checked
        self.distance = 0.0  # sum of every leg_km

    def add(self, rule: str, message: str, step: int | None = None) -> None:
        """Record a violation; inside a run, the message is prefixed with the run id."""
        if self.rid is not None:
            message = f"run {self.rid}: {message}"
        self.out.append(Violation(self.rid, step, rule, message))

    def check(self) -> CheckReport:
        self.check_tables()
        for run in self.plan["runs"]:
            self.rid, self.vid = run["id"], run["vehicle"]
            self.check_run(run)
        self.rid = None
        runs = self.plan["runs"]
        visits = sum(s["type"] == "collect" for r in runs for s in r["steps"])
        self.stats = PlanStats(len(runs), visits, len(self.plan["unserved"]), self.distance)
        self.check_visits()
        self.check_summary()
        if self.scenario is not None:
            self.check_scenario(self.scenario)
        return CheckReport(tuple(self.out), self.stats)

    # -- plan-wide tables -----------------------------------------------------------------

    def check_tables(self) -> None:
        plan = self.plan
        tables = (("places", "places"), ("vehicles", "vehicles"), ("points", "visits"))
        for table, rule in (*tables, ("runs", "runs")):
            for key, n in Counter(x["id"] for x in plan[table]).items():
                if n > 1:
                    self.add(rule, f"{table} lists {key} {n} times")
        for (vid, day), n in Counter((r["vehicle"], r["date"]) for r in plan["runs"]).items():
            if n > 1:
                self.add("runs", f"vehicle {vid} has {n} runs on {day}; expected one a day")
        for v in plan["vehicles"]:
            kind = self.places.get(v["depot"], {}).get("kind")
            if kind != "depot":
                what = f"a {kind}" if kind else "not in places"
                self.add("depot", f"vehicle {v['id']}: depot {v['depot']} is {what}")
        period = plan["period"]
        start, end = _date(period["start"]), _date(period["end"])
        if start is None or end is None or end < start:
            span = f"{period['start']}..{period['end']}"
            self.add("service_date", f"period {span} is not a date range")
            return
        for text in period["service_dates"]:
            day = _date(text)
            if day is None or not start <= day <= end:
                self.add("service_date", f"service date {text} is not a date of the period")

    def _window(self, point: dict[str, Any]) -> tuple[int, int] | None:
        if point["window"] is None:
            return None
        try:
            lo, hi = (minutes_of(t) for t in point["window"])
        except ValueError:
            lo, hi = 1, 0  # reported just below
        if lo > hi:
            text = "–".join(point["window"])
            self.add("window", f"point {point['id']}: window {text} is not a time range")
            return None
        return lo, hi

    # -- one run ----------------------------------------------------------------------------

    def check_run(self, run: dict[str, Any]) -> None:
        vid = run["vehicle"]
        vehicle, spec = self.vehicles.get(vid), self.fleet.get(vid)
        if vehicle is None:
            self.add("vehicles", f"vehicle {vid} is not in vehicles")
        if run["date"] not in self.plan["period"]["service_dates"]:
            self.add("service_date", f"{run['date']} is not a service date")
        self.check_ends(run["steps"], vehicle)
        self.check_legs(run)
        clock = self.check_times(run, vehicle, spec)
        self.check_loads(run["steps"], vehicle, spec)
        self.check_stops(run, clock)
        if clock is not None and spec is not None:
            self.check_shift(run["steps"], clock, spec)

    def check_ends(self, steps: list[dict[str, Any]], vehicle: dict[str, Any] | None) -> None:
        depot = vehicle["depot"] if vehicle else None
        for i, s in enumerate(steps):
            want = "start" if i == 0 else "end" if i == len(steps) - 1 else None
            kind, place = s["type"], s["place"]
            if place not in self.places:
                self.add("places", f"step {i} is at {place}, which is not in places", i)
            if want and kind != want:
                self.add("depot", f"step {i} is {kind!r}, expected {want!r}", i)
            elif not want and kind in ("start", "end"):
                self.add("depot", f"step {i} is {kind!r} inside the run", i)
            if want and depot is not None and place != depot:
                self.add("depot", f"{want}s at {place}, not at the vehicle's depot {depot}", i)

    def check_legs(self, run: dict[str, Any]) -> None:
        steps = run["steps"]
        if steps[0]["leg_km"] or steps[0]["leg_min"]:
            self.add("legs", "the start step has a leg; expected 0 km and 0 min", 0)
        for i, (prev, s) in enumerate(pairwise(steps), start=1):
            a, b = prev["place"], s["place"]
            if s["type"] == "break" and b == a:
                # A break where the truck stands: no move, no leg.
                if s["leg_km"] or s["leg_min"]:
                    self.add("break", f"the break at step {i} stays at {a} but has a leg", i)
                continue
            # A break at a new place carries the drive there (the truck drives to the
            # next stop and waits out its lunch there); the stop after it then has leg 0.
            if s["type"] == "break":
                nxt = steps[i + 1]["place"] if i + 1 < len(steps) else None
                if not (s["leg_km"] or s["leg_min"]) or nxt != b:
                    self.add("break", f"the break at step {i} moves from {a} to {b}", i)
                    continue
            if self.travel is None:
                continue
            try:
                km, mins = self.travel.km(a, b), self.travel.minutes(a, b, run["vehicle"])
            except KeyError:
                self.add("legs", f"no road data for the leg {a} → {b} of step {i}", i)
                continue
            if abs(s["leg_km"] - km) > self.tol_km:
                self.add("legs", f"leg {a} → {b} is {_n(s['leg_km'])} km, roads: {_n(km)}", i)
            if abs(s["leg_min"] - mins) > self.tol_min:
                self.add("legs", f"leg {a} → {b} is {_n(s['leg_min'])} min, roads: {_n(mins)}", i)
        total = sum(s["leg_km"] for s in steps)
        self.distance += total
        if abs(run["distance_km"] - total) > self.tol_km:
            self.add("legs", f"distance_km is {_n(run['distance_km'])}, legs sum to {_n(total)}")

    def check_times(
        self, run: dict[str, Any], vehicle: dict[str, Any] | None, spec: VehicleSpec | None
    ) -> list[tuple[float, float]] | None:
        """Arrival and departure of each step in minutes after the run date's midnight."""
        steps, tol = run["steps"], self.tol_min
        day = _date(run["date"])
        if day is None:
            self.add("time", f"date {run['date']} is not a calendar date")
            return None
        midnight = dt.datetime.combine(day, dt.time())
        clock: list[tuple[float, float]] = []
        for i, s in enumerate(steps):
            came, went = _local(s["arrival"]), _local(s["departure"])
            if came is None or went is None:
                bad = s["arrival"] if came is None else s["departure"]
                self.add("time", f"step {i} time {bad!r} is not a local YYYY-MM-DDTHH:MM", i)
                return None
            if came.date() != day or went.date() != day:
                self.add("time", f"step {i} at {s['place']} is not on the run's date {day}", i)
            clock.append(((came - midnight) / _MINUTE, (went - midnight) / _MINUTE))
        for i, (s, (arr, dep)) in enumerate(zip(steps, clock, strict=True)):
            if dep < arr - tol:
                self.add("time", f"step {i} leaves {_hm(dep)}, before it arrives {_hm(arr)}", i)
            due = clock[i - 1][1] + s["leg_min"] if i else arr
            if abs(arr - due) > tol:
                msg = (
                    f"step {i} arrives at {s['place']} at {_hm(arr)}, but leaving step {i - 1} "
                    f"at {_hm(clock[i - 1][1])} with {_n(s['leg_min'])} min to drive it arrives "
                    f"at {_hm(due)}"
                )
                self.add("time", msg, i)
        span = clock[-1][0] - clock[0][1]
        if abs(run["duration_min"] - span) > tol:
            msg = (
                f"duration_min is {_n(run['duration_min'])} but it leaves at {_hm(clock[0][1])} "
                f"and returns at {_hm(clock[-1][0])}, {_n(span)} min"
            )
            self.add("duration", msg)
        limits = [vehicle["max_duration_min"]] if vehicle else []
        limits += [spec.max_work_min] if spec else []
        if limits and span > min(limits) + tol:
            self.add("duration", f"{_n(span)} min from start to end exceeds {_n(min(limits))} min")
        return clock

    def check_shift(
        self, steps: list[dict[str, Any]], clock: list[tuple[float, float]], spec: VehicleSpec
    ) -> None:
        tol = self.tol_min
        leave, back = clock[0][1], clock[-1][0]
        if leave < minutes_of(spec.shift_start) - tol:
            self.add("shift", f"leaves at {_hm(leave)}, before the shift's {spec.shift_start}", 0)
        if back > minutes_of(spec.shift_end) + tol:
            msg = f"returns at {_hm(back)}, after the shift's end {spec.shift_end}"
            self.add("shift", msg, len(steps) - 1)
        lo, hi, need = minutes_of(spec.lunch_start), minutes_of(spec.lunch_end), spec.lunch_min
        # Lunch is owed on the road only when it fits neither before departure nor after
        # return: no start in [lo, hi] with start + need <= leave, and none >= back.
        if need <= 0 or leave >= lo + need - tol or back <= hi + tol:
            return
        for s, (arr, dep) in zip(steps, clock, strict=True):
            if s["type"] == "break" and dep - arr >= need - tol and lo - tol <= arr <= hi + tol:
                return
        msg = (
            f"out from {_hm(leave)} to {_hm(back)} without a break of {need} min "
            f"starting between {spec.lunch_start} and {spec.lunch_end}"
        )
        self.add("break", msg)

    def check_loads(
        self, steps: list[dict[str, Any]], vehicle: dict[str, Any] | None, spec: VehicleSpec | None
    ) -> None:
        tol = self.tol_load
        limits = dict(vehicle["capacity"]) if vehicle else {}
        for dim, cap in _spec_capacity(spec).items():
            limits[dim] = min(limits.get(dim, math.inf), cap)
        onboard: dict[str, float] = {}  # kg per category
        previous: dict[str, float] = {}
        over: set[str] = set()
        for i, s in enumerate(steps):
            onboard = self._step_cargo(i, s, onboard)
            claim, expect = s["load_after"], self._load_of(onboard)
            empty = not any(kg > tol for kg in onboard.values())
            for dim in limits.keys() - claim.keys():
                self.add("mass_balance", f"step {i} has no load_after {dim}", i)
            for dim, value in claim.items():
                want = expect.get(dim)
                if want is None:  # a dimension only the plan knows: check what can be
                    quiet = s["type"] in ("break", "end")
                    want = 0.0 if empty else previous.get(dim) if quiet else None
                if want is not None and abs(value - want) > tol:
                    msg = f"step {i} load_after {dim} is {_n(value)}, expected {_n(want)}"
                    self.add("mass_balance", msg, i)
            for dim, limit in limits.items():
                value = expect.get(dim, claim.get(dim, 0.0))
                if dim not in over and value > limit * (1 + CAPACITY_RTOL) + 1e-9:
                    over.add(dim)  # once per run and dimension: later steps add nothing new
                    most = f"{self.vid}'s {_n(limit)} {dim}"
                    self.add("capacity", f"load {_n(value)} {dim} after step {i} exceeds {most}", i)
            previous = claim
        if (kg := sum(onboard.values())) > tol:
            msg = f"ends with {_n(kg)} kg on board; a truck that collected unloads before the end"
            self.add("unload_before_end", msg, len(steps) - 1)

    def _step_cargo(self, i: int, s: dict[str, Any], onboard: dict[str, float]) -> dict[str, float]:
        """The kg per category on board after step ``i``: a collect adds, an unload must
        leave with what is on board and empties the truck."""
        kind, place = s["type"], s["place"]
        at = self.places.get(place, {}).get("kind")
        for field, owner in (("collected", "collect"), ("unloaded", "unload")):
            if s.get(field) and kind != owner:
                self.add("mass_balance", f"step {i} is {kind!r} but lists {field}", i)
        if kind == "collect":
            if at not in ("point", None):
                self.add("places", f"step {i} collects at {place}, a {at}", i)
            for cat, kg in (s.get("collected") or {}).items():
                self._check_category(i, cat)
                onboard[cat] = onboard.get(cat, 0.0) + kg
        elif kind == "unload":
            if at not in ("station", None):
                self.add("places", f"step {i} unloads at {place}, a {at}", i)
            left = s.get("unloaded") or {}
            for cat in sorted(set(left) | set(onboard)):
                gone, had = left.get(cat, 0.0), onboard.get(cat, 0.0)
                if abs(gone - had) > self.tol_load:
                    msg = f"step {i} unloads {_n(gone)} kg of {cat}, {_n(had)} kg on board"
                    self.add("mass_balance", msg, i)
            onboard = {}
        return onboard

    def _load_of(self, onboard: dict[str, float]) -> dict[str, float]:
        load = {"kg": sum(onboard.values())}
        if self.scenario is not None:
            known = [(self.categories[c], kg) for c, kg in onboard.items() if c in self.categories]
            load["m3"] = sum(kg / c.density_kg_m3 for c, kg in known)
            load["hazard_kg"] = sum(kg for c, kg in known if c.hazardous)
        return load

    def _check_category(self, i: int, cat: str) -> None:
        if self.scenario is None:
            return
        c = self.categories.get(cat)
        if c is None:
            self.add("mass_balance", f"step {i} collects {cat}, not a category of the scenario", i)
        elif c.stream == "compost":
            self.add("mass_balance", f"step {i} collects {cat}, which households compost", i)

    def check_stops(self, run: dict[str, Any], clock: list[tuple[float, float]] | None) -> None:
        day = _date(run["date"])
        for i, s in enumerate(run["steps"]):
            pid = s["place"]
            if s["type"] != "collect":
                continue
            if pid not in self.points:
                self.add("visits", f"step {i} collects at {pid}, which is not in points", i)
                continue
            if day is not None:
                self.visits.setdefault(pid, []).append((day, run["id"]))
            window = self.windows[pid]
            if clock is None or window is None:
                continue
            lo, hi, arr = *window, clock[i][0]
            if not lo - self.tol_min <= arr <= hi + self.tol_min:
                msg = f"arrives at {pid} at {_hm(arr)}, outside its window {_hm(lo)}–{_hm(hi)}"
                self.add("window", msg, i)

    # -- plan-wide totals -------------------------------------------------------------------

    def check_visits(self) -> None:
        missed = Counter(u["point"] for u in self.plan["unserved"])
        for pid in sorted(set(missed) - set(self.points)):
            self.add("visits", f"unserved lists point {pid}, which is not in points")
        for p in self.plan["points"]:
            pid, need, gap = p["id"], p["required_visits"], p["min_gap_days"]
            visits = sorted(self.visits.get(pid, []))
            if len(visits) + missed[pid] != need:
                made = f"{len(visits)} visit{'s' * (len(visits) != 1)}, {missed[pid]} unserved"
                msg = f"point {pid} requires {need} visits; the plan has {made}"
                self.add("visits", msg)
            for (d1, r1), (d2, r2) in pairwise(visits):
                days = (d2 - d1).days
                if days == 0:
                    self.add("gap", f"point {pid} is visited twice on {d1} (runs {r1} and {r2})")
                elif days < gap:
                    msg = f"point {pid}: visits on {d1} and {d2} are {days} days apart, not {gap}"
                    self.add("gap", msg)

    def check_summary(self) -> None:
        runs, summary, st = self.plan["runs"], self.plan["summary"], self.stats
        sums = (
            ("distance_km", sum(r["distance_km"] for r in runs), self.tol_km),
            ("duration_min", sum(r["duration_min"] for r in runs), self.tol_min),
            ("runs", st.runs, 0),
            ("visits", st.visits, 0),
            ("unserved", st.unserved, 0),
        )
        for key, value, tol in sums:
            if abs(summary[key] - value) > tol:
                self.add(
                    "summary",
                    f"summary {key} is {_n(summary[key])}, the runs add up to {_n(value)}",
                )

    # -- against the scenario ---------------------------------------------------------------

    def check_scenario(self, sc: Scenario) -> None:
        plan, month = self.plan, sc.settings.month
        if plan["scenario"] != sc.name:
            self.add("scenario", f"plan is for scenario {plan['scenario']!r}, not {sc.name!r}")
        if plan["period"]["timezone"] != month.timezone:
            zone = plan["period"]["timezone"]
            self.add("service_date", f"timezone {zone} is not the scenario's {month.timezone}")
        want, ours = [d.isoformat() for d in sc.service_dates], plan["period"]["service_dates"]
        if list(ours) != want:
            extra, lacking = sorted(set(ours) - set(want)), sorted(set(want) - set(ours))
            self.add("service_date", f"service_dates differ: extra {extra}, lacking {lacking}")
        known = {p.id: p for p in sc.places()}
        for place in plan["places"]:
            pid, lon, lat = place["id"], place["lon"], place["lat"]
            p = known.get(pid)
            if p is None:
                self.add("places", f"place {pid} is not in scenario {sc.name}")
            elif (kind := sc.place_kind(pid)) != place["kind"]:
                self.add("places", f"place {pid} is a {kind}, not a {place['kind']}")
            elif max(abs(lon - p.lon), abs(lat - p.lat)) > COORD_TOL_DEG:
                self.add("places", f"place {pid} is at ({lon}, {lat}), not ({p.lon}, {p.lat})")
        for v in plan["vehicles"]:
            self._check_vehicle(v, self.fleet.get(v["id"]))
        for run, step, rule, message in (
            *window_rules(plan, sc),
            *stop_rules(plan, sc, self.tol_min),
            *cost_rule(plan, sc),
        ):
            self.out.append(Violation(run, step, rule, message))
        for pid, need in sc.visits.items():
            if (p := self.points.get(pid)) is None:
                if need > 0:
                    self.add("visits", f"point {pid} of the scenario is not in points")
                continue
            if (found := p["required_visits"]) != need:
                self.add(
                    "visits", f"point {pid}: required_visits is {found}, the scenario's {need}"
                )
            if p["min_gap_days"] < (gap := sc.settings.visits.gap_for(need)):
                self.add(
                    "gap", f"point {pid}: min_gap_days is {p['min_gap_days']}, the scenario's {gap}"
                )

    def _check_vehicle(self, v: dict[str, Any], spec: VehicleSpec | None) -> None:
        vid = v["id"]
        if spec is None:
            self.add("vehicles", f"vehicle {vid} is not in the scenario's fleet")
            return
        if v["depot"] != spec.depot:
            self.add("vehicles", f"vehicle {vid} starts at {v['depot']}, not at {spec.depot}")
        for dim, limit in _spec_capacity(spec).items():
            found = v["capacity"].get(dim)
            # A plan may leave a dimension out; the fleet's limit still applies to it.
            if found is not None and abs(found - limit) > CAPACITY_RTOL * max(limit, 1.0):
                msg = f"vehicle {vid} capacity {dim} is {_n(found)}, the fleet's is {_n(limit)}"
                self.add("vehicles", msg)
        if (most := v["max_duration_min"]) > spec.max_work_min + self.tol_min:
            msg = f"vehicle {vid} max_duration_min is {_n(most)}, the fleet's {spec.max_work_min}"
            self.add("vehicles", msg)


def _spec_capacity(spec: VehicleSpec | None) -> dict[str, float]:
    """A fleet vehicle's limits by plan dimension (no hazard locker: 0 kg hazardous)."""
    if spec is None:
        return {}
    return {"kg": spec.payload_kg, "m3": spec.box_m3, "hazard_kg": spec.hazard_kg}


_MINUTE = dt.timedelta(minutes=1)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _local(text: str) -> dt.datetime | None:
    """A local (offset-free) time, or ``None``."""
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is None else None


def _hm(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def _n(x: float) -> str:
    """A number for messages: ``2634.0`` -> ``2,634``, ``12.5`` -> ``12.5``."""
    return f"{x:,.3f}".rstrip("0").rstrip(".")
