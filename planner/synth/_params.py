"""What a generated region is made of: frozen, validated parameters.

:class:`RegionParams` says *what* to generate (townships, gacha, totals, fleet size,
seed); the modules next to this one say *how*. Parameters are checked once here so
the generator never meets an impossible request half-way through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LonLat = tuple[float, float]

FARMING = "farming"
HERDING = "herding"


@dataclass(frozen=True)
class TownshipSpec:
    """One township-level unit (苏木/镇) of the region.

    Parameters
    ----------
    code, name
        Statistical code and name (``"150624100000"``, ``"乌兰镇"``).
    short
        Prefix for depot, station and truck names (``"乌兰"``).
    seat
        Township seat (lon, lat): the depot and the highway hub stand here.
    anchors
        Extra zone anchors (lon, lat); the township's zone is the union of the
        Voronoi cells of its seat and these anchors, clipped to the outline.
    focus
        Where farming villages gather (lon, lat vertices of a line, e.g. a river);
        empty means the seat.
    people
        Rural people to place in the township's gacha (a target; totals are exact).
    stations
        Transfer stations in the township (at least 1).
    visits
        Monthly visits for the scenario's township rule (``None``: no rule).
    seat_real
        Whether ``seat`` is a real coordinate (else synthetic).
    """

    code: str
    name: str
    short: str
    seat: LonLat
    anchors: tuple[LonLat, ...] = ()
    focus: tuple[LonLat, ...] = ()
    people: int = 0
    stations: int = 1
    visits: int | None = None
    seat_real: bool = False


@dataclass(frozen=True)
class GachaSpec:
    """One village-level unit (嘎查/村) whose natural villages are collection points.

    ``kind`` is ``"farming"`` (村: denser, larger points near the township's focus)
    or ``"herding"`` (嘎查: few, far-apart, smaller points).
    """

    code: str
    name: str
    township_code: str
    kind: str = HERDING


@dataclass(frozen=True)
class FacilitySpec:
    """A place trucks deliver to besides stations: the recyclables buyer or the plant.

    ``offset_km`` is (east, north) from the seat of township ``near``.
    """

    id: str
    name: str
    kind: str
    near: str
    offset_km: tuple[float, float]


@dataclass(frozen=True)
class RegionParams:
    """Everything the generator needs to build one region.

    Parameters
    ----------
    name, description
        Scenario name and one-line description written into the TOML.
    boundary_geojson
        GeoJSON text of the region outline (one polygon, WGS84); copied verbatim
        to ``boundary.geojson``.
    townships, gachas, facilities
        The administrative units and delivery facilities.
    points, households, people
        Exact totals of collection points, households and people.
    trucks
        Fleet size, shared among the township depots.
    seed
        Seed of every random draw; the same seed gives byte-identical files.
    remote_points
        Herding points whose track ends 2-3 km short of them (snapping warnings).
    month
        Scenario month (``"YYYY-MM"``).
    chinese_names
        Chinese names for depots, stations, trucks and points (else English).
    sources
        Where figures came from, as (figure key, source) pairs for the README table
        (keys: townships, gachas, points, people, households, stations, outline,
        seat, fee, reward fund, zone areas, township people); a key left out reads
        "synthetic" or "assumption".
    notes
        Markdown appended to the README (package data, caveats).
    recipe
        How to regenerate the region (a command or call), quoted in the README.
    """

    name: str
    description: str
    boundary_geojson: str
    townships: tuple[TownshipSpec, ...]
    gachas: tuple[GachaSpec, ...]
    facilities: tuple[FacilitySpec, ...]
    points: int
    households: int
    people: int
    trucks: int
    seed: int
    remote_points: int = 0
    month: str = "2026-12"
    chinese_names: bool = False
    sources: tuple[tuple[str, str], ...] = field(default=())
    notes: str = ""
    recipe: str = ""

    def __post_init__(self) -> None:
        self._check_places()
        self._check_totals()

    def _check_places(self) -> None:
        """Townships, gachas and facilities: unique codes, each listed where it points."""
        if not self.townships:
            raise ValueError("Expected at least one township.")
        codes = [t.code for t in self.townships]
        if len(set(codes)) != len(codes):
            raise ValueError("Expected unique township codes.")
        gcodes = [g.code for g in self.gachas]
        if len(set(gcodes)) != len(gcodes):
            raise ValueError("Expected unique gacha codes.")
        for g in self.gachas:
            if g.township_code not in codes:
                raise ValueError(f"Gacha {g.code}: township {g.township_code} is not listed.")
            if g.kind not in (FARMING, HERDING):
                raise ValueError(f"Gacha {g.code}: expected kind farming|herding, got {g.kind!r}.")
        for t in self.townships:
            if not any(g.township_code == t.code for g in self.gachas):
                raise ValueError(f"Township {t.code}: expected at least one gacha.")
            if t.stations < 1:
                raise ValueError(f"Township {t.code}: expected stations >= 1.")
            if t.visits is not None and t.visits not in (2, 3):
                raise ValueError(f"Township {t.code}: expected visits 2 or 3.")
        for f in self.facilities:
            if f.kind not in ("buyer", "plant"):
                raise ValueError(f"Facility {f.id}: expected kind buyer|plant, got {f.kind!r}.")
            if f.near not in codes:
                raise ValueError(f"Facility {f.id}: township {f.near} is not listed.")

    def _check_totals(self) -> None:
        """Points, households, people and trucks in proportions a region can have."""
        if self.points < 2 * len(self.gachas):
            raise ValueError(
                f"Expected points >= 2 per gacha ({2 * len(self.gachas)}), got {self.points}."
            )
        if self.households < 3 * self.points:
            raise ValueError(f"Expected households >= 3 per point, got {self.households}.")
        if not self.households <= self.people <= 9 * self.households:
            raise ValueError(
                f"Expected 1-9 people per household, got {self.people} for {self.households}."
            )
        if self.trucks < len(self.townships):
            raise ValueError(
                f"Expected trucks >= one per township depot ({len(self.townships)}), "
                f"got {self.trucks}."
            )
        if not 0 <= self.remote_points <= 5:
            raise ValueError(f"Expected remote_points in 0..5, got {self.remote_points}.")

    @property
    def stations(self) -> int:
        """Total number of transfer stations."""
        return sum(t.stations for t in self.townships)


@dataclass(frozen=True)
class RegionSummary:
    """What :func:`generate_region` wrote, with the totals a user checks first.

    ``road_km`` maps each road class to its total length; ``road_segments`` counts
    straight pieces between consecutive vertices (the graph builder's edges),
    ``road_lines`` the junction-to-junction lines of ``roads.gpkg``.
    ``points_off_road`` counts points farther than 1 km from any road.
    """

    name: str
    out_dir: Path
    scenario_path: Path
    files: tuple[Path, ...]
    townships: int
    gachas: int
    points: int
    households: int
    people: int
    depots: int
    stations: int
    facilities: int
    trucks: int
    road_lines: int
    road_segments: int
    road_km: tuple[tuple[str, float], ...]
    points_off_road: int
    max_point_road_km: float

    def __str__(self) -> str:
        km = sum(length for _, length in self.road_km)
        return (
            f"{self.points} points, {self.households} households ({self.people} people) in "
            f"{self.gachas} gachas of {self.townships} townships; {self.depots} depots, "
            f"{self.stations} stations, {self.trucks} trucks; {km:,.0f} km of roads; "
            f"scenario {self.scenario_path}"
        )
