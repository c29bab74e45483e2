"""What a run sheet shows, as plain data: the one source of its HTML and its PDF.

:func:`sheet_data` turns a run into a JSON-ready dict (header, carry list, stops,
tally forms, end-of-run box, the route map as SVG text). The HTML sheet is this
data through the Jinja2 template ``templates/sheet.html.j2`` (autoescaped); the PDF
is the same data handed to the Typst template ``templates/sheet.typ`` as JSON, so no
text of the plan is ever parsed as markup by either.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from planner.export._sheet_map import route_svg
from planner.export.bundle import PlanBundle, Stop, TallyRow
from planner.export.i18n import (
    category_name,
    duration,
    fmt_cny,
    fmt_kg,
    goods_name,
    long_date,
    sheet_words,
)
from planner.export.notices import announced
from planner.plan.model import Run

# Blank rows on a form for a point without a household list.
BLANK_FORM_ROWS = 12
# The PDF form's cells that may need more than one line: (key, column mm, font pt).
# The rows are drawn with fixed heights (fast to typeset), so the data says how many
# lines a row needs; must match the column widths in templates/sheet.typ.
_WRAPPING = (("name", 15.0, 7.0), ("goods", 22.0, 6.5))
_MAX_LINES = 3


def sheet_data(
    bundle: PlanBundle, run: Run, lang: str, tallies: Sequence[TallyRow]
) -> dict[str, Any]:
    """The run sheet of ``run`` as data (``tallies``: the run's rows of tallies.csv)."""
    L = sheet_words(lang)
    stops = bundle.stops(run)
    spec = bundle.vehicle(run.vehicle)
    depot = bundle.places.get(stops[0].place) if stops else None
    contact = bundle.scenario.settings.notices
    header = [
        (L["date"], long_date(run.date, lang)),
        (L["truck"], run.vehicle + (f" · {spec.name}" if spec is not None and spec.name else "")),
        (L["driver"], spec.driver if spec is not None and spec.driver else L["none"]),
        (L["depot"], depot.name if depot is not None else L["none"]),
        (L["departure"], f"{stops[0].departure:%H:%M}"),
        (L["return"], f"{stops[-1].arrival:%H:%M}"),
        (L["distance"], f"{float(run.distance_km):.1f} {L['km']}"),
        (L["duration"], duration(float(run.duration_min), lang)),
    ]
    demand = bundle.plan.demand
    if demand is not None:  # figures from the ledger's history (planner run --demand ledger)
        points = [s.place for s in stops if s.place in demand.points]
        k = sum(demand.points[p] == "history" for p in points)
        p_out = demand.runout_probability if demand.runout_probability is not None else 0.05
        header += [
            (L["demand"], L["demand_ledger"].format(k=k, n=len(points))),
            (L["carry_basis"], L["carry_ledger"].format(p=f"{p_out:.0%}")),
        ]
    if contact.phone:
        header.append((L["contact"], " ".join(x for x in (contact.contact, contact.phone) if x)))
    synthetic = any(p.synthetic for p in bundle.scenario.places() if p.id in bundle.places)
    return {
        "lang": "zh-CN" if lang == "zh" else "en",
        "L": L,
        "run_id": run.id,
        "stamp": int(dt.datetime.combine(run.date, dt.time(0), tzinfo=dt.UTC).timestamp()),
        "title": f"{L['title']} · {run.id}",
        "footer": f"{L['run']} {run.id}",
        "header": [{"k": k, "v": v} for k, v in header],
        "carry": _carry(bundle, run, tallies, L, lang),
        "stops": [_stop_row(bundle, s, L, lang) for s in stops],
        "map_svg": route_svg(bundle, stops, bundle.leg_lines(run)),
        "map_note": " · ".join(
            [
                f"■ {L['legend_depot']}",
                f"▲ {L['legend_station']}",
                f"① {L['legend_stop']}",
                f"— {L['legend_road']}",
            ]
            + ([L["map_synthetic"]] if synthetic else [])
        ),
        "forms": _forms(bundle, run, stops, tallies, L, lang),
        "end_box": [
            L[k]
            for k in (
                "cash_returned",
                "goods_returned",
                "weigh_ticket",
                "odometer",
                "driver_sign",
                "checked_by",
            )
        ],
    }


def _ordered(bundle: PlanBundle, cat_ids: set[str]) -> list[str]:
    order = {c.id: k for k, c in enumerate(bundle.scenario.settings.categories)}
    return sorted(cat_ids, key=lambda c: (order.get(c, len(order)), c))


def _kg_list(bundle: PlanBundle, kg: dict[str, float], lang: str) -> str:
    return " · ".join(
        f"{category_name(bundle, c, lang)} {fmt_kg(kg[c])}"
        for c in _ordered(bundle, set(kg))
        if kg[c] > 0
    )


def _carry(
    bundle: PlanBundle, run: Run, tallies: Sequence[TallyRow], L: dict[str, str], lang: str
) -> dict[str, Any]:
    carry = bundle.run_carry(run.id)
    if carry is not None:
        goods = [
            {
                "name": goods_name(bundle, str(g.get("item", "")), str(g.get("name", "")), lang),
                "unit": str(g.get("unit", "")),
                "expected": int(g.get("expected", 0)),
                "load": int(g.get("load", 0)),
            }
            for g in carry.get("goods") or []
        ]
        return {
            "rows": [
                (
                    L["cash_float"],
                    f"{fmt_cny(float(carry.get('cash_float_cny', 0.0)))} {L['yuan']}",
                ),
                (L["purchases"], f"{fmt_cny(float(carry.get('purchases_cny', 0.0)))} {L['yuan']}"),
                (
                    L["goods_value"],
                    f"{fmt_cny(float(carry.get('goods_value_cny', 0.0)))} {L['yuan']}",
                ),
            ],
            "goods": goods,
            "warn": L["goods_fit_no"] if carry.get("goods_fit") is False else "",
        }
    why = L["not_computed"] if bundle.summary is None else L["not_in_summary"]
    rows = [(L["cash_float"], why), (L["goods"], why)]
    if tallies:
        cash = sum(t.value_cny for t in tallies if t.stream == "sell")
        value = sum(t.value_cny for t in tallies if t.stream == "exchange")
        rows += [
            (L["purchases"], f"{fmt_cny(cash)} {L['yuan']} ({L['from_tallies']})"),
            (L["goods_value"], f"{fmt_cny(value)} {L['yuan']} ({L['from_tallies']})"),
        ]
    return {"rows": rows, "goods": [], "warn": ""}


def _stop_row(bundle: PlanBundle, s: Stop, L: dict[str, str], lang: str) -> dict[str, Any]:
    kind = "depot" if s.type in ("start", "end") else s.type
    if s.type in ("start", "end") or s.arrival == s.departure:
        time = f"{s.arrival:%H:%M}"
    else:
        time = f"{s.arrival:%H:%M}–{s.departure:%H:%M}"
    window = ""
    if s.type == "collect":
        # The window the gacha's notice announces (kept inside the scenario's bounds).
        start, end = announced(bundle, s)
        window = f"{start:%H:%M}–{end:%H:%M}"
    leg = ""
    if s.type != "start" and not (s.type == "break" and s.leg_km == 0):
        leg = f"{s.leg_km:.1f} km · {round(s.leg_min)} {L['min']}"
    if s.type == "collect":
        n = len(bundle.households.get(s.place, []))
        what = f"{L['collect']} {fmt_kg(sum(s.collected.values()))} kg"
        what += f" · {n} {L['households_n']}" if n else ""
        detail = _kg_list(bundle, s.collected, lang)
    elif s.type == "unload":
        what = f"{L['unload']} {fmt_kg(sum(s.unloaded.values()))} kg"
        detail = _kg_list(bundle, s.unloaded, lang)
    elif s.type == "break":
        what = f"{L['break']} {round((s.departure - s.arrival).total_seconds() / 60)} {L['min']}"
        detail = ""
    else:
        what, detail = L[s.type], ""
    sub = " · ".join(x for x in (s.gacha, s.township) if x)
    return {
        "no": "" if s.number is None else str(s.number),
        "kind": kind,
        "time": time,
        "window": window,
        "place": s.name,
        "sub": sub,
        "leg": leg,
        "what": what,
        "detail": detail,
    }


# --- tally forms -----------------------------------------------------------------


def _forms(
    bundle: PlanBundle,
    run: Run,
    stops: Sequence[Stop],
    tallies: Sequence[TallyRow],
    L: dict[str, str],
    lang: str,
) -> list[dict[str, Any]]:
    points = _exchange_points(bundle)
    expect: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for t in tallies:
        if t.stream not in ("sell", "exchange"):
            continue
        acc = expect[t.point].setdefault(t.household, [0.0, 0.0, 0.0])
        if t.stream == "sell" and t.unit == "kg":
            acc[0] += t.quantity
            acc[1] += t.value_cny
        elif t.stream == "exchange":
            acc[2] += t.quantity * points[t.category][1 if t.unit == "item" else 0]
    balances = bundle.points_balances
    out = []
    for s in stops:
        if s.type != "collect":
            continue
        households = bundle.households.get(s.place, [])
        mine = expect.get(s.place, {})
        ids = [h.id for h in households] or sorted(mine)
        names = {h.id: h.name for h in households}
        people = {h.id: h.people for h in households}
        due = bundle.goods_due.get((run.id, s.place), {})
        rows: list[dict[str, Any]] = []
        for hid in ids:
            e = mine.get(hid)
            goods = due.get(hid, [])
            balance = balances.get((run.id, s.place, hid))
            rows.append(
                {
                    "id": hid,
                    "name": names.get(hid, ""),
                    "people": str(people.get(hid, "")),
                    "sell_kg": fmt_kg(e[0]) if e else "",
                    "cash": fmt_cny(e[1]) if e else "",
                    "points": f"{e[2]:.0f}" if e else "",
                    "balance": "" if balance is None else f"{balance:.0f}",
                    "goods": "、".join(
                        f"{goods_name(bundle, g.item, g.item, lang)}×{g.count}" for g in goods
                    ),
                }
            )
            rows[-1]["lines"] = _lines(rows[-1])
        start, end = announced(bundle, s)
        where = " · ".join(x for x in (s.gacha, s.township) if x)
        head = f"{s.number}. {s.name}" + (f"（{where}）" if where else "")
        head += f" · {L['arrive']} {s.arrival:%H:%M} ({start:%H:%M}–{end:%H:%M})"
        totals = [sum(v[k] for v in mine.values()) for k in range(3)]
        n_goods: dict[str, int] = defaultdict(int)
        for goods in due.values():
            for g in goods:
                n_goods[goods_name(bundle, g.item, g.item, lang)] += g.count
        total_goods = "、".join(f"{k}×{v}" for k, v in n_goods.items())
        out.append(
            {
                "head": head,
                "rows": rows,
                "blank": 0 if rows else BLANK_FORM_ROWS,
                "note": "" if rows else L["no_households"],
                "total": {
                    "people": str(sum(people.values())) if people else "",
                    "sell_kg": fmt_kg(totals[0]) if mine else "",
                    "cash": fmt_cny(totals[1]) if mine else "",
                    "points": f"{totals[2]:.0f}" if mine else "",
                    "goods": total_goods,
                    "lines": _lines({"goods": total_goods}),
                },
                "names": any(names.values()),
            }
        )
    return out


def _lines(cells: dict[str, str]) -> int:
    """Lines the PDF form's tallest cell of a row needs (1 to 3)."""
    need = 1
    for key, column_mm, size_pt in _WRAPPING:
        text = cells.get(key, "")
        if not text:
            continue
        # CJK characters are square; Latin letters and digits about half as wide.
        width_mm = sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text) * size_pt * 0.3528
        need = max(need, -int(-width_mm // (column_mm - 1.6)))
    return min(need, _MAX_LINES)


def _exchange_points(bundle: PlanBundle) -> dict[str, tuple[float, float]]:
    """Points per kg and per item of each category (0 for the others)."""
    out: dict[str, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for c in bundle.scenario.settings.categories:
        out[c.id] = (c.exchange_points_per_kg, c.exchange_points_per_item)
    return out
