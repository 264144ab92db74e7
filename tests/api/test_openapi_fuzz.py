"""Property-based fuzzing of every documented endpoint with schemathesis.

Generated requests (valid and invalid) are sent as the city admin, with a valid CSRF
token, to the real app and database: whatever arrives, the answer must never be a 5xx, and
every JSON error must have the one error shape.
"""
from __future__ import annotations

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error

from .. import personas as P

SKIP = {"/api/auth/logout"}  # would end the fuzzing session itself


def test_no_server_errors(app, personas):
    client = app.test_client()
    token = P.login(client, personas.users["admin"].phone).get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    cookies = {"session": client.get_cookie("session").value}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checked = 0
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP:
            continue

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=15, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def check(case):
            response = case.call(headers=headers, cookies=cookies)
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400 and response.headers.get(
                    "Content-Type", "").startswith("application/json"):
                body = response.json()
                assert {"code", "status", "message", "errors"} <= set(body), (case.path, body)

        check()
        checked += 1
    assert checked > 40  # every area's endpoints were exercised
    assert sum(200 <= s < 300 for s in statuses) > 50  # logged in: real work, not only 401s

