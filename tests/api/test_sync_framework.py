"""POST /api/sync batch mechanics, independent of the record type."""
from __future__ import annotations

import copy

from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import ClientRecord, Visit

from .visit_helpers import a1, drawn, ev, record, sync, tokens, visit_payload  # noqa: F401


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_batch_size_limit(ev, drawn, app, monkeypatch):
    monkeypatch.setitem(app.config, "SYNC_MAX_BATCH", 3)
    t = tokens(a1(drawn))
    too_many = [record(visit_payload(t[i], a1(drawn), i)) for i in range(4)]
    response = sync(ev, *too_many)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed" and "records" in body["errors"]
    assert _count(Visit) == 0
    assert sync(ev, *too_many[:3]).status_code == 200
    empty = ev.post("/api/sync", json={"records": []})
    assert empty.status_code == 422


def test_same_uuid_twice_in_one_batch(ev, drawn):
    rec = record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))
    response = sync(ev, rec, copy.deepcopy(rec))
    assert response.status_code == 200
    assert [r["status"] for r in response.get_json()["results"]] == ["stored", "duplicate"]
    assert _count(Visit) == 1

    other = record(visit_payload(tokens(a1(drawn))[1], a1(drawn), 1))
    changed = copy.deepcopy(other)
    changed["payload"]["note"] = "另一份内容"
    response = sync(ev, other, changed)
    assert response.status_code == 422
    assert [r["status"] for r in response.get_json()["results"]] == ["pending", "conflict"]
    assert _count(Visit) == 1


def test_unknown_type_is_rejected(ev, drawn):
    response = sync(ev, record({"x": 1}, type="teleport"))
    assert response.status_code == 422
    result = response.get_json()["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["type"]
    assert _count(ClientRecord) == 0


def test_malformed_records(ev, drawn):
    response = ev.post("/api/sync", json={"records": [{"uuid": "not-a-uuid", "type": "visit",
                                                        "payload": {}}]})
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


def test_csrf_required(ev, drawn):
    rec = record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))
    response = ev.client.post("/api/sync", json={"records": [rec]})
    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"
    response = ev.client.post("/api/sync", json={"records": [rec]}, headers={"X-CSRFToken": "bogus"})
    assert response.status_code == 400
    assert _count(Visit) == 0


def test_not_logged_in(personas, client):
    from ..personas import csrf_token

    token = csrf_token(client)
    response = client.post("/api/sync", json={"records": []}, headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_logged_in"


def test_server_time_in_every_answer(ev, drawn):
    ok = sync(ev, record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))).get_json()
    assert ok["server_time"]
    bad = sync(ev, record({"x": 1}, type="teleport")).get_json()
    assert bad["server_time"]
