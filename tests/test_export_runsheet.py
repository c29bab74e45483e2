"""Driver run sheets: HTML and PDF per run, read back with pypdf, pypdfium2 and Chromium."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.i18n import sheet_words as labels
from planner.export.runsheet import render_pdfs, run_sheet_data, run_sheet_html, write_run_sheets

A4 = (595.28, 841.89)
TITLE = labels("zh")["title"]  # 收运路线单


@pytest.fixture(scope="module")
def bundle(planned_tiny: Path) -> PlanBundle:
    return read_bundle(planned_tiny)


PROGRESS: list[tuple[int, int]] = []


@pytest.fixture(scope="module")
def sheets(bundle: PlanBundle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every file write_run_sheets made, by name (its progress calls go to PROGRESS)."""
    out = tmp_path_factory.mktemp("sheets")
    PROGRESS.clear()
    files = write_run_sheets(bundle, out, progress=lambda d, t: PROGRESS.append((d, t)))
    return {p.name: p for p in files}


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_every_run_gets_html_and_pdf_on_a4(bundle: PlanBundle, sheets: dict[str, Path]) -> None:
    assert bundle.plan.to_json_dict()["runs"]
    assert sorted(sheets) == sorted(
        f"{r['id']}.{ext}" for r in bundle.plan.to_json_dict()["runs"] for ext in ("html", "pdf")
    )
    for run in bundle.plan.to_json_dict()["runs"]:
        reader = PdfReader(sheets[f"{run['id']}.pdf"])
        for page in reader.pages:
            size = sorted((float(page.mediabox.width), float(page.mediabox.height)))
            assert size == pytest.approx(A4, abs=0.5)
        # One orientation: every page portrait (the forms too).
        assert all(p.mediabox.width < p.mediabox.height for p in reader.pages)


@pytest.mark.usefixtures("sheets")
def test_progress_counts_html_then_pdf(bundle: PlanBundle) -> None:
    calls = PROGRESS
    n = 2 * len(bundle.plan.to_json_dict()["runs"])
    assert calls[-1] == (n, n)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert {t for _, t in calls} == {n}


def test_pdf_lists_every_stop_in_order_with_arrival(
    bundle: PlanBundle, sheets: dict[str, Path]
) -> None:
    L = labels("zh")
    for run in bundle.plan.to_json_dict()["runs"]:
        text = _text(sheets[f"{run['id']}.pdf"])
        pos = text.index(L["stops"])
        for stop in bundle.stops(bundle.run(run["id"])):
            arrival = stop.arrival.strftime("%H:%M")
            pos = text.index(arrival, pos)
            pos = text.index(stop.name, pos) + len(stop.name)
        # The tally forms come after the route, one per collect stop, in stop order.
        for stop in bundle.stops(bundle.run(run["id"])):
            if stop.type == "collect":
                pos = text.index(L["form"], pos)
                pos = text.index(stop.name, pos)


def test_pdf_has_chinese_labels_as_text(bundle: PlanBundle, sheets: dict[str, Path]) -> None:
    L = labels("zh")
    text = _text(sheets[f"{bundle.plan.to_json_dict()['runs'][0]['id']}.pdf"])
    for key in ("title", "stops", "carry", "map", "form", "household", "signature"):
        assert L[key] in text, key
    assert "\ufffd" not in text


def test_tally_forms_list_every_household(bundle: PlanBundle, sheets: dict[str, Path]) -> None:
    for run in bundle.plan.to_json_dict()["runs"]:
        text = _text(sheets[f"{run['id']}.pdf"])
        forms = text[text.index(labels("zh")["form"]) :]
        for stop in bundle.stops(bundle.run(run["id"])):
            if stop.type == "collect":
                for h in bundle.households[stop.place]:
                    assert re.search(rf"\b{re.escape(h.id)}\b", forms), (run["id"], h.id)


def test_tally_forms_show_expected_values_from_tallies(bundle: PlanBundle) -> None:
    if not bundle.tallies:
        pytest.skip("the plan folder has no tallies.csv")
    run = bundle.plan.to_json_dict()["runs"][0]
    rows = bundle.tallies_of(run["id"])
    cells = _tally_rows(run_sheet_html(bundle, bundle.run(run["id"])))
    for household in sorted({t.household for t in rows}):
        sell = [t for t in rows if t.household == household and t.stream == "sell"]
        kg = sum(t.quantity for t in sell if t.unit == "kg")
        cash = sum(t.value_cny for t in sell)
        point = next(t.point for t in rows if t.household == household)
        people = next(h.people for h in bundle.households[point] if h.id == household)
        # Household, name, people, expected sell kg, cash, points, balance, goods due.
        row = cells[household]
        assert int(row[2]) == people
        assert float(row[3]) == pytest.approx(kg, abs=0.06)
        assert float(row[4]) == pytest.approx(cash, abs=0.006)


