"""Shared helpers of the web tests: a planned month whose names need escaping, the app
with an office user and a driver code, and a real server on a free loopback port."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI

DATA = Path(__file__).parent / "data"
OFFICE_USER = "office"
OFFICE_PASSWORD = "steppe-office-2026"
HOSTILE_POINT = '<script>alert("p")</script>一组'
HOSTILE_HOUSEHOLD = "<img src=x onerror=alert(1)>巴特尔"
_PLANNED: dict[str, Path] = {}
_LOCK = threading.Lock()


def planned_hostile() -> Path:
    """The tiny region planned once per test session, with a point and a household whose
    names are HTML (as a CSV could carry); returns the plan folder (read-only)."""
    with _LOCK:
        if "tiny" in _PLANNED:
            return _PLANNED["tiny"]
        from planner.app.pipeline import plan_month
        from planner.scenario.load import load_scenario

        root = Path(tempfile.mkdtemp(prefix="planner-web-tests-"))
        shutil.copytree(DATA / "tiny", root / "tiny")
        shutil.copy(DATA / "tiny.toml", root / "tiny.toml")
        points = root / "tiny" / "points.csv"
        points.write_text(
            points.read_text(encoding="utf-8").replace(",一组,", f",{_csv(HOSTILE_POINT)},"),
            encoding="utf-8",
        )
        households = root / "tiny" / "households.csv"
        lines = households.read_text(encoding="utf-8").splitlines()
        lines[1] = re.sub(r",,true$", f",{_csv(HOSTILE_HOUSEHOLD)},true", lines[1])
        households.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = root / "plan-source" / "tiny"
        plan_month(load_scenario(root / "tiny.toml"), out, time_limit=3, seed=3)
        _PLANNED["tiny"] = out
        return out


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def plans_dir(tmp: Path) -> Path:
    """A fresh ``--plans`` folder holding a copy of the planned month as ``tiny``."""
    plans = tmp / "plans"
    plans.mkdir()
    shutil.copytree(planned_hostile(), plans / "tiny")
    return plans


def make_app(tmp: Path, **config: object) -> tuple[FastAPI, str]:
    """The app on a fresh plans folder and SQLite ledger; returns it and T1's code."""
    from planner.web.app import WebConfig, create_app

    plans = plans_dir(tmp)
    cfg = WebConfig(plans=plans, db_url=f"sqlite:///{tmp / 'ledger.sqlite'}", **config)  # type: ignore[arg-type]
    app = create_app(cfg)
    app.state.web.accounts.set_office_user(OFFICE_USER, OFFICE_PASSWORD)
    code = app.state.web.accounts.issue_driver_code("T1", "2026-12")
    return app, code


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def office_login(client: object) -> str:
    """Sign the test client in as the office user; returns the session's CSRF token."""
    page = client.get("/")  # type: ignore[attr-defined]
    token = csrf_of(page.text)
    r = client.post(  # type: ignore[attr-defined]
        "/login",
        data={"user": OFFICE_USER, "password": OFFICE_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/plans/tiny").text)  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def live_server(app: FastAPI, timeout: float = 20.0) -> Iterator[str]:
    """Uvicorn serving ``app`` on 127.0.0.1 in a thread; yields the base URL; stops after."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise AssertionError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
