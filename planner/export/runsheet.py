"""Driver run sheets: one printable A4 sheet per run, as HTML and PDF.

``OUT/sheets/<run_id>.html`` is the source (it opens in any browser);
``OUT/sheets/<run_id>.pdf`` is made from it with WeasyPrint. A month of Otog
Banner is some 270 sheets and 2,600 pages, most of them tally forms, so the PDFs
are made for speed: each process keeps one WeasyPrint font configuration (the
16 MB CJK font is read once, not once per sheet) and the shared stylesheet
parsed once, the forms are built to be cheap to lay out (see ``_sheet_html``),
and the sheets are rendered by one worker process per CPU.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from planner._atomic import atomic_writer
from planner._errors import PlanError
from planner.export._sheet_html import base_css, sheet_html
from planner.export.bundle import PlanBundle, TallyRow
from planner.export.fonts import cjk_font_path
from planner.export.labels import check_lang
from planner.plan.model import Run

__all__ = ["render_pdfs", "run_sheet_html", "write_run_sheets"]

# Sheets per task sent to a worker, and the number of sheets worth starting workers for.
_CHUNK = 4
_PARALLEL_FROM = 12


def _font_url() -> str:
    return cjk_font_path().resolve().as_uri()


def run_sheet_html(bundle: PlanBundle, run: Run, *, lang: str = "zh") -> str:
    """The run sheet of ``run`` as a complete HTML document.

    Parameters
    ----------
    bundle
        The plan folder and its scenario.
    run
        One run of ``bundle.plan["runs"]``.
    lang
        ``"zh"`` (default) or ``"en"``: the sheet's words and category names.

    Raises
    ------
    PlanError
        ``lang`` is unknown, or the run names a place the plan does not list.
    """
    check_lang(lang)
    return _html(bundle, run, lang, bundle.tallies_of(run.id))


def _html(bundle: PlanBundle, run: Run, lang: str, tallies: Sequence[TallyRow]) -> str:
    unknown = [st.place for st in run.steps if st.place not in bundle.places]
    if unknown:
        raise PlanError(
            f"plan.json: run {run.id}: expected places listed in places, found {unknown[0]!r}"
        )
    return sheet_html(bundle, run, lang, bundle.leg_lines(run), tallies, _font_url())


def write_run_sheets(
    bundle: PlanBundle,
    out_dir: Path,
    *,
    lang: str = "zh",
    pdf: bool = True,
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
        Also write the PDFs (A4, CJK font embedded).
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
        ``lang`` is unknown or a run names a place the plan does not list.
    """
    check_lang(lang)
    folder = Path(out_dir) / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    runs = bundle.runs
    total = len(runs) * (2 if pdf else 1)
    # One pass over tallies.csv (a month has hundreds of thousands of rows).
    tallies: dict[str, list[TallyRow]] = defaultdict(list)
    for t in bundle.tallies:
        tallies[t.run_id].append(t)
    htmls: list[str] = []
    written: list[Path] = []
    for k, run in enumerate(runs):
        text = _html(bundle, run, lang, tallies.get(run.id, []))
        path = folder / f"{_safe(run.id)}.html"
        with atomic_writer(path, "w") as fh:
            fh.write(text)
        htmls.append(text)
        written.append(path)
        if progress is not None:
            progress(k + 1, total)
    if not pdf:
        return written
    pdf_paths = [folder / f"{_safe(run.id)}.pdf" for run in runs]

    def step(done: int) -> None:
        if progress is not None:
            progress(len(runs) + done, total)

    render_pdfs(htmls, pdf_paths, progress=step)
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
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Render each HTML document to the PDF at the same position in ``paths``.

    Parameters
    ----------
    htmls, paths
        The documents and where their PDFs go.
    jobs
        Worker processes; ``None``: one per CPU when there is enough work.
    progress
        Called with the number of PDFs written so far.
    """
    items = list(zip(htmls, (str(p) for p in paths), strict=True))
    chunks = [items[k : k + _CHUNK] for k in range(0, len(items), _CHUNK)]
    if jobs is None:
        jobs = min(os.cpu_count() or 1, len(chunks)) if len(items) >= _PARALLEL_FROM else 1
    done = 0
    if jobs <= 1:
        for chunk in chunks:
            done += _render_chunk(chunk)
            if progress is not None:
                progress(done)
        return
    # fork on Linux: spawn and forkserver re-import the caller's main module, which
    # breaks scripts without a __main__ guard; elsewhere fork is unsafe or missing.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with warnings.catch_warnings():
        # Python 3.12+ warns on forking a threaded process; the workers only run
        # WeasyPrint and never touch the threads (numpy's) the parent started.
        warnings.filterwarnings("ignore", message=".*fork", category=DeprecationWarning)
        with ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            futures = [pool.submit(_render_chunk, chunk) for chunk in chunks]
            for future in as_completed(futures):
                done += future.result()
                if progress is not None:
                    progress(done)


def _die_with_parent(parent: int) -> None:
    """Worker start-up: end this worker when the planner that started it dies.

    A ``kill -9`` of the planner gives its workers no chance to hear of it: they
    would wait on their task pipe forever, some 500 MB each. On Linux the kernel
    sends SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``); everywhere, a
    watchdog thread ends the worker once its parent is no longer the one it had.
    """
    if sys.platform == "linux":
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the watchdog below still ends the worker

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="planner-parent-watch", daemon=True).start()


class _Renderer:
    """WeasyPrint state kept for the life of a process.

    The font configuration reads the 16 MB font once, and the stylesheet every
    sheet shares is parsed once and handed to WeasyPrint ready-made; it is cut out
    of each document first, so the cascade is the same as for the file on disk.
    """

    def __init__(self) -> None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        self.font_config = FontConfiguration()
        self.shared_text = f"<style>{base_css(_font_url())}</style>"
        self.shared = weasyprint.CSS(string=base_css(_font_url()), font_config=self.font_config)

    def pdf(self, text: str, base_url: str) -> bytes:
        stylesheets = []
        if self.shared_text in text:
            text = text.replace(self.shared_text, "", 1)
            stylesheets.append(self.shared)
        doc = self.weasyprint.HTML(string=text, base_url=base_url).render(
            font_config=self.font_config, stylesheets=stylesheets
        )
        return bytes(doc.write_pdf())


_RENDERER: _Renderer | None = None


def _render_chunk(chunk: Sequence[tuple[str, str]]) -> int:
    """Render and write some PDFs (in this process or a worker); returns how many."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = _Renderer()
    for text, path in chunk:
        target = Path(path)
        blob = _RENDERER.pdf(text, str(target.parent))
        with atomic_writer(target, "wb") as fh:
            fh.write(blob)
    return len(chunk)
