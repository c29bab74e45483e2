"""The HTML pages: the office's sign-in and overview, runs, uploads, downloads and
driver codes; the household's green account; the driver's phone page and its
service worker.

Templates are Jinja2 with autoescaping on, so a village named ``<script>…`` in a
CSV stays text. Office forms carry the session's CSRF token; a POST without a
signed-in session gets 401 before its body is read.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from planner.ledger.accounts import household_account
from planner.ledger.codes import parse_household
from planner.ledger.errors import LedgerError
from planner.web import _ledger_bridge as bridge
from planner.web import views
from planner.web._deps import (
    Office,
    SignedInHousehold,
    SignedInOffice,
    Web,
    csrf_token,
    require_csrf,
)
from planner.web._text import texts
from planner.web.app import HERE, WebState
from planner.web.plans import PlanFolder

router = APIRouter()
# Autoescaping on for every template, whatever its name.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False
    )
)
UPLOAD_SUFFIXES = {".csv", ".xlsx"}
CHUNK = 64 * 1024


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return "en" if lang == "en" else "zh"


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = _lang(request)
    ctx = {
        "t": texts(lang),
        "lang": lang,
        "other_lang": "zh" if lang == "en" else "en",
        "csrf": csrf_token(request),
        "user": request.session.get("user"),
        **context,
    }
    resp = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        resp.set_cookie("lang", lang, samesite="strict", max_age=365 * 86400)
    return resp


def _folder(state: WebState, name: str) -> PlanFolder:
    folder = state.store.get(name)
    if folder is None:
        raise HTTPException(404, f"expected a plan folder, found {name!r}")
    return folder


def _refused(request: Request, template: str, error: str) -> Response:
    """The sign-in form again with its error, 401: the same answer whatever was wrong."""
    return _render(request, template, {"error": error}, status_code=401)


# --- office --------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse, include_in_schema=True)
def home(request: Request, state: Web) -> Response:
    """The office's sign-in page, or its list of plans once signed in."""
    if not request.session.get("user"):
        return _render(request, "login.html", {"error": None})
    folders = state.store.all()
    if len(folders) == 1:
        return RedirectResponse(f"/plans/{folders[0].name}", status_code=303)
    return _render(request, "plans.html", {"folders": folders, "errors": state.store.errors})


@router.post("/login", response_class=HTMLResponse, responses={401: {}, 403: {}, 429: {}})
def login(
    request: Request,
    state: Web,
    user: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Office sign-in (user name and password; the form's CSRF token)."""
    if not user or not password:
        return _refused(request, "login.html", "bad_login")
    require_csrf(request, csrf)
    if state.office_throttle.blocked(user):
        raise HTTPException(429, "too many wrong passwords; wait 15 minutes")
    if not state.accounts.check_office(user, password):
        state.office_throttle.fail(user)
        return _refused(request, "login.html", "bad_login")
    state.office_throttle.clear(user)
    request.session.clear()
    request.session["user"] = user
    csrf_token(request)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", responses={401: {}, 403: {}}, dependencies=[SignedInOffice])
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Office sign-out."""
    require_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get(
    "/plans/{name}",
    response_class=HTMLResponse,
    responses={401: {}},
    dependencies=[SignedInOffice],
)
def overview(name: str, request: Request, state: Web) -> Response:
    """The month at a glance: calendar, map, money, planned vs actual, flags, files."""
    folder = _folder(state, name)
    bridge.ensure_registered(state, folder)
    rep = bridge.report(state.ledger, folder.month)
    rows, total = views.money_rows(folder, rep)
    flags, n_flags = bridge.flags(state.ledger, folder.month)
    runs = [
        {
            "id": r.id,
            "date": r.date.isoformat(),
            "vehicle": r.vehicle,
            "stops": len(r.collects),
            "km": r.distance_km,
            "line": rep["runs"].get(r.id),
        }
        for r in folder.plan.runs
    ]
    issued = {v for m, v in state.accounts.driver_codes() if m == folder.month}
    return _render(
        request,
        "overview.html",
        {
            "folder": folder,
            "map": views.route_map(folder),
            "cal": views.month_calendar(folder),
            "money": rows,
            "total": total,
            "runs": runs,
            "flags": flags,
            "flag_count": n_flags,
            "files": folder.downloads(),
            "vehicles": sorted({r.vehicle for r in folder.plan.runs}),
            "issued": issued,
            "new_codes": None,
            "upload_result": None,
        },
    )


@router.get(
    "/plans/{name}/runs/{run_id}",
    response_class=HTMLResponse,
    responses={401: {}},
    dependencies=[SignedInOffice],
)
def run_page(name: str, run_id: str, request: Request, state: Web) -> Response:
    """One run: its stops as planned and what the ledger holds for it."""
    folder = _folder(state, name)
    run = folder.plan.run(run_id)
    if run is None:
        raise HTTPException(404, f"expected a run of plan {name!r}, found {run_id!r}")
    bridge.ensure_registered(state, folder)
    return _render(
        request,
        "run.html",
        {
            "folder": folder,
            "run": folder.run_view(run),
            "entries": bridge.run_entries(state.ledger, run.id),
            "map": views.route_map(folder, {run.id}),
        },
    )


@router.get("/plans/{name}/files/{path:path}", responses={401: {}}, dependencies=[SignedInOffice])
def download(name: str, path: str, state: Web) -> Response:
    """A file of the plan folder (only those it lists; never outside the folder)."""
    folder = _folder(state, name)
    if path not in set(folder.downloads()):
        raise HTTPException(404, f"expected a file of plan {name!r}, found {path!r}")
    target = folder.path / path
    return FileResponse(target, filename=Path(path).name)


@router.post("/plans/{name}/upload", response_class=HTMLResponse, responses={401: {}, 403: {}})
async def upload(
    name: str,
    request: Request,
    state: Web,
    user: Office,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Import a filled tally file (CSV or XLSX) into the ledger, all or nothing.

    The file is copied to a temporary file with a name of the server's choosing,
    parsed by the ledger's importer and removed; it is never executed or kept.
    """
    require_csrf(request, csrf)
    folder = _folder(state, name)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise HTTPException(422, "expected a .csv or .xlsx tally file")
    limit = state.config.max_body_bytes
    # A name of the server's making: the user's name only lends its safe characters.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(file.filename or "tally").name)[-100:]
    result: Any = None
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="planner-upload-") as tmp:
        target = Path(tmp) / (safe if safe.lower().endswith(suffix) else safe + suffix)
        size = 0
        with target.open("wb") as fh:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"expected a file of at most {limit} bytes")
                fh.write(chunk)
        bridge.ensure_registered(state, folder)
        try:
            result = bridge.import_file(state.ledger, target, who=user)
        except LedgerError as exc:
            problems = [str(p) for p in exc.problems] or [str(exc)]
    return _render(
        request,
        "upload.html",
        {"folder": folder, "result": result, "problems": problems, "filename": file.filename},
        status_code=200 if result is not None else 422,
    )


