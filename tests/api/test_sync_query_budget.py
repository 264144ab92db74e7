"""A sync batch of visits issues a fixed number of SQL statements, however many visits it
holds and however long the evaluator's history (issue 13, "Query budget"): per-record
queries and whole-series reloads cannot come back unnoticed."""
from __future__ import annotations

from datetime import timedelta

from fieldapp.extensions import db
from fieldapp.models import EvaluatorAssignment

from .test_query_counts import count_queries
from .visit_helpers import BASE, drawn, ev, record, sync, tokens, visit_payload  # noqa: F401

# login session, ledger, sample entries (locked), the ledger again (a concurrent resend may
# have stored the batch meanwhile), assignments, score lock, entries' status, flag window,
# positions, visits insert, ledger insert, and the neighbours' changed flags (one
# executemany, when a new visit changes a stored visit's flags)
VISIT_BATCH_STATEMENTS = 12


def _statements(app, client, records) -> int:
    with count_queries(app) as counts:
        response = sync(client, *records)
    assert response.status_code == 200, response.get_json()
    assert all(r["status"] == "stored" for r in response.get_json()["results"])
    return counts["n"]


def _visits(village, toks, day: int, first: int = 0) -> list[dict]:
    return [record(visit_payload(t, village, first + n, start=BASE + timedelta(
        days=day, minutes=30 * n))) for n, t in enumerate(toks)]


def test_statements_do_not_grow_with_the_batch_or_the_history(app, ev, drawn):
    a1, a2 = drawn.villages["a1"], drawn.villages["a2"]
    db.session.add(EvaluatorAssignment(cycle_id=drawn.cycle.id,
                                       user_id=drawn.users["evaluator_a"].id, village_id=a2.id))
    db.session.commit()
    t1, t2 = tokens(a1), tokens(a2)
    one = _statements(app, ev, _visits(a1, t1[:1], day=0))
    # Five more visits on other days: a history the next batches must not reload.
    assert sync(ev, *_visits(a1, t1[1:6], day=5)).status_code == 200
    many = _statements(app, ev, _visits(a1, t1[6:20], day=1) + _visits(a2, t2[:6], day=1,
                                                                         first=14))
    assert len(t1[6:20]) + len(t2[:6]) == 20
    assert one <= many <= one + 1 <= VISIT_BATCH_STATEMENTS + 1, (one, many)
    assert many <= VISIT_BATCH_STATEMENTS, f"1 visit: {one} statements; 20 in 2 villages: {many}"


def test_a_replayed_batch_reads_the_ledger_once(app, ev, drawn):
    a1 = drawn.villages["a1"]
    small, big = _visits(a1, tokens(a1)[:1], day=0), _visits(a1, tokens(a1)[1:20], day=2)
    assert sync(ev, *small).status_code == 200 and sync(ev, *big).status_code == 200
    counts = []
    for records in (small, big):
        with count_queries(app) as n:
            response = sync(ev, *records)
        assert {r["status"] for r in response.get_json()["results"]} == {"duplicate"}
        counts.append(n["n"])
    assert counts[0] == counts[1] <= 2, counts  # the login session, the ledger
