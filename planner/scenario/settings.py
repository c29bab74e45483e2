"""The scenario file's settings, as validated pydantic models.

These models are the single definition of the TOML format: the loader validates
the file with them, ``docs/scenario.md`` documents their fields and
``docs/scenario.schema.json`` is generated from :class:`ScenarioSettings`.
Everything is frozen: once loaded, a scenario never changes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STREAMS = ("sell", "exchange", "compost")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _minutes(text: str) -> int:
    """Minutes after midnight of an ``HH:MM`` string."""
    t = dt.time.fromisoformat(text)
    return t.hour * 60 + t.minute


HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class RegionSettings(_Frozen):
    """Where the region's data files are (paths relative to the scenario file)."""

    points: Path = Field(description="CSV of collection points (natural villages).")
    households: Path | None = Field(None, description="CSV of households; optional.")
    depots: Path = Field(description="CSV of depots where trucks start and end the day.")
    stations: Path = Field(description="CSV of transfer stations where trucks unload.")
    facilities: Path | None = Field(
        None, description="CSV of the recycling buyer and the hazardous-waste plant."
    )
    roads: Path = Field(
        description="Road lines: GeoPackage, GeoJSON, ESRI Shapefile or OSM .osm/.osm.pbf."
    )
    roads_layer: str | None = Field(None, description="Layer of `roads` to read, if several.")
    boundary: Path | None = Field(None, description="Region outline (GeoJSON/GeoPackage).")
    zones: Path | None = Field(
        None,
        description="Township and gacha areas for the maps (GeoJSON/GeoPackage polygons with "
        "`level` = township or gacha, `code`, `name`); optional.",
    )
    offroad_speed_kmh: float = Field(
        15.0, gt=0, description="Speed on the straight off-road link from a place to its road."
    )
    snap_warn_km: float = Field(
        2.0, gt=0, description="Warn when a place is farther than this from any road."
    )
    outside_tolerance_km: float = Field(
        5.0, ge=0, description="How far outside the boundary a place may lie before it is an error."
    )
    road_speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: {"highway": 80.0, "paved": 60.0, "gravel": 40.0, "dirt": 20.0},
        description="Travel speed per road class (an assumption unless measured).",
    )

    @field_validator("road_speeds_kmh")
    @classmethod
    def _positive_speeds(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: s for k, s in v.items() if s <= 0}
        if bad:
            raise ValueError(f"expected speeds > 0, found {bad}")
        return v


