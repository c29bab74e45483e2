"""Benchmark the outputs against the plan they come from, side by side in one run.

Plans the month (``plan_month`` with ``planner run``'s defaults: ``--time-limit 90``,
seed 0, pyvrp), then makes every output product as ``planner run`` does (the plan in
memory, one ``export_plan`` call) and reports the CPU seconds of each (this process
and its PDF workers), the plan's own CPU seconds, their ratio (target: outputs
<= 25 % of the plan), and the run sheets' pages per run. Then it renders the same
sheets with both PDF engines, Typst (the default) and WeasyPrint (HTML and CSS),
and reports CPU seconds and pages of each, which is how the engine was chosen. A script, not a test:

    python benchmarks/bench_outputs.py                         # Otog, plan at 90 s
    python benchmarks/bench_outputs.py --time-limit 30 --engines-sample 12
    python benchmarks/bench_outputs.py --json benchmarks/results/outputs.json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the PDF workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _pages(paths: list[Path]) -> list[int]:
    from pypdf import PdfReader

    return [len(PdfReader(p).pages) for p in paths]


def _distribution(pages: list[int]) -> dict:
    if not pages:
        return {}
    return {
        "sheets": len(pages),
        "pages": sum(pages),
        "median": statistics.median(pages),
        "max": max(pages),
        "share_le_3": round(sum(p <= 3 for p in pages) / len(pages), 3),
        "histogram": dict(sorted(Counter(pages).items())),
    }


def run(scenario_path: Path, time_limit: float, seed: int, sample: int, lang: str) -> dict:
    from planner.app.pipeline import plan_month
    from planner.export.bundle import PlanBundle, read_bundle
    from planner.export.writer import PRODUCTS, ExportOptions, export_plan
    from planner.ledger.forms import write_bundle_forms
    from planner.scenario.load import load_scenario

    scenario = load_scenario(scenario_path)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        c0, w0 = _cpu(), time.monotonic()
        result = plan_month(scenario, out, time_limit=time_limit, seed=seed)
        plan_cpu, plan_wall = _cpu() - c0, time.monotonic() - w0

        # As `planner run` does after planning (cli.run): the bundle from the plan in
        # memory, every product in one export_plan call. The CPU of each product is
        # read at the writer's progress ticks ("outputs", k, n: product k starts).
        bundle = PlanBundle(
            out_dir=out,
            plan=result.plan,
            scenario=scenario,
            tallies=list(result.tallies),
            summary=result.summary,
        )
        ticks: list[float] = []
        # Inside the run sheets: the CPU when every HTML is written (the PDF workers'
        # CPU is only counted once they are reaped, so the ledger's forms are timed
        # again on their own below and the PDFs are the rest).
        sheet_ticks: dict[str, float] = {}
        runs = len(result.plan.runs)

        def tick(name: str, done: float, _total: float) -> None:
            if name == "outputs":
                ticks.append(_cpu())
            elif name == "run sheets" and done == runs:
                sheet_ticks["html"] = _cpu()

        c0, w0 = _cpu(), time.monotonic()
        export_plan(bundle, out, ExportOptions(lang=lang), tick)
        outputs_cpu, outputs_wall = _cpu() - c0, time.monotonic() - w0
        products = {name: round(ticks[k + 1] - ticks[k], 2) for k, name in enumerate(PRODUCTS)}
        k = PRODUCTS.index("sheets")
        c1 = _cpu()
        write_bundle_forms(bundle, Path(tmp) / "forms")
        html, forms = sheet_ticks["html"] - ticks[k], _cpu() - c1
        sheets_parts = {
            "html_and_data": round(html, 2),
            "pdfs": round(ticks[k + 1] - ticks[k] - html - forms, 2),
            "ledger_forms": round(forms, 2),
        }
        sheets = sorted((out / "sheets").glob("*.pdf"))
        pages = _pages(sheets)
        engines = _engines(read_bundle(out, scenario), Path(tmp) / "engines", sample, lang)
    return {
        "scenario": scenario.name,
        "time_limit_s": time_limit,
        "seed": seed,
        "plan_cpu_s": round(plan_cpu, 1),
        "plan_wall_s": round(plan_wall, 1),
        "outputs_cpu_s": round(outputs_cpu, 1),
        "outputs_wall_s": round(outputs_wall, 1),
        "outputs_over_plan": round(outputs_cpu / plan_cpu, 3),
        "target": 0.25,
        "cpu_per_product_s": products,
        "cpu_in_sheets_s": sheets_parts,
        "run_sheet_pages": _distribution(pages),
        "pdf_engines": engines,
    }


def _engines(bundle: object, folder: Path, sample: int, lang: str) -> dict:
    """The same ``sample`` sheets (spread over the month) through both PDF engines."""
    from planner.export.runsheet import render_pdfs, run_sheet_data, sheet_html

    runs = bundle.runs  # type: ignore[attr-defined]
    step = max(1, len(runs) // max(1, sample))
    chosen = list(runs[::step])[:sample]
    data = [run_sheet_data(bundle, r, lang=lang) for r in chosen]  # type: ignore[arg-type]
    out = {}
    for engine in ("typst", "weasyprint"):
        docs = [
            json.dumps(d, ensure_ascii=False) if engine == "typst" else sheet_html(d) for d in data
        ]
        paths = [folder / engine / f"{r.id}.pdf" for r in chosen]
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        c0 = _cpu()
        render_pdfs(docs, paths, engine=engine, jobs=1)
        cpu = _cpu() - c0
        pages = _pages(paths)
        out[engine] = {
            "sheets": len(paths),
            "cpu_s": round(cpu, 2),
            "cpu_per_sheet_s": round(cpu / len(paths), 3),
            "pages": sum(pages),
            "cpu_per_page_s": round(cpu / max(1, sum(pages)), 3),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "otog.toml")
    ap.add_argument("--time-limit", type=float, default=90.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines-sample", type=int, default=12, help="sheets per PDF engine")
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    result = run(args.scenario, args.time_limit, args.seed, args.engines_sample, args.lang)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
