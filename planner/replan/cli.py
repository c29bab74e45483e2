"""The ``planner replan`` command (registered in :mod:`planner.cli`): read → re-plan → write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner._errors import NetworkError, PlanError, ScenarioError


def replan_command(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder (plan.json, run.json).")],
    start: Annotated[
        str, typer.Option("--from", help="First date re-planned (YYYY-MM-DD); earlier runs stay.")
    ],
    output: Annotated[Path, typer.Option("-o", "--out", help="Folder for the new version.")],
    truck_out: Annotated[
        list[str] | None,
        typer.Option("--truck-out", help="Truck out: T03 (to month end) or T03:DATE..DATE."),
    ] = None,
    closed_day: Annotated[
        list[str] | None, typer.Option("--closed-day", help="A service date closed everywhere.")
    ] = None,
    point_closed: Annotated[
        list[str] | None,
        typer.Option(
            "--point-closed", help="Point closed: P123 (to month end) or P123:DATE..DATE."
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="Routing engine: pyvrp or ortools.")] = "pyvrp",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same plan.")] = 0,
    day_budget: Annotated[
        float, typer.Option(help="Engine work per re-routed day, in seconds of work.")
    ] = 1.0,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of sheets and report: zh or en.")
    ] = "zh",
    export: Annotated[
        bool, typer.Option(help="Also write sheets, GPX, calendars, notices….")
    ] = True,
    pdf: Annotated[bool, typer.Option(help="Run sheets as PDF too (slowest output).")] = True,
) -> None:
    """Re-plan a month from a date on after a truck breakdown, a closed day or a closed point."""
    import math

    from planner._console import err, out, say
    from planner.cli import _fail
    from planner.export.writer import LANGS
    from planner.replan.core import read_inputs, replan_month, write_replan
    from planner.solve.engines import ENGINES

    if engine not in ENGINES:
        raise _fail(PlanError(f"--engine: expected one of {', '.join(ENGINES)}, found {engine!r}"))
    if lang not in LANGS:
        raise _fail(PlanError(f"--lang: expected one of {', '.join(LANGS)}, found {lang!r}"))
    if not math.isfinite(day_budget) or day_budget <= 0:
        raise _fail(PlanError(f"--day-budget: expected seconds > 0, found {day_budget}"))
    try:
        inputs = read_inputs(
            plan_dir, output, start, truck_out or (), closed_day or (), point_closed or ()
        )
    except (PlanError, ScenarioError) as exc:
        raise _fail(exc) from None
    try:
        result = replan_month(inputs, engine=engine, seed=seed, per_day=day_budget)
        folder, violations = write_replan(result, export=export, lang=lang, pdf=pdf)
    except (PlanError, NetworkError) as exc:
        raise _fail(exc) from None
    if violations:
        for line in violations[:20]:
            say(err, "check:", "red", line)
        err.print("the re-planned month failed its check; nothing was written", highlight=False)
        raise typer.Exit(1)
    f = result.figures()
    out.print(
        f"plan version {result.plan.version} written to {folder}: {f['remaining_visits']} visits "
        f"from {inputs.disruption.start} on, {f['kept_date_and_window']} keep date and window "
        f"({100 * f['kept_share']:.1f} %), {f['retimed']} retimed inside their window, "
        f"{f['window_widened']} with a wider window, {f['moved']} moved, {f['unserved']} "
        f"unserved; cost {f['added_cost_cny']:+,.0f} CNY; {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"every changed visit: {folder / 'changes.csv'}", highlight=False)
    if f["unserved"]:
        say(
            err,
            "warning:",
            "yellow",
            f"{f['unserved']} visits could not be re-planned; see changes.csv for the reasons",
        )
