"""Load a scenario: TOML settings, CSV tables, geometry; check everything once.

All problems are collected and raised together as one :class:`ScenarioError`, so a
user sees every fault of their files at once. Soft problems come back as warnings
on :attr:`Scenario.warnings`; with ``strict=True`` they are errors too.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner._errors import Issue, NetworkError, ScenarioError, issue
from planner.scenario.geometry import check_positions, read_boundary, read_zones
from planner.scenario.model import CollectionPoint, Depot, Facility, Household, Scenario, Station
from planner.scenario.settings import ScenarioSettings
from planner.scenario.tables import plain_message, read_bytes, read_rows


def load_scenario(path: str | Path, *, strict: bool = False) -> Scenario:
    """Read and validate the scenario file at ``path`` and every file it names.

    Raises
    ------
    ScenarioError
        Listing every problem found (and every warning too when ``strict``).
    """
    path = Path(path)
    issues: list[Issue] = []
    settings = _read_settings(path, issues)
    if settings is None:
        raise ScenarioError(issues)
    base = path.parent
    reg = settings.region

    def at(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    points = read_rows(at(reg.points), CollectionPoint, issues)
    depots = read_rows(at(reg.depots), Depot, issues)
    stations = read_rows(at(reg.stations), Station, issues)
    facilities = read_rows(at(reg.facilities), Facility, issues) if reg.facilities else []
    households = read_rows(at(reg.households), Household, issues) if reg.households else []

    tables = (
        (at(reg.depots), depots),
        (at(reg.points), points),
        (at(reg.stations), stations),
        (at(reg.facilities) if reg.facilities else None, facilities),
    )
    _check_unique_ids(tables, issues)
    _check_households(at(reg.households) if reg.households else None, households, points, issues)
    _check_fleet(path, settings, {d.id for d in depots}, issues)
    _check_month(path, settings, issues)
    _check_categories(path, settings, issues)
    if not stations and not any(i.file and "stations" in i.file for i in issues):
        issues.append(issue(at(reg.stations), "", "expected at least one transfer station"))

    boundary = None
    if reg.boundary is not None:
        boundary = read_boundary(at(reg.boundary), issues)
    check_positions(tables, boundary, reg.outside_tolerance_km, issues)
    zones = read_zones(at(reg.zones), issues) if reg.zones is not None else []

    roads = None
    try:
        from planner.network import read_roads

        roads = read_roads(at(reg.roads), layer=reg.roads_layer)
    except NetworkError as exc:
        # The network layer names the file itself; keep one copy of the name.
        text = str(exc)
        for prefix in (f"{at(reg.roads)}: ", f"{issue(at(reg.roads), '', '').file}: "):
            text = text.removeprefix(prefix)
        issues.append(issue(at(reg.roads), "", text))
    if roads is not None:
        speeds = reg.road_speeds_kmh
        # Roads with their own speed need no class speed; the others do.
        needs = roads
        if "speed_kmh" in roads.columns:
            needs = roads[~(roads["speed_kmh"].fillna(0) > 0)]
        classes = set(needs["road_class"].astype(str))
        unknown = sorted(c for c in classes if c not in speeds)
        if unknown:
            issues.append(
                issue(
                    path,
                    "region.road_speeds_kmh",
                    f"expected a speed for every road class of {reg.roads.name}, "
                    f"missing {', '.join(unknown)}",
                )
            )

    visits = _visits_per_point(path, settings, points, issues)

    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    if errors or (strict and warnings):
        raise ScenarioError(errors + (warnings if strict else []))
    return Scenario(
        path=path,
        settings=settings,
        points=tuple(points),
        households=tuple(households),
        depots=tuple(depots),
        stations=tuple(stations),
        facilities=tuple(facilities),
        roads=roads,
        boundary=boundary,
        zones=tuple(zones),
        visits=visits,
        warnings=tuple(warnings),
        content_hash=_content_hash(path, [at(p) for p in _files(settings)]),
    )


def _files(settings: ScenarioSettings) -> list[Path]:
    reg = settings.region
    out = [reg.points, reg.depots, reg.stations, reg.roads]
    out += [p for p in (reg.households, reg.facilities, reg.boundary) if p is not None]
    return out


def _content_hash(path: Path, files: Sequence[Path]) -> str:
    """Hash of the scenario file and every data file, for caches keyed on inputs."""
    h = hashlib.sha256(path.read_bytes())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _read_settings(path: Path, issues: list[Issue]) -> ScenarioSettings | None:
    raw = read_bytes(path, issues, "scenario file")
    if raw is None:
        return None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        issues.append(issue(path, "", "expected a UTF-8 TOML file, found other bytes"))
        return None
    except tomllib.TOMLDecodeError as exc:
        issues.append(issue(path, "", f"expected valid TOML: {exc}"))
        return None
    try:
        return ScenarioSettings.model_validate(data)
    except ValidationError as exc:
        issues.extend(_settings_issues(path, data, exc))
        return None


def _key_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lookup(data: Any, loc: Iterable[Any]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _settings_issues(path: Path, data: dict[str, Any], exc: ValidationError) -> list[Issue]:
    errors = exc.errors()
    failed = [tuple(e["loc"]) for e in errors if e["type"] != "too_short"]
    out = []
    for err in errors:
        loc = tuple(err["loc"])
        # pydantic reports a list as too short when one of its items failed; say only the item.
        if err["type"] == "too_short" and any(f[: len(loc)] == loc and f != loc for f in failed):
            continue
        where = _key_path(loc) or "(top level)"
        msg = plain_message(err)
        if err["type"] != "missing":
            found = _lookup(data, loc)
            if found is not None and not isinstance(found, dict | list):
                msg += f", found {found!r}"
        out.append(issue(path, where, msg))
    return out


def _check_unique_ids(
    tables: Sequence[tuple[Path | None, Sequence[Any]]], issues: list[Issue]
) -> None:
    """Place ids must be unique across all tables: plan.json names places by id."""
    seen: dict[str, tuple[Path | None, int]] = {}
    for file, rows in tables:
        for idx, row in enumerate(rows):
            if row.id in seen:
                other, orow = seen[row.id]
                where = "the same file" if other == file else (other.name if other else "?")
                issues.append(
                    issue(
                        file,
                        f"id {row.id}",
                        f"expected unique place ids, found {row.id!r} "
                        f"again (first in {where}, data row {orow + 1})",
                    )
                )
            else:
                seen[row.id] = (file, idx)


def _check_households(
    file: Path | None,
    households: Sequence[Household],
    points: Sequence[CollectionPoint],
    issues: list[Issue],
) -> None:
    if file is None or not households:
        return
    point_ids = {p.id for p in points}
    dup = [k for k, n in Counter(h.id for h in households).items() if n > 1]
    if dup:
        issues.append(
            issue(
                file,
                f"id {dup[0]}",
                f"expected unique household ids, found {len(dup)} repeated ({', '.join(dup[:5])})",
            )
        )
    unknown = [(i, h) for i, h in enumerate(households, start=2) if h.point not in point_ids]
    for rowno, h in unknown[:10]:
        issues.append(
            issue(
                file,
                f"row {rowno}, column point",
                f"expected the id of a collection point, found unknown point {h.point!r}",
            )
        )
    by_point = Counter(h.point for h in households)
    people = Counter[str]()
    for h in households:
        people[h.point] += h.people
    for p in points:
        if by_point.get(p.id, 0) != p.households or people.get(p.id, 0) != p.people:
            issues.append(
                issue(
                    file,
                    f"point {p.id}",
                    f"points file says {p.households} households / {p.people} people, the "
                    f"households file has {by_point.get(p.id, 0)} / {people.get(p.id, 0)}; "
                    "the households file is used",
                    warning=True,
                )
            )


def _check_fleet(
    path: Path, settings: ScenarioSettings, depot_ids: set[str], issues: list[Issue]
) -> None:
    seen: set[str] = set()
    for i, v in enumerate(settings.fleet):
        if v.id in seen:
            issues.append(
                issue(path, f"fleet[{i}].id", f"expected unique vehicle ids, found {v.id!r} twice")
            )
        seen.add(v.id)
        if depot_ids and v.depot not in depot_ids:
            known = ", ".join(sorted(depot_ids)[:8])
            issues.append(
                issue(
                    path,
                    f"fleet[{i}].depot",
                    f"expected a depot id ({known}), found unknown depot {v.depot!r}",
                )
            )


def _check_month(path: Path, settings: ScenarioSettings, issues: list[Issue]) -> None:
    month = settings.month
    for key, dates in (("holidays", month.holidays), ("closures", month.closures)):
        for j, d in enumerate(dates):
            if not month.first_day <= d <= month.last_day:
                issues.append(
                    issue(
                        path,
                        f"month.{key}[{j}]",
                        f"expected a date in {month.month}, found {d}",
                        warning=True,
                    )
                )
    if not month.service_dates():
        issues.append(
            issue(
                path,
                "month",
                f"expected at least one service day in {month.month}, found none: every "
                f"{'/'.join(month.service_weekdays) or '(no weekday)'} is a holiday or closure",
            )
        )


def _check_categories(path: Path, settings: ScenarioSettings, issues: list[Issue]) -> None:
    for key, items in (("categories", settings.categories), ("goods", settings.goods)):
        ids = Counter(c.id for c in items)
        for cid, n in ids.items():
            if n > 1:
                issues.append(issue(path, key, f"expected unique ids, found {cid!r} {n} times"))
    for i, c in enumerate(settings.categories):
        if c.stream == "sell" and c.resale_price_cny_kg <= 0 and c.buy_price_cny_kg <= 0:
            issues.append(
                issue(
                    path,
                    f"categories[{i}]",
                    f"expected a buy_price_cny_kg or resale_price_cny_kg for sell "
                    f"category {c.id!r}, found none",
                )
            )
        if (
            c.stream == "exchange"
            and c.exchange_points_per_kg <= 0
            and c.exchange_points_per_item <= 0
        ):
            issues.append(
                issue(
                    path,
                    f"categories[{i}].exchange_points_per_kg",
                    f"expected points > 0 (per kg or per item) for exchange category {c.id!r}, "
                    f"found {c.exchange_points_per_kg}",
                )
            )
        if c.exchange_points_per_item > 0 and c.kg_per_item <= 0:
            issues.append(
                issue(
                    path,
                    f"categories[{i}].kg_per_item",
                    f"expected kg_per_item > 0 for category {c.id!r}, which earns points per "
                    f"item, found {c.kg_per_item}",
                )
            )
    exchanging = [c.id for c in settings.categories if c.stream == "exchange"]
    if exchanging and not settings.goods:
        issues.append(
            issue(
                path,
                "goods",
                f"expected an exchange-goods catalogue ([[goods]]) for the exchange categories "
                f"{', '.join(exchanging)}, found none",
            )
        )


def _visits_per_point(
    path: Path, settings: ScenarioSettings, points: Sequence[CollectionPoint], issues: list[Issue]
) -> dict[str, int]:
    """Apply the default, then the rules in order, then the points file's own column."""
    vs = settings.visits
    visits = {p.id: vs.default for p in points}
    for i, rule in enumerate(vs.rules):
        if rule.township is not None:
            hit = [p for p in points if rule.township in (p.township, p.township_code)]
            key, value = "township", rule.township
        elif rule.gacha is not None:
            hit = [p for p in points if rule.gacha in (p.gacha, p.gacha_code)]
            key, value = "gacha", rule.gacha
        else:
            hit = [p for p in points if p.id == rule.point]
            key, value = "point", rule.point or ""
        if points and not hit:
            issues.append(
                issue(
                    path,
                    f"visits.rules[{i}].{key}",
                    f"expected a {key} of the points file, found {value!r}",
                )
            )
        for p in hit:
            visits[p.id] = rule.visits
    for p in points:
        if p.visits is not None:
            visits[p.id] = p.visits
    ndays = len(settings.month.service_dates())
    for k in sorted(set(visits.values())):
        gap = vs.gap_for(k)
        if ndays and k > ndays:
            issues.append(
                issue(
                    path, "visits", f"points need {k} visits but the month has {ndays} service days"
                )
            )
        elif ndays and gap and (k - 1) * gap > (settings.month.last_day.day - 1):
            issues.append(
                issue(
                    path,
                    f"visits.min_gap_days.{k}",
                    f"{k} visits at least {gap} days apart do not fit in one month",
                )
            )
    return visits
