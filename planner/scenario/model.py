"""The validated, immutable scenario: settings plus the region's places.

:func:`planner.io.load_scenario` is the only door in; what comes out is a
:class:`Scenario` that nothing downstream re-checks or patches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner._errors import Issue
from planner.scenario.settings import ScenarioSettings, VehicleSpec


class _Row(BaseModel):
    """A validated CSV row; unknown columns are ignored (users keep notes there)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, description="Unique place id (unique across all tables).")
    name: str = Field("", description="Place name (Chinese), shown on sheets and notices.")
    # Ranges are checked with the boundary (planner.scenario.geometry) so that swapped
    # lon/lat get their own message rather than a bare "lat <= 90".
    lon: float = Field(description="Longitude, WGS84 degrees.")
    lat: float = Field(description="Latitude, WGS84 degrees.")
    synthetic: bool = Field(False, description="true where the position is made up.")


class CollectionPoint(_Row):
    """A collection point: usually a natural village (自然村) of a gacha."""

    gacha_code: str = Field("", description="NBS 12-digit code of the gacha (village).")
    gacha: str = Field("", description="Gacha name.")
    township_code: str = Field("", description="NBS code of the township (sumu/town).")
    township: str = Field("", description="Township name.")
    households: int = Field(ge=0, description="Households served at this point.")
    people: int = Field(ge=0, description="People in those households.")
    visits: int | None = Field(
        None, ge=1, le=6, description="Visits this month; blank: the scenario's rules."
    )
    landmark: str = Field(
        "", description="Where the truck stops, in words (村委会门前); optional, for notices."
    )


class Depot(_Row):
    """Where trucks start and end the day."""

    township: str = Field("", description="Township the depot belongs to.")


class Station(_Row):
    """A transfer / compression station (中转站 / 压缩站) where trucks unload."""

    township: str = Field("", description="Township the station belongs to.")


class Facility(_Row):
    """The recycling buyer or the hazardous-waste treatment plant."""

    kind: Literal["buyer", "plant"] = Field(
        description="buyer: recycling company; plant: hazardous-waste treatment."
    )


class Household(BaseModel):
    """A household at a collection point."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, description="Unique household id.")
    point: str = Field(min_length=1, description="Id of the collection point it uses.")
    people: int = Field(ge=1, description="People in the household.")
    name: str = Field("", description="Head of household (optional).")
    synthetic: bool = Field(False, description="true where the record is made up.")


Place = CollectionPoint | Depot | Station | Facility


@dataclass(frozen=True)
class Zone:
    """A township or gacha area from ``[region] zones`` (for the maps)."""

    level: str
    code: str
    name: str
    geometry: Any = field(repr=False)


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario.

    Attributes
    ----------
    path
        The scenario file.
    settings
        The month's settings as written in the TOML file.
    points, households, depots, stations, facilities
        The region's records, in file order.
    roads
        The road lines as read (a GeoDataFrame in WGS84; see
        :func:`planner.network.read_roads`). Treat as read-only.
    boundary
        The region outline (a shapely geometry in WGS84) or ``None``.
    zones
        Township and gacha areas (WGS84) from ``[region] zones``; empty without one.
    visits
        Required visits in the month per point id (rules already applied).
    warnings
        Soft problems found while loading (a loaded scenario has no errors).
    content_hash
        SHA-256 over the scenario file and every data file, for caches.
    """

    path: Path
    settings: ScenarioSettings
    points: tuple[CollectionPoint, ...]
    households: tuple[Household, ...]
    depots: tuple[Depot, ...]
    stations: tuple[Station, ...]
    facilities: tuple[Facility, ...]
    roads: Any = field(repr=False)
    boundary: Any = field(default=None, repr=False)
    zones: tuple[Zone, ...] = field(default=(), repr=False)
    visits: dict[str, int] = field(default_factory=dict)
    warnings: tuple[Issue, ...] = ()
    content_hash: str = ""

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def fleet(self) -> tuple[VehicleSpec, ...]:
        return self.settings.fleet

    @property
    def service_dates(self) -> tuple[dt.date, ...]:
        return self.settings.month.service_dates()

    def places(self) -> tuple[Place, ...]:
        """Every place the plan may name: depots, points, stations, facilities."""
        return (*self.depots, *self.points, *self.stations, *self.facilities)

    def households_at(self) -> dict[str, tuple[Household, ...]]:
        """Households grouped by point id (points without a households file get none)."""
        out: dict[str, list[Household]] = {p.id: [] for p in self.points}
        for h in self.households:
            out[h.point].append(h)
        return {k: tuple(v) for k, v in out.items()}

    def place_kind(self, place_id: str) -> str:
        """``depot``, ``point``, ``station``, ``buyer`` or ``plant``."""
        for kind, group in (
            ("depot", self.depots),
            ("point", self.points),
            ("station", self.stations),
        ):
            if any(p.id == place_id for p in group):
                return kind
        for f in self.facilities:
            if f.id == place_id:
                return f.kind
        raise KeyError(place_id)
