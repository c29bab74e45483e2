"""The plan as typed, frozen models that read and write exactly ``rural-waste-plan/1``.

``plan.schema.json`` (the public contract) stays the definition of the format; these
models are its Python face, so that money, the checker, exports, the ledger and the
web views share one validated object instead of passing dicts around. Field names
are the contract's; fields a future writer adds are kept as they are (``extra``) and
written back after the known ones.

Numbers keep the type they were read or built with (``Num``), so a plan read and
written again is byte-identical (a test round-trips every plan the tests produce).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

from planner._atomic import atomic_writer
from planner._errors import PlanError

PLAN_FORMAT = "rural-waste-plan/1"

# int where the writer wrote an int, float where it wrote a float (smart-mode union).
Num = int | float
PlaceKind = Literal["depot", "point", "station", "buyer", "plant"]
StepType = Literal["start", "collect", "unload", "break", "end"]


def _stamp(value: dt.datetime) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M"
    return value.strftime(fmt)


# Local time of the plan's zone, written as ``YYYY-MM-DDTHH:MM`` (the contract's form).
LocalTime = Annotated[dt.datetime, PlainSerializer(_stamp, return_type=str)]
Date = Annotated[dt.date, PlainSerializer(dt.date.isoformat, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class Period(_Model):
    start: Date
    end: Date
    timezone: str = Field(min_length=1)
    service_dates: tuple[Date, ...]


class Place(_Model):
    id: str = Field(min_length=1)
    name: str
    kind: PlaceKind
    lon: Num = Field(ge=-180, le=180)
    lat: Num = Field(ge=-90, le=90)


class Vehicle(_Model):
    id: str = Field(min_length=1)
    depot: str
    capacity: dict[str, Num]
    max_duration_min: Num


class PointPlan(_Model):
    """A collection point's month: its visits, their minimum gap and the announced window."""

    id: str
    required_visits: int = Field(ge=0)
    min_gap_days: int = Field(ge=0)
    window: tuple[str, str] | None

    @property
    def window_min(self) -> tuple[int, int] | None:
        """The announced window in minutes from midnight, or None."""
        if self.window is None:
            return None
        return _hhmm_minutes(self.window[0]), _hhmm_minutes(self.window[1])


class Step(_Model):
    """What a truck does at one place: ``start``, ``collect``, ``unload``, ``break``, ``end``."""

    type: StepType
    place: str
    arrival: LocalTime
    departure: LocalTime
    leg_km: Num = Field(ge=0)
    leg_min: Num = Field(ge=0)
    collected: dict[str, Num] | None = None
    unloaded: dict[str, Num] | None = None
    load_after: dict[str, Num]

    @property
    def arrival_min(self) -> int:
        """Arrival in minutes from midnight of the run's date."""
        return self.arrival.hour * 60 + self.arrival.minute

    @property
    def departure_min(self) -> int:
        return self.departure.hour * 60 + self.departure.minute

    @property
    def collected_kg(self) -> float:
        return float(sum((self.collected or {}).values()))


class Run(_Model):
    """One truck's day: steps from the depot back to the depot."""

    id: str
    date: Date
    vehicle: str
    steps: tuple[Step, ...] = Field(min_length=2)
    distance_km: Num = Field(ge=0)
    duration_min: Num = Field(ge=0)

    @property
    def collects(self) -> tuple[Step, ...]:
        """The ``collect`` steps, in the order the truck makes them."""
        return tuple(st for st in self.steps if st.type == "collect")


class Unserved(_Model):
    point: str
    date: Date | None
    reason: str = Field(min_length=10)


class Summary(_Model):
    """Totals. The route figures come from :func:`planner.plan.build.build_plan`; the
    money figures (kg per stream, cash, goods, costs, budget) from the money step."""

    distance_km: Num = Field(ge=0)
    duration_min: Num = Field(ge=0)
    runs: int = Field(ge=0)
    visits: int = Field(ge=0)
    unserved: int = Field(ge=0)
    cost_cny: Num | None = None
    collected_kg: Num | None = None
    sold_kg: Num | None = None
    exchanged_kg: Num | None = None
    composted_kg: Num | None = None
    cash_paid_cny: Num | None = None
    goods_value_cny: Num | None = None
    resale_revenue_cny: Num | None = None
    fuel_cny: Num | None = None
    driver_cny: Num | None = None
    net_cost_cny: Num | None = None
    fee_budget_cny: Num | None = None


class Demand(_Model):
    """Where the plan's expected kg, cash and goods come from (optional ``demand``).

    Absent: the scenario's assumptions. ``source`` ``"ledger"``: a forecast from
    recorded visits (:mod:`planner.forecast`); ``points`` says per point whether its
    figures came from ``history`` or the ``assumption``, and ``runs`` holds per run
    the cash float and goods factor at the forecast's upper quantile;
    ``overload_probability`` and ``load_headroom`` (kg, m3, hazard_kg of a full trip
    in the fleet's median truck) say how much room the routes keep for the spread.
    """

    source: str = Field(min_length=1)
    history_months: tuple[str, ...] = ()
    runout_probability: Num | None = None
    points: dict[str, str] = Field(default_factory=dict)
    runs: dict[str, dict[str, Num]] = Field(default_factory=dict)
    # Loads routed with room for the forecast's spread: the accepted chance that a
    # trip overflows before its station, and a full trip's headroom per dimension.
    overload_probability: Num | None = None
    load_headroom: dict[str, Num] | None = None


