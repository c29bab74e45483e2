"""The ``planner`` command: read → solve → write, nothing else lives here.

Exit codes: 0 success (a plan with unserved visits still exits 0, with a
warning), 1 a written plan failed its check, 2 bad input.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from planner._console import err, out, say
from planner._errors import NetworkError, PlanError, PlannerError, ScenarioError
from planner.dist.cli import run_many, sweep
from planner.ledger.cli import app as ledger_app
from planner.scenario.model import Scenario
from planner.web.cli import register as register_web

if TYPE_CHECKING:
    from planner.app.pipeline import DemandProvider, PlanResult
    from planner.export import PlanBundle

app = typer.Typer(
    help="Plan mobile waste collection and recycling exchange runs for rural regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register_web(app)  # `planner serve` and `planner web …`: planner/web/cli.py
LANGS = ("zh", "en")
app.add_typer(ledger_app, name="ledger")  # planner ledger …: planner/ledger/cli.py
app.add_typer(__import__("planner.forecast.cli", fromlist=["app"]).app, name="forecast")

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (.toml).")]
Strict = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
Lang = Annotated[str, typer.Option("--lang", help="Language of sheets and report: zh or en.")]


def _fail(exc: Exception | str) -> typer.Exit:
    """Print a planner error as plain lines and exit 2 (bad input)."""
    say(err, "error:", "bold red", exc)
    return typer.Exit(2)


def _bad_option(option: str, expected: str, found: object) -> typer.Exit:
    """One line naming the option, what it expects and what it was given; exit 2."""
    return _fail(f"{option}: expected {expected}, found {found}")


def _check_seconds(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise _bad_option(option, "a number of seconds > 0", value)


def _check_engine(engine: str) -> None:
    from planner.solve.engines import ENGINES

    if engine not in ENGINES:
        raise _bad_option("--engine", f"one of {', '.join(ENGINES)}", repr(engine))


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise _bad_option("--lang", f"one of {', '.join(LANGS)}", repr(lang))


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _check_out_dir(option: str, path: Path) -> None:
    """``path`` is a folder that exists and is writable, or one that can be created."""
    if path.exists():
        if not path.is_dir():
            raise _bad_option(option, "a folder", f"{path}, which is a file")
        if not _writable(path):
            raise _bad_option(option, "a folder you can write to", f"{path}, not writable")
        return
    above = path.absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise _bad_option(option, "a folder path", f"{path}, inside {above}, which is a file")
    if not _writable(above):
        found = f"{path}, which cannot be made: {above} is not writable"
        raise _bad_option(option, "a folder you can write to", found)


def _load(path: Path, strict: bool) -> Scenario:
    from planner.scenario.load import load_scenario

    try:
        return load_scenario(path, strict=strict)
    except ScenarioError as exc:
        raise _fail(exc) from None


def _print_warnings(warnings: tuple[object, ...]) -> None:
    for w in warnings[:20]:
        say(err, "warning:", "yellow", w)
    if len(warnings) > 20:
        say(err, "warning:", "yellow", f"… and {len(warnings) - 20} more")


@app.command()
def validate(scenario: ScenarioArg, strict: Strict = False) -> None:
    """Check a scenario and its data files; list every problem at once (exit 2 if any)."""
    from planner.network.travel import build_travel

    sc = _load(scenario, strict)
    try:
        travel = build_travel(sc)
    except NetworkError as exc:
        raise _fail(exc) from None
    warnings = (*sc.warnings, *travel.warnings)
    if strict and warnings:
        raise _fail(ScenarioError(warnings))
    _print_warnings(warnings)
    say(
        out,
        "ok:",
        "green",
        f"{scenario} — {len(sc.points)} points, {len(sc.households)} households, "
        f"{len(sc.fleet)} vehicles, every place reachable by road",
    )


@app.command()
def info(scenario: ScenarioArg, strict: Strict = False) -> None:
    """Print the region, the fleet, the month and the waste it generates."""
    from planner.app.info import region_info

    sc = _load(scenario, strict)
    try:
        region_info(sc, out)
    except NetworkError as exc:
        raise _fail(exc) from None


@app.command()
def synth(
    region: Annotated[str, typer.Argument(help="'otog', 'random' or 'prefecture'.")] = "otog",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the data files.")] = Path(
        "data/otog"
    ),
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario file to write.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    points: Annotated[int, typer.Option(help="'random': collection points.")] = 60,
    households: Annotated[int, typer.Option(help="'random': households.")] = 3000,
    townships: Annotated[int, typer.Option(help="'random': townships.")] = 3,
    area_km2: Annotated[float, typer.Option(help="'random': area.")] = 4000.0,
    trucks: Annotated[int, typer.Option(help="'random': trucks.")] = 4,
    banners: Annotated[int, typer.Option(help="'prefecture': banners (--points: mean).")] = 9,
) -> None:
    """Generate a region: the Otog Banner default, or a synthetic one from parameters."""
    from planner import synth as gen

    try:
        if region == "prefecture":  # several banners for planner run-many (planner/dist)
            from planner.synth._prefecture import generate_prefecture

            made = generate_prefecture(out_dir, banners=banners, points=points, seed=seed)
            out.print(f"[green]wrote[/] {out_dir}: {made}", highlight=False)
            return
        if region == "otog":
            params = gen.otog_params(seed=seed)
        elif region == "random":
            params = gen.synthetic_params(
                points=points,
                households=households,
                townships=townships,
                area_km2=area_km2,
                trucks=trucks,
                seed=seed,
            )
        else:
            raise ValueError(f"expected region 'otog' or 'random', found {region!r}")
        summary = gen.generate_region(params, out_dir, scenario)
    except ValueError as exc:  # the generator's parameter checks
        raise _fail(exc) from None
    say(out, "wrote", "green", f"{out_dir}: {summary}")


@app.command()
def run(
    scenario: ScenarioArg,
    output: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")] = Path("out"),
    time_limit: Annotated[
        float, typer.Option(help="Seconds of solver work (machine-independent: same plan).")
    ] = 90.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same plan.")] = 0,
    engine: Annotated[str, typer.Option(help="Routing engine: pyvrp or ortools.")] = "pyvrp",
    strict: Strict = False,
    quiet: Quiet = False,
    lang: Lang = "zh",
    export: Annotated[
        bool, typer.Option(help="Also write sheets, GPX, calendars, notices, GIS, Excel, maps.")
    ] = True,
    pdf: Annotated[bool, typer.Option(help="Run sheets as PDF too (slowest output).")] = True,
    wall_limit: Annotated[
        float | None,
        typer.Option(
            help="Also stop the search after this many real seconds; the plan is then "
            "marked not reproducible."
        ),
    ] = None,
    demand: Annotated[
        str, typer.Option(help="Demand: 'assumptions' (the scenario) or 'ledger' (forecast).")
    ] = "assumptions",
    db: Annotated[
        str, typer.Option("--db", envvar="PLANNER_DB", help="Ledger for --demand ledger.")
    ] = "sqlite:///ledger.sqlite",
    decompose: Annotated[
        str,
        typer.Option(
            help="Solve depots' sub-months apart: 'auto' (large months), 'depots' or 'whole'."
        ),
    ] = "auto",
) -> None:
    """Plan the month and write plan.json, tallies.csv, summary.json and every output."""
    _check_engine(engine)
    _check_decompose(decompose)
    _check_seconds("--time-limit", time_limit)
    _check_seconds("--wall-limit", wall_limit)
    _check_lang(lang)
    _check_out_dir("--out", output)
    sc = _load(scenario, strict)
    result = _plan_month(
        sc, output, time_limit, seed, engine, quiet, wall_limit, _demand(sc, demand, db), decompose
    )
    _print_warnings(result.warnings)
    if result.plan.reproducible is False:
        say(err, "warning:", "yellow", f"not reproducible: {result.plan.reproducible_reason}")
    s = result.plan.summary
    table = Table(title=Text(f"{sc.name}: plan written to {output}"))
    for col in ("runs", "visits", "unserved", "distance km", "hours", "cost CNY"):
        table.add_column(col, justify="right")
    table.add_row(
        str(s.runs),
        str(s.visits),
        str(s.unserved),
        f"{s.distance_km:,.0f}",
        f"{s.duration_min / 60:,.1f}",
        f"{s.cost_cny or 0:,.0f}",
    )
    out.print(table)
    from planner.money.table import money_table

    out.print(money_table(result.summary))
    from planner.app.info import fleet_table

    out.print(fleet_table(result.fleet))
    if s.unserved:
        say(
            err,
            "warning:",
            "yellow",
            f"{s.unserved} visits could not be planned; "
            "see 'unserved' in plan.json for the reasons",
        )
    if export:
        from planner.export import PlanBundle

        bundle = PlanBundle(
            out_dir=output,
            plan=result.plan,
            scenario=sc,
            tallies=list(result.tallies),
            summary=result.summary,
        )
        _export(bundle, output, lang, pdf, quiet)
    if result.check_violations:
        for v in result.check_violations[:20]:
            say(err, "check:", "red", v)
        raise typer.Exit(1)


def _demand(sc: Scenario, demand: str, db: str) -> DemandProvider | None:
    """``--demand``: None for the scenario's assumptions, else the ledger's forecast."""
    if demand == "assumptions":
        return None
    if demand != "ledger":
        raise _fail(ValueError(f"--demand: expected assumptions or ledger, found {demand!r}"))
    from planner.forecast.cli import ledger_demand

    try:
        return ledger_demand(sc, db)
    except PlannerError as exc:
        raise _fail(exc) from None


def _check_decompose(mode: str) -> None:
    from planner.solve.decompose import MODES

    if mode not in MODES:
        raise _fail(f"--decompose: expected one of {', '.join(MODES)}, found {mode!r}")


def _plan_month(
    sc: Scenario,
    output: Path,
    time_limit: float,
    seed: int,
    engine: str,
    quiet: bool,
    wall_limit: float | None = None,
    demand: DemandProvider | None = None,
    decompose: str = "auto",
) -> PlanResult:
    from planner.app.pipeline import plan_month

    try:
        return plan_month(
            sc,
            output,
            time_limit=time_limit,
            seed=seed,
            engine=engine,
            progress=not quiet and sys.stderr.isatty(),
            console=err,
            wall_limit=wall_limit,
            demand=demand,
            decompose=decompose,
        )
    except (NetworkError, PlanError) as exc:
        raise _fail(exc) from None


def _export(bundle: PlanBundle, output: Path, lang: str, pdf: bool, quiet: bool) -> None:
    from planner._progress import progress_display
    from planner.export.writer import ExportOptions, export_plan

    try:
        with progress_display(not quiet and sys.stderr.isatty(), err) as report:
            made = export_plan(bundle, output, ExportOptions(lang=lang, pdf=pdf), report)
    except PlanError as exc:
        raise _fail(exc) from None
    kinds: dict[str, int] = {}
    for p in made:
        top = p.relative_to(output).parts[0]
        kinds[top] = kinds.get(top, 0) + 1
    listing = ", ".join(f"{k} ({n})" if n > 1 else k for k, n in kinds.items())
    out.print(f"outputs in {output}: {listing}", highlight=False, soft_wrap=True)


@app.command("export")
def export_cmd(
    plan_dir: Annotated[Path, typer.Argument(help="Folder with plan.json.")],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario (default: the plan's own).")
    ] = None,
    lang: Lang = "zh",
    pdf: Annotated[bool, typer.Option(help="Run sheets as PDF too (slowest output).")] = True,
    quiet: Quiet = False,
) -> None:
    """Write the outputs again from plan.json (say, after editing it by hand)."""
    from planner.export.bundle import read_bundle, refresh_money

    _check_lang(lang)
    if plan_dir.is_dir():
        _check_out_dir("PLAN_DIR", plan_dir)
    sc = _load(scenario, False) if scenario is not None else None
    try:
        bundle = read_bundle(plan_dir, sc)
        bundle, remade = refresh_money(bundle)
    except (PlanError, ScenarioError) as exc:
        raise _fail(exc) from None
    if remade:
        err.print(
            "tallies.csv and summary.json did not match plan.json: made again from the plan",
            highlight=False,
        )
    _export(bundle, plan_dir, lang, pdf, quiet)


@app.command()
def compare(
    scenario_a: Annotated[Path, typer.Argument(help="First scenario (.toml).")],
    scenario_b: Annotated[Path, typer.Argument(help="Second scenario (.toml).")],
    output: Annotated[
        Path, typer.Option("-o", "--out", help="Folder for both plans and compare.json.")
    ] = Path("compare"),
    time_limit: Annotated[float, typer.Option(help="Seconds for the solver, each.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Random seed for both.")] = 0,
    engine: Annotated[str, typer.Option(help="Routing engine: pyvrp or ortools.")] = "pyvrp",
    quiet: Quiet = False,
) -> None:
    """Plan two scenarios (say 2 vs 3 visits, or 6 vs 8 trucks) and show them side by side."""
    from planner._atomic import write_json_atomic
    from planner.money.compare import as_json
    from planner.money.compare import compare as compare_months

    _check_engine(engine)
    _check_seconds("--time-limit", time_limit)
    _check_out_dir("--out", output)
    scenarios = [_load(scenario_a, False), _load(scenario_b, False)]
    names = [sc.name for sc in scenarios]
    if names[0] == names[1]:
        names = [f"{names[0]}-a", f"{names[1]}-b"]
    results = []
    for sc, name in zip(scenarios, names, strict=True):
        if not quiet:
            err.print(f"planning {name} ({sc.path}) …", highlight=False)
        results.append(_plan_month(sc, output / name, time_limit, seed, engine, quiet))
    lines = compare_months(
        (results[0].plan, results[0].summary), (results[1].plan, results[1].summary)
    )
    write_json_atomic(output / "compare.json", as_json(lines, *names))
    table = Table(title=Text(f"{names[0]} vs {names[1]} (plans in {output})"))
    table.add_column("")
    for col in (names[0], names[1], "difference", "%"):
        table.add_column(col, justify="right")

    def fmt(x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"

    for line in lines:
        pct = "" if line.pct is None else f"{line.pct:+.1f}%"
        diff = "" if line.diff is None else ("+" if line.diff > 0 else "") + fmt(line.diff)
        table.add_row(line.label, fmt(line.a), fmt(line.b), diff, pct)
    out.print(table)
    if any(r.check_violations for r in results):
        raise typer.Exit(1)


@app.command()
def check(
    plan_dir: Annotated[Path, typer.Argument(help="Folder with plan.json (or the file).")],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario (default: the plan's own).")
    ] = None,
) -> None:
    """Re-verify a written plan against its scenario; print violations (exit 1 if any)."""
    from planner.app.pipeline import check_written_plan

    try:
        report_text, ok = check_written_plan(plan_dir, scenario)
    except (PlanError, ScenarioError, NetworkError) as exc:
        raise _fail(exc) from None
    out.print(report_text, highlight=False)
    if not ok:
        raise typer.Exit(1)


@app.command()
def bench(
    set_name: Annotated[str, typer.Argument(metavar="SET", help="pvrpif, cvrp_x or solomon.")],
    data: Annotated[Path | None, typer.Option(help="Folder of instances of that set.")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds per instance.")] = 60.0,
    engine: Annotated[str, typer.Option(help="ortools, pyvrp or all.")] = "pyvrp",
    instances: Annotated[str, typer.Option(help="Glob on instance names.")] = "*",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    results: Annotated[Path, typer.Option(help="Results folder.")] = Path("benchmarks/results"),
    references: Annotated[
        bool, typer.Option(help="Also run plain PyVRP and VROOM (cvrp_x, solomon).")
    ] = True,
) -> None:
    """Run a benchmark set, evaluate every solution independently, print and save the table."""
    from planner.bench.runner import run_bench

    try:
        run_bench(
            set_name,
            data=data,
            time_limit=time_limit,
            engine=engine,
            pattern=instances,
            seed=seed,
            results=results,
            references=references,
            # The runner styles its lines with markup and escapes the files' text.
            console=Console(width=out.width if sys.stdout.isatty() else 180, emoji=False),
        )
    except PlannerError as exc:
        raise _fail(exc) from None


from planner.replan.cli import replan_command  # noqa: E402

app.command("replan")(replan_command)


def main() -> None:  # pragma: no cover - console entry point
    app()


@app.command(hidden=True)
def docs(
    folder: Annotated[Path, typer.Argument(help="Where to write.")] = Path("docs"),
) -> None:
    """Regenerate docs/scenario.md and docs/scenario.schema.json from the models."""
    from planner.scenario.schema_doc import write_docs

    write_docs(folder)
    out.print(f"wrote {folder / 'scenario.md'} and {folder / 'scenario.schema.json'}")


app.command()(sweep)  # planner sweep: a grid of variants on Dask (planner/dist)
app.command("run-many")(run_many)
