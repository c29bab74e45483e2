"""``planner ledger …``: record what happened on the runs; read the green accounts.

Thin: each command parses its options, calls one function of the package and
renders what it returns. Bad input (a rejected file, a malformed URL or month)
prints one line per problem and exits 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.table import Table

from planner._console import err, out, say
from planner._errors import PlannerError
from planner.ledger.url import DEFAULT_URL, ENV_URL

if TYPE_CHECKING:
    from planner.ledger.db import Ledger

_T = TypeVar("_T")

app = typer.Typer(
    help="The ledger: record filled tallies and run closes; households' green accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Db = Annotated[
    str,
    typer.Option("--db", envvar=ENV_URL, help=f"Database URL (env {ENV_URL}).", show_envvar=False),
]
Month = Annotated[str, typer.Option("--month", help="Month, YYYY-MM.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (deterministic).")]
PlanDir = Annotated[Path, typer.Argument(help="Folder with plan.json (and run.json).")]
ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", help="Scenario (default: the plan's own).")
]


def _fail(exc: Exception) -> NoReturn:
    say(err, "error:", "bold red", exc)
    raise typer.Exit(2)


def _open(url: str) -> Ledger:
    from planner.ledger.db import open_ledger  # SQLAlchemy only for commands that need it

    try:
        return open_ledger(url)
    except PlannerError as exc:
        _fail(exc)


def _query(url: str, ask: Callable[[Ledger], _T]) -> _T:
    """``ask``'s answer from the ledger at ``url``; a planner error exits 2 with its message."""
    with _open(url) as ledger:
        try:
            return ask(ledger)
        except PlannerError as exc:
            _fail(exc)


def _json(doc: object) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False) + "\n")


@app.command("plan")
def plan_cmd(plan_dir: PlanDir, scenario: ScenarioOpt = None, db: Db = DEFAULT_URL) -> None:
    """Register a plan (its runs, stops, households, prices) so its tallies can be imported."""
    from planner.ledger.importer import who_default
    from planner.ledger.plans import load_plan, register_plan

    try:
        source = load_plan(plan_dir, scenario)
        with _open(db) as ledger:
            r = register_plan(ledger, source, who=who_default())
    except PlannerError as exc:
        _fail(exc)
    what = "registered" if r.new else "already registered"
    out.print(
        f"{plan_dir}: {what} as plan {r.plan_id} ({r.month}: {r.runs} runs, {r.stops} stops, "
        f"{r.households} households)",
        highlight=False,
    )


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="Tally / close files (.csv, .xlsx).")],
    db: Db = DEFAULT_URL,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="Register this plan folder first.")
    ] = None,
    who: Annotated[str | None, typer.Option("--who", help="Who imports (audit trail).")] = None,
) -> None:
    """Validate and record files, each all-or-nothing; exit 2 if any file is rejected."""
    from planner.ledger.importer import import_files, who_default
    from planner.ledger.plans import load_plan, register_plan

    with _open(db) as ledger:
        if plan is not None:
            try:
                register_plan(ledger, load_plan(plan), who=who or who_default())
            except PlannerError as exc:
                _fail(exc)
        rejected = 0
        for _path, result in import_files(ledger, files, who=who):
            if isinstance(result, PlannerError):
                rejected += 1
                say(err, "rejected:", "bold red", result)
                continue
            for w in result.warnings[:20]:
                say(err, "warning:", "yellow", w)
            if len(result.warnings) > 20:
                say(err, "warning:", "yellow", f"… and {len(result.warnings) - 20} more")
            out.print(str(result), highlight=False, soft_wrap=True)
    if rejected:
        err.print(f"{rejected} of {len(files)} file(s) rejected; nothing recorded from them")
        raise typer.Exit(2)


@app.command()
def report(
    month: Month,
    db: Db = DEFAULT_URL,
    as_json: AsJson = False,
    by: Annotated[str, typer.Option(help="Table lines: township, gacha or run.")] = "township",
) -> None:
    """Planned vs actual per run, gacha and township: kg, cash, goods, points, 农维费."""
    from planner.ledger.report import month_report

    if by not in ("township", "gacha", "run"):
        _fail(ValueError(f"--by: expected township, gacha or run, found {by!r}"))
    rep = _query(db, lambda ledger: month_report(ledger, month))
    if as_json:
        _json(rep.to_json())
        return
    lines = {"township": rep.townships, "gacha": rep.gachas, "run": rep.runs}[by]
    table = Table(title=f"ledger {month}: planned / actual")
    cols: tuple[str, ...] = (
        "sold_kg",
        "exchanged_kg",
        "cash_paid_cny",
        "goods_value_cny",
        "points_earned",
    )
    cols += ("points_redeemed", "net_cost_cny")
    table.add_column(by)
    table.add_column("stops", justify="right")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for line in [*lines, rep.total]:
        doc = line.to_json()
        name = doc.get("run_id") or doc.get("gacha") or doc.get("township") or "total"
        if line is rep.total:
            name = "total"
        cells = [f"{doc['actual'][c]:,.0f} / {doc['planned'][c]:,.0f}" for c in cols]
        table.add_row(str(name), f"{doc['stops_recorded']}/{doc['stops_planned']}", *cells)
    out.print(table)


