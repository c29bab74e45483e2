"""A schema-driven fuzz of the API (Schemathesis, in-process against the ASGI app):
no request, anonymous or signed in as a driver or the office, gets a 500."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from webutil import make_app, office_login


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory):
    app, code = make_app(tmp_path_factory.mktemp("fuzz"))
    with TestClient(app) as client:
        token = client.post("/api/driver/session", json={"vehicle": "T1", "code": code})
        driver = {"Authorization": "Bearer " + token.json()["token"]}
        csrf = office_login(client)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        office = {"Cookie": cookie, "X-CSRF-Token": csrf}
        yield app, {"anonymous": {}, "driver": driver, "office": office}


@pytest.fixture(scope="module")
def web_schema(fuzzed):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed[0])


schema = schemathesis.pytest.from_fixture("web_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_500(case, fuzzed) -> None:
    _, who = fuzzed
    for headers in who.values():
        response = case.call(headers=headers)
        case.validate_response(response, checks=(not_a_server_error,))


def test_the_openapi_document_describes_the_ledgers_records(fuzzed) -> None:
    app, _ = fuzzed
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert {"TallyEntry", "RunClose", "SyncBatch", "DriverSignIn"} <= set(schemas)
    assert "/api/driver/runs/{run_id}/entries" in doc["paths"]
