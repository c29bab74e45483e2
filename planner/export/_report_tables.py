"""The report's tables: money per township and gacha, data tables, the calendar grid.

Each function returns HTML that is already escaped (``html.escape`` on every value
taken from the plan, summary or scenario); :mod:`planner.export.report` puts them into
the page template ``templates/report.html.j2``. Words come from
:data:`planner.export.i18n.REPORT`, dates and numbers from :mod:`planner.export.i18n`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from planner._errors import PlanError
from planner.export.bundle import PlanBundle
from planner.export.i18n import REPORT as WORDS
from planner.export.i18n import long_date, num, weekday
from planner.scenario.settings import VehicleSpec

LANGS = ("zh", "en")


def truck_css(count: int) -> str:
    """Classes ``.c0``… with a light background per truck.

    Hues step by the golden ratio through blue, green, yellow and violet, leaving
    out red, which marks unserved visits; alternate lightness parts close hues.
    """
    return "".join(
        f".c{k}{{background:hsl({30 + (0.6 + 0.618034 * k) % 1 * 300:.0f} 70% "
        f"{90 if k % 2 == 0 else 84}%)}}"
        for k in range(count)
    )


# Money table columns: summary key and decimals shown (raw value kept in data-v).
MONEY_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("households", "", 0),
    ("people", "", 0),
    ("visits", "", 0),
    ("sold_kg", "grp_kg", 1),
    ("exchanged_kg", "grp_kg", 1),
    ("composted_kg", "grp_kg", 1),
    ("cash_paid_cny", "grp_cny", 0),
    ("resale_revenue_cny", "grp_cny", 0),
    ("goods_value_cny", "grp_cny", 0),
    ("fuel_cny", "grp_cny", 0),
    ("driver_cny", "grp_cny", 0),
    ("net_cost_cny", "grp_cny", 0),
    ("fee_budget_cny", "grp_fee", 0),
    ("fee_balance_cny", "grp_fee", 0),
)


def word(lang: str, key: str, *args: object) -> str:
    """The text ``key`` in ``lang``, with ``args`` filled in, HTML-escaped."""
    return escape(WORDS[key][lang].format(*args))


def nd(x: float, decimals: int = 0, *, cls: str = "n") -> str:
    """A right-aligned table cell keeping the raw value for sorting."""
    neg = " neg" if x < 0 else ""
    return f'<td class="{cls}{neg}" data-v="{x!r}">{num(x, decimals)}</td>'


def figure(name: str, where: str, rec: dict[str, Any], key: str) -> float:
    """A number from ``summary.json``.

    Raises
    ------
    PlanError
        The key is missing or not a finite number (names file, record and key).
    """
    value = rec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"{name}: {where}: expected a number at {key!r}, found {value!r}")
    return float(value)


def records(name: str, summary: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """A list of objects from ``summary.json`` (missing: empty).

    Raises
    ------
    PlanError
        The value is not a list of objects.
    """
    value = summary.get(key, [])
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise PlanError(f"{name}: expected a list of objects at {key!r}, found {value!r:.80}")
    return value


def card(label: str, value: str, detail: str = "", *, bad: bool = False) -> str:
    cls = "card bad" if bad else "card"
    extra = f'<div class="d">{detail}</div>' if detail else ""
    return (
        f'<div class="{cls}"><div class="k">{label}</div><div class="v">{value}</div>{extra}</div>'
    )


def money_table(
    lang: str,
    table_id: str,
    rows: Sequence[tuple[Sequence[str], dict[str, Any], str]],
    total: dict[str, Any] | None,
    name_heads: Sequence[str],
    source: str,
) -> str:
    """A money table: name columns, then :data:`MONEY_COLUMNS`, then a totals row.

    ``rows`` holds (name cells, record, where-in-file) triples.
    """
    lead = len(name_heads)
    groups: list[tuple[str, int]] = []
    for _, grp, _ in MONEY_COLUMNS:
        if groups and groups[-1][0] == grp:
            groups[-1] = (grp, groups[-1][1] + 1)
        else:
            groups.append((grp, 1))
    top = [f'<th colspan="{lead}"></th>']
    for grp, span in groups:
        label = word(lang, grp) if grp else ""
        top.append(f'<th class="grp" colspan="{span}">{label}</th>')
    heads = [f'<th data-col="{k}">{escape(h)}</th>' for k, h in enumerate(name_heads)]
    heads += [
        f'<th class="n" data-col="{lead + k}">{word(lang, key)}</th>'
        for k, (key, _, _) in enumerate(MONEY_COLUMNS)
    ]
    body = []
    for names, rec, where in rows:
        cells = "".join(f"<td>{escape(n)}</td>" for n in names)
        cells += "".join(nd(figure(source, where, rec, k), d) for k, _, d in MONEY_COLUMNS)
        body.append(f"<tr>{cells}</tr>")
    if total is not None:
        cells = f'<td colspan="{lead}">{word(lang, "total")}</td>'
        cells += "".join(nd(figure(source, "totals", total, k), d) for k, _, d in MONEY_COLUMNS)
        body.append(f'<tr class="total">{cells}</tr>')
    return (
        f'<table class="data sortable money" id="{table_id}"><thead>'
        f"<tr>{''.join(top)}</tr><tr>{''.join(heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def simple_table(
    table_id: str, heads: Iterable[tuple[str, bool]], rows: Iterable[str], *, sortable: bool = True
) -> str:
    """A data table; ``heads`` are (escaped label, numeric?) and ``rows`` ready ``<tr>`` text."""
    ths = "".join(
        f'<th class="{"n" if numeric else "t"}" data-col="{k}">{label}</th>'
        for k, (label, numeric) in enumerate(heads)
    )
    cls = "data sortable" if sortable else "data"
    return (
        f'<table class="{cls}" id="{table_id}"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def parse_date(text: Any, where: str) -> dt.date:
    """A ``YYYY-MM-DD`` date of plan.json.

    Raises
    ------
    PlanError
        Not such a date (names the key).
    """
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise PlanError(f"plan.json: {where}: expected a date YYYY-MM-DD, found {text!r}") from None


# --- the calendar grid --------------------------------------------------------------


def calendar_grid(bundle: PlanBundle, lang: str) -> str:
    """Points (grouped by township and gacha) × service dates; a cell per visit.

    A visit cell names the truck and the arrival time; an unserved visit is a ✕
    whose title gives the reason. Unserved visits without a date get a last column.
    """
    plan = bundle.plan
    dates = sorted(
        {d.isoformat() for d in plan.period.service_dates} | {r.date.isoformat() for r in plan.runs}
    )
    visits: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for r in plan.runs:
        for st in r.collects:
            visits[st.place, r.date.isoformat()].append((r.vehicle, f"{st.arrival:%H:%M}", r.id))
    missed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for u in plan.unserved:
        missed[u.point, u.date.isoformat() if u.date else ""].append(u.reason)
    columns = dates + ([""] if any(d == "" for _, d in missed) else [])
    grid = _Grid(
        lang=lang,
        colour={v.id: k for k, v in enumerate(plan.vehicles)},
        trucks={v.id: truck_label(v) for v in bundle.scenario.fleet},
        visits=visits,
        missed=missed,
    )

    heads = [f'<th class="pt">{word(lang, "point")}</th>']
    week_starts = {""}
    for prev, text in zip([None, *dates], dates, strict=False):
        day = parse_date(text, "period.service_dates")
        wk = prev is not None and day.isocalendar()[:2] != parse_date(prev, "").isocalendar()[:2]
        if wk:
            week_starts.add(text)
        cls = ' class="wk"' if wk else ""
        heads.append(
            f'<th{cls} data-date="{text}" title="{long_date(day, lang)}">'
            f"{day.day}<small>{weekday(day, lang, short=True)}</small></th>"
        )
    if columns[-1] == "":
        heads.append(f'<th class="wk">{word(lang, "undated")}</th>')

    groups = point_groups(bundle)
    sizes = Counter(grp for grp, _ in groups)
    rows: list[str] = []
    for k, (grp, pid) in enumerate(groups):
        if k == 0 or grp != groups[k - 1][0]:
            label = " › ".join(escape(x) for x in grp if x) or "—"
            rows.append(
                f'<tr class="grp"><th colspan="{len(columns) + 1}">{label}'
                f"<span>{word(lang, 'n_points', sizes[grp])}</span></th></tr>"
            )
        place = bundle.places.get(pid)
        name = (place.name if place is not None else "") or pid
        win = bundle.windows.get(pid)
        win_text = f"{win[0]}–{win[1]}" if win else ""
        used = sorted({v for d in dates for v, _, _ in visits.get((pid, d), [])})
        find = " ".join([name, pid, *grp, *used]).lower()
        small = escape(pid) + (f" · {win_text}" if win_text else "")
        cells = "".join(
            grid.cell(pid, d, " wk" if d in week_starts else "", win_text) for d in columns
        )
        rows.append(
            f'<tr data-point="{escape(pid)}" data-find="{escape(find)}">'
            f'<th class="pt" title="{escape(name)} {small}">{escape(name)}<small>{small}</small>'
            f"</th>{cells}</tr>"
        )

    legend = "".join(
        f'<span><i class="c{grid.colour[v.id]}"></i>{escape(v.id)} '
        f"{escape(grid.trucks.get(v.id, ''))}</span>"
        for v in plan.vehicles
    )
    return (
        f'<p class="note">{word(lang, "cal_note")}</p>'
        f'<div class="legend"><b>{word(lang, "legend")}</b>{legend}</div>'
        f'<div class="tools"><input id="cal-filter" type="search" '
        f'placeholder="{word(lang, "filter")}"></div>'
        f'<div class="grid-wrap"><table class="cal" id="calendar-grid">'
        f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


@dataclass(frozen=True)
class _Grid:
    lang: str
    colour: dict[str, int]
    trucks: dict[str, str]
    visits: dict[tuple[str, str], list[tuple[str, str, str]]]
    missed: dict[tuple[str, str], list[str]]

    def cell(self, pid: str, date: str, wk: str, window: str) -> str:
        """One grid cell; ``date`` "" is the column of undated unserved visits."""
        visits = self.visits.get((pid, date), []) if date else []
        reasons = self.missed.get((pid, date), [])
        if not visits and not reasons:
            return '<td class="wk"></td>' if wk else "<td></td>"
        words = WORDS
        tips: list[str] = []
        text: list[str] = []
        for vehicle, arrival, run_id in visits:
            win = f" · {words['window'][self.lang]} {window}" if window else ""
            label = self.trucks.get(vehicle, "")
            tips.append(
                f"{vehicle} {label} · {words['arrival'][self.lang]} {arrival}{win} · {run_id}"
            )
            text.append(f"{escape(vehicle)}<b>{arrival}</b>")
        for reason in reasons:
            tips.append(f"{words['unserved'][self.lang]}: {reason}")
            text.append("✕")
        if visits:
            runs = " ".join(escape(r) for _, _, r in visits)
            head = f'class="v c{self.colour.get(visits[0][0], 0)}{wk}" data-run="{runs}"'
        else:
            head = f'class="miss{wk}" data-unserved="{len(reasons)}"'
        title = escape("\n".join(tips))
        return f'<td {head} data-date="{date}" title="{title}">{"".join(text)}</td>'


def point_groups(bundle: PlanBundle) -> list[tuple[tuple[str, str], str]]:
    """Plan points as ((township, gacha), id), by township and gacha code, then file order."""
    order = {p.id: k for k, p in enumerate(bundle.scenario.points)}
    keyed = []
    for k, rec in enumerate(bundle.plan.points):
        p = bundle.points.get(rec.id)
        names = (p.township_code, p.township, p.gacha_code, p.gacha) if p else ("", "", "", "")
        keyed.append(((*names, order.get(rec.id, len(order) + k)), rec.id))
    keyed.sort()
    return [((key[1], key[3]), pid) for key, pid in keyed]


def truck_label(spec: VehicleSpec | None) -> str:
    """``name · driver`` of a truck (empty when neither is set)."""
    if spec is None:
        return ""
    return " · ".join(x for x in (spec.name, spec.driver) if x)
