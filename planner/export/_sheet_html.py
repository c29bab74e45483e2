"""The HTML of one run sheet: header, carry list, route map, stops and tally forms.

Everything here is plain string building so the same page opens in a browser
and goes through WeasyPrint unchanged. Portrait A4 for the route, landscape A4
(named page ``form``) for the tally forms, whose rows are split into pages here
so WeasyPrint never has to break a long table.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import shapely

from planner.export.bundle import PlanBundle, Stop, TallyRow
from planner.export.labels import category_name, fmt_cny, fmt_kg, goods_name, labels, long_date
from planner.plan.model import Run

ROWS_PER_FORM_PAGE = 26
BLANK_FORM_ROWS = 15
# Tally-form geometry in mm on landscape A4 with 10 mm margins (277 mm of table).
_FORM_WIDTH_MM = 277.0
_ROW_MM = 6.0
_TAB_MM = 14.0  # one known column; ids and names may take several
_CHAR_MM = 1.7  # width of a Latin character at 8 pt, roughly
_NAME_TABS = 2
_MIN_CATEGORY_COL_MM = 11.0
_WRITE_MM = {"cash_paid": 20.0, "goods_given": 34.0, "signature": 30.0}

FONT_FAMILY = "Planner CJK"
# Browsers without the font file fall back to a system Chinese font.
FONT_STACK = (
    f'"{FONT_FAMILY}", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK TC", sans-serif'
)

_CSS = """
@font-face { font-family: "%(family)s"; src: url("%(font_url)s"); }
@page { size: A4; margin: 12mm 12mm 14mm 12mm;
  @bottom-center { font-family: %(stack)s; font-size: 7.5pt; color: #555; } }
@page form { size: A4 landscape; margin: 10mm 10mm 13mm 10mm; }
html { font-family: %(stack)s; font-size: 9pt; color: #111; }
body { margin: 0; }
/* One weight only: a synthetic bold would embed the 16 MB font's subset twice. */
h1, h2, th, b, strong { font-weight: normal; }
h1 { font-size: 15pt; margin: 0 0 2mm 0; }
h2 { font-size: 10.5pt; margin: 3mm 0 1.5mm 0; }
.em { font-size: 10.5pt; color: #000; }
table { border-collapse: collapse; }
.layout { width: 100%%; table-layout: fixed; }
.layout > tbody > tr > td { vertical-align: top; padding: 0; }
.info { width: 100%%; table-layout: fixed; }
.info td { padding: 0.6mm 2mm 0.6mm 0; }
.info td.k { color: #555; }
.carry { margin-top: 2mm; width: 92%%; table-layout: fixed; }
.carry td, .carry th { border: 0.3mm solid #999; padding: 0.8mm 1.5mm; }
.carry th { background: #eee; font-weight: normal; text-align: left; }
.num { text-align: right; }
.muted { color: #666; }
.warn { color: #a00; }
.map { border: 0.3mm solid #999; }
.map-note { font-size: 7pt; color: #555; }
.stops { width: 100%%; table-layout: fixed; margin-top: 1mm; }
.stops th { background: #eee; font-weight: normal; text-align: left; }
.stops td, .stops th { border: 0.3mm solid #999; padding: 0.8mm 1.2mm; vertical-align: top; }
.stops tr { page-break-inside: avoid; }
.stops .sub { font-size: 7pt; color: #555; line-height: 1.3; }
.stops tr.depot td { background: #f6f6f6; }
.stops tr.unload td { background: #fff4e0; }
.stops tr.break td { background: #f2f2f2; color: #444; }
.form { page: form; page-break-before: always; }
.form h2 { margin: 0 0 2mm 0; font-size: 10pt; }
.tally { width: 277mm; table-layout: fixed; }
.tally th, .tally td { border: 0.3mm solid #777; padding: 0 0 0 1mm; }
.tally th { background: #eee; font-weight: normal; font-size: 7.5pt; height: 5mm;
  line-height: 1.15; }
.tally td { font-size: 8pt; line-height: %(row)smm; vertical-align: top; }
.tally td.i { white-space: pre; tab-size: %(tab)smm; }
.tally td.w { padding: 0; }
.tally .tot { color: #000; }
"""


@dataclass(frozen=True)
class _Cols:
    """Which columns the tally forms of one run have."""

    names: bool
    expected: bool
    kg_columns: tuple[tuple[str, str], ...]  # (key, header): a category id or a stream
    id_tabs: int


def base_css(font_url: str) -> str:
    """The stylesheet every sheet shares; ``font_url``: the CJK font as a ``file://`` URL."""
    return _CSS % {
        "family": FONT_FAMILY,
        "font_url": font_url,
        "stack": FONT_STACK,
        "row": f"{_ROW_MM:g}",
        "tab": f"{_TAB_MM:g}",
    }


def _run_css(footer: str, cols: _Cols) -> str:
    # A CSS string inside <style>: escape quotes, backslashes and "<" (no "</style>").
    text = footer.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    page = f'content: "{text} · " counter(page) " / " counter(pages)'
    return f"@page {{ @bottom-center {{ {page} }} }}\n" + form_css(cols)


def sheet_html(
    bundle: PlanBundle,
    run: Run,
    lang: str,
    legs: Sequence[shapely.LineString],
    tallies: Sequence[TallyRow],
    font_url: str,
) -> str:
    """The complete HTML document of one run's sheet (``tallies``: the run's rows)."""
    L = labels(lang)
    stops = bundle.stops(run)
    numbers = _stop_numbers(stops)
    cols = _form_columns(bundle, bool(tallies), stops, lang, L)
    title = f"{L['title']} {run.id}"
    footer = f"{L['run']} {run.id}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{base_css(font_url)}</style>",
        f"<style>{_run_css(footer, cols)}</style></head><body>",
        f'<h1 id="run-{escape(run.id)}">{escape(L["title"])} · {escape(run.id)}</h1>',
        '<table class="layout"><colgroup><col style="width:52%"><col style="width:48%">'
        "</colgroup><tbody><tr><td>",
        _info(bundle, run, stops, L, lang),
        _carry(bundle, run, tallies, L, lang),
        "</td><td>",
        route_svg(bundle, stops, legs, numbers, L),
        "</td></tr></tbody></table>",
        _stops_table(bundle, stops, numbers, L, lang),
        _tally_forms(bundle, run, tallies, stops, numbers, cols, L),
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


# --- formatting ------------------------------------------------------------


def _hm(t: dt.datetime) -> str:
    return t.strftime("%H:%M")


def _dur(minutes: float, L: dict[str, str]) -> str:
    m = round(minutes)
    return f"{m // 60}:{m % 60:02d} h" if m >= 60 else f"{m} {L['min']}"


def _ordered(bundle: PlanBundle, cat_ids: set[str]) -> list[str]:
    order = {c.id: k for k, c in enumerate(bundle.scenario.settings.categories)}
    return sorted(cat_ids, key=lambda c: (order.get(c, len(order)), c))


def _kg_list(bundle: PlanBundle, kg: dict[str, float], lang: str) -> str:
    items = [
        f"{escape(category_name(bundle, c, lang))} {fmt_kg(kg[c])}"
        for c in _ordered(bundle, set(kg))
        if kg[c] > 0
    ]
    return " · ".join(items)


def _stop_numbers(stops: Sequence[Stop]) -> dict[int, int]:
    """Step index -> the number printed on the table and the map (collect/unload only)."""
    out: dict[int, int] = {}
    for s in stops:
        if s.type in ("collect", "unload"):
            out[s.index] = len(out) + 1
    return out


# --- header and carry --------------------------------------------------------


def _vehicle(bundle: PlanBundle, vehicle_id: str) -> Any:
    for v in bundle.scenario.settings.fleet:
        if v.id == vehicle_id:
            return v
    return None


def _info(bundle: PlanBundle, run: Run, stops: Sequence[Stop], L: dict[str, str], lang: str) -> str:
    v = _vehicle(bundle, run.vehicle)
    truck = escape(run.vehicle) + (f" · {escape(v.name)}" if v is not None and v.name else "")
    driver = escape(v.driver) if v is not None and v.driver else L["none"]
    depot_id = stops[0].place if stops else ""
    depot = escape(bundle.places[depot_id].name) if depot_id in bundle.places else L["none"]
    day = run.date
    first, last = stops[0], stops[-1]
    pairs = [
        (L["date"], escape(long_date(day, lang))),
        (L["truck"], truck),
        (L["driver"], driver),
        (L["depot"], depot),
        (L["departure"], f'<span class="em">{_hm(first.departure)}</span>'),
        (L["return"], _hm(last.arrival)),
        (L["distance"], f"{float(run.distance_km):.1f} {L['km']}"),
        (L["duration"], _dur(float(run.duration_min), L)),
    ]
    demand = bundle.plan.demand
    if demand is not None:  # figures from the ledger's history (planner run --demand ledger)
        points = [s.place for s in stops if s.place in demand.points]
        k = sum(demand.points[p] == "history" for p in points)
        p_out = demand.runout_probability if demand.runout_probability is not None else 0.05
        pairs += [
            (L["demand"], escape(L["demand_ledger"].format(k=k, n=len(points)))),
            (L["carry_basis"], escape(L["carry_ledger"].format(p=f"{p_out:.0%}"))),
        ]
    # Two key-value pairs per row keep the header short.
    cells = [f'<td class="k">{escape(k)}</td><td>{v_}</td>' for k, v_ in pairs]
    body = "".join(f"<tr>{a}{b}</tr>" for a, b in zip(cells[::2], cells[1::2], strict=True))
    return (
        '<table class="info"><colgroup><col style="width:15%"><col style="width:36%">'
        f'<col style="width:16%"><col style="width:33%"></colgroup><tbody>{body}</tbody></table>'
    )


def _carry(
    bundle: PlanBundle,
    run: Run,
    tallies: Sequence[TallyRow],
    L: dict[str, str],
    lang: str,
) -> str:
    out = [f'<h2>{escape(L["carry"])}</h2><table class="carry"><tbody>']
    carry = bundle.run_carry(run.id)
    if carry is not None:
        out.append(
            f'<tr><th>{L["cash_float"]}</th><td class="num"><span class="em">'
            f"{fmt_cny(float(carry.get('cash_float_cny', 0.0)))}</span> {L['yuan']}</td></tr>"
            f'<tr><th>{L["purchases"]}</th><td class="num">'
            f"{fmt_cny(float(carry.get('purchases_cny', 0.0)))} {L['yuan']}</td></tr>"
            f'<tr><th>{L["goods_value"]}</th><td class="num">'
            f"{fmt_cny(float(carry.get('goods_value_cny', 0.0)))} {L['yuan']}</td></tr>"
        )
        out.append("</tbody></table>")
        goods = carry.get("goods") or []
        if not goods:
            out.append(
                f'<table class="carry"><tbody><tr><th>{L["goods"]}</th>'
                f"<td>{L['none']}</td></tr></tbody></table>"
            )
        else:
            out.append(
                f'<table class="carry"><thead><tr><th>{L["goods"]}</th>'
                f"<th>{L['goods_unit']}</th><th>{L['goods_expected']}</th>"
                f"<th>{L['goods_load']}</th></tr></thead><tbody>"
            )
            for g in goods:
                name = goods_name(bundle, str(g.get("item", "")), str(g.get("name", "")), lang)
                out.append(
                    f"<tr><td>{escape(name)}</td><td>{escape(str(g.get('unit', '')))}</td>"
                    f'<td class="num">{int(g.get("expected", 0))}</td>'
                    f'<td class="num"><span class="em">{int(g.get("load", 0))}</span></td></tr>'
                )
            out.append("</tbody></table>")
        if carry.get("goods_fit") is False:
            out.append(f'<p class="warn">{escape(L["goods_fit_no"])}</p>')
        return "".join(out)
    why = L["not_computed"] if bundle.summary is None else L["not_in_summary"]
    out.append(
        f"<tr><th>{L['cash_float']}</th><td>{why}</td></tr>"
        f"<tr><th>{L['goods']}</th><td>{why}</td></tr>"
    )
    if tallies:
        cash = sum(t.value_cny for t in tallies if t.stream == "sell")
        goods_value = sum(t.value_cny for t in tallies if t.stream == "exchange")
        out.append(
            f'<tr><th>{L["purchases"]}</th><td class="num">{fmt_cny(cash)} {L["yuan"]} '
            f'<span class="muted">({L["from_tallies"]})</span></td></tr>'
            f'<tr><th>{L["goods_value"]}</th><td class="num">{fmt_cny(goods_value)} '
            f'{L["yuan"]} <span class="muted">({L["from_tallies"]})</span></td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


# --- stops -------------------------------------------------------------------


def _stops_table(
    bundle: PlanBundle,
    stops: Sequence[Stop],
    numbers: dict[int, int],
    L: dict[str, str],
    lang: str,
) -> str:
    out = [
        f'<h2>{escape(L["stops"])}</h2><table class="stops"><colgroup>'
        '<col style="width:5%"><col style="width:12%"><col style="width:11%">'
        '<col style="width:23%"><col style="width:9%"><col style="width:40%"></colgroup>'
        f"<thead><tr><th>{L['col_no']}</th><th>{L['col_time']}</th><th>{L['col_window']}</th>"
        f"<th>{L['col_place']}</th><th>{L['col_leg']}</th><th>{L['col_what']}</th></tr>"
        "</thead><tbody>"
    ]
    for s in stops:
        cls = "depot" if s.type in ("start", "end") else s.type
        number = str(numbers[s.index]) if s.index in numbers else ""
        if s.type in ("start", "end") or s.arrival == s.departure:
            time = f'<span class="em">{_hm(s.arrival)}</span>'
        else:
            time = f'<span class="em">{_hm(s.arrival)}</span>–{_hm(s.departure)}'
        window = ""
        if s.type == "collect":
            w = bundle.windows.get(s.place)
            window = f"{w[0]}–{w[1]}" if w else L["none"]
        place = f'<span class="em">{escape(s.name)}</span>'
        if s.gacha or s.township:
            sub = " · ".join(escape(x) for x in (s.gacha, s.township) if x)
            place += f'<br><span class="sub">{sub}</span>'
        leg = ""
        if s.type != "start" and not (s.type == "break" and s.leg_km == 0):
            minutes = f'<span class="sub">{round(s.leg_min)} {L["min"]}</span>'
            leg = f"{s.leg_km:.1f} {L['km']}<br>{minutes}"
        out.append(
            f'<tr class="{cls}"><td>{number}</td><td>{time}</td><td>{window}</td>'
            f"<td>{place}</td><td>{leg}</td><td>{_what(bundle, s, L, lang)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _what(bundle: PlanBundle, s: Stop, L: dict[str, str], lang: str) -> str:
    if s.type == "collect":
        n = len(bundle.households.get(s.place, []))
        head = f"{L['collect']} {fmt_kg(sum(s.collected.values()))} kg"
        if n:
            head += f" · {n} {L['households_n']}"
        return f'{head}<br><span class="sub">{_kg_list(bundle, s.collected, lang)}</span>'
    if s.type == "unload":
        head = f'<span class="em">{L["unload"]}</span> {fmt_kg(sum(s.unloaded.values()))} kg'
        return f'{head}<br><span class="sub">{_kg_list(bundle, s.unloaded, lang)}</span>'
    if s.type == "break":
        minutes = (s.departure - s.arrival).total_seconds() / 60
        return f"{L['break']} {round(minutes)} {L['min']}"
    return L[s.type] if s.type in L else escape(s.type)


# --- map ---------------------------------------------------------------------

_MAP_W, _MAP_H, _MAP_PAD = 400.0, 310.0, 16.0


def route_svg(
    bundle: PlanBundle,
    stops: Sequence[Stop],
    legs: Sequence[shapely.LineString],
    numbers: dict[int, int],
    L: dict[str, str],
) -> str:
    """An inline SVG of the run: road-following legs, numbered stops, depot and stations.

    Equirectangular projection scaled by cos(latitude): true to shape at this size.
    """
    lines = [list(line.coords) for line in legs if not line.is_empty]
    # A leg without geometry is drawn straight so the map never has gaps.
    for k in range(1, len(stops)):
        if k - 1 >= len(legs) or legs[k - 1].is_empty:
            a, b = stops[k - 1], stops[k]
            lines.append([(a.lon, a.lat), (b.lon, b.lat)])
    pts = [(s.lon, s.lat) for s in stops] + [(x, y) for ln in lines for x, y, *_ in ln]
    lat0 = sum(p[1] for p in pts) / len(pts)
    kx = math.cos(math.radians(lat0))
    xs = [p[0] * kx for p in pts]
    ys = [-p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(
        (_MAP_W - 2 * _MAP_PAD) / max(max(xs) - min(xs), span * 0.05),
        (_MAP_H - 2 * _MAP_PAD) / max(max(ys) - min(ys), span * 0.05),
    )
    cx = (max(xs) + min(xs)) / 2
    cy = (max(ys) + min(ys)) / 2

    def proj(lon: float, lat: float) -> tuple[float, float]:
        return (_MAP_W / 2 + (lon * kx - cx) * scale, _MAP_H / 2 + (-lat - cy) * scale)

    out = [
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" width="80mm" height="62mm" '
        f'viewBox="0 0 {_MAP_W:.0f} {_MAP_H:.0f}" font-family="{_svg_attr(FONT_STACK)}">',
        f'<rect x="0" y="0" width="{_MAP_W:.0f}" height="{_MAP_H:.0f}" fill="#fbfbf8"/>',
    ]
    for ln in lines:
        xy = shapely.LineString([proj(x, y) for x, y, *_ in ln] * (1 if len(ln) > 1 else 2))
        xy = xy.simplify(0.6)
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy.coords)
        out.append(
            f'<polyline points="{d}" fill="none" stroke="#1f6fb2" stroke-width="2.2" '
            'stroke-linejoin="round" stroke-linecap="round" stroke-opacity="0.8"/>'
        )
    drawn: set[str] = set()
    for s in stops:
        x, y = proj(s.lon, s.lat)
        if s.type in ("start", "end") and s.place not in drawn:
            drawn.add(s.place)
            out.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#222"/>'
            )
    # Stations first, so the numbered stops stay readable on top of them.
    for s in sorted(stops, key=lambda s: s.type != "unload"):
        if s.index not in numbers:
            continue
        x, y = proj(s.lon, s.lat)
        n = numbers[s.index]
        if s.type == "unload":
            out.append(
                f'<polygon points="{x:.1f},{y - 10:.1f} {x - 9:.1f},{y + 6:.1f} '
                f'{x + 9:.1f},{y + 6:.1f}" fill="#e8890c" stroke="#333" stroke-width="0.8"/>'
                f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="8" text-anchor="middle" '
                f'fill="#000">{n}</text>'
            )
        else:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7.5" fill="#fff" stroke="#1f6fb2" '
                f'stroke-width="1.6"/><text x="{x:.1f}" y="{y + 3:.1f}" font-size="8.5" '
                f'text-anchor="middle" fill="#000">{n}</text>'
            )
    out.append(_scale_bar(scale, kx))
    out.append("</svg>")
    synthetic = any(
        getattr(p, "synthetic", False)
        for p in (*bundle.scenario.points, *bundle.scenario.depots, *bundle.scenario.stations)
    )
    legend = (
        f'<div class="map-note">■ {L["legend_depot"]} ▲ {L["legend_station"]} '
        f"○ {L['legend_stop']}" + (f" · {L['map_synthetic']}" if synthetic else "") + "</div>"
    )
    return f"<div><h2>{escape(L['map'])}</h2>{''.join(out)}{legend}</div>"


def _svg_attr(s: str) -> str:
    return s.replace('"', "'")


def _scale_bar(scale: float, kx: float) -> str:
    # Units per km along a meridian: one degree of latitude is ~111.32 km.
    per_km = scale / 111.32
    target = (_MAP_W * 0.25) / per_km
    nice = next((n for n in (0.5, 1, 2, 5, 10, 20, 50, 100, 200) if n >= target / 2), 500)
    length = nice * per_km
    x0, y0 = 10.0, _MAP_H - 10.0
    label = f"{nice:g} km"
    return (
        f'<line x1="{x0}" y1="{y0}" x2="{x0 + length:.1f}" y2="{y0}" stroke="#000" '
        f'stroke-width="2"/><text x="{x0}" y="{y0 - 4}" font-size="9">{label}</text>'
    )


# --- tally forms -------------------------------------------------------------
#
# A month has tens of thousands of household rows. Laid out as table cells they
# cost WeasyPrint ~1 ms each, so a form page is one tall row instead: the known
# columns (household, people, expected) are one preformatted text with a tab
# between columns (tab-size = one column), the write-in columns are empty cells,
# and the ruling is a repeated SVG background. Browsers render it the same way.


@dataclass(frozen=True)
class _Expect:
    sell_kg: float = 0.0
    cash: float = 0.0
    points: float = 0.0


def _form_columns(
    bundle: PlanBundle, expected: bool, stops: Sequence[Stop], lang: str, L: dict[str, str]
) -> _Cols:
    hh = [h for s in stops if s.type == "collect" for h in bundle.households.get(s.place, [])]
    names = any(h.name for h in hh)
    longest = max((len(h.id) for h in hh), default=6)
    id_tabs = max(1, math.ceil((longest * _CHAR_MM + 2) / _TAB_MM))
    info = id_tabs + (_NAME_TABS if names else 0) + 1 + (3 if expected else 0)
    free = _FORM_WIDTH_MM - info * _TAB_MM - sum(_WRITE_MM.values())
    cats = _ordered(bundle, {c for s in stops if s.type == "collect" for c in s.collected})
    if cats and len(cats) * _MIN_CATEGORY_COL_MM <= free:
        kg_cols = tuple((c, category_name(bundle, c, lang)) for c in cats)
    else:
        # Too many categories for A4: one column per stream instead.
        streams = {c.id: c.stream for c in bundle.scenario.settings.categories}
        present = [st for st in ("sell", "exchange") if any(streams.get(c) == st for c in cats)]
        kg_cols = tuple((st, L[f"stream_{st}"]) for st in present or ["sell"])
    return _Cols(names=names, expected=expected, kg_columns=kg_cols, id_tabs=id_tabs)


def _expectations(
    bundle: PlanBundle, tallies: Sequence[TallyRow], point: str
) -> dict[str, _Expect]:
    pts = {c.id: c.exchange_points_per_kg for c in bundle.scenario.settings.categories}
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for t in tallies:
        if t.point != point or t.unit != "kg":
            continue
        a = acc[t.household]
        if t.stream == "sell":
            a[0] += t.quantity
            a[1] += t.value_cny
        elif t.stream == "exchange":
            a[2] += t.quantity * pts.get(t.category, 0.0)
    return {h: _Expect(*v) for h, v in acc.items()}


def _tally_forms(
    bundle: PlanBundle,
    run: Run,
    tallies: Sequence[TallyRow],
    stops: Sequence[Stop],
    numbers: dict[int, int],
    cols: _Cols,
    L: dict[str, str],
) -> str:
    out = []
    for s in stops:
        if s.type != "collect":
            continue
        expect = _expectations(bundle, tallies, s.place) if cols.expected else {}
        households = bundle.households.get(s.place, [])
        people = {h.id: h.people for h in households}
        names = {h.id: h.name for h in households}
        # Households from the scenario; failing that, those the tallies name.
        hh = list(people) or sorted(expect)
        chunks = [hh[k : k + ROWS_PER_FORM_PAGE] for k in range(0, len(hh), ROWS_PER_FORM_PAGE)]
        where = " · ".join(escape(x) for x in (s.gacha, s.township) if x)
        window = bundle.windows.get(s.place)
        head = (
            f"{escape(L['form'])} · {numbers[s.index]}. {escape(s.name)}"
            + (f" ({where})" if where else "")
            + f" · {L['arrive']} {_hm(s.arrival)}"
            + (f" ({window[0]}–{window[1]})" if window else "")
            + f" · {escape(run.id)}"
        )
        for k, chunk in enumerate(chunks or [[]]):
            page_no = f" · {k + 1}/{len(chunks)}" if len(chunks) > 1 else ""
            out.append(f'<section class="form"><h2>{head}{page_no}</h2>')
            if not hh:
                out.append(f'<p class="muted">{escape(L["no_households"])}</p>')
            lines = [_info_line(cols, h, people, names, expect) for h in chunk]
            lines += [""] * (0 if hh else BLANK_FORM_ROWS)
            if k == len(chunks) - 1 and chunk:
                total = _total_line(cols, L, sum(people.values()), list(expect.values()))
                lines.append(f'<span class="tot">{total}</span>')
            out.append(_tally_table(cols, lines, L))
            out.append("</section>")
    return "\n".join(out)


def _info_line(
    cols: _Cols,
    h: str,
    people: dict[str, int],
    names: dict[str, str],
    expect: dict[str, _Expect],
) -> str:
    cells = [h + "\t" * (cols.id_tabs - 1)]
    if cols.names:
        cells.append(_fit(names.get(h, ""), _NAME_TABS * _TAB_MM - 2) + "\t" * (_NAME_TABS - 1))
    cells.append(str(people.get(h, "")))
    if cols.expected:
        e = expect.get(h, _Expect())
        cells += [fmt_kg(e.sell_kg), fmt_cny(e.cash), f"{e.points:.0f}"]
    return escape("\t".join(cells))


def _fit(text: str, mm: float) -> str:
    """``text`` cut to about ``mm`` wide: an overlong cell would push its row off the tabs."""
    width = 0.0
    for k, ch in enumerate(text):
        width += 2 * _CHAR_MM if ord(ch) > 0x2E7F else _CHAR_MM
        if width > mm:
            return text[: max(k - 1, 0)] + "…"
    return text


def _total_line(cols: _Cols, L: dict[str, str], people: int, expect: list[_Expect]) -> str:
    cells = [L["total"] + "\t" * (cols.id_tabs - 1)]
    if cols.names:
        cells.append("\t" * (_NAME_TABS - 1))
    cells.append(str(people) if people else "")
    if cols.expected:
        cells += [
            fmt_kg(sum(e.sell_kg for e in expect)),
            fmt_cny(sum(e.cash for e in expect)),
            f"{sum(e.points for e in expect):.0f}",
        ]
    return escape("\t".join(cells))


def _info_columns(cols: _Cols) -> list[tuple[str, int]]:
    """The known columns as (label key, width in tabs)."""
    info = [("household", cols.id_tabs)]
    info += [("name", _NAME_TABS)] if cols.names else []
    info += [("people", 1)]
    info += [("exp_sell_kg", 1), ("exp_cash", 1), ("exp_points", 1)] if cols.expected else []
    return info


def _widths(cols: _Cols) -> tuple[list[float], list[float]]:
    """Column widths in mm: the known columns, then the write-in ones."""
    info = [w * _TAB_MM for _, w in _info_columns(cols)]
    kg_mm = (_FORM_WIDTH_MM - sum(info) - sum(_WRITE_MM.values())) / len(cols.kg_columns)
    return info, [kg_mm] * len(cols.kg_columns) + list(_WRITE_MM.values())


def _ruling(widths: Sequence[float]) -> str:
    """A CSS background ruling one row: its bottom line and the column dividers."""
    total = sum(widths)
    path = f"M0 {_ROW_MM - 0.15:g}H{total:.2f}"
    x = 0.0
    for w in widths[:-1]:
        x += w
        path += f"M{x:.2f} 0V{_ROW_MM:g}"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:.2f}mm" height="{_ROW_MM:g}mm" '
        f'viewBox="0 0 {total:.2f} {_ROW_MM:g}" preserveAspectRatio="none">'
        f'<path d="{path}" stroke="#777" stroke-width="0.3" fill="none"/></svg>'
    )
    data = base64.b64encode(svg.encode()).decode()
    return f"background: url(data:image/svg+xml;base64,{data}) repeat-y 0 0 / 100% {_ROW_MM:g}mm;"


def form_css(cols: _Cols) -> str:
    """The ruling of one run's tally forms (their columns differ per run)."""
    info, write = _widths(cols)
    return f".tally td.i {{ {_ruling(info)} }}\n.tally td.w {{ {_ruling(write)} }}\n"


def _tally_table(cols: _Cols, lines: list[str], L: dict[str, str]) -> str:
    # Headers are real cells; the body is one row of two cells (known, write-in)
    # whose dividers and row lines come from the ruling background.
    info = _info_columns(cols)
    info_mm, write_mm = _widths(cols)
    colgroup = "".join(f'<col style="width:{w:.2f}mm">' for w in info_mm + write_mm)
    head1 = "".join(
        f'<th rowspan="2">{L[key]}</th>' for key, _ in info if not key.startswith("exp_")
    )
    head2 = ""
    if cols.expected:
        head1 += f'<th colspan="3">{L["expected"]}</th>'
        head2 += "".join(f"<th>{L[k]}</th>" for k in ("exp_sell_kg", "exp_cash", "exp_points"))
    head1 += f'<th colspan="{len(cols.kg_columns)}">{L["actual_kg"]}</th>'
    head2 += "".join(f"<th>{escape(h)}</th>" for _, h in cols.kg_columns)
    head1 += "".join(f'<th rowspan="2">{L[k]}</th>' for k in _WRITE_MM)
    height = f"height:{len(lines) * _ROW_MM:g}mm"
    body = (
        f'<tr><td class="i" colspan="{len(info)}" style="{height}">'
        + "\n".join(lines)
        + f'</td><td class="w" colspan="{len(write_mm)}" style="{height}"></td></tr>'
    )
    return (
        f'<table class="tally"><colgroup>{colgroup}</colgroup><thead><tr>{head1}</tr>'
        f"<tr>{head2}</tr></thead><tbody>{body}</tbody></table>"
    )
