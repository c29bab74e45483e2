"""The JSON API and the office pages with the framework's test client: the phone's
sync is idempotent and goes through the ledger's validation; uploads import files
all or nothing; the CLI adds users and issues codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, true
from typer.testing import CliRunner
from webutil import make_app, office_login, plans_dir

from planner.ledger.schema import Close, Entry
from planner.web import _ledger_bridge as bridge


@pytest.fixture()
def setup(tmp_path: Path):
    app, code = make_app(tmp_path)
    with TestClient(app) as client:
        r = client.post("/api/driver/session", json={"vehicle": "T1", "code": code})
        headers = {"Authorization": "Bearer " + r.json()["token"]}
        yield app, client, headers


def _first_stop(client: TestClient, headers: dict[str, str]) -> tuple[dict, dict]:
    runs = client.get("/api/driver/runs", headers=headers).json()
    view = client.get(f"/api/driver/runs/{runs['runs'][0]['id']}", headers=headers).json()
    stop = next(s for s in view["steps"] if s["type"] == "collect" and s["households"])
    return view, stop


def _sell(view: dict, stop: dict, hid: str, kg: float) -> dict:
    return {
        "run_id": view["id"], "point": stop["place"], "household": hid, "stream": "sell",
        "category": "pet_bottles", "kg": kg, "price_cny_kg": 1.0, "cash_cny": kg,
        "key": f"{view['id']}|{stop['place']}|{hid}|sell|pet_bottles|",
    }  # fmt: skip


def _active(app, **where: str) -> list[Entry]:
    with app.state.web.ledger.sessions() as s:
        q = select(Entry).where(Entry.active == true())
        for k, v in where.items():
            q = q.where(getattr(Entry, k) == v)
        return list(s.scalars(q))


def test_the_run_view_has_stops_windows_households_and_money(setup) -> None:
    _app, client, headers = setup
    runs = client.get("/api/driver/runs", headers=headers).json()
    assert runs["vehicle"] == "T1" and runs["month"] == "2026-12"
    assert runs["today"] in [r["id"] for r in runs["runs"]]
    view, stop = _first_stop(client, headers)
    assert view["steps"][0]["type"] == "start" and view["steps"][-1]["type"] == "end"
    assert stop["window"] and len(stop["window"]) == 2
    h = stop["households"][0]
    assert h["code"].startswith(h["id"] + "-") and h["points_balance"] == 0
    assert view["cash_float_cny"] > 0
    assert {c["id"] for c in view["categories"]} >= {"pet_bottles", "batteries"}


def test_a_sync_sent_twice_records_once_and_an_edit_supersedes(setup) -> None:
    app, client, headers = setup
    view, stop = _first_stop(client, headers)
    hid = stop["households"][0]["id"]
    url = f"/api/driver/runs/{view['id']}/entries"
    batch = {"entries": [_sell(view, stop, hid, 2.0)]}
    first = client.post(url, headers=headers, json=batch)
    assert first.status_code == 200 and first.json()["added"] == 1
    again = client.post(url, headers=headers, json=batch)
    assert again.status_code == 200 and again.json()["added"] == 0
    assert len(_active(app, run_id=view["id"])) == 1
    edited = client.post(url, headers=headers, json={"entries": [_sell(view, stop, hid, 3.0)]})
    assert edited.json()["changed"] == 1
    rows = _active(app, run_id=view["id"])
    assert [(r.household_id, r.grams) for r in rows] == [(hid, 3000)]
    seen = client.get(f"/api/driver/runs/{view['id']}", headers=headers).json()["recorded"]
    assert [e["kg"] for e in seen] == [3.0]


def test_a_bad_entry_is_refused_whole_with_the_ledgers_messages(setup) -> None:
    app, client, headers = setup
    view, stop = _first_stop(client, headers)
    good = _sell(view, stop, stop["households"][0]["id"], 1.0)
    bad = dict(good, household="H999", key="other")
    r = client.post(f"/api/driver/runs/{view['id']}/entries", headers=headers,
                    json={"entries": [good, bad]})  # fmt: skip
    assert r.status_code == 422
    assert any("H999" in line for line in r.json()["detail"])
    assert _active(app) == []
    # The same pydantic model as the file import: a sell line without kg is a 422 too.
    shapeless = {k: v for k, v in good.items() if k != "kg"}
    r = client.post(f"/api/driver/runs/{view['id']}/entries", headers=headers,
                    json={"entries": [shapeless]})  # fmt: skip
    assert r.status_code == 422


def test_the_end_of_run_box_is_recorded(setup) -> None:
    app, client, headers = setup
    view, _ = _first_stop(client, headers)
    station = next(s["place"] for s in view["steps"] if s["type"] == "unload")
    close = {"run_id": view["id"], "key": view["id"] + "|close", "cash_float_out_cny": 50,
             "cash_returned_cny": 45.5, "odometer_start_km": 1000, "odometer_end_km": 1023,
             "weigh_tickets": [{"station": station, "kg": 12.5, "ticket": "A7"}]}  # fmt: skip
    r = client.post(f"/api/driver/runs/{view['id']}/entries", headers=headers,
                    json={"closes": [close]})  # fmt: skip
    assert r.status_code == 200 and r.json()["closes"] == 1
    with app.state.web.ledger.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Close).where(Close.active)) == 1


def test_office_pages_show_the_month(setup) -> None:
    _app, client, _headers = setup
    assert 'name="password"' in client.get("/").text
    office_login(client)
    html = client.get("/plans/tiny").text
    for part in ('id="route-map"', 'id="money-table"', 'id="calendar"', "plan.json"):
        assert part in html
    assert client.get("/plans/tiny?lang=en").text.count("Routes") >= 1
    assert client.get("/plans/tiny/files/plan.json").json()["format"] == "rural-waste-plan/1"
    assert client.get("/plans/nope").status_code == 404


def test_issue_codes_from_the_office_page(setup) -> None:
    _app, client, headers = setup
    csrf = office_login(client)
    html = client.post("/plans/tiny/codes", data={"csrf": csrf}).text
    code = html.split('class="code">')[1].split("<")[0]
    assert (
        client.post("/api/driver/session", json={"vehicle": "T1", "code": code}).status_code == 200
    )
    assert client.get("/api/driver/runs", headers=headers).status_code == 401  # old code void


def test_upload_imports_a_filled_tally_file_all_or_nothing(setup, tmp_path: Path) -> None:
    from planner.ledger.simulate import Truth, simulate_month, write_simulation

    app, client, _headers = setup
    csrf = office_login(client)
    folder = app.state.web.store.get("tiny")
    sim = simulate_month(bridge.plan_source(folder.path), Truth(faults=False), seed=1)
    files = write_simulation(sim, tmp_path / "sim")
    tally = next(p for p in files if p.name.endswith(".tally.csv"))
    body = tally.read_bytes()
    r = client.post("/plans/tiny/upload", files={"file": (tally.name, body, "text/csv")},
                    data={"csrf": csrf})  # fmt: skip
    assert r.status_code == 200, r.text
    n = len(_active(app))
    assert n > 0
    r = client.post("/plans/tiny/upload", files={"file": (tally.name, body, "text/csv")},
                    data={"csrf": csrf})  # fmt: skip
    assert r.status_code == 200 and len(_active(app)) == n  # nothing doubles
    broken = body.replace(b",sell,", b",sold,", 1)
    r = client.post("/plans/tiny/upload", files={"file": ("b.csv", broken, "text/csv")},
                    data={"csrf": csrf})  # fmt: skip
    assert r.status_code == 422 and "row" in r.text
    assert len(_active(app)) == n


def test_cli_adds_users_issues_codes_and_writes_pins(tmp_path: Path, monkeypatch) -> None:
    from planner.cli import app as cli
    from planner.web.auth import Accounts

    plans = plans_dir(tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("PLANNER_WEB_PASSWORD", "a-long-password")
    r = runner.invoke(cli, ["web", "user", "clerk", "--plans", str(plans)])
    assert r.exit_code == 0, r.output
    assert Accounts(plans / ".web-accounts.json").check_office("clerk", "a-long-password")
    r = runner.invoke(cli, ["web", "codes", "--month", "2026-12", "--plans", str(plans)])
    assert r.exit_code == 0 and r.output.splitlines()[1].startswith("T1,2026-12,")
    code = r.output.splitlines()[1].split(",")[2]
    assert Accounts(plans / ".web-accounts.json").check_driver("T1", code) is not None
    r = runner.invoke(cli, ["web", "codes", "--month", "2027-05", "--plans", str(plans)])
    assert r.exit_code == 2
    r = runner.invoke(cli, ["web", "pins", "-o", str(tmp_path / "pins.csv"), "--plans", str(plans)])
    assert r.exit_code == 0
    lines = (tmp_path / "pins.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "household,name,point,code,pin" and len(lines) > 5
    r = runner.invoke(cli, ["serve", "--plans", str(tmp_path / "missing")])
    assert r.exit_code == 2
    assert json.loads((plans / ".web-accounts.json").read_text())["format"]