@app.command("reconcile")
def reconcile_cmd(month: Month, db: Db = DEFAULT_URL, as_json: AsJson = False) -> None:
    """List what does not add up: cash, goods, weigh tickets, plant, prices, stops, households."""
    from planner.ledger.reconcile import reconcile

    flags = _query(db, lambda ledger: reconcile(ledger, month))
    if as_json:
        _json({"month": month, "flags": [f.to_json() for f in flags]})
        return
    if not flags:
        out.print(f"{month}: everything adds up")
        return
    table = Table(title=f"{month}: {len(flags)} thing(s) do not add up")
    for c in ("kind", "run", "point", "household", "what", "expected", "found"):
        table.add_column(c)
    for f in flags:
        table.add_row(
            f.kind, f.run_id, f.point, f.household, f.message, str(f.expected), str(f.found)
        )
    out.print(table)


@app.command()
def household(
    household_id: Annotated[str, typer.Argument(help="Household id or card code.")],
    db: Db = DEFAULT_URL,
    as_json: AsJson = False,
    history: Annotated[bool, typer.Option(help="Also list superseded records.")] = False,
) -> None:
    """One household's green account: balance, months, every transaction."""
    from planner.ledger.accounts import household_account

    acc = _query(db, lambda ledger: household_account(ledger, household_id, history=history))
    if as_json:
        _json(acc.to_json())
        return
    out.print(
        f"{acc.code} {acc.name} — {acc.point_name} ({acc.point}), {acc.gacha}, {acc.township}; "
        f"{acc.people} people; balance {acc.balance:g} points",
        highlight=False,
    )
    for m in acc.months:
        out.print(
            f"  {m.month}: opening {m.opening:g} + earned {m.earned:g} - redeemed {m.redeemed:g}"
            f" = {m.closing:g}; sold {m.sold_kg:g} kg for {m.cash_cny:.2f} CNY",
            highlight=False,
        )
    table = Table(title="transactions")
    for c in ("date", "run", "point", "stream", "category/goods", "kg", "cash", "points +", "-"):
        table.add_column(c)
    for t in acc.transactions:
        what = t.category or f"{t.goods_item} x{t.goods_qty}"
        style = None if t.active else "strike"
        table.add_row(
            t.date,
            t.run_id,
            t.point,
            t.stream,
            what,
            "" if t.kg is None else f"{t.kg:g}",
            f"{t.cash_cny:.2f}",
            f"{t.points_earned:g}",
            f"{t.points_redeemed:g}",
            style=style,
        )
    out.print(table)


@app.command()
def simulate(
    plan_dir: PlanDir,
    output: Annotated[Path, typer.Option("-o", "--out", help="Folder for the files.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    faults: Annotated[bool, typer.Option(help="Inject the usual faults.")] = True,
    scenario: ScenarioOpt = None,
) -> None:
    """Write SYNTHETIC filled tallies and run closes for a plan (noise, absences, faults)."""
    from planner.ledger.plans import load_plan
    from planner.ledger.simulate import Truth, simulate_month, write_simulation

    try:
        source = load_plan(plan_dir, scenario)
        sim = simulate_month(source, Truth(faults=faults), seed=seed)
        made = write_simulation(sim, output)
    except PlannerError as exc:
        _fail(exc)
    rows = sum(len(v) for v in sim.tallies.values())
    out.print(
        f"wrote {len(made)} files to {output}: {rows} SYNTHETIC tally rows, "
        f"{len(sim.faults)} deliberate faults (see {output / 'faults.json'})",
        highlight=False,
    )


@app.command()
def forms(
    plan_dir: PlanDir,
    output: Annotated[Path, typer.Option("-o", "--out", help="Folder for the forms.")],
    db: Annotated[
        str | None, typer.Option("--db", envvar=ENV_URL, help="Pre-fill balances from here.")
    ] = None,
    xlsx: Annotated[bool, typer.Option(help="Also write one .xlsx per run.")] = True,
    scenario: ScenarioOpt = None,
) -> None:
    """Write the fillable tally and run-close files of every run (CSV, and Excel)."""
    from planner.ledger.accounts import balances
    from planner.ledger.forms import write_forms
    from planner.ledger.plans import load_plan

    try:
        source = load_plan(plan_dir, scenario)
        bal = None
        if db:
            with _open(db) as ledger:
                bal = balances(ledger, before=source.month)
        made = write_forms(source, output, balances=bal, xlsx=xlsx)
    except PlannerError as exc:
        _fail(exc)
    out.print(f"wrote {len(made)} files to {output}", highlight=False)


@app.command()
def cards(
    plan_dir: PlanDir,
    output: Annotated[Path, typer.Option("-o", "--out", help="Folder for the cards.")],
    gacha: Annotated[str | None, typer.Option(help="Only this gacha (name or code).")] = None,
    scenario: ScenarioOpt = None,
) -> None:
    """Print household cards with QR codes (id + check character), one HTML per gacha."""
    from planner.ledger.cards import write_cards
    from planner.ledger.plans import load_plan

    try:
        source = load_plan(plan_dir, scenario)
        made = write_cards(source.scenario, output, gacha=gacha)
    except PlannerError as exc:
        _fail(exc)
    if not made:
        _fail(ValueError(f"--gacha: expected a gacha of the scenario, found {gacha!r}"))
    out.print(f"wrote {len(made)} card sheet(s) to {output}", highlight=False)


@app.command()
def log(db: Db = DEFAULT_URL, limit: Annotated[int, typer.Option(help="How many.")] = 30) -> None:
    """The latest imports: who, when, what they added, corrected and removed."""
    from planner.ledger.accounts import import_log

    with _open(db) as ledger:
        rows = import_log(ledger, limit)
    table = Table(title="imports")
    for c in ("id", "at (UTC)", "by", "file", "added", "changed", "removed"):
        table.add_column(c)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["at"],
            r["by"],
            r["name"],
            str(r["added"]),
            str(r["changed"]),
            str(r["removed"]),
        )
    out.print(table)
