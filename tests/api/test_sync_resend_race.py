"""A phone whose request outlives its timeout sends the same batch again while the first is
still running. On a real server with two worker processes (gunicorn), both answers are 200
and one copy is stored, on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import uuid

import requests
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import ClientRecord, Replacement, Visit

from .. import personas as P
from ..live import gunicorn_server
from .sampling_support import draw_county, entries, replacement_record
from .visit_helpers import record, visit_payload

ROUNDS = 6


def _login(base: str, phone: str) -> requests.Session:
    s = requests.Session()
    s.headers["X-CSRFToken"] = s.get(f"{base}/api/auth/csrf").json()["csrf_token"]
    response = s.post(f"{base}/api/auth/login", json={"phone": phone, "password": P.PASSWORD})
    assert response.status_code == 200, response.text
    s.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return s


def _twice_at_once(base: str, sessions: list[requests.Session], body: dict) -> list:
    barrier = threading.Barrier(len(sessions))
    responses: list = []

    def send(s: requests.Session) -> None:
        barrier.wait()
        responses.append(s.post(f"{base}/api/sync", json=body, timeout=60))

    threads = [threading.Thread(target=send, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_resends_both_answer_200_with_one_copy(app, login_as, personas, database_url):
    draw_id = draw_county(login_as, personas)
    village = personas.villages["a1"]
    sample = entries(draw_id, village.id, "sample")
    with gunicorn_server(database_url, app.config["SECRET_KEY"], workers=2) as base:
        phone = "13800000003"
        # One login, the same cookies on two connections: the phone and its own resend.
        first = _login(base, phone)
        second = requests.Session()
        second.cookies.update(first.cookies)
        second.headers.update(first.headers)
        for i in range(ROUNDS):
            replacement = replacement_record(sample[i].token, uid=str(uuid.uuid4()))
            visit = record(visit_payload(sample[10 + i].token, village, n=i))
            body = {"records": [replacement, visit]}
            responses = _twice_at_once(base, [first, second], body)
            assert [r.status_code for r in responses] == [200, 200], [r.text[:300] for r in responses]
            ids = [[res.get("id") for res in r.json()["results"]] for r in responses]
            assert ids[0] == ids[1]  # the resend is told what the first stored
            for rec in body["records"]:
                assert _count(ClientRecord, ClientRecord.uuid == rec["uuid"]) == 1
            assert _count(Replacement, Replacement.client_uuid == replacement["uuid"]) == 1
    assert _count(Replacement) == ROUNDS
    assert _count(Visit) == ROUNDS
