"""Query budget: the scores page and the scores API send the same number of SQL
statements for a county of 3 villages and one of 30 (per-row queries cannot return),
provisional (computed now, set-based) and finalised (stored results) alike."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from fieldapp.extensions import db
from fieldapp.models import (Ballot, FirstSecretary, Meeting, ScorecardEntry, Town, Visit)
from fieldapp.services.scoring.results import finalise
from tests.personas import make_village

from .scores_helpers import ballot_answers, household_answers, run_draw, sample_entries

UTC = timezone.utc


@contextmanager
def statements():
    """The SQL statements sent while the block runs (before_cursor_execute)."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def county_of(personas, key: str, n_villages: int) -> int:
    """The persona county `key` grown to `n_villages` villages, each with a secretary,
    visits, a closed meeting with ballots and a scorecard entry."""
    county = personas.counties[key]
    town = db.session.scalar(select(Town).where(Town.county_id == county.id))
    have = 2
    for k in range(have, n_villages):
        make_village(county, town, f"{county.code}7{k:05d}", f"预算{k}村", 8 + k % 5, 34.4, 107.6)
    db.session.commit()
    run_draw(personas, key)
    villages = [v for v in personas.villages.values() if v.county_id == county.id]
    villages += list(db.session.scalars(select(type(villages[0])).where(
        type(villages[0]).county_id == county.id, type(villages[0]).name.like("预算%"))))
    for n, v in enumerate(villages):
        s = db.session.scalar(select(FirstSecretary).where(FirstSecretary.village_id == v.id))
        if s is None:
            s = FirstSecretary(name=f"预算书记{key}{n}", phone=f"185{ord(key)}{n:06d}",
                               dispatch_level="county", dispatch_unit="县财政局",
                               village_id=v.id, term_start=date(2025, 1, 1))
            db.session.add(s)
            db.session.flush()
        for i, e in enumerate(sample_entries(v)[:4]):
            started = datetime(2026, 4, 1, 2, tzinfo=UTC) + timedelta(minutes=20 * i)
            db.session.add(Visit(
                client_uuid=str(uuid.uuid4()), sample_entry_id=e.id, village_id=v.id,
                cycle_id=personas.cycle.id, evaluator_id=personas.users[f"evaluator_{key}"].id,
                instrument_id="household_visit", instrument_version=1,
                answers=household_answers("satisfied" if i % 2 else "basically_satisfied"),
                started_at=started, ended_at=started + timedelta(minutes=10), lat=34.4,
                lon=107.6, accuracy_m=10.0, flags=[], review_status="pending"))
        m = Meeting(cycle_id=personas.cycle.id, secretary_id=s.id, village_id=v.id,
                    held_on=date(2026, 6, 1), place="村委会", participants={"cadre": 3},
                    instrument_id="democratic_ballot", instrument_version=1, status="closed",
                    token_salt=uuid.uuid4().hex)
        db.session.add(m)
        db.session.flush()
        for _ in range(3):
            db.session.add(Ballot(meeting_id=m.id, category="cadre", answers=ballot_answers()))
        db.session.add(ScorecardEntry(cycle_id=personas.cycle.id, secretary_id=s.id,
                                      village_id=v.id, work_performance=Decimal("50.00"),
                                      work_discipline=Decimal("9.00"),
                                      work_evaluation=Decimal("9.00"), seven_ones={}))
    db.session.commit()
    return county.id


def _counts(personas, login_as, county_id: int) -> dict[str, int]:
    client = login_as("admin")
    cycle_id = personas.cycle.id
    out = {}
    for name, url in (("page", f"/staff/scores?cycle_id={cycle_id}&county_id={county_id}"),
                      ("api", f"/api/scores?cycle_id={cycle_id}&county_id={county_id}")):
        client.get(url)  # warm: first-request work (instruments, translations) is not per row
        with statements() as sent:
            response = client.get(url)
        assert response.status_code == 200, response.data[:500]
        out[name] = len(sent)
    return out


@pytest.mark.parametrize("finalised", [False, True], ids=["provisional", "finalised"])
def test_scores_page_and_api_statements_do_not_grow_with_villages(personas, login_as, finalised):
    small = county_of(personas, "a", 3)
    large = county_of(personas, "b", 30)
    rows = {}
    if finalised:
        for cid in (small, large):
            finalise(personas.users["admin"], personas.cycle, cid, accept_incomplete=True)
    for cid in (small, large):
        rows[cid] = len(login_as("admin").get(
            f"/api/scores?cycle_id={personas.cycle.id}&county_id={cid}").get_json()["rows"])
    assert rows == {small: 3, large: 30}
    assert _counts(personas, login_as, small) == _counts(personas, login_as, large)
