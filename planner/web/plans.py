"""The plan folders the server shows: found under ``--plans``, read once, re-read on change.

``--plans DIR`` is either one plan folder (``DIR/plan.json``) or a folder of them
(``DIR/*/plan.json``); each is named by its folder. A folder is read through the
export bundle (plan.json, tallies.csv, summary.json and the scenario named in
run.json) and kept until its plan.json changes. The views below are plain dicts
ready for the templates and the JSON API.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from planner._errors import PlannerError
from planner.export.bundle import PlanBundle, read_bundle
from planner.ledger.codes import household_code
from planner.plan.model import Plan, Run

# Files of a plan folder that are never offered for download.
_PRIVATE = {"run.json"}


@dataclass
class PlanFolder:
    """One plan folder, read."""

    name: str
    path: Path
    bundle: PlanBundle
    plan: Plan
    mtime_ns: int
    _goods: dict[tuple[str, str], list[dict[str, Any]]] | None = field(default=None, repr=False)

    @property
    def month(self) -> str:
        return self.plan.period.start.isoformat()[:7]

    @cached_property
    def categories(self) -> list[dict[str, Any]]:
        """The scenario's categories: id, names, stream, price per kg, points per kg."""
        return [
            {
                "id": c.id,
                "name": c.name,
                "name_en": c.name_en or c.id,
                "stream": c.stream,
                "price_cny_kg": c.buy_price_cny_kg,
                "points_per_kg": c.exchange_points_per_kg,
                "hazardous": c.hazardous,
            }
            for c in self.bundle.scenario.settings.categories
        ]

    @cached_property
    def goods_items(self) -> list[dict[str, Any]]:
        return [
            {"id": g.id, "name": g.name, "name_en": g.name_en or g.id, "unit": g.unit,
             "points": g.points, "value_cny": g.value_cny}
            for g in self.bundle.scenario.settings.goods
        ]  # fmt: skip

    def goods_due(self, run_id: str, point: str) -> list[dict[str, Any]]:
        """Goods the plan hands out at one stop (goods.csv), per household."""
        if self._goods is None:
            out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            path = self.path / "goods.csv"
            if path.exists():
                with path.open(encoding="utf-8", newline="") as fh:
                    for row in csv.DictReader(fh):
                        try:
                            count = int(float(row["count"]))
                        except (KeyError, ValueError):
                            continue
                        out[(row["run_id"], row["point"])].append(
                            {"household": row["household"], "item": row["item"], "count": count}
                        )
            self._goods = dict(out)
        return self._goods.get((run_id, point), [])

    def runs_of(self, vehicle: str) -> list[Run]:
        return [r for r in self.plan.runs if r.vehicle == vehicle]

    def run_view(self, run: Run) -> dict[str, Any]:
        """One run for the phone: stops with names, windows, households and goods due."""
        places = self.plan.places_by_id
        points = self.plan.points_by_id
        households = self.bundle.households
        tallies: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for t in self.bundle.tallies_of(run.id):
            tallies[(t.point, t.household)].append(t)
        carry = self.bundle.run_carry(run.id) or {}
        steps = []
        for k, st in enumerate(run.steps):
            place = places.get(st.place)
            view: dict[str, Any] = {
                "index": k,
                "type": st.type,
                "place": st.place,
                "name": place.name if place else st.place,
                "lon": place.lon if place else None,
                "lat": place.lat if place else None,
                "arrival": st.arrival.strftime("%Y-%m-%dT%H:%M"),
                "departure": st.departure.strftime("%Y-%m-%dT%H:%M"),
                "collected": dict(st.collected or {}),
                "unloaded": dict(st.unloaded or {}),
            }
            if st.type == "collect":
                pp = points.get(st.place)
                view["window"] = list(pp.window) if pp and pp.window else None
                due: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for g in self.goods_due(run.id, st.place):
                    due[g["household"]].append({"item": g["item"], "count": g["count"]})
                view["households"] = [
                    {
                        "id": h.id,
                        "code": household_code(h.id),
                        "name": h.name,
                        "people": h.people,
                        "goods_due": due.get(h.id, []),
                        "expected": {
                            t.category: float(t.quantity)
                            for t in tallies[(st.place, h.id)]
                            if t.unit == "kg"
                        },
                    }
                    for h in households.get(st.place, [])
                ]
            steps.append(view)
        return {
            "plan": self.name,
            "id": run.id,
            "date": run.date.isoformat(),
            "vehicle": run.vehicle,
            "distance_km": run.distance_km,
            "duration_min": run.duration_min,
            "cash_float_cny": carry.get("cash_float_cny"),
            "goods_loaded": [
                {"item": g["item"], "name": g.get("name", g["item"]), "count": g["load"]}
                for g in carry.get("goods", [])
            ],
            "steps": steps,
            "categories": self.categories,
            "goods_items": self.goods_items,
        }

    def downloads(self) -> list[str]:
        """Every file of the folder that may be downloaded, as relative POSIX paths."""
        root = self.path.resolve()
        out = []
        for p in sorted(self.path.rglob("*")):
            rel = p.relative_to(self.path)
            if any(part.startswith(".") for part in rel.parts) or rel.name in _PRIVATE:
                continue
            if p.is_symlink() or not p.is_file():
                continue
            if not p.resolve().is_relative_to(root):
                continue
            out.append(rel.as_posix())
        return out


class PlanStore:
    """The plan folders under one directory, each read on first use and on change."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self._cache: dict[str, PlanFolder] = {}
        self.errors: dict[str, str] = {}

    def folders(self) -> dict[str, Path]:
        """Plan folder name -> path, sorted by name."""
        if (self.root / "plan.json").is_file():
            return {self.root.resolve().name: self.root}
        found = {}
        if self.root.is_dir():
            for p in sorted(self.root.iterdir()):
                if not p.name.startswith(".") and (p / "plan.json").is_file():
                    found[p.name] = p
        return found

    def get(self, name: str) -> PlanFolder | None:
        path = self.folders().get(name)
        if path is None:
            return None
        mtime = (path / "plan.json").stat().st_mtime_ns
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached.mtime_ns == mtime:
                return cached
            try:
                bundle = read_bundle(path)
                plan = bundle.plan
            except PlannerError as exc:
                self.errors[name] = str(exc)
                return None
            self.errors.pop(name, None)
            folder = PlanFolder(name, path, bundle, plan, mtime)
            self._cache[name] = folder
            return folder

    def all(self) -> list[PlanFolder]:
        return [f for f in (self.get(n) for n in self.folders()) if f is not None]

    def find_run(self, run_id: str) -> tuple[PlanFolder, Run] | None:
        for folder in self.all():
            run = folder.plan.run(run_id)
            if run is not None:
                return folder, run
        return None

    def vehicles(self) -> list[tuple[str, str]]:
        """(month, vehicle) of every truck with runs in some plan."""
        out = set()
        for f in self.all():
            for r in f.plan.runs:
                out.add((f.month, r.vehicle))
        return sorted(out)


def today_in(folder: PlanFolder) -> dt.date:
    """Today's date in the plan's time zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(folder.plan.period.timezone)).date()
