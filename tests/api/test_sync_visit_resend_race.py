"""A batch of visits only, sent twice at the same moment (a phone resending after a
timeout) to two gunicorn workers: both answers are 200, the second says `duplicate` for
every visit, and one copy is stored. The resend waits for the first request's lock on the
sample entries and then finds its UUIDs in the ledger (services/sync.py, `_prepare`)."""
from __future__ import annotations

import requests

from fieldapp.models import ClientRecord, Visit

from ..live import gunicorn_server
from .sampling_support import draw_county, entries
from .test_sync_resend_race import _count, _login, _twice_at_once
from .visit_helpers import record, visit_payload

ROUNDS = 4


def test_a_visit_batch_sent_twice_at_once_is_stored_once(app, login_as, personas, database_url):
    draw_id = draw_county(login_as, personas)
    village = personas.villages["a1"]
    sample = entries(draw_id, village.id, "sample")
    with gunicorn_server(database_url, app.config["SECRET_KEY"], workers=2) as base:
        first = _login(base, "13800000003")
        second = requests.Session()
        second.cookies.update(first.cookies)
        second.headers.update(first.headers)
        for i in range(ROUNDS):
            body = {"records": [record(visit_payload(sample[3 * i + k].token, village, n=3 * i + k))
                                for k in range(3)]}
            responses = _twice_at_once(base, [first, second], body)
            assert [r.status_code for r in responses] == [200, 200], [r.text[:300] for r in responses]
            ids = [[res.get("id") for res in r.json()["results"]] for r in responses]
            assert ids[0] == ids[1]
            for rec in body["records"]:
                assert _count(ClientRecord, ClientRecord.uuid == rec["uuid"]) == 1
    assert _count(Visit) == 3 * ROUNDS
