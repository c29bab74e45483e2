"""A sweep's grid: ``--vary KEY=V1,V2`` axes, expanded into scenario variants.

A key is a dotted path into the scenario file (``visits.default``,
``windows.width_min``, ``budget.fee_per_gacha_year_cny``); arrays of tables take a
selector: ``fleet[0].payload_kg`` (by position), ``fleet[*].cost_per_km`` (every
truck), ``categories[pet_bottles].buy_price_cny_kg`` (by ``id``). Keys are checked
against the scenario's models (:class:`~planner.scenario.settings.ScenarioSettings`)
before anything is written, so a typo is one message, not one per cell.

Values are TOML values (``2``, ``45.5``, ``true``, ``"text"``, ``[1, 2]``,
``2026-12-25``); anything that does not read as TOML is a string (``2027-01``).
Commas inside brackets, braces or quotes do not split values.

Special keys, for what is not one scalar of the file (see :data:`SPECIAL_KEYS`):

``fleet.per_depot``
    Trucks per depot (an integer >= 1). Every depot that has trucks in the base
    scenario gets that many: its first trucks as they are, then copies of its first
    truck with ids ``<first id>-<k>``.
``stations.add``
    New transfer stations: ``none``, or ``LON:LAT`` positions joined by ``+``
    (``108.1:39.4+108.3:39.6``). The cell's stations file is the base one plus
    these rows (ids ``NEW1``, ``NEW2``…).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
import tomllib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from planner._errors import Issue, ScenarioError
from planner.scenario.settings import ScenarioSettings

# Special keys and what they take (shown in messages and in docs/dist.md).
SPECIAL_KEYS = {
    "fleet.per_depot": "an integer >= 1 (trucks per depot)",
    "stations.add": "'none' or LON:LAT positions joined by '+'",
}
_NAME = r"[A-Za-z0-9_-]+"
_SEGMENT = re.compile(rf"({_NAME})(?:\[([^\[\]]*)\])?")


@dataclass(frozen=True)
class Axis:
    """One ``--vary`` option: a key and the values it takes, in order.

    ``texts`` are the values as written (for column values and folder names).
    """

    key: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class NewStation:
    """A transfer station that ``stations.add`` puts into a cell."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Variant:
    """One cell of the grid before it is written: its settings and extra stations.

    ``data`` is the scenario file's table with the cell's values applied (paths
    still relative to the base file); ``values`` maps each axis key to its text.
    """

    index: int
    values: dict[str, str]
    data: dict[str, Any]
    new_stations: tuple[NewStation, ...]

    @property
    def cell_id(self) -> str:
        return f"c{self.index:03d}"

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items())

    @property
    def folder(self) -> str:
        """The cell's folder name: its id, then each value (safe for file systems)."""
        parts = [self.cell_id]
        for key, text in self.values.items():
            last = key.rsplit(".", 1)[-1]
            parts.append(re.sub(r"[^0-9A-Za-z._-]+", "-", f"{last}-{text}").strip("-"))
        return "_".join(parts)[:100]


def _grid_error(key: str, message: str) -> ScenarioError:
    return ScenarioError([Issue(None, f"--vary {key}" if key else "--vary", message)])


