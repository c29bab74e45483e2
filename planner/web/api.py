"""The JSON API: the driver's phone view and the office's read-outs.

Every write goes through the ledger's own records (:class:`TallyEntry`,
:class:`RunClose`) and its import function, the same door as ``planner ledger
import``; the request bodies *are* those models, so the OpenAPI document describes
exactly what the ledger accepts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from planner.ledger.errors import LedgerError
from planner.ledger.records import RunClose, TallyEntry
from planner.plan.model import Run
from planner.web import _ledger_bridge as bridge
from planner.web._deps import Driver, SignedInOffice, Web
from planner.web.app import WebState
from planner.web.auth import DriverGrant
from planner.web.plans import PlanFolder, today_in

router = APIRouter(prefix="/api")

_401: dict[int | str, dict[str, Any]] = {401: {"description": "No valid credentials"}}
_403: dict[int | str, dict[str, Any]] = {
    403: {"description": "Another truck's or another month's run"}
}


class DriverSignIn(BaseModel):
    """What the driver types: the truck id and the code printed on the run sheet."""

    model_config = ConfigDict(extra="forbid")
    vehicle: str = Field("", max_length=64)
    code: str = Field("", max_length=64)


class DriverSession(BaseModel):
    token: str
    vehicle: str
    month: str


class RunBrief(BaseModel):
    id: str
    date: str
    plan: str
    stops: int
    today: bool


class DriverRuns(BaseModel):
    vehicle: str
    month: str
    today: str | None = Field(description="Today's run, or the next one, or the last one.")
    runs: list[RunBrief]


class SyncBatch(BaseModel):
    """Entries queued on the phone; each carries its idempotency ``key``."""

    model_config = ConfigDict(extra="forbid")
    entries: list[TallyEntry] = Field(default_factory=list, max_length=5000)
    closes: list[RunClose] = Field(default_factory=list, max_length=10)


class SyncResult(BaseModel):
    status: str
    added: int
    changed: int
    unchanged: int
    closes: int
    keys: list[str] = Field(description="The keys now in the ledger (the phone drops them).")
    warnings: list[str]


class Problems(BaseModel):
    detail: list[str]


@router.post(
    "/driver/session",
    response_model=DriverSession,
    responses={**_401, 429: {"description": "Too many failed attempts"}},
    tags=["driver"],
)
def driver_sign_in(state: Web, body: DriverSignIn | None = None) -> DriverSession:
    """Sign in with a truck id and its code; returns a bearer token for that truck's month."""
    if body is None or not body.vehicle or not body.code:
        raise HTTPException(401, "expected a truck id and its code")
    throttle_key = body.vehicle.upper()
    if state.driver_throttle.blocked(throttle_key):
        raise HTTPException(429, "too many wrong codes for this truck; wait 15 minutes")
    grant = state.accounts.check_driver(body.vehicle, body.code)
    if grant is None:
        state.driver_throttle.fail(throttle_key)
        raise HTTPException(401, "expected the code on this truck's run sheet")
    state.driver_throttle.clear(throttle_key)
    return DriverSession(
        token=state.tokens.driver_token(grant), vehicle=grant.vehicle, month=grant.month
    )


def _month_runs(state: WebState, grant: DriverGrant) -> list[tuple[PlanFolder, Run]]:
    out = []
    for folder in state.store.all():
        for run in folder.runs_of(grant.vehicle):
            if run.date.isoformat()[:7] == grant.month:
                out.append((folder, run))
    return sorted(out, key=lambda fr: (fr[1].date, fr[1].id))


@router.get("/driver/runs", response_model=DriverRuns, responses=_401, tags=["driver"])
def driver_runs(state: Web, grant: Driver) -> DriverRuns:
    """The signed-in truck's runs of its month, and which one is today's."""
    runs = _month_runs(state, grant)
    briefs = []
    pick: str | None = None
    for folder, run in runs:
        today = today_in(folder)
        briefs.append(
            RunBrief(
                id=run.id,
                date=run.date.isoformat(),
                plan=folder.name,
                stops=len(run.collects),
                today=run.date == today,
            )
        )
        if pick is None and run.date >= today:
            pick = run.id
    if pick is None and briefs:
        pick = briefs[-1].id
    return DriverRuns(vehicle=grant.vehicle, month=grant.month, today=pick, runs=briefs)


def _own_run(state: WebState, grant: DriverGrant, run_id: str) -> tuple[PlanFolder, Run]:
    found = state.store.find_run(run_id)
    if found is None:
        raise HTTPException(404, f"expected a run of a plan, found {run_id!r}")
    folder, run = found
    if run.vehicle != grant.vehicle or run.date.isoformat()[:7] != grant.month:
        raise HTTPException(403, "this run belongs to another truck or another month")
    return folder, run


@router.get("/driver/runs/{run_id}", responses={**_401, **_403}, tags=["driver"])
def driver_run(run_id: str, state: Web, grant: Driver) -> dict[str, Any]:
    """One run of the signed-in truck: stops, windows, households, balances, goods due,
    and what the ledger already holds for it."""
    folder, run = _own_run(state, grant, run_id)
    view = folder.run_view(run)
    bridge.ensure_registered(state, folder)
    hids = [h["id"] for st in view["steps"] for h in st.get("households", [])]
    balances = bridge.balances(state.ledger, hids)
    for st in view["steps"]:
        for h in st.get("households", []):
            h["points_balance"] = balances.get(h["id"], 0.0)
    view["recorded"] = bridge.run_entries(state.ledger, run.id)
    return view


@router.post(
    "/driver/runs/{run_id}/entries",
    response_model=SyncResult,
    responses={**_401, **_403, 422: {"model": Problems}},
    tags=["driver"],
)
def driver_sync(run_id: str, batch: SyncBatch, state: Web, grant: Driver) -> SyncResult:
    """Record the phone's queued entries (and the end-of-run box) for one run.

    Sending the same batch again records nothing new (the keys are already there).
    """
    folder, run = _own_run(state, grant, run_id)
    named = [e.run_id for e in batch.entries] + [c.run_id for c in batch.closes]
    for other in named:
        if other != run.id:
            raise HTTPException(403, f"an entry names run {other!r}, not {run.id!r}")
    bridge.ensure_registered(state, folder)
    try:
        result = bridge.record(
            state.ledger,
            batch.entries,
            batch.closes,
            who=f"driver {grant.vehicle} ({grant.month})",
            source=f"phone {grant.vehicle} {run.id}",
        )
    except LedgerError as exc:
        lines = [str(p) for p in exc.problems] or [str(exc)]
        raise HTTPException(422, lines) from None
    keys = [e.entry_key for e in batch.entries] + [c.close_key for c in batch.closes]
    return SyncResult(
        status=result.status,
        added=result.added,
        changed=result.changed,
        unchanged=result.unchanged,
        closes=result.closes,
        keys=keys,
        warnings=[str(w) for w in result.warnings],
    )


@router.get(
    "/office/runs/{run_id}/entries",
    responses=_401,
    tags=["office"],
    dependencies=[SignedInOffice],
)
def office_run_entries(run_id: str, state: Web) -> list[dict[str, Any]]:
    """What the ledger holds for one run (active rows)."""
    found = state.store.find_run(run_id)
    if found is None:
        raise HTTPException(404, f"expected a run of a plan, found {run_id!r}")
    bridge.ensure_registered(state, found[0])
    return bridge.run_entries(state.ledger, run_id)
