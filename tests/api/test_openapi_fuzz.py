"""Property-based fuzzing of every documented endpoint with schemathesis.

Generated requests (valid and invalid) are sent as the city admin, with a valid CSRF
token, to the real app and database: whatever arrives, the answer must never be a 5xx, and
every error must have the one JSON error shape.
"""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from .. import personas as P


@pytest.fixture
def api_schema(app, personas):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def admin_session(app, personas):
    client = app.test_client()
    token = P.login(client, personas.users["admin"].phone).get_json()["csrf_token"]
    cookie = client.get_cookie("session")
    return {"Cookie": f"session={cookie.value}", "X-CSRFToken": token}


@schema.parametrize()
@hypothesis.settings(max_examples=15, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_no_server_errors(case, admin_session):
    if case.path in ("/api/auth/logout",):
        pytest.skip("logging out would end the fuzzing session")
    response = case.call(headers=admin_session)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
            "application/json"):
        body = response.json()
        assert {"code", "status", "message", "errors"} <= set(body), body
