"""``planner serve`` and ``planner web …``: start the server, add office users, issue
driver codes, print household PINs. Registered in ``planner/cli.py``."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Annotated

import typer

web_app = typer.Typer(
    help="Office users, driver codes and household PINs of `planner serve`.",
    no_args_is_help=True,
    add_completion=False,
)

Plans = Annotated[Path, typer.Option("--plans", help="A plan folder, or a folder of plan folders.")]
Accounts = Annotated[
    Path | None,
    typer.Option("--accounts", help="Accounts file (default PLANS/.web-accounts.json)."),
]
Secret = Annotated[
    Path | None, typer.Option("--secret-file", help="Server secret (default PLANS/.web-secret).")
]


def serve(
    plans: Plans = Path("out"),
    db: Annotated[str, typer.Option("--db", help="Ledger database URL ($PLANNER_DB).")] = "",
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    accounts: Accounts = None,
    secret_file: Secret = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Session cookie over HTTPS only.")
    ] = False,
) -> None:
    """Serve the office's browser view, the drivers' phone view and the JSON API."""
    import uvicorn

    from planner.ledger.db import default_url
    from planner.web.app import WebConfig, create_app

    if not plans.is_dir():
        typer.echo(f"error: --plans {plans}: expected a folder", err=True)
        raise typer.Exit(2)
    config = WebConfig(
        plans=plans,
        db_url=db or default_url(),
        accounts=accounts,
        secret_file=secret_file,
        secure_cookies=secure_cookies,
    )
    app = create_app(config)
    if not app.state.web.accounts.office_users():
        typer.echo(
            f"warning: no office user yet; add one with `planner web user NAME --plans {plans}`",
            err=True,
        )
    typer.echo(f"serving {plans} on http://{host}:{port}/ (drivers: /driver/)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@web_app.command("user")
def add_user(
    name: Annotated[str, typer.Argument(help="Office user name.")],
    plans: Plans = Path("out"),
    accounts: Accounts = None,
) -> None:
    """Add an office user or set their password (asked twice; or $PLANNER_WEB_PASSWORD)."""
    from planner.web.auth import Accounts as AccountsFile

    password = os.environ.get("PLANNER_WEB_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    path = accounts or plans / ".web-accounts.json"
    try:
        AccountsFile(path).set_office_user(name, password)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"office user {name} saved in {path}")


@web_app.command("codes")
def issue_codes(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    plans: Plans = Path("out"),
    accounts: Accounts = None,
) -> None:
    """Issue a new sign-in code for every truck with runs in MONTH (voids older ones)."""
    from planner.web.auth import Accounts as AccountsFile
    from planner.web.plans import PlanStore

    vehicles = sorted({v for m, v in PlanStore(plans).vehicles() if m == month})
    if not vehicles:
        typer.echo(f"error: no plan under {plans} has runs in {month}", err=True)
        raise typer.Exit(2)
    store = AccountsFile(accounts or plans / ".web-accounts.json")
    typer.echo("vehicle,month,code")
    for v in vehicles:
        typer.echo(f"{v},{month},{store.issue_driver_code(v, month)}")


@web_app.command("pins")
def household_pins(
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV to write.")],
    plans: Plans = Path("out"),
    secret_file: Secret = None,
) -> None:
    """Write every household's card code and PIN (for printing the cards) as CSV."""
    from planner.ledger.codes import household_code
    from planner.web.auth import Tokens, load_secret
    from planner.web.plans import PlanStore

    tokens = Tokens(load_secret(secret_file or plans / ".web-secret"))
    seen: set[str] = set()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["household", "name", "point", "code", "pin"])
        for folder in PlanStore(plans).all():
            for h in folder.bundle.scenario.households:
                if h.id in seen:
                    continue
                seen.add(h.id)
                w.writerow(
                    [h.id, h.name, h.point, household_code(h.id), tokens.household_pin(h.id)]
                )
    typer.echo(f"wrote {len(seen)} households to {out}")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``web`` to the ``planner`` command."""
    app.command("serve")(serve)
    app.add_typer(web_app, name="web")
