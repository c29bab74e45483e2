"""The HTML report: content checked against plan.json and summary.json, in a real browser."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import dump_dom, find_chromium, missing_reason, screenshot
from PIL import Image

from planner._errors import PlanError
from planner.export import PlanBundle, read_bundle
from planner.export import report as report_module
from planner.export.i18n import ASSUMPTIONS_ZH, assumption
from planner.export.report import write_report

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
MONEY_KEYS = (
    "households", "people", "visits", "sold_kg", "exchanged_kg", "composted_kg",
    "cash_paid_cny", "resale_revenue_cny", "goods_value_cny", "fuel_cny", "driver_cny",
    "net_cost_cny", "fee_budget_cny", "fee_balance_cny",
)  # fmt: skip
URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background"}
UNSERVED = [
    {"point": "P1", "date": "2026-12-22", "reason": "the trucks' hours are taken (test)"},
    {"point": "P4", "date": None, "reason": "no truck can reach it in time (test)"},
]


# --- a small DOM tree from the standard library's HTML parser ----------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def all(self, tag: str, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.walk()
            if n.tag == tag and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.walk() if n.attrs.get("id") == ident]
        assert len(found) == 1, f"expected one element with id {ident!r}, found {len(found)}"
        return found[0]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for k in range(len(self.stack) - 1, 0, -1):
            if self.stack[k].tag == tag:
                del self.stack[k:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- fixtures -----------------------------------------------------------------------


def _money(k: int) -> dict[str, Any]:
    rec: dict[str, Any] = {key: round(10.0 * k + 1.25 * j, 2) for j, key in enumerate(MONEY_KEYS)}
    rec["fee_balance_cny"] = -123.5 if k == 1 else 4567.0
    rec["per_household"] = {
        "sold_kg": 1.5, "exchanged_kg": 0.1, "composted_kg": 4.0, "cash_cny": 1.5, "goods_cny": 0.3,
    }  # fmt: skip
    return rec


def fake_summary(bundle: PlanBundle) -> dict[str, Any]:
    """A summary.json of the documented shape for the tiny scenario."""
    towns = sorted({(p.township_code, p.township) for p in bundle.scenario.points})
    gachas = sorted({(p.gacha_code, p.gacha, p.township) for p in bundle.scenario.points})
    totals = _money(0) | {"reward_fund_cny": 2_000_000.0, "reward_fund_months": 812.5}
    return {
        "format": "rural-waste-summary/1",
        "scenario": bundle.plan.to_json_dict()["scenario"],
        "period": {
            k: bundle.plan.to_json_dict()["period"][k] for k in ("start", "end", "timezone")
        },
        "assumptions": ["第一条假设：价格按 2018 年市场价。", "Second assumption <kept as text>."],
        "totals": totals,
        "townships": [
            {"township": t, "township_code": c, **_money(k + 1)} for k, (c, t) in enumerate(towns)
        ],
        "gachas": [
            {"gacha": g, "gacha_code": c, "township": t, **_money(k + 1)}
            for k, (c, g, t) in enumerate(gachas)
        ],
        "runs": [
            {
                "run_id": r["id"],
                "date": r["date"],
                "vehicle": r["vehicle"],
                "purchases_cny": 12.0,
                "cash_float_cny": 50.0,
                "goods": [],
                "goods_value_cny": 0.0,
                "goods_m3": 0.0,
                "peak_load_m3": 0.1,
                "box_m3": 8.0,
                "goods_fit": True,
            }
            for r in bundle.plan.to_json_dict()["runs"]
        ],
        "goods": [
            {"item": "soap", "name": "肥皂", "unit": "块", "handed_out": 3, "value_cny": 9.0}
        ],
    }


@pytest.fixture(scope="module")
def folder(planned_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny plan with two unserved visits (one without a date) and a summary.json."""
    out = tmp_path_factory.mktemp("report")
    shutil.copytree(planned_tiny, out, dirs_exist_ok=True)
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    plan["unserved"] = UNSERVED
    (out / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    if not (out / "summary.json").exists():
        summary = fake_summary(read_bundle(out))
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")
    return out


@pytest.fixture(scope="module")
def bundle(folder: Path) -> PlanBundle:
    return read_bundle(folder)


@pytest.fixture(scope="module")
def report(bundle: PlanBundle, folder: Path) -> Path:
    return write_report(bundle, folder)


@pytest.fixture
def quick_map(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap the map for a 1-pixel PNG where the test is not about the map."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(buf, format="PNG")

    def blank_map(*_args: object, **_kwargs: object) -> bytes:
        return buf.getvalue()

    monkeypatch.setattr(report_module, "render_map", blank_map)


def _visits(plan: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (st["place"], r["date"], r["id"])
        for r in plan["runs"]
        for st in r["steps"]
        if st["type"] == "collect"
    )


# --- in the browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip(missing_reason())
    return binary


def test_rendered_dom_matches_plan_and_summary(
    chromium: str, report: Path, bundle: PlanBundle, tmp_path: Path
) -> None:
    dom = parse(dump_dom(chromium, report, tmp_path / "profile"))
    plan, summary = bundle.plan.to_json_dict(), bundle.summary
    assert summary is not None
    _assert_money_tables(dom, summary)
    _assert_calendar(dom, plan)
    # Every run links its sheets, relative to the report.
    hrefs = {a.attrs.get("href") for a in dom.all("a")}
    for r in plan["runs"]:
        assert f"sheets/{r['id']}.pdf" in hrefs and f"sheets/{r['id']}.html" in hrefs
    assert len(dom.by_id("runs-table").all("tbody")[0].all("tr")) == len(plan["runs"])

    # The map is inside the file as a PNG.
    src = dom.by_id("plan-map").attrs["src"]
    assert src.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as img:
        assert img.format == "PNG" and min(img.size) > 100

    # Unserved visits and assumptions, as written.
    table = dom.by_id("unserved-table")
    assert [r.attrs["data-point"] for r in table.all("tbody")[0].all("tr")] == ["P1", "P4"]
    # Assumptions in the report's language (the sentence as written in the title).
    items = dom.by_id("assumptions-list").all("li")
    assert [li.attrs["title"] for li in items] == summary["assumptions"]
    assert [li.text() for li in items] == [assumption(a, "zh") for a in summary["assumptions"]]
    assert any(li.text() != li.attrs["title"] for li in items) or not ASSUMPTIONS_ZH

    # 定时: every point counted once by the width of its window.
    timing = dom.by_id("timing-table").all("tbody")[0].all("tr")
    counted = sum(int(float(tr.all("td")[1].attrs["data-v"])) for tr in timing)
    assert counted == len(plan["points"])

    # Goods-fit flags per run, as summary.json says.
    fits = {r["run_id"]: r["goods_fit"] for r in summary["runs"]}
    for tr in dom.by_id("runs-table").all("tbody")[0].all("tr"):
        flag = [td for td in tr.all("td") if "data-fit" in td.attrs]
        assert [td.attrs["data-fit"] == "1" for td in flag] == [fits[tr.attrs["data-run"]]]

    # Gachas under their township, townships in the scenario's order.
    order = list(dict.fromkeys(p.township for p in bundle.scenario.points))
    rows = dom.by_id("money-gachas").all("tbody")[0].all("tr")
    towns = [r.all("td")[0].text() for r in rows if "total" not in r.classes()]
    assert towns == sorted(towns, key=order.index)


def _assert_money_tables(dom: Any, summary: dict[str, Any]) -> None:
    """One row per township / gacha, every figure as in summary.json."""
    for table_id, key, recs in (
        ("money-townships", "township", summary["townships"]),
        ("money-gachas", "gacha", summary["gachas"]),
    ):
        table = dom.by_id(table_id)
        body = table.all("tbody")[0]
        rows = [r for r in body.all("tr") if "total" not in r.classes()]
        assert len(rows) == len(recs)
        for rec in recs:
            match = [r for r in rows if rec[key] in [td.text() for td in r.all("td")]]
            assert len(match) == 1, rec[key]
            values = [
                float(td.attrs["data-v"]) for td in match[0].all("td") if "data-v" in td.attrs
            ]
            assert values == [rec[k] for k in MONEY_KEYS]
        total = body.all("tr", class_="total")[0]
        values = [float(td.attrs["data-v"]) for td in total.all("td") if "data-v" in td.attrs]
        assert values == [summary["totals"][k] for k in MONEY_KEYS]
    for td in dom.by_id("money-gachas").all("td"):
        if "data-v" in td.attrs:
            assert ("neg" in td.classes()) == (float(td.attrs["data-v"]) < 0)


def _assert_calendar(dom: Any, plan: dict[str, Any]) -> None:
    """One row per point, one cell per service date, one visit cell per visit."""
    grid = dom.by_id("calendar-grid")
    dates = plan["period"]["service_dates"]
    heads = [th.attrs["data-date"] for th in grid.all("th") if "data-date" in th.attrs]
    assert heads == dates
    rows = [r for r in grid.all("tr") if "data-point" in r.attrs]
    assert sorted(r.attrs["data-point"] for r in rows) == sorted(p["id"] for p in plan["points"])
    seen: Counter[tuple[str, str, str]] = Counter()
    arrival = {
        (st["place"], r["id"]): st["arrival"][11:]
        for r in plan["runs"]
        for st in r["steps"]
        if st["type"] == "collect"
    }
    vehicle = {r["id"]: r["vehicle"] for r in plan["runs"]}
    for row in rows:
        pid = row.attrs["data-point"]
        cells = row.all("td")
        assert len(cells) == len(dates) + 1  # the last column holds visits without a date
        for td in cells:
            for run_id in td.attrs.get("data-run", "").split():
                seen[pid, td.attrs["data-date"], run_id] += 1
                assert vehicle[run_id] in td.text() and arrival[pid, run_id] in td.text()
    assert seen == _visits(plan)
    missed = {
        (r.attrs["data-point"], td.attrs["data-date"] or None): td.attrs["title"]
        for r in rows
        for td in r.all("td")
        if "miss" in td.classes()
    }
    assert set(missed) == {(u["point"], u["date"]) for u in UNSERVED}
    for u in UNSERVED:
        assert u["reason"] in missed[u["point"], u["date"]]


def test_screenshot_is_not_blank(chromium: str, report: Path, tmp_path: Path) -> None:
    png = screenshot(chromium, report, tmp_path / "report.png", tmp_path / "profile")
    with Image.open(png) as img:
        assert img.size == (1280, 2000)
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200
        white = max(n for n, c in colours if c == (255, 255, 255)) if colours else 0
        assert white < 0.9 * img.size[0] * img.size[1]


# --- the file itself -----------------------------------------------------------------


def test_file_needs_no_network(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    doc = parse(html)
    # Attributes that load or link something; names in titles are plain text.
    for node in doc.walk():
        for name in URL_ATTRS & node.attrs.keys():
            value = node.attrs[name]
            assert not re.match(r"\s*(https?:)?//", value, re.I), (node.tag, name, value[:80])
        assert "url(" not in node.attrs.get("style", "")
    assert not doc.all("link") and all("src" not in s.attrs for s in doc.all("script"))
    styles = " ".join(s.text() for s in doc.all("style"))
    assert "url(" not in styles and "@import" not in styles
    # The header names the plan it was made from.
    digest = hashlib.sha256((report.parent / "plan.json").read_bytes()).hexdigest()[:12]
    assert digest in doc.all("header")[0].text()


def test_same_plan_gives_same_bytes(bundle: PlanBundle, report: Path, tmp_path: Path) -> None:
    again = write_report(bundle, tmp_path)
    assert again.read_bytes() == report.read_bytes()


@pytest.mark.usefixtures("quick_map")
def test_without_summary_says_money_not_computed(folder: Path, tmp_path: Path) -> None:
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    (tmp_path / "summary.json").unlink()
    (tmp_path / "report.html").unlink(missing_ok=True)
    doc = parse(write_report(read_bundle(tmp_path), tmp_path).read_text(encoding="utf-8"))
    assert "summary.json" in doc.by_id("no-money").text()
    assert not [t for t in doc.all("table") if "money" in t.classes()]
    assert doc.all("tr", class_="grp") and doc.by_id("calendar-grid")


@pytest.mark.usefixtures("quick_map")
def test_english(bundle: PlanBundle, tmp_path: Path) -> None:
    html = write_report(bundle, tmp_path, lang="en").read_text(encoding="utf-8")
    doc = parse(html)
    assert doc.all("html")[0].attrs["lang"] == "en"
    headings = [h.text() for h in doc.all("h2")]
    assert "Calendar" in headings and "Money" in headings
    assert "收运日历" not in html
    # Names stay as the scenario writes them.
    assert "一组" in html


def test_unknown_language_is_refused(bundle: PlanBundle, tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="expected one of zh, en, found 'fr'"):
        write_report(bundle, tmp_path, lang="fr")
    assert not (tmp_path / "report.html").exists()


@pytest.mark.usefixtures("quick_map")
def test_bad_summary_names_file_and_key(folder: Path, tmp_path: Path) -> None:
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    del summary["gachas"][0]["net_cost_cny"]
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(PlanError, match=r"summary\.json: gachas\[0\].*'net_cost_cny'"):
        write_report(read_bundle(tmp_path), tmp_path / "out")


@pytest.mark.usefixtures("quick_map")
def test_documented_summary_shape_fills_the_money_section(folder: Path, tmp_path: Path) -> None:
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    summary = fake_summary(read_bundle(tmp_path))
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), "utf-8")
    doc = parse(write_report(read_bundle(tmp_path), tmp_path).read_text(encoding="utf-8"))
    gachas = doc.by_id("money-gachas")
    negative = [td for td in gachas.all("td") if "neg" in td.classes()]
    assert [float(td.attrs["data-v"]) for td in negative] == [-123.5]
    assert [td.text() for td in doc.by_id("goods").all("td")][:2] == ["肥皂", "块"]
    cash = [td for r in doc.by_id("runs-table").all("tr") for td in r.all("td")]
    assert sum(td.attrs.get("data-v") == "50.0" for td in cash) == len(summary["runs"])
    assert "812.5" in doc.by_id("summary").text()