class MonthSettings(_Frozen):
    """The planning month and its service days."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Planning month, YYYY-MM.")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of all local times.")
    service_weekdays: tuple[str, ...] = Field(
        ("mon", "tue", "wed", "thu", "fri"), description="Weekdays on which runs may happen."
    )
    holidays: tuple[dt.date, ...] = Field((), description="Public holidays (no runs).")
    closures: tuple[dt.date, ...] = Field(
        (), description="Other dates without runs (blizzard, road closure)."
    )
    previous_visit_days: int | None = Field(
        None,
        ge=1,
        le=62,
        description="Days of waste the month's first visit collects; unset: the gap from the "
        "same pattern's last visit one month earlier (a steady rhythm).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"expected an IANA time zone such as 'Asia/Shanghai', found {v!r}"
            raise ValueError(msg) from None
        return v

    @field_validator("service_weekdays")
    @classmethod
    def _weekdays(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in v if d.lower() not in WEEKDAYS]
        if bad:
            raise ValueError(f"expected weekdays among {', '.join(WEEKDAYS)}, found {bad}")
        return tuple(d.lower() for d in v)

    @property
    def first_day(self) -> dt.date:
        year, month = (int(x) for x in self.month.split("-"))
        return dt.date(year, month, 1)

    @property
    def last_day(self) -> dt.date:
        first = self.first_day
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])

    def service_dates(self) -> tuple[dt.date, ...]:
        """Dates of the month on which runs may happen."""
        off = set(self.holidays) | set(self.closures)
        days = (self.last_day - self.first_day).days + 1
        dates = (self.first_day + dt.timedelta(days=i) for i in range(days))
        return tuple(
            d for d in dates if WEEKDAYS[d.weekday()] in self.service_weekdays and d not in off
        )


class VisitRule(_Frozen):
    """Visits per month for the points of a township, a gacha or one point."""

    township: str | None = Field(None, description="Township name or code the rule applies to.")
    gacha: str | None = Field(None, description="Gacha name or code the rule applies to.")
    point: str | None = Field(None, description="Point id the rule applies to.")
    visits: int = Field(ge=1, le=6, description="Visits in the month.")

    @model_validator(mode="after")
    def _one_target(self) -> VisitRule:
        if sum(x is not None for x in (self.township, self.gacha, self.point)) != 1:
            raise ValueError("expected exactly one of township, gacha or point")
        return self


class VisitSettings(_Frozen):
    """How often points are visited, and how long a visit takes."""

    default: int = Field(2, ge=1, le=6, description="Visits per month unless a rule says else.")
    min_gap_days: dict[int, int] = Field(
        default_factory=lambda: {2: 12, 3: 8},
        description="Minimum days between two visits of a point, by visits per month.",
    )
    service_min_base: float = Field(5.0, ge=0, description="Minutes at each stop.")
    service_min_per_household: float = Field(
        1.0, ge=0, description="Extra minutes per household at the stop."
    )
    rules: tuple[VisitRule, ...] = Field((), description="Later rules override earlier ones.")

    @field_validator("min_gap_days")
    @classmethod
    def _gaps(cls, v: dict[int, int]) -> dict[int, int]:
        bad = {k: g for k, g in v.items() if g < 0}
        if bad:
            raise ValueError(f"expected gaps >= 0 days, found {bad}")
        return v

    def gap_for(self, visits: int) -> int:
        """Minimum gap for a point with ``visits`` a month (0 if none is set)."""
        return self.min_gap_days.get(visits, 0)


class WindowSettings(_Frozen):
    """Announced arrival windows."""

    width_min: int = Field(60, ge=10, le=720, description="Width of each point's window.")
    earliest: str = Field("08:30", pattern=HHMM, description="No window opens before.")
    latest: str = Field("17:00", pattern=HHMM, description="No window closes after.")
    late_visit_cny: float = Field(
        300.0,
        ge=0,
        description="What keeping one more visit inside its point's window is worth to the "
        "window phase (CNY of route cost it may add).",
    )
    aim_pct: float = Field(
        95.0,
        ge=0,
        le=100,
        description="Share of points (%) the window phase keeps inside one window of "
        "width_min; beyond it, the points whose window costs most get up to 2 h instead.",
    )
    same_truck_cny: float = Field(
        5.0,
        ge=0,
        description="What serving a visit with the point's usual truck is worth to the window "
        "phase (CNY); handing routes between identical trucks of a depot is free.",
    )

    @model_validator(mode="after")
    def _order(self) -> WindowSettings:
        span = _minutes(self.latest) - _minutes(self.earliest)
        if span < self.width_min:
            raise ValueError(
                f"expected earliest..latest to span at least width_min={self.width_min} min, "
                f"found {self.earliest}..{self.latest}"
            )
        return self


class StationSettings(_Frozen):
    """Transfer-station settings."""

    unload_min: float = Field(20.0, ge=0, description="Minutes to unload at a station.")
    overload_probability: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description="With demand from the ledger: accepted chance that a trip's true load "
        "exceeds the truck's capacity before it reaches a station; loads are planned with "
        "headroom for the forecast's spread.",
    )


class VehicleSpec(_Frozen):
    """One truck."""

    id: str = Field(min_length=1, description="Unique vehicle id.")
    name: str = Field("", description="Display name (e.g. plate or 乌兰1号车).")
    driver: str = Field("", description="Driver's name, for run sheets.")
    depot: str = Field(description="Id of the depot it starts and ends at.")
    payload_kg: float = Field(gt=0, description="Maximum mass of collected waste.")
    box_m3: float = Field(gt=0, description="Volume of the box.")
    hazard_kg: float = Field(0.0, ge=0, description="Hazardous-waste locker payload (0: none).")
    shift_start: str = Field("07:30", pattern=HHMM, description="Earliest departure.")
    shift_end: str = Field("18:30", pattern=HHMM, description="Latest return.")
    max_work_min: int = Field(600, gt=0, description="Maximum minutes from departure to return.")
    lunch_start: str = Field("11:30", pattern=HHMM, description="Lunch may start from.")
    lunch_end: str = Field("13:30", pattern=HHMM, description="Lunch must start by.")
    lunch_min: int = Field(40, ge=0, description="Length of the lunch break (0: none).")
    speed_factor: float = Field(
        1.0, gt=0, description="Multiplies road travel times (1.2: a slow truck)."
    )
    cost_per_km: float = Field(0.0, ge=0, description="Fuel and wear, CNY per km.")
    cost_per_hour: float = Field(0.0, ge=0, description="Driver cost, CNY per hour.")

    @model_validator(mode="after")
    def _shift(self) -> VehicleSpec:
        if _minutes(self.shift_end) <= _minutes(self.shift_start):
            raise ValueError(
                f"expected shift_start before shift_end, found {self.shift_start}..{self.shift_end}"
            )
        if self.lunch_min and _minutes(self.lunch_end) < _minutes(self.lunch_start):
            raise ValueError(
                f"expected lunch_start <= lunch_end, found {self.lunch_start}..{self.lunch_end}"
            )
        if self.lunch_min and (
            _minutes(self.lunch_end) < _minutes(self.shift_start)
            or _minutes(self.lunch_start) + self.lunch_min > _minutes(self.shift_end)
        ):
            raise ValueError(
                f"expected a lunch break ({self.lunch_min} min starting "
                f"{self.lunch_start}..{self.lunch_end}) that fits in the shift "
                f"{self.shift_start}..{self.shift_end}, found it outside; move the lunch "
                f"window or set lunch_min = 0 for no break"
            )
        return self


class Category(_Frozen):
    """A waste category and the stream it belongs to."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Identifier used in plan.json.")
    name: str = Field(description="Chinese name.")
    name_en: str = Field("", description="English name.")
    stream: Literal["sell", "exchange", "compost"] = Field(description="一卖, 一换 or 一堆.")
    density_kg_m3: float = Field(gt=0, description="Bulk density in the truck box.")
    kg_per_person_day: float = Field(ge=0, description="Generation per person per day.")
    buy_price_cny_kg: float = Field(0.0, ge=0, description="Paid to households (sell stream).")
    resale_price_cny_kg: float = Field(0.0, ge=0, description="Paid by the buyer.")
    exchange_points_per_kg: float = Field(0.0, ge=0, description="Exchange stream: points per kg.")
    kg_per_item: float = Field(0.0, ge=0, description="Exchange stream: kg of one item (0: none).")
    exchange_points_per_item: float = Field(
        0.0,
        ge=0,
        description="Exchange stream: points per item, on top of per kg (needs kg_per_item).",
    )
    hazardous: bool = Field(False, description="Goes in the hazardous locker.")
    seasonal: tuple[float, ...] = Field(
        (1.0,) * 12, description="Factor on generation per month, January to December."
    )

    @field_validator("seasonal")
    @classmethod
    def _twelve(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12 or any(x < 0 for x in v):
            raise ValueError(f"expected 12 factors >= 0 (January..December), found {list(v)}")
        return v


class GoodsItem(_Frozen):
    """An item of the exchange-goods catalogue."""

    id: str = Field(min_length=1)
    name: str
    name_en: str = ""
    unit: str = Field("件", description="Counting unit (块, 袋, 卷).")
    points: float = Field(gt=0, description="Exchange points one item costs.")
    value_cny: float = Field(ge=0, description="What one item costs the office.")
    volume_m3: float = Field(0.0, ge=0, description="Space one item takes in the truck.")


class Budget(_Frozen):
    """The money available."""

    fee_per_gacha_year_cny: float = Field(
        50000.0,
        ge=0,
        description="农维费 per gacha per year (report: 20,000 banner + 30,000 city).",
    )
    reward_fund_cny: float = Field(2000000.0, ge=0, description="Reward fund (report).")


class CarrySettings(_Frozen):
    """What a truck takes out besides its empty box: cash and exchange goods."""

    cash_margin: float = Field(
        0.2, ge=0, description="Cash float above the expected purchases (0.2: 20 % more)."
    )
    cash_round_cny: float = Field(
        50.0, gt=0, description="The cash float is rounded up to a multiple of this."
    )
    goods_margin: float = Field(
        0.2,
        ge=0,
        description="Goods loaded above the expected hand-outs, rounded up to whole units.",
    )
    runout_probability: float = Field(
        0.05,
        gt=0,
        lt=0.5,
        description="With demand from the ledger: accepted chance that a run's cash or goods "
        "run out; the float and goods are the forecast's upper quantile instead of the margins.",
    )


PHONE = r"^[0-9+][0-9 ()+-]{3,24}$"


class NoticeSettings(_Frozen):
    """What the gacha notices say besides the dates: who to call, bad weather, lead time."""

    contact: str = Field("", description="Who answers questions (office or dispatcher name).")
    phone: str = Field(
        "", description="Contact phone printed on notices and run sheets (blank: none)."
    )
    bad_weather: str = Field(
        "",
        description="What happens when a visit is called off for weather (one sentence; "
        "blank: a default sentence).",
    )
    lead_days: int = Field(
        7, ge=0, le=60, description="Notices are dated this many days before the first run."
    )
    default_landmark: str = Field(
        "",
        description="Where the truck stops, for points without a `landmark` in points.csv.",
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        if v and not re.match(PHONE, v):
            raise ValueError(f"expected digits, spaces, +, - or brackets, found {v!r}")
        return v


HHMM_OR_BLANK = r"^(([01]\d|2[0-3]):[0-5]\d)?$"


class CalendarSettings(_Frozen):
    """The reminders every calendar event carries (trucks' and gachas' ``.ics``)."""

    evening_reminder: str = Field(
        "19:00",
        pattern=HHMM_OR_BLANK,
        description="Clock time of the reminder on the evening before a visit or run "
        "(blank: none).",
    )
    reminder_min: int = Field(
        60,
        ge=0,
        le=720,
        description="Minutes before a visit or run starts for the second reminder (0: none).",
    )


class LedgerSettings(_Frozen):
    """Green accounts and the checks of what comes back from the runs (``planner ledger``).

    Every key is optional: a scenario without ``[ledger]`` gets these defaults. The
    price list in points is the ``[[goods]]`` catalogue; exchange categories earn
    their ``exchange_points_per_kg`` (and ``exchange_points_per_item``).
    """

    points_per_kg: dict[str, float] = Field(
        default_factory=dict,
        description="Green-account points per kg of a sold category (category id -> points), "
        "on top of the cash; categories not named earn none.",
    )
    cash_tolerance_cny: float = Field(
        1.0, ge=0, description="Flag a run whose cash float - paid - returned is off by more."
    )
    goods_tolerance_items: int = Field(
        0, ge=0, description="Flag goods loaded - handed out - returned off by more items."
    )
    weigh_tolerance_pct: float = Field(
        5.0, ge=0, description="Flag household kg vs weigh tickets off by more than this %..."
    )
    weigh_tolerance_kg: float = Field(10.0, ge=0, description="... and by more than this many kg.")
    hazard_tolerance_kg: float = Field(
        0.5, ge=0, description="Flag hazardous kg collected vs delivered to the plant off by more."
    )
    price_tolerance_cny_kg: float = Field(
        0.005, ge=0, description="Flag a price per kg paid this far from the scenario's."
    )
    kg_warn_factor: float = Field(
        4.0, gt=1, description="Warn on a household kg above this x its forecast (+ kg_floor)."
    )
    kg_reject_factor: float = Field(
        25.0, gt=1, description="Reject a file with a household kg above this x forecast (+ floor)."
    )
    kg_floor: float = Field(
        5.0, ge=0, description="kg always plausible for one household and category at one visit."
    )

    @field_validator("points_per_kg")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if x < 0}
        if bad:
            raise ValueError(f"expected points >= 0, found {bad}")
        return v

    @model_validator(mode="after")
    def _factors(self) -> LedgerSettings:
        if self.kg_reject_factor < self.kg_warn_factor:
            raise ValueError(
                f"expected kg_reject_factor >= kg_warn_factor, found "
                f"{self.kg_reject_factor} < {self.kg_warn_factor}"
            )
        return self


class ScenarioSettings(_Frozen):
    """A scenario file: the region's data files and the month's settings."""

    name: str = Field(min_length=1, description="Scenario name, written into plan.json.")
    description: str = Field("", description="One line for people.")
    region: RegionSettings = Field(description="The region's data files: see [region].")
    month: MonthSettings = Field(description="The planning month: see [month].")
    visits: VisitSettings = Field(
        default_factory=lambda: VisitSettings(), description="Visit frequency: see [visits]."
    )
    windows: WindowSettings = Field(
        default_factory=lambda: WindowSettings(), description="Announced times: see [windows]."
    )
    stations_settings: StationSettings = Field(
        default_factory=lambda: StationSettings(), description="See [stations_settings]."
    )
    fleet: tuple[VehicleSpec, ...] = Field(min_length=1, description="The trucks: [[fleet]].")
    categories: tuple[Category, ...] = Field(
        min_length=1, description="Waste categories: [[categories]]."
    )
    goods: tuple[GoodsItem, ...] = Field((), description="Exchange goods: [[goods]].")
    budget: Budget = Field(default_factory=lambda: Budget(), description="Money: see [budget].")
    carry: CarrySettings = Field(
        default_factory=lambda: CarrySettings(), description="Cash and goods to load: see [carry]."
    )
    notices: NoticeSettings = Field(
        default_factory=lambda: NoticeSettings(),
        description="Contact, bad weather and lead time of the notices: see [notices].",
    )
    calendars: CalendarSettings = Field(
        default_factory=lambda: CalendarSettings(),
        description="Reminders in the ICS calendars: see [calendars].",
    )
    ledger: LedgerSettings = Field(
        default_factory=lambda: LedgerSettings(),
        description="Green accounts and reconciliation tolerances: see [ledger].",
    )

    @model_validator(mode="after")
    def _ledger_categories(self) -> ScenarioSettings:
        known = {c.id for c in self.categories}
        unknown = sorted(set(self.ledger.points_per_kg) - known)
        if unknown:
            raise ValueError(
                f"ledger.points_per_kg: expected category ids among {', '.join(sorted(known))}, "
                f"found {', '.join(unknown)}"
            )
        return self


def minutes_of(text: str) -> int:
    """Public alias of the ``HH:MM`` to minutes conversion."""
    return _minutes(text)
