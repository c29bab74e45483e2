"""The office's report: one self-contained HTML file describing the month's plan.

``write_report`` writes ``OUT/report.html``: summary figures, the money tables of
``summary.json``, the calendar grid (points × service dates), the map, the runs with
links to their run sheets, the unserved visits and the assumptions. Everything the
page needs is inside the file (style, script, the map as a ``data:`` image), so it
opens offline and can be mailed on; only the run-sheet links point beside it, to
``sheets/<run_id>.pdf`` and ``.html``.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export import _report_tables as parts
from planner.export._report_tables import calendar_grid, card, nd, word
from planner.export.bundle import PlanBundle
from planner.export.i18n import REPORT, assumption, month_label, num, short_date
from planner.export.maps import render_map, townships
from planner.export.templating import render

SUMMARY = "summary.json"


def write_report(bundle: PlanBundle, out_dir: Path, *, lang: str = "zh") -> Path:
    """Write ``out_dir/report.html`` (atomically) and return its path.

    Parameters
    ----------
    bundle
        The plan folder to describe.
    out_dir
        Folder to write into; created if missing. Run-sheet links are relative to it.
    lang
        ``"zh"`` (default) or ``"en"``.

    Raises
    ------
    PlanError
        ``lang`` is unknown, or ``plan.json`` / ``summary.json`` hold something the
        report cannot read (the message names file and key).
    """
    text = render_report(bundle, lang=lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    with atomic_writer(path) as fh:
        fh.write(text)
    return path


def render_report(bundle: PlanBundle, *, lang: str = "zh") -> str:
    """The report as HTML text (see :func:`write_report`)."""
    if lang not in parts.LANGS:
        raise PlanError(
            f"report language: expected one of {', '.join(parts.LANGS)}, found {lang!r}"
        )
    plan = bundle.plan
    sections = [
        ("summary", _summary(bundle, lang)),
        ("money", _money(bundle, lang)),
        ("timing", _timing(bundle, lang)),
        ("calendar", calendar_grid(bundle, lang)),
        ("map", _map(bundle, lang)),
        ("runs", _runs(bundle, lang)),
        ("unserved", _unserved(bundle, lang)),
        ("assumptions", _assumptions(bundle, lang)),
    ]
    period = plan.period
    sc = bundle.scenario
    households = sum(p.households for p in sc.points if p.id in bundle.windows)
    scope = REPORT["scope"][lang].format(
        len(plan.points), households, len(plan.vehicles), len(period.service_dates)
    )
    return render(
        "report.html.j2",
        html_lang="zh-CN" if lang == "zh" else "en",
        title=f"{REPORT['title'][lang]} · {plan.scenario}",
        heading=f"{REPORT['title'][lang]} · {plan.scenario}",
        subs=[
            month_label(period.start, period.end, lang),
            f"{REPORT['period'][lang]} {period.start.isoformat()} – {period.end.isoformat()}",
            f"{REPORT['timezone'][lang]} {period.timezone}",
            scope,
        ],
        desc=sc.settings.description,
        source=REPORT["source"][lang].format(_plan_hash(bundle)),
        sections=[
            {"key": k, "label": REPORT["nav_" + k][lang], "html": Markup(html)}
            for k, html in sections
        ],
        truck_css=Markup(parts.truck_css(len(plan.vehicles))),
        footer=REPORT["footer"][lang],
        format=plan.format,
    )


# --- sections -----------------------------------------------------------------------


def _summary(bundle: PlanBundle, lang: str) -> str:
    plan = bundle.plan
    runs = plan.runs
    by_stream = _collected_by_stream(bundle)
    visits = sum(len(r.collects) for r in runs)
    unserved = len(plan.unserved)
    km = sum(float(r.distance_km) for r in runs)
    hours = sum(float(r.duration_min) for r in runs) / 60
    cards = [
        card(word(lang, "runs"), num(len(runs))),
        card(word(lang, "visits"), num(visits), word(lang, "visits_of", visits + unserved)),
        card(word(lang, "unserved"), num(unserved), bad=unserved > 0),
        card(word(lang, "km"), num(km, 1)),
        card(word(lang, "hours"), num(hours, 1)),
        card(word(lang, "stream_sell"), num(by_stream["sell"], 1), word(lang, "collected_note")),
        card(
            word(lang, "stream_exchange"),
            num(by_stream["exchange"], 1),
            word(lang, "collected_note"),
        ),
    ]
    totals = _totals(bundle)
    if totals is not None:
        compost = parts.figure(SUMMARY, "totals", totals, "composted_kg")
        cards.append(
            card(word(lang, "stream_compost"), num(compost, 1), word(lang, "compost_note"))
        )
    wide, _ = _wide_windows(bundle)
    cards.append(
        card(
            word(lang, "wide_windows"),
            num(wide),
            word(lang, "wide_of", num(len(plan.points))),
            bad=wide > 0,
        )
    )
    misfit = _misfits(bundle)
    if misfit is not None:
        cards.append(
            card(
                word(lang, "goods_misfit"),
                num(misfit),
                word(lang, "goods_misfit_of", num(len(plan.runs))),
                bad=misfit > 0,
            )
        )
    cost = plan.summary.cost_cny
    if isinstance(cost, int | float):
        cards.append(card(word(lang, "cost"), num(float(cost))))
    if totals is not None:
        for key, label in (
            ("net_cost_cny", "net_cost"),
            ("cash_paid_cny", "cash_paid"),
            ("goods_value_cny", "goods_value"),
            ("fee_balance_cny", "fee_balance"),
        ):
            value = parts.figure(SUMMARY, "totals", totals, key)
            cards.append(card(word(lang, label), num(value), bad=value < 0))
        # None: no goods handed out this month, so the fund is not being drawn on.
        if totals.get("reward_fund_months") is not None:
            months = parts.figure(SUMMARY, "totals", totals, "reward_fund_months")
            fund = parts.figure(SUMMARY, "totals", totals, "reward_fund_cny")
            cards.append(
                card(
                    word(lang, "reward_months"), num(months, 1), word(lang, "reward_of", num(fund))
                )
            )
    return f'<div class="cards">{"".join(cards)}</div>'


def _money(bundle: PlanBundle, lang: str) -> str:
    summary = bundle.summary
    if not summary:
        return f'<p class="note warn" id="no-money">{word(lang, "no_money")}</p>'
    totals = _totals(bundle)
    towns = parts.records(SUMMARY, summary, "townships")
    gachas = parts.records(SUMMARY, summary, "gachas")
    # Townships in the scenario's order, and each township's gachas under it.
    order = _township_order(bundle)
    town_rows = sorted(
        ([str(t.get("township", ""))], t, f"townships[{k}]") for k, t in enumerate(towns)
    )
    town_rows.sort(key=lambda row: order.get(row[0][0], len(order)))
    gacha_rows = sorted(
        (
            ([str(g.get("township", "")), str(g.get("gacha", ""))], g, f"gachas[{k}]")
            for k, g in enumerate(gachas)
        ),
        key=lambda row: (
            order.get(row[0][0], len(order)),
            str(row[1].get("gacha_code", "")),
            row[0][1],
        ),
    )
    out = [
        f"<h3>{word(lang, 'by_township')}</h3>",
        parts.money_table(
            lang, "money-townships", town_rows, totals, [REPORT["township"][lang]], SUMMARY
        ),
        # Seventy-odd rows: open, but one click folds them away.
        f"<details open><summary>{word(lang, 'by_gacha')} ({len(gacha_rows)})</summary>",
        parts.money_table(
            lang,
            "money-gachas",
            gacha_rows,
            totals,
            [REPORT["township"][lang], REPORT["gacha"][lang]],
            SUMMARY,
        ),
        "</details>",
    ]
    if totals is not None and isinstance(totals.get("per_household"), dict):
        ph = totals["per_household"]
        keys = ("sold_kg", "exchanged_kg", "composted_kg", "cash_cny", "goods_cny")
        vals = [parts.figure(SUMMARY, "totals.per_household", ph, k) for k in keys]
        out.append(f'<p class="note">{word(lang, "per_household", *[num(v, 1) for v in vals])}</p>')
    goods = parts.records(SUMMARY, summary, "goods")
    if goods:
        rows = [
            f"<tr><td>{escape(str(g.get('name', g.get('item', ''))))}</td>"
            f"<td>{escape(str(g.get('unit', '')))}</td>"
            f"{nd(parts.figure(SUMMARY, f'goods[{k}]', g, 'handed_out'))}"
            f"{nd(parts.figure(SUMMARY, f'goods[{k}]', g, 'value_cny'))}</tr>"
            for k, g in enumerate(goods)
        ]
        heads = [
            (word(lang, h), h in ("handed_out", "value_cny"))
            for h in ("item", "unit", "handed_out", "value_cny")
        ]
        out += [f"<h3>{word(lang, 'goods')}</h3>", parts.simple_table("goods", heads, rows)]
    return "".join(out)


def _map(bundle: PlanBundle, lang: str) -> str:
    try:
        data = render_map(bundle, fmt="png")
    except PlanError as exc:
        return f'<p class="note warn">{word(lang, "no_map", exc)}</p>'
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    sc = bundle.scenario
    synthetic = any(p.synthetic for p in (*sc.points, *sc.depots, *sc.stations))
    caption = word(lang, "map_alt") + (" · " + word(lang, "synthetic") if synthetic else "")
    out = [
        f'<figure class="map"><img id="plan-map" src="{src}" alt="{word(lang, "map_alt")}">'
        f"<figcaption>{caption}</figcaption></figure>"
    ]
    towns = townships(bundle)
    if towns:
        out.append(f"<details><summary>{word(lang, 'township_maps')} ({len(towns)})</summary>")
        for key, name in towns.items():
            png = render_map(bundle, township=key)
            uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            out.append(
                f'<figure class="map township" id="map-{escape(key)}"><img src="{uri}" '
                f'alt="{escape(name)}"><figcaption>{escape(name)}</figcaption></figure>'
            )
        out.append("</details>")
    return "".join(out)


def _runs(bundle: PlanBundle, lang: str) -> str:
    fleet = {v.id: v for v in bundle.scenario.fleet}
    with_driver = any(v.driver for v in fleet.values())
    with_cash = bundle.summary is not None
    keys = ["date", "truck", "driver", "times", "stops", "run_km", "run_h", "run_kg", "unload_at"]
    keys += ["cash_float", "goods_fit", "sheet"]
    shown = [
        k
        for k in keys
        if (k != "driver" or with_driver) and (k not in ("cash_float", "goods_fit") or with_cash)
    ]
    numeric = {"stops", "run_km", "run_h", "run_kg", "cash_float"}
    heads = [(word(lang, k), k in numeric) for k in shown]
    sep = "、" if lang == "zh" else ", "
    rows = []
    for r in sorted(bundle.plan.runs, key=lambda r: (r.date, r.vehicle, r.id)):
        steps = r.steps
        spec = fleet.get(r.vehicle)
        collects = r.collects
        unloads = dict.fromkeys(_name(bundle, st.place) for st in steps if st.type == "unload")
        day = r.date
        stem = "sheets/" + quote(r.id, safe="")
        cell = {
            "date": f'<td data-v="{day.isoformat()}">{escape(short_date(day, lang))}</td>',
            "truck": f"<td>{escape(r.vehicle)} {escape(spec.name if spec else '')}</td>",
            "driver": f"<td>{escape(spec.driver if spec else '')}</td>",
            "times": f"<td>{steps[0].departure:%H:%M}–{steps[-1].arrival:%H:%M}</td>",
            "stops": nd(len(collects)),
            "run_km": nd(float(r.distance_km), 1),
            "run_h": nd(float(r.duration_min) / 60, 1),
            "run_kg": nd(sum(st.collected_kg for st in collects), 1),
            "unload_at": f"<td>{escape(sep.join(unloads))}</td>",
            "sheet": f'<td><a class="sheet" href="{stem}.pdf">PDF</a>'
            f'<a class="sheet" href="{stem}.html">{word(lang, "sheet_web")}</a></td>',
        }
        carry = bundle.run_carry(r.id) if with_cash else None
        cell["cash_float"] = (
            nd(parts.figure(SUMMARY, f"runs[{r.id}]", carry, "cash_float_cny"))
            if carry
            else '<td class="n">—</td>'
        )
        fit = carry.get("goods_fit") if carry else None
        cell["goods_fit"] = (
            "<td>—</td>"
            if fit is None
            else f'<td class="{"ok" if fit else "neg"}" data-fit="{int(bool(fit))}">'
            f"{word(lang, 'fit_yes' if fit else 'fit_no')}</td>"
        )
        rows.append(f'<tr data-run="{escape(r.id)}">{"".join(cell[k] for k in shown)}</tr>')
    return parts.simple_table("runs-table", heads, rows)


def _unserved(bundle: PlanBundle, lang: str) -> str:
    missed = bundle.plan.unserved
    if not missed:
        return f'<p class="note">{word(lang, "none_unserved")}</p>'
    heads = [(word(lang, k), False) for k in ("point", "township", "gacha", "date", "reason")]
    rows = []
    for u in sorted(missed, key=lambda u: (u.point, u.date.isoformat() if u.date else "")):
        pid = u.point
        point = bundle.points.get(pid)
        name = _name(bundle, pid)
        date = u.date.isoformat() if u.date else ""
        when = short_date(u.date, lang) if u.date else word(lang, "undated")
        rows.append(
            f'<tr data-point="{escape(pid)}"><td>{escape(name)} <small>{escape(pid)}</small></td>'
            f"<td>{escape(point.township if point else '')}</td>"
            f"<td>{escape(point.gacha if point else '')}</td>"
            f'<td data-v="{escape(date)}">{escape(when)}</td>'
            f"<td>{escape(u.reason)}</td></tr>"
        )
    return parts.simple_table("unserved-table", heads, rows)


def _assumptions(bundle: PlanBundle, lang: str) -> str:
    if not bundle.summary:
        return f'<p class="note">{word(lang, "no_assumptions")}</p>'
    items = bundle.summary.get("assumptions", [])
    if not isinstance(items, list):
        raise PlanError(
            f"{SUMMARY}: expected a list of sentences at 'assumptions', found {items!r:.80}"
        )
    lis = "".join(
        f'<li title="{escape(str(a))}">{escape(assumption(str(a), lang))}</li>' for a in items
    )
    return f'<ul class="assume" id="assumptions-list">{lis}</ul>'


def _timing(bundle: PlanBundle, lang: str) -> str:
    """定时: how many points are announced a window of each width."""
    bands = ((60, "≤ 1 h"), (120, "1–2 h"), (240, "2–4 h"), (24 * 60, "> 4 h"))
    counts = [0] * (len(bands) + 1)
    for p in bundle.plan.points:
        w = p.window_min
        if w is None:
            counts[-1] += 1
            continue
        width = w[1] - w[0]
        counts[next(k for k, (top, _) in enumerate(bands) if width <= top)] += 1
    total = max(1, len(bundle.plan.points))
    labels = [label for _, label in bands] + [word(lang, "no_window")]
    rows = [
        f"<tr><td>{escape(label)}</td>{nd(n)}{nd(100.0 * n / total, 1)}"
        f'<td><span class="bar" style="width:{200 * n / total:.0f}px"></span></td></tr>'
        for label, n in zip(labels, counts, strict=True)
    ]
    heads = [(word(lang, "window_width"), False), (word(lang, "points_n"), True)]
    heads += [(word(lang, "share") + " %", True), ("", False)]
    return f'<p class="note">{word(lang, "timing_note")}</p>' + parts.simple_table(
        "timing-table", heads, rows, sortable=False
    )


def _wide_windows(bundle: PlanBundle) -> tuple[int, int]:
    """Points announced a window over an hour, and points with a window at all."""
    widths = [w[1] - w[0] for p in bundle.plan.points if (w := p.window_min) is not None]
    return sum(1 for x in widths if x > 60), len(widths)


def _misfits(bundle: PlanBundle) -> int | None:
    """Runs whose goods do not fit beside their largest load (None without summary.json)."""
    if not bundle.summary:
        return None
    return sum(1 for r in bundle.summary.get("runs", []) if r.get("goods_fit") is False)


def _township_order(bundle: PlanBundle) -> dict[str, int]:
    """Township name -> its position in the scenario (by first point)."""
    order: dict[str, int] = {}
    for p in bundle.scenario.points:
        order.setdefault(p.township, len(order))
    return order


# --- helpers ------------------------------------------------------------------------


def _name(bundle: PlanBundle, place_id: str) -> str:
    place = bundle.places.get(place_id)
    return (place.name if place is not None else "") or place_id


def _plan_hash(bundle: PlanBundle) -> str:
    """First 12 hex digits of plan.json's SHA-256 (of the plan as read, if the file is gone)."""
    path = bundle.out_dir / "plan.json"
    try:
        data = path.read_bytes()
    except OSError:
        data = bundle.plan.to_json().encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:12]


def _totals(bundle: PlanBundle) -> dict[str, Any] | None:
    if not bundle.summary:
        return None
    totals = bundle.summary.get("totals")
    if not isinstance(totals, dict):
        raise PlanError(f"{SUMMARY}: expected an object at 'totals', found {totals!r:.80}")
    return totals


def _collected_by_stream(bundle: PlanBundle) -> dict[str, float]:
    stream = {c.id: c.stream for c in bundle.scenario.settings.categories}
    out = {"sell": 0.0, "exchange": 0.0, "compost": 0.0}
    for r in bundle.plan.runs:
        for st in r.steps:
            for cat, kg in (st.collected or {}).items():
                if cat not in stream:
                    raise PlanError(
                        f"plan.json: run {r.id}: expected a category of the scenario, found {cat!r}"
                    )
                out[stream[cat]] += float(kg)
    return out
