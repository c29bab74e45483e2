"""The forecast as files: ``forecast_points.csv``, ``forecast_households.csv``, ``forecast.json``.

Every figure says where it came from: ``history`` (the point's own recorded
visits), ``history (gacha)`` / ``history (township)`` (borrowed from its group),
or ``assumption`` (the scenario's rates, no history).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from planner._atomic import write_json_atomic, write_text_atomic
from planner.forecast.estimate import LEVELS, TOTAL, RateModel
from planner.forecast.predict import Forecast, month_length

FORMAT = "rural-waste-forecast/1"
LEVEL = 0.9
POINT_COLUMNS = (
    "point",
    "township",
    "gacha",
    "figure",
    "unit",
    "assumed_per_day",
    "forecast_per_day",
    "lo90_per_day",
    "hi90_per_day",
    "visit_days",
    "visit_forecast",
    "visit_lo90",
    "visit_hi90",
    "presence",
    "source",
)
HOUSEHOLD_COLUMNS = ("household", "point", "figure", "multiplier", "lo90", "hi90", "source")


def unit(figure: str) -> str:
    return "CNY" if figure.endswith("_cny") else "kg"


def point_rows(fc: Forecast, scenario: Any) -> list[dict[str, Any]]:
    """One row per point and figure (see :data:`POINT_COLUMNS`)."""
    meta = {p.id: p for p in scenario.points}
    length = month_length(fc.month)
    rows = []
    for pid in sorted(fc.rates):
        p = meta[pid]
        days = length / max(scenario.visits.get(pid, 1), 1)
        for f in fc.figures:
            r = fc.rates[pid][f]
            lo, hi = r.interval(LEVEL)
            vm = r.visit_moments(days)[0]
            vlo, vhi = r.visit_interval(days, LEVEL)
            rows.append(
                {
                    "point": pid,
                    "township": p.township,
                    "gacha": p.gacha,
                    "figure": f,
                    "unit": unit(f),
                    "assumed_per_day": round(r.assumed, 4),
                    "forecast_per_day": round(r.mean, 4),
                    "lo90_per_day": round(lo, 4),
                    "hi90_per_day": round(hi, 4),
                    "visit_days": round(days, 2),
                    "visit_forecast": round(vm, 3),
                    "visit_lo90": round(vlo, 3),
                    "visit_hi90": round(vhi, 3),
                    "presence": round(fc.presence.get(pid, 1.0), 4),
                    "source": r.source,
                }
            )
    return rows


def model_doc(model: RateModel) -> dict[str, Any]:
    """The fitted model's figures: dispersions, size effect and each level's spread."""
    return {
        f: {
            "phi": round(fit.phi, 5),
            "phi_visit": round(fit.phi_visit, 5),
            "size_elasticity": round(fit.beta, 4),
            "size_elasticity_se": round(fit.beta_se, 4),
            "level_step_var": round(fit.level_step_var, 6),
            "tau2": {k: round(fit.levels[k].tau2, 6) for k in LEVELS if k in fit.levels},
            "seasonal": list(fit.seasonal) if fit.seasonal is not None else None,
        }
        for f, fit in model.figures.items()
    }


def write_forecast(
    fc: Forecast, model: RateModel, scenario: Any, out_dir: Path, *, db: str = ""
) -> list[Path]:
    """Write the three files into ``out_dir`` (atomically); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = point_rows(fc, scenario)
    points = out_dir / "forecast_points.csv"
    write_text_atomic(points, _csv(POINT_COLUMNS, rows))
    households = out_dir / "forecast_households.csv"
    hh = [
        {
            "household": h.household,
            "point": h.point,
            "figure": h.figure,
            "multiplier": round(h.multiplier, 4),
            "lo90": round(h.lo, 4),
            "hi90": round(h.hi, 4),
            "source": h.source,
        }
        for h in sorted(fc.households, key=lambda h: (h.household, h.figure))
    ]
    write_text_atomic(households, _csv(HOUSEHOLD_COLUMNS, hh))
    sources: dict[str, int] = {}
    for pid in fc.rates:
        s = fc.rates[pid][TOTAL].source
        sources[s] = sources.get(s, 0) + 1
    doc = {
        "format": FORMAT,
        "scenario": scenario.name,
        "month": fc.month,
        "db": db,
        "level": LEVEL,
        "history": {"months": list(fc.history_months), "visits": fc.history_visits},
        "points_by_source": dict(sorted(sources.items())),
        "figures": {f: unit(f) for f in fc.figures},
        "model": model_doc(model),
        "points": rows,
    }
    js = out_dir / "forecast.json"
    write_json_atomic(js, doc)
    return [points, households, js]


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
