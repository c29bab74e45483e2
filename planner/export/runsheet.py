"""Driver run sheets: one A4 sheet per run, as HTML (any browser, phones too) and PDF.

``OUT/sheets/<run_id>.html`` and ``OUT/sheets/<run_id>.pdf`` show the same data
(:mod:`planner.export._sheet_model`): the header with the driver and the date, what
to carry, the route map, the stops, one tally form per stop (each household by name
with its goods due and points balance, a totals row) and the end-of-run box. The
HTML comes from the Jinja2 template ``templates/sheet.html.j2`` and reflows to a
phone's width; the PDF from the Typst template ``templates/sheet.typ`` (portrait
only, a typical run on 2–3 pages). WeasyPrint can still make the PDF from the HTML
(``engine="weasyprint"``); ``benchmarks/bench_outputs.py`` measures both on the same
sheets, and Typst is the default because it is many times faster for the same pages.
Sheets are rendered by one worker process per CPU when there are enough of them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner._process import die_with_parent
from planner.export._sheet_model import sheet_data
from planner.export.bundle import PlanBundle, TallyRow
from planner.export.fonts import cjk_family_name, cjk_font_path
from planner.export.i18n import check_lang
from planner.export.templating import TEMPLATES, css_string, render
from planner.plan.model import Run

__all__ = ["ENGINES", "render_pdfs", "run_sheet_data", "run_sheet_html", "write_run_sheets"]

ENGINES = ("typst", "weasyprint")
# Sheets per task sent to a worker, and the number of sheets worth starting workers for.
_CHUNK = 4
_PARALLEL_FROM = 12


def _font_url() -> str:
    return cjk_font_path().resolve().as_uri()


def run_sheet_data(bundle: PlanBundle, run: Run, *, lang: str = "zh") -> dict[str, Any]:
    """What the sheet of ``run`` shows, as JSON-ready data (see :mod:`._sheet_model`).

    Raises
    ------
    PlanError
        ``lang`` is unknown, or the run names a place the plan does not list.
    """
    check_lang(lang)
    return sheet_data(bundle, run, lang, bundle.tallies_of(run.id))


def run_sheet_html(bundle: PlanBundle, run: Run, *, lang: str = "zh") -> str:
    """The run sheet of ``run`` as a complete HTML document.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    run
        One run of ``bundle.plan.runs``.
    lang
        ``"zh"`` (default) or ``"en"``: the sheet's words and category names.

    Raises
    ------
    PlanError
        ``lang`` is unknown, or the run names a place the plan does not list.
    """
    return sheet_html(run_sheet_data(bundle, run, lang=lang))


def sheet_html(data: dict[str, Any]) -> str:
    """The HTML document of a sheet's data."""
    return render(
        "sheet.html.j2", d=data, font_url=_font_url(), footer_css=css_string(data["footer"])
    )


