"""Household cards: one printable A4 HTML page set per gacha, a QR code per household.

Each card shows the household's code (id + check character, :mod:`planner.ledger.codes`),
its name, point and gacha, and a QR code of the same code that the phone view scans.
Eight cards per A4 page, cut along the borders.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

import segno

from planner._atomic import write_text_atomic
from planner.ledger.codes import household_code
from planner.scenario.model import Scenario

_CSS = """
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; margin: 0; }
h1 { font-size: 14pt; margin: 0 0 4mm 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
.card { border: 1px dashed #666; height: 62mm; padding: 4mm; display: flex; gap: 4mm;
        break-inside: avoid; box-sizing: border-box; }
.card svg { width: 36mm; height: 36mm; flex: none; }
.code { font: bold 15pt monospace; letter-spacing: 1px; }
.small { font-size: 9pt; color: #333; }
"""


def write_cards(scenario: Scenario, out_dir: Path, *, gacha: str | None = None) -> list[Path]:
    """Write ``cards/<gacha_code>.html`` for every gacha (or the one named) of the scenario."""
    points = {p.id: p for p in scenario.points}
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for h in scenario.households:
        p = points.get(h.point)
        if p is None:
            continue
        if gacha is not None and gacha not in (p.gacha, p.gacha_code):
            continue
        groups[(p.gacha_code or p.gacha or "none", p.township, p.gacha)].append(h.id)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    households = {h.id: h for h in scenario.households}
    made = []
    for (code, township, gname), ids in sorted(groups.items()):
        cards = []
        for hid in ids:
            h = households[hid]
            p = points[h.point]
            text = household_code(hid)
            svg = segno.make(text, error="m").svg_inline(scale=4, border=2)
            cards.append(
                f'<div class="card">{svg}<div><div class="code">{html.escape(text)}</div>'
                f"<div>{html.escape(h.name or '')}</div>"
                f'<div class="small">{html.escape(p.name)} ({html.escape(p.id)})</div>'
                f'<div class="small">{html.escape(gname)} · {html.escape(township)}</div>'
                f'<div class="small">绿色账户 green account · {h.people} 人</div></div></div>'
            )
        title = f"{township} {gname} — 绿色账户卡 household cards ({len(ids)})"
        page = (
            '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f'<h1>{html.escape(title)}</h1><div class="grid">{"".join(cards)}</div></body></html>\n'
        )
        path = out_dir / f"{code}.html"
        write_text_atomic(path, page)
        made.append(path)
    return made
