"""Driver run sheets: HTML and PDF per run, read back with pypdf and pypdfium2."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from planner._errors import PlanError
from planner.export.bundle import PlanBundle, read_bundle
from planner.export.fonts import cjk_font_path
from planner.export.labels import labels
from planner.export.runsheet import render_pdfs, run_sheet_html, write_run_sheets

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
        assert reader.pages[0].mediabox.width < reader.pages[0].mediabox.height  # portrait
        # One tally-form page (landscape) at least per collect stop.
        collects = sum(st["type"] == "collect" for st in run["steps"])
        landscape = sum(p.mediabox.width > p.mediabox.height for p in reader.pages)
        assert landscape >= collects


def test_progress_counts_html_then_pdf(bundle: PlanBundle, sheets: dict[str, Path]) -> None:
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
    html = run_sheet_html(bundle, bundle.run(run["id"]))
    for household in sorted({t.household for t in rows}):
        sell = [t for t in rows if t.household == household and t.stream == "sell"]
        kg = sum(t.quantity for t in sell if t.unit == "kg")
        cash = sum(t.value_cny for t in sell)
        point = next(t.point for t in rows if t.household == household)
        people = next(h.people for h in bundle.households[point] if h.id == household)
        # One preformatted line per household: id, people, sell kg, cash, points.
        line = re.search(rf"(?:^|>){re.escape(household)}\t([^\n<]*)", html, re.M)
        assert line is not None, household
        fields = line.group(1).split("\t")
        assert int(fields[0]) == people
        assert float(fields[1]) == pytest.approx(kg, abs=0.06)
        assert float(fields[2]) == pytest.approx(cash, abs=0.006)


def test_embedded_font_is_the_cjk_font_and_maps_chinese(
    bundle: PlanBundle, sheets: dict[str, Path]
) -> None:
    reader = PdfReader(sheets[f"{bundle.plan.to_json_dict()['runs'][0]['id']}.pdf"])
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    assert len(fonts) == 1  # one weight: the CJK font, embedded once
    font = next(iter(fonts.values())).get_object()
    assert "Planner-CJK" in str(font["/BaseFont"])
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    embedded = TTFont(io.BytesIO(descriptor["/FontFile3"].get_object().get_data()))
    cmap = font["/ToUnicode"].get_object().get_data().decode()
    cid_of = {
        chr(int(u, 16)): int(c, 16) for c, u in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]{4})>", cmap)
    }
    with TTFont(cjk_font_path(), lazy=True) as original:
        for ch in TITLE:
            cid = cid_of[ch]
            assert cid != 0  # not .notdef
            # The embedded glyph has an outline, the same as that glyph in the CJK font
            # file (not always the cmap's glyph: lang="zh-CN" selects Simplified forms).
            bounds = _bounds(embedded.getGlyphSet(), embedded.getGlyphOrder()[cid])
            assert bounds is not None and bounds[2] > bounds[0] and bounds[3] > bounds[1]
            assert bounds == _bounds(original.getGlyphSet(), original.getGlyphOrder()[cid])


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
    assert len(svg.findall(f"{ns}circle")) == types.count("collect")
    assert len(svg.findall(f"{ns}polygon")) == types.count("unload")
    assert svg.findall(f"{ns}rect")  # background and depot
    for line in svg.findall(f"{ns}polyline"):
        assert len(line.get("points", "").split()) >= 2


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


def test_workers_and_plain_weasyprint_give_the_same_pdf(
    bundle: PlanBundle, sheets: dict[str, Path], tmp_path: Path
) -> None:
    import weasyprint

    names = [f"{r['id']}" for r in bundle.plan.to_json_dict()["runs"]]
    htmls = [sheets[f"{n}.html"].read_text(encoding="utf-8") for n in names]
    paths = [tmp_path / f"{n}.pdf" for n in names]
    render_pdfs(htmls, paths, jobs=2)
    for n, path in zip(names, paths, strict=True):
        assert path.read_bytes() == sheets[f"{n}.pdf"].read_bytes()  # deterministic
    # The shared stylesheet handed over pre-parsed cascades as the file's own <style>.
    plain = weasyprint.HTML(filename=sheets[f"{names[0]}.html"]).write_pdf()
    ours = PdfReader(sheets[f"{names[0]}.pdf"])
    theirs = PdfReader(io.BytesIO(plain))
    assert len(ours.pages) == len(theirs.pages)
    for a, b in zip(ours.pages, theirs.pages, strict=True):
        assert a.extract_text() == b.extract_text()
        assert a.mediabox == b.mediabox


def _with_households(
    bundle: PlanBundle, households: tuple[Any, ...], tallies: list[Any]
) -> PlanBundle:
    scenario = dataclasses.replace(bundle.scenario, households=households)
    return PlanBundle(bundle.out_dir, bundle.plan, scenario, tallies, bundle.summary)


def test_tally_form_names_and_missing_household_list(bundle: PlanBundle) -> None:
    L = labels("zh")
    run = next(
        r
        for r in bundle.plan.to_json_dict()["runs"]
        if any(s["type"] == "collect" for s in r["steps"])
    )
    # Names get their own column; one too long for it is shortened, not spilled.
    first = next(s["place"] for s in run["steps"] if s["type"] == "collect")
    long_name = bundle.households[first][0].id
    named = tuple(
        h.model_copy(update={"name": "巴特尔阿拉坦仓乌力吉巴雅尔" if h.id == long_name else "张三"})
        for h in bundle.scenario.households
    )
    html = run_sheet_html(_with_households(bundle, named, bundle.tallies), bundle.run(run["id"]))
    assert f">{L['name']}<" in html
    assert "\t张三\t" in html
    assert "巴特尔阿拉坦…" in html and "巴特尔阿拉坦仓乌力吉巴雅尔" not in html
    # Without a household list or tallies: blank rows and a note to write households in.
    html = run_sheet_html(_with_households(bundle, (), []), bundle.run(run["id"]))
    assert L["no_households"] in html
    assert f">{L['name']}<" not in html
