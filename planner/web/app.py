"""The web application: ``create_app(WebConfig(...))`` returns the FastAPI app.

One process serves the office's pages (``pages.py``), the driver's phone view (a
static page and its service worker) and the JSON API (``api.py``, described at
``/openapi.json``). State shared by the requests lives in :class:`WebState`
(``app.state.web``): the plan folders, the accounts file, the token signer and the
ledger, opened once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner.ledger.db import Ledger, open_ledger
from planner.web.auth import Accounts, Throttle, Tokens, load_secret
from planner.web.plans import PlanStore

HERE = Path(__file__).parent
MiB = 1024 * 1024

# Pages load nothing from elsewhere: no external scripts, fonts, styles or tiles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; worker-src 'self'"
)


@dataclass(frozen=True)
class WebConfig:
    """How ``planner serve`` runs.

    Parameters
    ----------
    plans
        A plan folder, or a folder of plan folders.
    db_url
        The ledger's database URL.
    accounts
        The accounts file (office users, driver-code hashes); default
        ``PLANS/.web-accounts.json``.
    secret_file
        The server secret (signs sessions and tokens, derives PINs); default
        ``PLANS/.web-secret``.
    max_body_bytes
        The largest request body accepted (uploads included).
    secure_cookies
        Send the session cookie over HTTPS only (behind a TLS proxy).
    """

    plans: Path
    db_url: str
    accounts: Path | None = None
    secret_file: Path | None = None
    max_body_bytes: int = 8 * MiB
    secure_cookies: bool = False

    @property
    def accounts_path(self) -> Path:
        return self.accounts or self.plans / ".web-accounts.json"

    @property
    def secret_path(self) -> Path:
        return self.secret_file or self.plans / ".web-secret"


@dataclass
class WebState:
    """What every request shares."""

    config: WebConfig
    store: PlanStore
    accounts: Accounts
    tokens: Tokens
    secret: bytes
    driver_throttle: Throttle = field(default_factory=Throttle)
    office_throttle: Throttle = field(default_factory=Throttle)
    household_throttle: Throttle = field(default_factory=lambda: Throttle(limit=5))
    _ledger: Ledger | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _register_lock: threading.Lock = field(default_factory=threading.Lock)
    _registered: set[tuple[str, int]] = field(default_factory=set)

    @property
    def ledger(self) -> Ledger:
        """The ledger, opened (and migrated) on first use."""
        with self._lock:
            if self._ledger is None:
                self._ledger = open_ledger(self.config.db_url)
            return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await _too_large(send, self.limit)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, f"expected a body of at most {self.limit} bytes")
            return msg

        await self.app(scope, counted, send)


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"expected a body of at most {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(config: WebConfig) -> FastAPI:
    """The application for ``config`` (nothing is opened until the first request)."""
    from planner.web import api, pages

    secret = load_secret(config.secret_path)
    state = WebState(
        config=config,
        store=PlanStore(config.plans),
        accounts=Accounts(config.accounts_path),
        tokens=Tokens(secret),
        secret=secret,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="steppe-planner",
        summary="Drivers' phone view, the office's browser view and their JSON API.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.web = state

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.exception_handler(413)
    async def _too_big(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=413)

    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.decode(),
        session_cookie="planner_session",
        same_site="strict",
        https_only=config.secure_cookies,
        max_age=12 * 3600,
    )
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