def write_run_sheets(
    bundle: PlanBundle,
    out_dir: Path,
    *,
    lang: str = "zh",
    pdf: bool = True,
    engine: str = "typst",
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``out_dir/sheets/<run_id>.html`` (and ``.pdf``) for every run.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    out_dir
        Output folder; the sheets go into its ``sheets`` subfolder.
    lang
        ``"zh"`` (default) or ``"en"``.
    pdf
        Also write the PDFs (A4 portrait, CJK font embedded).
    engine
        The PDF engine: ``"typst"`` (default) or ``"weasyprint"``.
    progress
        Called as ``progress(done, total)``; each run counts one step for its
        HTML and, with ``pdf``, one for its PDF.

    Returns
    -------
    list[Path]
        The files written, per run its HTML then its PDF, in plan order.

    Raises
    ------
    PlanError
        ``lang`` or ``engine`` is unknown, or a run names a place the plan does not list.
    """
    check_lang(lang)
    if engine not in ENGINES:
        raise PlanError(f"pdf engine: expected one of {', '.join(ENGINES)}, found {engine!r}")
    folder = Path(out_dir) / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    runs = bundle.runs
    total = len(runs) * (2 if pdf else 1)
    # One pass over tallies.csv (a month has hundreds of thousands of rows).
    tallies: dict[str, list[TallyRow]] = defaultdict(list)
    for t in bundle.tallies:
        tallies[t.run_id].append(t)
    docs: list[str] = []
    written: list[Path] = []
    for k, run in enumerate(runs):
        data = sheet_data(bundle, run, lang, tallies.get(run.id, []))
        text = sheet_html(data)
        path = folder / f"{_safe(run.id)}.html"
        with atomic_writer(path, "w") as fh:
            fh.write(text)
        docs.append(json.dumps(data, ensure_ascii=False) if engine == "typst" else text)
        written.append(path)
        if progress is not None:
            progress(k + 1, total)
    if not pdf:
        return written
    pdf_paths = [folder / f"{_safe(run.id)}.pdf" for run in runs]

    def step(done: int) -> None:
        if progress is not None:
            progress(len(runs) + done, total)

    render_pdfs(docs, pdf_paths, engine=engine, progress=step)
    return [p for pair in zip(written, pdf_paths, strict=True) for p in pair]


def _safe(run_id: str) -> str:
    # Run ids are vehicle-date; keep them file names on every system.
    bad = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
    name = "".join("_" if ch in bad else ch for ch in run_id).strip(" .")
    if not name:
        raise PlanError(f"plan.json: expected a run id usable as a file name, found {run_id!r}")
    return name


def render_pdfs(
    htmls: Sequence[str],
    paths: Sequence[Path],
    *,
    engine: str = "weasyprint",
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Render each document to the PDF at the same position in ``paths``.

    Parameters
    ----------
    htmls, paths
        The documents and where their PDFs go: HTML for ``weasyprint``, the JSON of
        :func:`run_sheet_data` for ``typst``.
    engine
        ``"weasyprint"`` (HTML and CSS) or ``"typst"`` (the sheet's Typst template).
    jobs
        Worker processes; ``None``: one per CPU when there is enough work.
    progress
        Called with the number of PDFs written so far.
    """
    if engine not in ENGINES:
        raise PlanError(f"pdf engine: expected one of {', '.join(ENGINES)}, found {engine!r}")
    items = list(zip(htmls, (str(p) for p in paths), strict=True))
    chunks = [items[k : k + _CHUNK] for k in range(0, len(items), _CHUNK)]
    if jobs is None:
        jobs = min(os.cpu_count() or 1, len(chunks)) if len(items) >= _PARALLEL_FROM else 1
    if _RENDERERS.get(engine, (-1, None))[0] == os.getpid() and engine == "typst":
        # This process already runs a Typst compiler: its threads would not survive a
        # fork (a worker would hang), so the sheets are made here, which is fast anyway.
        jobs = 1
    done = 0
    if jobs <= 1:
        for chunk in chunks:
            done += _render_chunk(chunk, engine)
            if progress is not None:
                progress(done)
        return
    # fork on Linux: spawn and forkserver re-import the caller's main module, which
    # breaks scripts without a __main__ guard; elsewhere fork is unsafe or missing.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with warnings.catch_warnings():
        # Python 3.12+ warns on forking a threaded process; the workers only run
        # the PDF engine and never touch the threads (numpy's) the parent started.
        warnings.filterwarnings("ignore", message=".*fork", category=DeprecationWarning)
        with ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            futures = [pool.submit(_render_chunk, chunk, engine) for chunk in chunks]
            for future in as_completed(futures):
                done += future.result()
                if progress is not None:
                    progress(done)


class _Renderer:
    """WeasyPrint state kept for the life of a process.

    The font configuration reads the 16 MB font once and is shared by every sheet.
    """

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        self.font_config = FontConfiguration()

    def pdf(self, text: str, base_url: str) -> bytes:
        doc = self.weasyprint.HTML(string=text, base_url=base_url).render(
            font_config=self.font_config
        )
        return bytes(doc.write_pdf())


class _TypstRenderer:
    """A Typst compiler kept for the life of a process (fonts and template read once).

    Only the CJK font's folder is searched, not the system's, so that the same plan
    gives the same PDF on every machine; Latin text uses Typst's own fonts.
    """

    def __init__(self) -> None:
        import typst

        font = cjk_font_path()
        self.fonts = "|".join(dict.fromkeys([cjk_family_name(), *_CJK_FALLBACK]))
        self.compiler = typst.Compiler(
            str(TEMPLATES / "sheet.typ"), font_paths=[str(font.parent)], ignore_system_fonts=True
        )

    def pdf(self, data: str, base_url: str) -> bytes:
        del base_url  # the template needs no files beside it
        # The PDF's dates: the run's day, not the clock, so the same plan gives the same bytes.
        stamp = int(json.loads(data).get("stamp", 0))
        blob = self.compiler.compile(sys_inputs={"data": data, "font": self.fonts}, timestamp=stamp)
        if not isinstance(blob, bytes):  # one file per page only for images
            raise PlanError("typst: expected one PDF document, found pages")
        return blob


_CJK_FALLBACK = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans SC", "Source Han Sans SC")
# Per engine: the process that made the renderer, and the renderer. A forked worker
# makes its own: a Typst compiler's threads do not survive a fork.
_RENDERERS: dict[str, tuple[int, _Renderer | _TypstRenderer]] = {}


def _render_chunk(chunk: Sequence[tuple[str, str]], engine: str = "weasyprint") -> int:
    """Render and write some PDFs (in this process or a worker); returns how many."""
    owner, renderer = _RENDERERS.get(engine, (-1, None))
    if renderer is None or owner != os.getpid():
        renderer = _TypstRenderer() if engine == "typst" else _Renderer()
        _RENDERERS[engine] = (os.getpid(), renderer)
    for text, path in chunk:
        target = Path(path)
        blob = renderer.pdf(text, str(target.parent))
        with atomic_writer(target, "wb") as fh:
            fh.write(blob)
    return len(chunk)
