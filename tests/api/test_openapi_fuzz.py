"""Property-based fuzzing of every documented endpoint with schemathesis, once per role.

Generated requests (valid and invalid) are sent as each persona, with a valid CSRF token,
to the real app and database: whatever arrives, the answer is never a 5xx, and every
response matches the schema that /api/openapi.json documents for it (errors included).

CI runs a bounded number of examples per operation (FUZZ_EXAMPLES, default 6); `make fuzz`
runs many more.
"""
from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_schema_conformance)

from .. import personas as P

SKIP = {"/api/auth/logout", "/api/auth/password"}  # would end the fuzzing session itself
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize("persona", ["admin", "staff_a", "evaluator_a", "secretary_a"])
def test_every_operation_per_role(app, personas, persona):
    client = app.test_client()
    token = P.login(client, personas.users[persona].phone).get_json()["csrf_token"]
    # Uncompressed answers: schemathesis reads WSGI bodies as they come (compression.py
    # would otherwise send br to a client that asks for it).
    headers = {"X-CSRFToken": token, "Accept-Encoding": "identity"}
    cookies = {"session": client.get_cookie("session").value}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: list[int] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP:
            continue

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                             database=None, suppress_health_check=list(hypothesis.HealthCheck),
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
        def check(case):
            response = case.call(headers=headers, cookies=cookies)
            statuses.append(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, FailureGroup) as err:  # collect: one report for all
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {str(err)[:400]}")

        check()
        checked += 1
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    assert checked > 40  # every area's endpoints were exercised
    if persona in ("admin", "staff_a"):
        assert sum(200 <= s < 300 for s in statuses) > 20  # logged in: real work, not only 4xx
