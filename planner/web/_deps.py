"""Request dependencies: the shared state, who is asking, and the CSRF check.

Credentials are checked in dependencies, which FastAPI resolves before it reads
the body: a call without them gets 401 whatever it sends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from planner.web.app import WebState
from planner.web.auth import DriverGrant, csrf_ok, new_csrf_token


def web(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


Web = Annotated[WebState, Depends(web)]


def driver(request: Request, state: Web) -> DriverGrant:
    """The signed-in driver's grant, from ``Authorization: Bearer <token>``; else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    grant = state.tokens.driver_grant(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None or not state.accounts.grant_valid(grant):
        raise HTTPException(
            401,
            "expected a driver's sign-in (truck id and the code on the run sheet)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return grant


Driver = Annotated[DriverGrant, Depends(driver)]


def _signed_in(request: Request, key: str, expected: str) -> str:
    """The session's non-empty string under ``key``; else 401 saying what was expected."""
    value = request.session.get(key)
    if not isinstance(value, str) or not value:
        raise HTTPException(401, f"expected {expected}")
    return value


def office_user(request: Request) -> str:
    """The signed-in office user, from the session cookie; else 401."""
    return _signed_in(request, "user", "an office sign-in")


Office = Annotated[str, Depends(office_user)]
# For routes that only need someone signed in: ``dependencies=[SignedInOffice]``.
SignedInOffice = Depends(office_user)


def household(request: Request) -> str:
    """The household signed in with its card code and PIN; else 401."""
    return _signed_in(request, "household", "a household sign-in (card code and PIN)")


Household = Annotated[str, Depends(household)]
SignedInHousehold = Depends(household)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def require_csrf(request: Request, given: str | None) -> None:
    """403 unless ``given`` (a form field) or the ``X-CSRF-Token`` header is the session's."""
    sent = given or request.headers.get("x-csrf-token")
    if not csrf_ok(request.session.get("csrf"), sent):
        raise HTTPException(403, "expected the form's CSRF token; reload the page and try again")