class Predecessor(_Model):
    """The plan a re-planned version replaces: its file (relative to this one) and hash."""

    path: str = Field(min_length=1)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    version: int = Field(ge=1)


class Plan(_Model):
    """A month's plan, ``rural-waste-plan/1``.

    ``version``, ``predecessor`` and ``replan`` are optional: a plan made by
    ``planner run`` has none of them (it is version 1); ``planner replan`` writes
    all three (``replan`` records the disruption it worked around).
    ``reproducible`` (``False``) and ``reproducible_reason`` are written only for a
    plan made under an explicit wall-clock limit (``--wall-limit``).
    """

    format: Literal["rural-waste-plan/1"] = "rural-waste-plan/1"
    scenario: str = Field(min_length=1)
    period: Period
    places: tuple[Place, ...]
    vehicles: tuple[Vehicle, ...] = Field(min_length=1)
    points: tuple[PointPlan, ...]
    runs: tuple[Run, ...]
    unserved: tuple[Unserved, ...]
    summary: Summary
    version: int | None = Field(default=None, ge=1)
    predecessor: Predecessor | None = None
    replan: dict[str, Any] | None = None
    reproducible: bool | None = None
    reproducible_reason: str | None = Field(default=None, min_length=1)
    demand: Demand | None = None

    # --- look-ups -------------------------------------------------------------------
    @cached_property
    def places_by_id(self) -> dict[str, Place]:
        return {p.id: p for p in self.places}

    @cached_property
    def points_by_id(self) -> dict[str, PointPlan]:
        return {p.id: p for p in self.points}

    def run(self, run_id: str) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def collect_steps(self) -> Iterator[tuple[Run, Step]]:
        """Every ``collect`` step with its run, by date, run id and order in the run."""
        for run in sorted(self.runs, key=lambda r: (r.date, r.id)):
            for st in run.collects:
                yield run, st

    def with_demand(self, demand: Demand) -> Plan:
        """This plan saying where its demand came from."""
        return self.model_copy(update={"demand": demand})

    def with_summary(self, **figures: Any) -> Plan:
        """This plan with more summary figures (the money step adds its totals)."""
        return self.model_copy(update={"summary": self.summary.model_copy(update=figures)})

    # --- the file -------------------------------------------------------------------
    def to_json_dict(self) -> dict[str, Any]:
        """The plan as the JSON document (optional fields left out where unset)."""
        doc = self.model_dump(mode="json")
        # Optional fields are absent rather than null (``window`` and an unserved
        # ``date`` are null in the contract, so they stay).
        for run in doc["runs"]:
            for step in run["steps"]:
                for key in _STEP_OPTIONAL:
                    if step[key] is None:
                        del step[key]
        for key in _SUMMARY_OPTIONAL:
            if doc["summary"][key] is None:
                del doc["summary"][key]
        for key in _PLAN_OPTIONAL:
            if doc[key] is None:
                del doc[key]
        if doc.get("demand") is not None:
            for key in ("overload_probability", "load_headroom"):
                if doc["demand"][key] is None:
                    del doc["demand"][key]
        return doc

    def to_json(self) -> str:
        """The text of plan.json: UTF-8, names as written, one space of indent."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n"

    def write(self, path: Path) -> None:
        """Write plan.json atomically."""
        with atomic_writer(path) as fh:
            fh.write(self.to_json())

    @classmethod
    def from_json_dict(cls, doc: Any, *, source: str = "plan.json") -> Plan:
        """A plan from a parsed JSON document; :class:`PlanError` naming each bad field."""
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise PlanError(_messages(source, exc)) from None

    @classmethod
    def read(cls, path: Path) -> Plan:
        """Read and validate ``path`` (a plan.json file or the folder holding it)."""
        from planner.plan.io import read_plan, validate_schema

        path = Path(path)
        doc = read_plan(path)
        problems = validate_schema(doc)
        if problems:
            where = path / "plan.json" if path.is_dir() else path
            shown = "\n  ".join(problems[:20])
            more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise PlanError(f"{where}: not a valid {PLAN_FORMAT} plan:\n  {shown}{more}")
        return cls.from_json_dict(doc, source=str(path))


_STEP_OPTIONAL = ("collected", "unloaded")
_PLAN_OPTIONAL = (
    "version",
    "predecessor",
    "replan",
    "reproducible",
    "reproducible_reason",
    "demand",
)
_SUMMARY_OPTIONAL = tuple(name for name, f in Summary.model_fields.items() if not f.is_required())


def _hhmm_minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:5])


def _messages(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:20]:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        lines.append(f"{path}: {err['msg']} (found {err.get('input')!r:.60})")
    return f"{source}: not a valid {PLAN_FORMAT} plan:\n  " + "\n  ".join(lines)
