"""Hostile bodies get a 4xx, never a 500: deep nesting, times whose conversion to UTC
overflows, lone surrogates."""
from __future__ import annotations

import json

import pytest

from .visit_helpers import a1, drawn, ev, record, sync, tokens, visit_payload  # noqa: F401

OVERFLOWING = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
               "9999-12-31T23:59:59.999999-23:59", "1900-01-01T00:00:00+00:00"]


def _raw(client, path: str, text: str):
    return client.post(path, data=text.encode("utf-8", "surrogatepass"),
                       content_type="application/json")


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
def test_deeply_nested_bodies_are_400(ev, depth):
    nested = "[" * depth + "]" * depth
    body = ('{"records": [{"uuid": "5b0e1d5e-2f1c-4e8a-9d67-0c8f3a1e2b10", "type": "visit", '
            '"payload": {"answers": ' + nested + '}}]}')
    response = _raw(ev, "/api/sync", body)
    assert response.status_code == 400, response.get_data()[:200]
    assert response.get_json()["code"] == "bad_request"
    # Same everywhere a JSON body is read.
    assert _raw(ev, "/api/auth/password", '{"current_password": ' + nested + "}").status_code == 400


def test_lone_surrogates_are_400(login_as, drawn):
    client = login_as("evaluator_a")
    token = tokens(a1(drawn))[0]
    payload = visit_payload(token, a1(drawn))
    text = json.dumps({"records": [record(payload)]}, ensure_ascii=True)
    for target in ('"note": "', '"sample_token": "'):
        hostile = text.replace(target, target + "\\ud800", 1)
        response = _raw(client, "/api/sync", hostile)
        assert response.status_code == 400, (target, response.get_data()[:200])
    in_key = text.replace('"note"', '"no\\udfffte"', 1)
    assert _raw(client, "/api/sync", in_key).status_code == 400
    in_type = text.replace('"type": "visit"', '"type": "visit\\ud800"', 1)
    assert _raw(client, "/api/sync", in_type).status_code == 400


@pytest.mark.parametrize("when", OVERFLOWING)
def test_overflowing_times_are_field_errors(ev, drawn, when):
    village = a1(drawn)
    token = tokens(village)[0]
    for field in ("started_at", "ended_at"):
        response = sync(ev, record(visit_payload(token, village, **{field: when})))
        assert response.status_code == 422, response.get_data()[:300]
        [result] = response.get_json()["results"]
        assert field in result["errors"]
    geo = visit_payload(token, village)["geo_start"]
    response = sync(ev, record(visit_payload(token, village, geo_start={**geo, "at": when})))
    assert response.status_code == 422
    response = sync(ev, record(visit_payload(token, village)), device_sent_at=when)
    assert response.status_code == 422
    assert "device_sent_at" in response.get_json()["errors"]


@pytest.mark.parametrize("when", OVERFLOWING)
def test_overflowing_times_in_check_ins_and_replacements(login_as, drawn, when):
    secretary = login_as("secretary_a")
    checkin = record({"at": when, "geo": None, "geo_error": "denied"}, type="checkin")
    assert sync(secretary, checkin).status_code == 422
    replacement = record({"sample_token": tokens(a1(drawn))[0], "reason": "moved_out",
                          "at": when}, type="replacement")
    assert sync(login_as("evaluator_a"), replacement).status_code == 422