def split_values(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, braces and quotes."""
    out, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def parse_value(text: str) -> Any:
    """A TOML value, or the text itself when it is not one (times stay text)."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, dt.time | dt.datetime):
        return text  # "08:30" is a time in TOML, a string in the scenario file
    return value


def parse_axis(option: str) -> Axis:
    """One ``KEY=V1,V2,…`` option as an :class:`Axis` (values parsed, key not yet checked).

    Raises
    ------
    ScenarioError
        When the option has no ``=``, no key, an empty or a repeated value.
    """
    if "=" not in option:
        raise _grid_error(option, f"expected KEY=V1,V2,…, found {option!r}")
    key, _, rest = option.partition("=")
    key = key.strip()
    if not key:
        raise _grid_error("", f"expected a key before '=', found {option!r}")
    texts = split_values(rest)
    if any(not t for t in texts):
        raise _grid_error(key, f"expected values separated by commas, found {rest!r}")
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        raise _grid_error(key, f"expected distinct values, found {', '.join(repeated)} twice")
    return Axis(key, tuple(parse_value(t) for t in texts), tuple(texts))


def parse_axes(options: Sequence[str], base: dict[str, Any]) -> tuple[Axis, ...]:
    """Every ``--vary`` option parsed and its key checked against ``base``.

    Raises
    ------
    ScenarioError
        Listing every faulty option (key, what was expected, what was found).
    """
    issues: list[Issue] = []
    axes: list[Axis] = []
    for option in options:
        try:
            axis = parse_axis(option)
            check_key(axis.key, base)
            if axis.key in SPECIAL_KEYS:
                for value, text in zip(axis.values, axis.texts, strict=True):
                    _special_value(axis.key, value, text)
        except ScenarioError as exc:
            issues.extend(exc.issues)
            continue
        if any(a.key == axis.key for a in axes):
            issues.append(Issue(None, f"--vary {axis.key}", "expected each key once, found twice"))
            continue
        axes.append(axis)
    if not options:
        issues.append(Issue(None, "--vary", "expected at least one --vary KEY=V1,V2"))
    if issues:
        raise ScenarioError(issues)
    return tuple(axes)


def _segments(key: str) -> list[tuple[str, str | None]]:
    parts = key.split(".")
    out = []
    for part in parts:
        m = _SEGMENT.fullmatch(part)
        if m is None:
            raise _grid_error(
                key,
                f"expected a dotted key such as visits.default or fleet[0].payload_kg, "
                f"found {part!r} in it",
            )
        out.append((m.group(1), m.group(2)))
    return out


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds and how: ``one``, ``array`` (tuple of models) or ``map``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _model_of(args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "one"
    if origin is tuple and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0], "array"
    if origin is dict:
        return None, "map"
    return None, "value"


def check_key(key: str, base: dict[str, Any]) -> None:
    """Raise a :class:`ScenarioError` unless ``key`` names a setting of the scenario file.

    Selectors are checked against ``base`` (the base scenario's table): an index
    must exist, an id must be one of the array's ids.
    """
    if key in SPECIAL_KEYS:
        if key == "fleet.per_depot" and not base.get("fleet"):
            raise _grid_error(key, "expected a base scenario with trucks, found none")
        return
    model: type[BaseModel] | None = ScenarioSettings
    node: Any = base
    segs = _segments(key)
    for n, (name, sel) in enumerate(segs):
        path = ".".join(k for k, _ in segs[:n]) or "the scenario file"
        last = n == len(segs) - 1
        if model is None:
            if not isinstance(node, dict) and node is not None:
                raise _grid_error(key, f"expected a table at {path}, found a value")
            node = node.get(name) if isinstance(node, dict) else None
            continue
        fields = model.model_fields
        if name not in fields:
            hint = ", ".join(fields)
            raise _grid_error(key, f"expected a key of {path} ({hint}), found {name!r}")
        sub, kind = _model_of(fields[name].annotation)
        node = node.get(name) if isinstance(node, dict) else None
        if kind == "array":
            if sel is None:
                raise _grid_error(
                    key,
                    f"expected a selector on {name}: {name}[0], {name}[*] or {name}[ID], "
                    f"found {name}",
                )
            _select(key, name, sel, node if isinstance(node, list) else [])
            node = None
        elif sel is not None:
            raise _grid_error(key, f"expected no selector on {name}, found [{sel}]")
        if kind in ("one", "array") and last:
            raise _grid_error(key, f"expected a key inside {name} (a table), found none")
        if kind == "value" and not last:
            raise _grid_error(key, f"expected {name} to end the key (it is a value), found more")
        model = sub


def _select(key: str, name: str, sel: str, items: list[Any]) -> list[int]:
    """Positions of the array items a selector names."""
    if sel == "*":
        return list(range(len(items)))
    if sel.isdigit():
        if int(sel) >= len(items):
            raise _grid_error(
                key, f"expected an index below {len(items)} ({name} has {len(items)}), found {sel}"
            )
        return [int(sel)]
    ids = [str(it.get("id")) for it in items if isinstance(it, dict)]
    if sel not in ids:
        shown = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
        raise _grid_error(key, f"expected an index, * or an id of {name} ({shown}), found {sel!r}")
    return [ids.index(sel)]


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` (checked by :func:`check_key`) to ``value`` in ``data``."""
    segs = _segments(key)
    nodes: list[Any] = [data]
    for n, (name, sel) in enumerate(segs):
        last = n == len(segs) - 1
        nxt: list[Any] = []
        for node in nodes:
            if sel is None:
                if last:
                    node[name] = copy.deepcopy(value)
                else:
                    nxt.append(node.setdefault(name, {}))
            else:
                items = node.get(name, [])
                nxt.extend(items[i] for i in _select(key, name, sel, items))
        nodes = nxt


def _special_value(key: str, value: Any, text: str) -> Any:
    if key == "fleet.per_depot":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _grid_error(key, f"expected {SPECIAL_KEYS[key]}, found {text!r}")
        return value
    if text.lower() == "none":
        return ()
    out = []
    for part in text.split("+"):
        lon, sep, lat = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out.append((float(lon), float(lat)))
        except ValueError:
            raise _grid_error(key, f"expected {SPECIAL_KEYS[key]}, found {part!r}") from None
    return tuple(out)


def _per_depot(data: dict[str, Any], n: int) -> None:
    fleet = data.get("fleet", [])
    by_depot: dict[str, list[dict[str, Any]]] = {}
    for truck in fleet:
        by_depot.setdefault(str(truck.get("depot")), []).append(truck)
    taken = {str(t.get("id")) for t in fleet}
    out = []
    for trucks in by_depot.values():
        out.extend(trucks[:n])
        first = trucks[0]
        for k in range(len(trucks) + 1, n + 1):
            new = copy.deepcopy(first)
            new["id"] = free_id(f"{first.get('id')}-{k}", taken)
            if first.get("name"):
                new["name"] = f"{first['name']} #{k}"
            out.append(new)
    data["fleet"] = out


def free_id(wanted: str, taken: set[str], sep: str = ".") -> str:
    """``wanted``, or ``wanted<sep>2``, ``<sep>3``… the first not in ``taken`` (then taken)."""
    out, k = wanted, 1
    while out in taken:
        k += 1
        out = f"{wanted}{sep}{k}"
    taken.add(out)
    return out


def expand(base: dict[str, Any], axes: Sequence[Axis]) -> list[Variant]:
    """Every combination of the axes' values (the first axis varies slowest)."""
    variants = []
    combos = itertools.product(*(range(len(a.values)) for a in axes))
    for index, picks in enumerate(combos, start=1):
        data = copy.deepcopy(base)
        stations: tuple[NewStation, ...] = ()
        # Ordinary keys first: selectors name the base fleet, and copies made for
        # fleet.per_depot take their first truck's varied values.
        picked = list(zip(axes, picks, strict=True))
        picked.sort(key=lambda ai: ai[0].key in SPECIAL_KEYS)
        for axis, i in picked:
            value, text = axis.values[i], axis.texts[i]
            if axis.key == "fleet.per_depot":
                _per_depot(data, _special_value(axis.key, value, text))
            elif axis.key == "stations.add":
                spots = _special_value(axis.key, value, text)
                stations = tuple(
                    NewStation(f"NEW{k}", lon, lat) for k, (lon, lat) in enumerate(spots, 1)
                )
            else:
                _set(data, axis.key, value)
        values = {axis.key: axis.texts[i] for axis, i in zip(axes, picks, strict=True)}
        variants.append(Variant(index, values, data, stations))
    return variants
