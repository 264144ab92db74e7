"""The public ballot: no login, single use, anonymous, closed meetings refuse votes."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import Ballot, BallotToken, Meeting
from fieldapp.services import meetings as svc

from .scores_helpers import ballot_answers, make_meeting


@pytest.fixture
def meeting(personas):
    return make_meeting(personas, "a", {"party_member": 2, "cadre": 1})


@pytest.fixture
def tokens(app, meeting):
    with app.test_request_context():
        return [svc.slip_token(meeting, n) for n in range(meeting.participant_total)]


def _anon(personas):
    client = personas.anonymous()
    csrf = client.get("/api/auth/csrf").get_json()["csrf_token"]
    return client, {"X-CSRFToken": csrf}


def _vote(client, headers, token, receipt=None, **kw):
    body = {"category": "party_member", "answers": ballot_answers(), "receipt": receipt or uuid.uuid4().hex}
    body.update(kw)
    return client.post(f"/api/ballots/{token}", json=body, headers=headers)


def test_get_ballot_without_login(personas, meeting, tokens):
    client, _h = _anon(personas)
    body = client.get(f"/api/ballots/{tokens[0]}").get_json()
    assert body["state"] == "valid"
    assert body["instrument"]["id"] == "democratic_ballot"
    assert body["meeting"]["secretary_name"] == "书记A"
    assert [c["code"] for c in body["categories"]] == ["party_member", "cadre", "villager_rep",
                                                       "poor_household_rep"]
    assert client.get("/api/ballots/not-a-real-token-xyz").status_code == 404


def test_token_counts_once(personas, meeting, tokens):
    client, headers = _anon(personas)
    receipt = uuid.uuid4().hex
    first = _vote(client, headers, tokens[0], receipt)
    assert first.status_code == 201 and first.get_json()["status"] == "stored"
    # The same page retrying after a lost response: recognised, not counted twice.
    again = _vote(client, headers, tokens[0], receipt)
    assert again.status_code == 201 and again.get_json()["status"] == "already_stored"
    # Anyone else with the same slip: refused.
    other, other_headers = _anon(personas)
    reused = _vote(other, other_headers, tokens[0])
    assert reused.status_code == 409 and reused.get_json()["state"] == "used"
    assert client.get(f"/api/ballots/{tokens[0]}").get_json()["state"] == "used"
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 1


def test_vote_needs_csrf_and_valid_answers(personas, meeting, tokens):
    client, headers = _anon(personas)
    assert _vote(client, {}, tokens[0]).status_code == 400
    bad = _vote(client, headers, tokens[0], answers={"overall": "great"})
    assert bad.status_code == 422
    assert "answers.overall" in bad.get_json()["errors"]
    assert "answers.serving_villagers" in bad.get_json()["errors"]
    assert _vote(client, headers, tokens[0], category="mayor").status_code == 422
    # Nothing was used up by the refused attempts.
    assert _vote(client, headers, tokens[0]).status_code == 201


def test_closed_meeting_refuses_votes(personas, meeting, tokens):
    client, headers = _anon(personas)
    assert _vote(client, headers, tokens[0]).status_code == 201
    svc.close_meeting(SYSTEM, db.session.get(Meeting, meeting.id))
    refused = _vote(client, headers, tokens[1])
    assert refused.status_code == 409 and refused.get_json()["state"] == "closed"
    assert client.get(f"/api/ballots/{tokens[1]}").get_json()["state"] == "closed"


def test_stored_vote_cannot_be_linked_to_its_slip(app, personas, meeting, tokens):
    client, headers = _anon(personas)
    for i, token in enumerate(tokens):
        assert _vote(client, headers, token, category=("party_member", "cadre", "party_member")[i]).status_code == 201
    # No column of a ballot refers to a token, a time, or an order.
    columns = {c["name"] for c in inspect(db.engine).get_columns("ballot")}
    assert columns == {"id", "meeting_id", "category", "answers"}
    fks = inspect(db.engine).get_foreign_keys("ballot")
    assert [fk["referred_table"] for fk in fks] == ["meeting"]
    token_columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_token")}
    assert token_columns == {"id", "meeting_id", "token_hash", "used", "receipt_hash"}
    # Tokens are stored only as hashes.
    stored = set(db.session.scalars(select(BallotToken.token_hash)))
    assert not (set(tokens) & stored)
    # Ballot ids are random, and closing re-inserts the ballots with new ids in random order.
    before = set(db.session.scalars(select(Ballot.id)))
    svc.close_meeting(SYSTEM, db.session.get(Meeting, meeting.id))
    after = set(db.session.scalars(select(Ballot.id)))
    assert len(after) == 3 and not (before & after)
    assert all(r is None for r in db.session.scalars(select(BallotToken.receipt_hash)))
    assert sorted(db.session.scalars(select(Ballot.category))) == ["cadre", "party_member", "party_member"]


def test_ballot_page_is_public_and_light(personas, meeting, tokens):
    client = personas.anonymous()
    page = client.get(f"/b/{tokens[0]}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="/static/ballot.' in html and "民主测评" in html and "<script>" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_finalised_county_refuses_votes_on_a_meeting_left_open(personas, meeting, tokens):
    # Staff may finalise with ungraded secretaries while a meeting is still open: its
    # slips must not change the raw answers under the stored (finalised) scores.
    from fieldapp.services.scoring.results import finalise

    finalise(SYSTEM, personas.cycle, personas.counties["a"].id, accept_incomplete=True)
    client, headers = _anon(personas)
    assert client.get(f"/api/ballots/{tokens[0]}").get_json()["state"] == "closed"
    refused = _vote(client, headers, tokens[0])
    assert refused.status_code == 409 and refused.get_json()["state"] == "closed"
    assert db.session.scalar(select(Ballot.id)) is None