@router.post(
    "/plans/{name}/codes",
    response_class=HTMLResponse,
    responses={401: {}, 403: {}},
    dependencies=[SignedInOffice],
)
def issue_codes(
    name: str,
    request: Request,
    state: Web,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Issue a new code for every truck of the plan's month (shown on this page only)."""
    require_csrf(request, csrf)
    folder = _folder(state, name)
    vehicles = sorted({r.vehicle for r in folder.plan.runs})
    codes = [(v, state.accounts.issue_driver_code(v, folder.month)) for v in vehicles]
    return _render(request, "codes.html", {"folder": folder, "codes": codes})


# --- household ---------------------------------------------------------------------
@router.get("/household", response_class=HTMLResponse)
def household_page(request: Request, state: Web) -> Response:
    """The household's sign-in, or its green account once signed in."""
    hid = request.session.get("household")
    if not isinstance(hid, str):
        return _render(request, "household_login.html", {"error": None})
    try:
        account = household_account(state.ledger, hid)
    except LedgerError:
        account = None
    return _render(request, "household.html", {"account": account})


@router.post("/household/login", response_class=HTMLResponse, responses={401: {}, 403: {}})
def household_login(
    request: Request,
    state: Web,
    card: Annotated[str, Form(max_length=80)] = "",
    pin: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign in with the card's code (or the household id) and its PIN."""
    if not card or not pin:
        return _refused(request, "household_login.html", "bad_pin")
    require_csrf(request, csrf)
    head = card.strip().upper().rpartition("-")[0] or card.strip().upper()
    if state.household_throttle.blocked(head):
        raise HTTPException(429, "too many wrong PINs for this card; wait 15 minutes")
    hid, _ = parse_household(card.strip(), {head} if head else set())
    if (
        hid is None
        or not state.tokens.check_pin(hid, pin)
        or not bridge.known_household(state.ledger, hid)
    ):
        state.household_throttle.fail(head)
        return _refused(request, "household_login.html", "bad_pin")
    state.household_throttle.clear(head)
    request.session["household"] = hid
    return RedirectResponse("/household", status_code=303)


@router.post("/household/logout", responses={401: {}, 403: {}}, dependencies=[SignedInHousehold])
def household_logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    require_csrf(request, csrf)
    request.session.pop("household", None)
    return RedirectResponse("/household", status_code=303)


# --- driver ------------------------------------------------------------------------
@router.get("/driver/", response_class=HTMLResponse)
def driver_page(request: Request) -> Response:
    """The phone view: a static page; it signs in and fetches through the JSON API."""
    resp = _render(request, "driver.html", {})
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@router.get("/driver/sw.js", include_in_schema=False)
def service_worker() -> Response:
    resp = FileResponse(HERE / "static" / "sw.js", media_type="text/javascript")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@router.get("/driver/manifest.webmanifest", include_in_schema=False)
def manifest() -> Response:
    return FileResponse(
        HERE / "static" / "manifest.webmanifest", media_type="application/manifest+json"
    )
