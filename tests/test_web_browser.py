"""The phone view and the office view in a real browser (Playwright driving Debian's
Chromium): a driver records three households offline, the entries sync when the
network returns, and the office sees them; screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import find_chromium, missing_reason
from sqlalchemy import select, true
from webutil import (
    HOSTILE_HOUSEHOLD,
    HOSTILE_POINT,
    OFFICE_PASSWORD,
    OFFICE_USER,
    live_server,
    make_app,
)

CHROMIUM = find_chromium()
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason=missing_reason()),
]


def _run_with_three_households(app: object) -> tuple[str, str, list[str]]:
    folder = app.state.web.store.get("tiny")  # type: ignore[attr-defined]
    for run in folder.plan.runs:
        if run.vehicle != "T1":
            continue
        for st in run.collects:
            households = folder.bundle.households.get(st.place, [])
            if len(households) >= 3:
                return run.id, st.place, [h.id for h in households[:3]]
    raise AssertionError("the tiny plan has no T1 stop with three households")


def test_driver_offline_then_synced_and_seen_by_office(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    app, code = make_app(tmp_path)
    run_id, _point, households = _run_with_three_households(app)
    dialogs: list[str] = []
    with live_server(app) as base, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        ctx.set_default_timeout(15_000)
        try:
            page = ctx.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            _open_the_stop(page, base, code, run_id, households)
            _record_offline(ctx, page, app, run_id, households)

            ctx.set_offline(False)
            expect(page.locator("#pending")).to_have_attribute("data-count", "0", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "phone-synced.png"), full_page=True)
            _ledger_has_the_visits(app, run_id, households)
            _office_sees_them(ctx, base, app, run_id, dialogs)
        finally:
            ctx.close()
    assert dialogs == [], f"a name ran as script: {dialogs}"


def _open_the_stop(page: Any, base: str, code: str, run_id: str, households: list[str]) -> None:
    """Sign in on the phone and page forward to the stop with the three households."""
    page.goto(f"{base}/driver/")
    page.fill("#vehicle", "T1")
    page.fill("#code", code.lower().replace("-", " "))  # as a driver might type it
    page.click("#signin-form button")
    page.wait_for_selector("#stop:not([hidden])")  # today's (or the next) run opens
    page.click("#to-runs")
    page.locator("#runs a", has_text=run_id).click()
    # One stop per screen.
    for _ in range(20):
        if page.locator(f'details[data-household="{households[0]}"]').count():
            break
        page.click("#next")
    assert page.locator(".stopname").inner_text() == HOSTILE_POINT  # text, not markup
    assert HOSTILE_HOUSEHOLD in page.locator(".hname").all_inner_texts()


def _record_offline(ctx: Any, page: Any, app: Any, run_id: str, households: list[str]) -> None:
    """Offline, the three households' records queue on the phone; none reach the ledger."""
    from playwright.sync_api import expect

    from planner.ledger.schema import Entry

    ctx.set_offline(True)
    expect(page.locator("#net")).to_have_class("net off")
    for k, hid in enumerate(households):
        box = page.locator(f'details[data-household="{hid}"]')
        box.locator("summary").click()
        box.locator('input[name="sell:pet_bottles"]').fill(f"{1.5 + k:.1f}")
        box.locator('input[name="exchange:batteries"]').fill("0.2")
        box.locator("button.save").click()
    # 3 households × (sell, exchange, compost), all queued on the phone
    expect(page.locator("#pending")).to_have_attribute("data-count", "9")
    assert page.locator("#net").inner_text() in ("离线", "offline")
    page.screenshot(path=str(ARTIFACTS / "phone-offline.png"), full_page=True)
    with app.state.web.ledger.sessions() as s:
        assert not s.scalars(select(Entry).where(Entry.run_id == run_id)).all()


def _ledger_has_the_visits(app: Any, run_id: str, households: list[str]) -> None:
    from planner.ledger.schema import Entry

    with app.state.web.ledger.sessions() as s:
        rows = s.scalars(select(Entry).where(Entry.run_id == run_id, Entry.active == true())).all()
    assert {(e.household_id, e.stream) for e in rows} == {
        (h, s) for h in households for s in ("sell", "exchange", "compost")
    }
    sold = {e.household_id: e.grams for e in rows if e.stream == "sell"}
    assert sold == {h: 1500 + 1000 * k for k, h in enumerate(households)}


def _office_sees_them(ctx: Any, base: str, app: Any, run_id: str, dialogs: list[str]) -> None:
    """The office, on a desktop-sized page of its own: the map, money and the run's rows."""
    office = ctx.new_page()
    office.set_viewport_size({"width": 1366, "height": 900})
    office.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    office.goto(f"{base}/")
    office.fill('input[name="user"]', OFFICE_USER)
    office.fill('input[name="password"]', OFFICE_PASSWORD)
    office.click('form[action="/login"] button')
    office.wait_for_url(f"{base}/plans/tiny")
    assert office.locator("#route-map polyline").count() == len(
        app.state.web.store.get("tiny").plan.runs
    )
    assert office.locator("#money-table tbody tr").count() >= 1
    cash = office.locator(f'tr[data-run="{run_id}"] td.act').first.inner_text()
    assert cash == "7.50"  # 1.5 + 2.5 + 3.5 kg at 1 CNY/kg
    office.screenshot(path=str(ARTIFACTS / "office-overview.png"), full_page=True)
    office.goto(f"{base}/plans/tiny/runs/{run_id}")
    assert office.locator("tr.entry").count() == 9
    office.screenshot(path=str(ARTIFACTS / "office-run.png"), full_page=True)
