"""A batch mixing record types keeps the order of its records, although what the visits
need is loaded before any record is handled (services/sync.py, `prepare`): a replacement
activates a reserve that a later visit of the same batch records; a visit makes its
household visited before a later replacement of it is checked."""
from __future__ import annotations

from fieldapp.extensions import db

from .sampling_support import replacement_record
from .visit_helpers import a1, drawn, entries, ev, record, sync, tokens, visit_payload  # noqa: F401


def test_a_replacement_then_a_visit_of_its_reserve_in_one_batch(ev, drawn):
    village = a1(drawn)
    first_reserve = entries(village, "reserve")[0]
    response = sync(ev, replacement_record(tokens(village)[0]),
                    record(visit_payload(first_reserve.token, village)))
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["stored", "stored"]
    assert results[0]["data"]["reserve_token"] == first_reserve.token
    db.session.expire_all()
    assert entries(village, "reserve")[0].status == "visited"


def test_a_visit_then_a_replacement_of_that_household_in_one_batch(ev, drawn):
    village = a1(drawn)
    token = tokens(village)[0]
    response = sync(ev, record(visit_payload(token, village)), replacement_record(token))
    assert response.status_code == 422
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["pending", "rejected"]
    assert list(results[1]["errors"]) == ["sample_token"]
