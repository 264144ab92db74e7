"""Helpers for the meetings/scores tests: a draw, visits stored as rows, meetings with
ballots, and scorecard entries. Visits are created directly (the sync path has its own
tests); everything else goes through the services."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import (Draw, FirstSecretary, SampleEntry, Village, VillageDraw, Visit)

BASE = datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)
HOUSEHOLD_ITEMS = ("visited_home", "assistance_satisfaction", "policy_delivered",
                   "income_improved", "overall_satisfaction")
BALLOT_ITEMS = ("overall", "stays_in_village", "branch_building", "poverty_relief",
                "serving_villagers")


def run_draw(personas, county: str = "a", seed: str = "2026 岐山 公开种子 7391") -> None:
    from fieldapp.services.draws import run_draw as svc_run

    # The seed is recorded before the visits (BASE): honest visit times.
    svc_run(SYSTEM, personas.cycle, personas.counties[county], seed, recorded_at=BASE - timedelta(days=3))


def sample_entries(village: Village, roles=("sample",)) -> list[SampleEntry]:
    return list(db.session.scalars(
        select(SampleEntry).join(VillageDraw).join(Draw)
        .where(SampleEntry.village_id == village.id, Draw.status == "active",
               SampleEntry.role.in_(roles)).order_by(SampleEntry.rank)))


def household_answers(option: str | None = None, **per_item: str) -> dict[str, Any]:
    out = {item: option or "satisfied" for item in HOUSEHOLD_ITEMS}
    out.update(per_item)
    return out


def add_visit(personas, entry: SampleEntry, answers: dict[str, Any], evaluator: str = "evaluator_a",
              n: int = 0) -> Visit:
    started = BASE + timedelta(minutes=30 * n)
    visit = Visit(client_uuid=str(uuid.uuid4()), sample_entry_id=entry.id, village_id=entry.village_id,
                  cycle_id=personas.cycle.id, evaluator_id=personas.users[evaluator].id,
                  instrument_id="household_visit", instrument_version=1, answers=answers,
                  note="户主反映情况良好", started_at=started, ended_at=started + timedelta(minutes=12),
                  lat=34.46 + 0.0003 * n, lon=107.63, accuracy_m=10.0, flags=[])
    entry.status = "visited"
    db.session.add(visit)
    db.session.flush()
    return visit


def add_visits(personas, village_key: str, answer_list: list[dict[str, Any]]) -> list[Visit]:
    village = personas.villages[village_key]
    entries = sample_entries(village)
    assert len(answer_list) <= len(entries)
    visits = [add_visit(personas, e, a, n=i) for i, (e, a) in enumerate(zip(entries, answer_list))]
    db.session.commit()
    return visits


def ballot_answers(option: str = "satisfied", **per_item: str) -> dict[str, str]:
    out = {item: option for item in BALLOT_ITEMS}
    out.update(per_item)
    return out


def make_meeting(personas, secretary: str = "a", participants: dict | None = None,
                 actor: str | None = "staff_a"):
    from fieldapp.services import meetings as svc

    user = personas.users[actor] if actor else SYSTEM
    return svc.create_meeting(user, {
        "cycle_id": personas.cycle.id, "secretary_id": personas.secretaries[secretary].id,
        "held_on": date(2026, 11, 20), "place": "村委会会议室",
        "participants": participants or {"party_member": 4, "cadre": 3, "villager_rep": 3,
                                         "poor_household_rep": 2}})


def vote_all(meeting, ballots: list[tuple[str, dict]]) -> list[str]:
    """Cast one vote per (category, answers) with fresh slips; returns the tokens used."""
    from flask import current_app

    from fieldapp.services import meetings as svc

    with current_app.test_request_context():
        tokens = [svc.slip_token(meeting, n) for n in range(meeting.participant_total)]
        for token, (category, answers) in zip(tokens, ballots):
            assert svc.cast_vote(token, category, answers, uuid.uuid4().hex) == "stored"
    return tokens[:len(ballots)]


def close(meeting) -> None:
    from fieldapp.services import meetings as svc

    svc.close_meeting(SYSTEM, db.session.get(type(meeting), meeting.id))


def secretary(personas, key: str) -> FirstSecretary:
    return db.session.get(FirstSecretary, personas.secretaries[key].id)


def full_village(personas, village_key: str = "a1", option: str = "satisfied", n: int = 20) -> None:
    add_visits(personas, village_key, [household_answers(option) for _ in range(n)])


def enter(personas, key: str, wp: float, wd: float, we: float) -> None:
    from fieldapp.services.scoring.entries import save_entry

    save_entry(SYSTEM, personas.cycle, secretary(personas, key),
               {"work_performance": wp, "work_discipline": wd, "work_evaluation": we})