def _tally_rows(html: str) -> dict[str, list[str]]:
    """The tally forms' body rows by household id (cell texts, in column order)."""
    out = {}
    for table in re.findall(r'<table class="tally">(.*?)</table>', html, re.S):
        body = table.split("<tbody>", 1)[1]
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            texts = [re.sub(r"<[^>]+>", "", td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
            if texts and texts[0]:
                out[texts[0]] = texts
    return out


def test_embedded_font_is_the_cjk_font_and_maps_chinese(
    bundle: PlanBundle, sheets: dict[str, Path]
) -> None:
    # With Debian's fonts-noto-cjk installed (a .ttc collection, Bold listed first) and
    # without it (the packaged font): one regular CJK face, embedded once.
    reader = PdfReader(sheets[f"{bundle.plan.to_json_dict()['runs'][0]['id']}.pdf"])
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    assert len(fonts) == 1  # one weight: the CJK font, embedded once
    font = next(iter(fonts.values())).get_object()
    assert "NotoSansCJK" in str(font["/BaseFont"]) and "Bold" not in str(font["/BaseFont"])
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert any(k in descriptor for k in ("/FontFile2", "/FontFile3"))  # embedded
    cmap = font["/ToUnicode"].get_object().get_data().decode()
    mapped = {chr(int(u, 16)) for u in re.findall(r"<[0-9a-fA-F]{4}> ?<([0-9a-fA-F]{4})>", cmap)}
    mapped |= {
        chr(int(u, 16))
        for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S)
        for lo, hi, u in re.findall(
            r"<([0-9a-fA-F]+)> ?<([0-9a-fA-F]+)> ?<([0-9a-fA-F]{4})>", block
        )
        if lo == hi
    }
    assert set(TITLE) <= mapped or TITLE in reader.pages[0].extract_text()


def _bounds(glyphs: Any, name: str) -> tuple[float, float, float, float] | None:
    from fontTools.pens.boundsPen import BoundsPen

    pen = BoundsPen(glyphs)
    glyphs[name].draw(pen)
    return pen.bounds


def test_rendered_chinese_title_has_distinct_glyphs(
    bundle: PlanBundle, sheets: dict[str, Path]
) -> None:
    # Missing glyphs would all be drawn as the same empty box: every character of the
    # title must leave ink, and no two of its five different characters look alike.
    pdf = pdfium.PdfDocument(sheets[f"{bundle.plan.to_json_dict()['runs'][0]['id']}.pdf"])
    page = pdf[0]
    textpage = page.get_textpage()
    start = textpage.get_text_range().index(TITLE)
    scale = 3.0
    image = page.render(scale=scale, grayscale=True).to_numpy()
    image = image.reshape(image.shape[0], image.shape[1], -1)[:, :, 0]
    height = page.get_height()
    crops = []
    for k in range(len(TITLE)):
        left, bottom, right, top = textpage.get_charbox(start + k)
        box = image[
            int((height - top) * scale) : int((height - bottom) * scale) + 1,
            int(left * scale) : int(right * scale) + 1,
        ]
        ink = box < 128
        assert ink.mean() > 0.05, TITLE[k]
        crops.append(ink)
    h = min(c.shape[0] for c in crops)
    w = min(c.shape[1] for c in crops)
    cut = [c[:h, :w] for c in crops]
    for i in range(len(cut)):
        for j in range(i + 1, len(cut)):
            assert np.mean(cut[i] != cut[j]) > 0.05, (TITLE[i], TITLE[j])
    pdf.close()


def test_carry_from_summary_or_not_computed(
    bundle: PlanBundle, planned_tiny: Path, tmp_path: Path
) -> None:
    L = labels("zh")
    run = bundle.plan.to_json_dict()["runs"][0]
    carry = bundle.run_carry(run["id"])
    if carry is not None:
        html = run_sheet_html(bundle, bundle.run(run["id"]))
        assert f"{carry['cash_float_cny']:.2f}" in html
        assert L["not_computed"] not in html
    # Without summary.json: say so, and give purchases from the tallies if there are any.
    folder = tmp_path / "plan"
    shutil.copytree(planned_tiny, folder)
    (folder / "summary.json").unlink(missing_ok=True)
    bare = read_bundle(folder, bundle.scenario)
    html = run_sheet_html(bare, bare.run(run["id"]))
    assert L["not_computed"] in html
    sell = sum(t.value_cny for t in bare.tallies_of(run["id"]) if t.stream == "sell")
    if bare.tallies:
        assert f"{sell:.2f} {L['yuan']}" in html


def test_map_draws_every_leg_and_stop(bundle: PlanBundle) -> None:
    run = bundle.plan.to_json_dict()["runs"][0]
    html = run_sheet_html(bundle, bundle.run(run["id"]))
    found = re.search(r'<svg class="map".*?</svg>', html, re.S)
    assert found is not None
    svg = ET.fromstring(found.group(0))
    ns = "{http://www.w3.org/2000/svg}"
    types = [st["type"] for st in run["steps"]]
    assert len(svg.findall(f"{ns}polyline")) == len(types) - 1
    circles = svg.findall(f"{ns}circle")
    assert len(circles) == types.count("collect")
    stations = [g for g in svg.findall(f"{ns}polygon") if g.get("fill") == "#e8890c"]
    assert len(stations) == types.count("unload")
    assert svg.findall(f"{ns}rect")  # background and depot
    for line in svg.findall(f"{ns}polyline"):
        assert len(line.get("points", "").split()) >= 2
    # Stations are drawn after (on top of) every stop, so a stop never hides one.
    children = list(svg)
    if stations and circles:
        assert min(children.index(g) for g in stations) > max(children.index(c) for c in circles)
    # The numbers on the markers are the stops table's numbers.
    numbers = [t.text for t in svg.findall(f"{ns}text") if (t.text or "").isdigit()]
    expected = [str(s.number) for s in bundle.stops(bundle.run(run["id"])) if s.number]
    assert sorted(numbers, key=int) == sorted(expected, key=int)


def test_english_sheet(bundle: PlanBundle, tmp_path: Path) -> None:
    # Give the categories English names (the tiny scenario has none).
    cats = tuple(
        c.model_copy(update={"name_en": f"EN-{c.id}"}) for c in bundle.scenario.settings.categories
    )
    settings = bundle.scenario.settings.model_copy(update={"categories": cats})
    scenario = dataclasses.replace(bundle.scenario, settings=settings)
    english = PlanBundle(bundle.out_dir, bundle.plan, scenario, bundle.tallies, bundle.summary)
    run = next(
        r
        for r in english.plan.to_json_dict()["runs"]
        if any(s["type"] == "collect" for s in r["steps"])
    )
    html = run_sheet_html(english, english.run(run["id"]), lang="en")
    L = labels("en")
    for key in ("title", "stops", "carry", "form", "signature", "cash_paid"):
        assert L[key] in html, key
    assert labels("zh")["title"] not in html
    collected = {c for s in run["steps"] if s["type"] == "collect" for c in s.get("collected", {})}
    for c in collected:
        assert f"EN-{c}" in html
    pdf = tmp_path / "en.pdf"
    render_pdfs([html], [pdf], jobs=1)
    text = _text(pdf)
    assert L["title"] in text and L["stops"] in text and L["form"] in text


def test_bad_lang_is_a_plan_error(bundle: PlanBundle, tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="lang"):
        write_run_sheets(bundle, tmp_path, lang="fr")
    with pytest.raises(PlanError, match="lang"):
        run_sheet_html(bundle, bundle.runs[0], lang="mn")
    assert not (tmp_path / "sheets").exists()


def test_workers_give_the_same_pdf_and_weasyprint_still_renders(
    bundle: PlanBundle, sheets: dict[str, Path], tmp_path: Path
) -> None:
    names = [f"{r.id}" for r in bundle.runs]
    docs = [json.dumps(run_sheet_data(bundle, r), ensure_ascii=False) for r in bundle.runs]
    paths = [tmp_path / f"{n}.pdf" for n in names]
    # Two forked workers, from a fresh process (this one already runs a Typst compiler,
    # whose threads a fork would not carry: render_pdfs then renders in-process).
    (tmp_path / "docs.json").write_text(json.dumps([docs, [str(p) for p in paths]]), "utf-8")
    script = (
        "import json, sys; from pathlib import Path; "
        "from planner.export.runsheet import render_pdfs; "
        "docs, paths = json.loads(Path(sys.argv[1]).read_text('utf-8')); "
        "render_pdfs(docs, [Path(p) for p in paths], engine='typst', jobs=2)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "docs.json")], check=True)
    for n, path in zip(names, paths, strict=True):
        assert path.read_bytes() == sheets[f"{n}.pdf"].read_bytes()  # deterministic
    render_pdfs(docs[:1], [tmp_path / "again.pdf"], engine="typst", jobs=2)  # in-process
    assert (tmp_path / "again.pdf").read_bytes() == paths[0].read_bytes()
    # The other engine renders the same sheet's HTML to an A4 PDF with the same words.
    html = sheets[f"{names[0]}.html"].read_text(encoding="utf-8")
    render_pdfs([html], [tmp_path / "w.pdf"], engine="weasyprint", jobs=1)
    text = _text(tmp_path / "w.pdf")
    assert TITLE in text and labels("zh")["end_box"] in text
    with pytest.raises(PlanError, match="engine"):
        render_pdfs([html], [tmp_path / "x.pdf"], engine="latex")


def _with_households(
    bundle: PlanBundle, households: tuple[Any, ...], tallies: list[Any]
) -> PlanBundle:
    scenario = dataclasses.replace(bundle.scenario, households=households)
    return PlanBundle(bundle.out_dir, bundle.plan, scenario, tallies, bundle.summary)


def test_tally_form_names_and_missing_household_list(bundle: PlanBundle) -> None:
    L = labels("zh")
    run = next(r for r in bundle.runs if r.collects)
    first = run.collects[0].place
    long_name = bundle.households[first][0].id
    named = tuple(
        h.model_copy(update={"name": "巴特尔阿拉坦仓乌力吉巴雅尔" if h.id == long_name else "张三"})
        for h in bundle.scenario.households
    )
    rows = _tally_rows(run_sheet_html(_with_households(bundle, named, bundle.tallies), run))
    assert rows[long_name][1] == "巴特尔阿拉坦仓乌力吉巴雅尔"
    assert all(r[1] in ("张三", "巴特尔阿拉坦仓乌力吉巴雅尔") for r in rows.values())
    # Without a household list or tallies: blank rows and a note to write households in.
    html = run_sheet_html(_with_households(bundle, (), []), run)
    assert L["no_households"] in html


def test_names_are_text_never_markup(bundle: PlanBundle) -> None:
    run = next(r for r in bundle.runs if r.collects)
    evil = tuple(
        h.model_copy(update={"name": "<script>alert(1)</script>"})
        for h in bundle.scenario.households
    )
    html = run_sheet_html(_with_households(bundle, evil, bundle.tallies), run)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _many_households(bundle: PlanBundle, run: Any, per_stop: int) -> PlanBundle:
    """The bundle with ``per_stop`` households at each of the run's points."""
    from planner.scenario.model import Household

    made = tuple(
        Household(id=f"X{k:02d}{j:03d}", point=st.place, people=2 + j % 4, name=f"户主{j}")
        for k, st in enumerate(run.collects)
        for j in range(per_stop)
    )
    return _with_households(bundle, made, [])


def test_a_typical_run_fits_on_three_portrait_pages(bundle: PlanBundle, tmp_path: Path) -> None:
    # The default region's median run has ~160 households over ~3 stops (2,588 pages a
    # month, ~9 per run, before the compact forms); such a run now takes at most 3 pages.
    run = max(bundle.runs, key=lambda r: len(r.collects))
    per_stop = -(-160 // len(run.collects))
    big = _many_households(bundle, run, per_stop)
    doc = json.dumps(run_sheet_data(big, run), ensure_ascii=False)
    render_pdfs([doc], [tmp_path / "big.pdf"], engine="typst", jobs=1)
    reader = PdfReader(tmp_path / "big.pdf")
    assert len(reader.pages) <= 3
    assert all(p.mediabox.width < p.mediabox.height for p in reader.pages)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "X00000" in text and f"X{len(run.collects) - 1:02d}{per_stop - 1:03d}" in text


def test_forms_show_goods_due_balance_totals_and_end_box(
    bundle: PlanBundle, sheets: dict[str, Path]
) -> None:
    L = labels("zh")
    due = [(key, hid, goods) for key, per in bundle.goods_due.items() for hid, goods in per.items()]
    assert due, "the tiny month hands out goods"
    (run_id, _point), hid, goods = due[0]
    rows = _tally_rows(run_sheet_html(bundle, bundle.run(run_id)))
    # goods.csv's goods due, by name and count, and a points balance after the visit.
    for g in goods:
        name = next(x.name for x in bundle.scenario.settings.goods if x.id == g.item)
        assert f"{name}×{g.count}" in rows[hid][7]
    assert rows[hid][6].isdigit()
    assert round(bundle.points_balances[run_id, _point, hid]) == int(rows[hid][6])
    text = _text(sheets[f"{run_id}.pdf"])
    forms = sum(1 for st in bundle.run(run_id).collects)
    assert text.count(L["total"]) >= forms  # a totals row under every form
    for key in ("end_box", "cash_returned", "goods_returned", "weigh_ticket", "odometer"):
        assert L[key] in text, key


def test_header_names_the_driver_and_keeps_the_date_on_one_line(
    bundle: PlanBundle, tmp_path: Path
) -> None:
    fleet = tuple(
        v.model_copy(update={"driver": "测试司机"}) for v in bundle.scenario.settings.fleet
    )
    settings = bundle.scenario.settings.model_copy(update={"fleet": fleet})
    scenario = dataclasses.replace(bundle.scenario, settings=settings)
    driven = PlanBundle(bundle.out_dir, bundle.plan, scenario, bundle.tallies, bundle.summary)
    run = bundle.runs[0]
    doc = json.dumps(run_sheet_data(driven, run), ensure_ascii=False)
    render_pdfs([doc], [tmp_path / "d.pdf"], engine="typst", jobs=1)
    lines = PdfReader(tmp_path / "d.pdf").pages[0].extract_text().splitlines()
    assert any("测试司机" in ln for ln in lines)
    weekday = "一二三四五六日"[run.date.weekday()]
    assert any(f"{run.date.day} 日" in ln and f"星期{weekday}" in ln for ln in lines)


def test_html_sheet_fits_a_phone(bundle: PlanBundle, tmp_path: Path) -> None:
    import browser

    chromium = browser.find_chromium()
    if chromium is None:
        pytest.skip(browser.missing_reason())
    run = max(bundle.runs, key=lambda r: len(r.collects))
    names = tuple(
        h.model_copy(update={"name": "巴特尔阿拉坦仓乌力吉"}) for h in bundle.scenario.households
    )
    html = run_sheet_html(_with_households(bundle, names, bundle.tallies), run)
    # The sheet in a 390 px frame (a phone): it reports its width and anything wider.
    probe = (
        "<script>addEventListener('load', () => { const wide = [];"
        "document.querySelectorAll('body *').forEach(e => {"
        " if (e.getBoundingClientRect().right > 391 && !e.closest('.scroll'))"
        " wide.push(e.tagName + '.' + e.className); });"
        "parent.postMessage(JSON.stringify({w: document.documentElement.scrollWidth,"
        " map: document.querySelector('svg.map').getBoundingClientRect().right,"
        " wide: wide}), '*'); });</script>"
    )
    (tmp_path / "sheet.html").write_text(html.replace("</body>", probe + "</body>"), "utf-8")
    frame = tmp_path / "phone.html"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><pre id="out"></pre>'
        '<iframe src="sheet.html" style="width:390px;height:844px;border:0"></iframe>'
        "<script>addEventListener('message', e => {"
        " document.getElementById('out').textContent = e.data; });</script></body></html>",
        "utf-8",
    )
    dom = browser._run(
        chromium,
        frame,
        tmp_path / "profile",
        ["--virtual-time-budget=5000", "--dump-dom"],
        window=(800, 900),
        timeout=60.0,
    )
    found = re.search(r'<pre id="out">([^<]+)</pre>', dom)
    assert found is not None, "the sheet did not report its width"
    seen = json.loads(found.group(1).replace("&quot;", '"'))
    # Nothing cut off or one character a line: the page is as wide as the phone, the
    # map fits, and only the forms scroll sideways, inside their own box.
    assert seen["w"] <= 390 and seen["map"] <= 390 and not seen["wide"], seen
