"""Every security line of `planner serve`, one test (or a table) each."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from webutil import HOSTILE_HOUSEHOLD, HOSTILE_POINT, make_app, office_login

from planner.web.auth import Accounts, Tokens, hash_secret, verify_secret


@pytest.fixture()
def app_code(tmp_path: Path):
    return make_app(tmp_path)


@pytest.fixture()
def client(app_code):
    with TestClient(app_code[0]) as c:
        yield c


def _driver(client: TestClient, vehicle: str, code: str) -> dict[str, str]:
    r = client.post("/api/driver/session", json={"vehicle": vehicle, "code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_write_in_the_openapi_document_refuses_anonymous_calls(client) -> None:
    doc = client.get("/openapi.json").json()
    writes = [
        (method, path)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(writes) >= 8  # sign-ins, sync, upload, codes, sign-outs
    for method, path in writes:
        r = client.request(method.upper(), _fill(path))
        assert r.status_code == 401, f"{method.upper()} {path}: {r.status_code} {r.text[:200]}"


def test_anonymous_writes_with_bodies_are_refused_too(client) -> None:
    entry = {"run_id": "x", "point": "P1", "household": "H1", "stream": "compost",
             "category": "kitchen", "compost_declared": True}  # fmt: skip
    r = client.post("/api/driver/runs/x/entries", json={"entries": [entry]})
    assert r.status_code == 401
    r = client.post("/api/driver/runs/x/entries", json={"entries": [entry]},
                    headers={"Authorization": "Bearer forged.token.value"})  # fmt: skip
    assert r.status_code == 401
    r = client.post("/plans/tiny/codes", data={"csrf": "x"})
    assert r.status_code == 401


def test_a_driver_cannot_read_or_write_another_trucks_run(client, app_code) -> None:
    app, _ = app_code
    folder = app.state.web.store.get("tiny")
    # A second plan folder whose runs belong to truck T2 (the same plan, renamed).
    doc = folder.plan.to_json_dict()
    for run in doc["runs"]:
        run["id"] = run["id"].replace("T1", "T2")
        run["vehicle"] = "T2"
    doc["vehicles"][0]["id"] = "T2"
    other = folder.path.parent / "tiny-t2"
    other.mkdir()
    for f in ("run.json", "summary.json", "tallies.csv", "goods.csv"):
        (other / f).write_bytes((folder.path / f).read_bytes())
    (other / "plan.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    t2_code = app.state.web.accounts.issue_driver_code("T2", "2026-12")
    t2 = _driver(client, "T2", t2_code)
    t1_run = folder.plan.runs[0].id
    assert client.get(f"/api/driver/runs/{t1_run}", headers=t2).status_code == 403
    entry = {"run_id": t1_run, "point": "P1", "household": "H1", "stream": "compost",
             "category": "kitchen", "compost_declared": True}  # fmt: skip
    r = client.post(f"/api/driver/runs/{t1_run}/entries", headers=t2, json={"entries": [entry]})
    assert r.status_code == 403
    # Nor smuggle T1's entry through T2's own run.
    t2_run = doc["runs"][0]["id"]
    r = client.post(f"/api/driver/runs/{t2_run}/entries", headers=t2, json={"entries": [entry]})
    assert r.status_code == 403
    assert [b["id"] for b in client.get("/api/driver/runs", headers=t2).json()["runs"]] == [
        r["id"] for r in doc["runs"]
    ]


def test_driver_codes_are_scoped_to_truck_and_month(client, app_code) -> None:
    app, code = app_code
    accounts: Accounts = app.state.web.accounts
    assert (
        client.post("/api/driver/session", json={"vehicle": "T2", "code": code}).status_code == 401
    )
    # A code for January does not open December's runs.
    jan = accounts.issue_driver_code("T1", "2027-01")
    h = _driver(client, "T1", jan)
    assert client.get("/api/driver/runs", headers=h).json()["runs"] == []
    dec_run = app.state.web.store.get("tiny").plan.runs[0].id
    assert client.get(f"/api/driver/runs/{dec_run}", headers=h).status_code == 403
    # Issuing a new December code voids the old one and every token made from it.
    old = _driver(client, "T1", code)
    accounts.issue_driver_code("T1", "2026-12")
    assert client.get("/api/driver/runs", headers=old).status_code == 401
    assert (
        client.post("/api/driver/session", json={"vehicle": "T1", "code": code}).status_code == 401
    )


def test_wrong_codes_are_throttled(client) -> None:
    for _ in range(10):
        r = client.post("/api/driver/session", json={"vehicle": "T1", "code": "AAAA-AAAA"})
        assert r.status_code == 401
    r = client.post("/api/driver/session", json={"vehicle": "T1", "code": "AAAA-AAAA"})
    assert r.status_code == 429


def test_secrets_are_stored_as_argon2_hashes(app_code) -> None:
    app, code = app_code
    path = app.state.web.config.accounts_path
    text = path.read_text(encoding="utf-8")
    assert code not in text and "steppe-office-2026" not in text
    doc = json.loads(text)
    hashes = [u["hash"] for u in doc["office"]] + [d["hash"] for d in doc["drivers"]]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify_secret(hash_secret("x" * 9), "x" * 9) and not verify_secret("bogus", "x")


def test_office_forms_need_the_csrf_token(client) -> None:
    office_login(client)
    assert client.post("/plans/tiny/codes", data={}).status_code == 403
    assert client.post("/plans/tiny/codes", data={"csrf": "forged"}).status_code == 403
    files = {"file": ("t.csv", b"a,b\n", "text/csv")}
    assert client.post("/plans/tiny/upload", files=files, data={"csrf": "x"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    # The sign-in form too (login CSRF).
    fresh = TestClient(client.app)
    r = fresh.post("/login", data={"user": "office", "password": "steppe-office-2026"})
    assert r.status_code == 403


def test_session_cookie_is_httponly_and_samesite(client) -> None:
    r = client.get("/")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_names_from_csvs_are_escaped_on_every_page(client, app_code) -> None:
    app, code = app_code
    office_login(client)
    run = next(r for r in app.state.web.store.get("tiny").plan.runs if "P1" in
               [s.place for s in r.collects])  # fmt: skip
    pages = ["/plans/tiny", f"/plans/tiny/runs/{run.id}"]
    for url in pages:
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;alert(&#34;p&#34;)&lt;/script&gt;一组" in client.get(pages[0]).text
    # The phone view gets names as JSON data and sets them as text (driver.js).
    h = _driver(client, "T1", code)
    view = client.get(f"/api/driver/runs/{run.id}", headers=h).json()
    names = [s["name"] for s in view["steps"]] + [
        x["name"] for s in view["steps"] for x in s.get("households", [])
    ]
    assert HOSTILE_POINT in names and HOSTILE_HOUSEHOLD in names
    js = (Path(__file__).parents[1] / "planner/web/static/driver.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js


def test_uploads_are_size_limited(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, max_body_bytes=64 * 1024)
    with TestClient(app) as client:
        csrf = office_login(client)
        big = io.BytesIO(b"x" * (100 * 1024))
        r = client.post(
            "/plans/tiny/upload", files={"file": ("big.csv", big, "text/csv")},
            data={"csrf": csrf},
        )  # fmt: skip
        assert r.status_code == 413


def test_uploads_are_parsed_never_kept_or_placed_by_name(client, tmp_path: Path) -> None:
    csrf = office_login(client)
    before = set(Path(tmp_path).rglob("*"))
    evil = "../../../../tmp/planner-evil.csv"
    r = client.post(
        "/plans/tiny/upload", files={"file": (evil, b"not,a,tally\n1,2,3\n", "text/csv")},
        data={"csrf": csrf},
    )  # fmt: skip
    assert r.status_code == 422
    assert "nothing was recorded" in r.text.lower() or "被拒绝" in r.text
    assert not Path("/tmp/planner-evil.csv").exists()
    after = {p for p in Path(tmp_path).rglob("*") if "ledger.sqlite" not in p.name}
    assert after - before == set()
    r = client.post(
        "/plans/tiny/upload", files={"file": ("run.sh", b"#!/bin/sh\n", "text/x-sh")},
        data={"csrf": csrf},
    )  # fmt: skip
    assert r.status_code == 422


def test_downloads_stay_inside_the_plan_folder(client) -> None:
    office_login(client)
    assert client.get("/plans/tiny/files/plan.json").status_code == 200
    for bad in ("../.web-accounts.json", "..%2F.web-secret", "run.json", "%2Fetc%2Fpasswd"):
        assert client.get(f"/plans/tiny/files/{bad}").status_code == 404, bad
    anon = TestClient(client.app)
    assert anon.get("/plans/tiny/files/plan.json").status_code == 401


def test_household_pins_open_only_their_own_account(client, app_code) -> None:
    app, _ = app_code
    tokens: Tokens = app.state.web.tokens
    office_login(client)  # the office's overview registers the plan in the ledger
    page = client.get("/household")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    wrong = "000000" if tokens.household_pin("H1") != "000000" else "111111"
    r = client.post("/household/login", data={"card": "H1", "pin": wrong, "csrf": csrf})
    assert r.status_code == 401
    r = client.post(
        "/household/login", data={"card": "H1", "pin": tokens.household_pin("H2"), "csrf": csrf}
    )
    assert r.status_code == 401
    r = client.post(
        "/household/login",
        data={"card": "H1-H", "pin": tokens.household_pin("H1"), "csrf": csrf},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "H1" in r.text
    assert "&lt;img src=x" in r.text  # its name, escaped
