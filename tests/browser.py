"""Headless Chromium for tests: a screenshot and the rendered DOM of a local page.

Every call starts a fresh browser with its own profile folder, no network
services and a time limit; the process group is killed if it overruns, so a
hung browser fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

# Where Debian, Ubuntu and Google put the browser, best first.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The browser binary: ``$PLANNER_CHROMIUM``, ``/usr/bin/chromium`` or one on PATH."""
    env = os.environ.get("PLANNER_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_reason() -> str:
    """Why :func:`find_chromium` found nothing, for a skip message."""
    env = os.environ.get("PLANNER_CHROMIUM")
    if env:
        return f"PLANNER_CHROMIUM is set to {env!r}, which is not a file"
    return (
        f"no Chromium binary found (looked at /usr/bin/chromium and {', '.join(CANDIDATES)} "
        "on PATH); CI installs Debian's chromium in .ci/run — install it, or set "
        "PLANNER_CHROMIUM to a Chromium or Chrome binary"
    )


def _run(
    binary: str,
    page: Path,
    profile: Path,
    extra: list[str],
    *,
    window: tuple[int, int],
    timeout: float,
) -> str:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        *extra,
        page.resolve().as_uri(),
    ]
    # A session of its own: the browser's helper processes can be ended together.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Not reaped yet, so the group id is still this browser's own.
        _kill_group(proc.pid)
        proc.communicate()
        raise AssertionError(f"chromium did not finish within {timeout:.0f} s: {cmd}") from None
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited with {proc.returncode}: {err[-2000:]}")
    return out


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def screenshot(
    binary: str,
    page: Path,
    png: Path,
    profile: Path,
    *,
    window: tuple[int, int] = (1280, 2000),
    timeout: float = 60.0,
) -> Path:
    """Render ``page`` and save the visible window as ``png``."""
    _run(binary, page, profile, [f"--screenshot={png}"], window=window, timeout=timeout)
    if not png.is_file():
        raise AssertionError(f"chromium wrote no screenshot at {png}")
    return png


def dump_dom(
    binary: str,
    page: Path,
    profile: Path,
    *,
    window: tuple[int, int] = (1280, 2000),
    timeout: float = 60.0,
) -> str:
    """The DOM of ``page`` after loading and running its scripts, serialised as HTML."""
    return _run(binary, page, profile, ["--dump-dom"], window=window, timeout=timeout)
