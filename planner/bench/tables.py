"""The benchmark runner's tables on the console (rich): per instance, per engine."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from planner.bench.results import BenchRow, EngineSummary


def fmt_gap(gap: float | None) -> str:
    return "—" if gap is None else f"{gap:.2f}".replace("-0.00", "0.00")


def fmt_cost(cost: float | None) -> str:
    if cost is None:
        return "—"
    return f"{cost:,.0f}" if float(cost).is_integer() else f"{cost:,.2f}"


def print_table(console: Console, set_name: str, rows: list[BenchRow], limit: float) -> None:
    table = Table(title=f"{set_name}: {limit:g} s per instance, costs by the independent evaluator")
    table.add_column("instance")
    table.add_column("engine")
    for col in ("cost", "BKS", "gap %", "seconds"):
        table.add_column(col, justify="right")
    table.add_column("feasible", no_wrap=True, overflow="ellipsis")
    for r in rows:
        bks = fmt_cost(r.bks) if r.bks is not None else "—"
        if r.proven_optimal:
            bks += " opt"
        elif r.bks_corrected:
            bks += " *"
        gap = fmt_gap(r.gap_pct)
        if r.below_bks:
            gap = f"[bold green]{gap}[/]"
        if r.feasible:
            ok = "[green]yes[/]"
        else:
            violation = r.first_violation
            ok = f"[red]no[/]: {escape(violation[:70])}{'…' if len(violation) > 70 else ''}"
        table.add_row(
            escape(r.instance), r.engine, fmt_cost(r.cost), bks, gap, f"{r.seconds:.1f}", ok
        )
    console.print(table)
    if any(r.bks_corrected for r in rows):
        console.print("* reference differs from BKS.csv: see the note column of the CSV")


def print_summary(
    console: Console, set_name: str, summary: tuple[EngineSummary, ...], rows: list[BenchRow]
) -> None:
    pvrpif = set_name == "pvrpif"
    table = Table(title=f"{set_name}: summary per engine")
    table.add_column("engine")
    for col in ("feasible", "mean gap %", "≤ BKS"):
        table.add_column(col, justify="right")
    if pvrpif:
        table.add_column("proven optima reached", justify="right")
    for s in summary:
        gap = fmt_gap(s.mean_gap_pct)
        cells = [s.engine, f"{s.feasible}/{s.runs}", gap, str(s.at_or_below_bks)]
        if pvrpif:
            cells.append(f"{s.proven_optima_reached}/{s.proven_optimal}")
        table.add_row(*cells)
    console.print(table)
    for r in rows:
        if r.below_lower_bound:
            console.print(
                f"[bold red]CHECK:[/] {escape(r.instance)} ({r.engine}) costs {fmt_cost(r.cost)}, "
                "below the published lower bound: suspect the instance reading or the evaluator",
                highlight=False,
                soft_wrap=True,
            )
        elif r.below_bks:
            console.print(
                f"[bold green]NEW BEST-KNOWN:[/] {escape(r.instance)} ({r.engine}) "
                f"{fmt_cost(r.cost)} < BKS {fmt_cost(r.bks)} — solution in {escape(r.solution)}",
                highlight=False,
                soft_wrap=True,
            )
