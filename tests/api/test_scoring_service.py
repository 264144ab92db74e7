"""The mass-evaluation service on hand-computed cases, incomplete data, and recompute."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import Draw, FirstSecretary, Visit
from fieldapp.services import meetings as msvc
from fieldapp.services import scoring
from fieldapp.services.scorecard import finalise

from .scores_helpers import (add_visits, ballot_answers, close, enter, full_village,
                             household_answers, make_meeting, run_draw, secretary, vote_all)


@pytest.fixture
def sec_c(personas):
    """A secretary for village a2 (12 households: a complete census)."""
    s = FirstSecretary(name="书记C", phone="13900000009", dispatch_level="city",
                       dispatch_unit="市财政局", village_id=personas.villages["a2"].id,
                       term_start=date(2025, 1, 1), term_end=date(2027, 12, 31))
    db.session.add(s)
    db.session.commit()
    personas.secretaries["c"] = s
    return s


def _mass(personas, key):
    s = secretary(personas, key)
    return scoring.mass_evaluations(personas.cycle, [s])[s.id]


def test_required_visits_rule():
    # 15 for a village of 20 or more; every household below 20 (the discontinuity at 20).
    assert scoring.required_visits(120, 15, 20, True) == 15
    assert scoring.required_visits(20, 15, 20, True) == 15
    assert scoring.required_visits(19, 15, 20, True) == 19
    assert scoring.required_visits(12, 15, 20, True) == 12
    assert scoring.required_visits(0, 15, 20, True) == 0
    # census_requires_all = false: min(15, eligible)
    assert scoring.required_visits(19, 15, 20, False) == 15
    assert scoring.required_visits(12, 15, 20, False) == 12


def test_hand_computed_score(personas, sec_c):
    run_draw(personas)
    hh = ([household_answers("satisfied")] * 6 + [household_answers("basically_satisfied")] * 3
          + [household_answers("satisfied", visited_home="dissatisfied")] * 2
          + [household_answers("unknown")])
    add_visits(personas, "a2", hh)
    meeting = make_meeting(personas, "c")
    vote_all(meeting, [("party_member", ballot_answers("satisfied"))] * 4
             + [("cadre", ballot_answers("basically_satisfied"))] * 2
             + [("villager_rep", ballot_answers("satisfied", overall="dissatisfied"))])
    msvc.set_tallies(None, meeting, {"poor_household_rep": {"satisfied": 2, "dissatisfied": 1}})
    close(meeting)

    m = _mass(personas, "c")
    # household index = (6x100 + 3x75 + 2x80) / 11 = 985/11 (the 不了解 household is not scored)
    assert m.household.index == pytest.approx(985 / 11)
    # meeting: 4x100 + 2x75 + 80 + paper (100, 100, 0) over 10 respondents = 83
    assert m.meeting.index == pytest.approx(83.0)
    assert m.result.n_ballots == 10 and m.result.n_visits == 12 and m.result.required_visits == 12
    # 20 x (0.5 x 985/11 + 0.5 x 83) / 100 = 189.8/11 = 17.2545... -> 17.25
    assert m.score == 17.25 and m.status == "complete"
    assert m.result.household_satisfied_share == pytest.approx(53 / 55)
    assert m.result.meeting_satisfied_share == pytest.approx(36 / 38)
    assert m.meeting_by_category["poor_household_rep"].n_respondents == 3


def test_weights_and_values_are_configurable(personas, sec_c):
    run_draw(personas)
    add_visits(personas, "a2", [household_answers("dissatisfied")] * 12)
    meeting = make_meeting(personas, "c")
    vote_all(meeting, [("cadre", ballot_answers("satisfied"))])
    close(meeting)
    assert _mass(personas, "c").score == 10.0  # 20 x (0.5 x 0 + 0.5 x 100) / 100
    cycle = personas.cycle
    cycle.settings = {"scoring": {"w_h": 0.75, "w_m": 0.25},
                      "answer_values": {"satisfaction": {"dissatisfied": 55}}}
    db.session.commit()
    # 20 x (0.75 x 55 + 0.25 x 100) / 100 = 13.25
    assert _mass(personas, "c").score == 13.25


@pytest.mark.parametrize("visits, meeting_state, reason", [
    (11, "closed", "Fewer completed household visits than required."),
    (12, None, "No evaluation meeting was held."),
    (12, "open", "The evaluation meeting is still open."),
    (12, "empty", "The evaluation meeting has no ballots."),
])
def test_incomplete_is_never_zero(personas, sec_c, visits, meeting_state, reason):
    run_draw(personas)
    add_visits(personas, "a2", [household_answers("dissatisfied")] * visits)
    if meeting_state is not None:
        meeting = make_meeting(personas, "c")
        if meeting_state != "empty":
            vote_all(meeting, [("cadre", ballot_answers("dissatisfied"))])
        if meeting_state != "open":
            close(meeting)
    m = _mass(personas, "c")
    assert m.score is None and m.status == "incomplete"
    assert reason in m.reasons


def test_village_of_30_needs_15_and_no_draw_is_incomplete(personas):
    m = _mass(personas, "a")
    assert m.score is None and scoring.NO_DRAW in m.reasons
    run_draw(personas)
    add_visits(personas, "a1", [household_answers()] * 14)
    meeting = make_meeting(personas, "a")
    vote_all(meeting, [("cadre", ballot_answers())] * 5)
    close(meeting)
    m = _mass(personas, "a")
    assert m.result.required_visits == 15 and m.score is None
    from .scores_helpers import add_visit, sample_entries

    add_visit(personas, sample_entries(personas.villages["a1"])[14], household_answers(), n=14)
    db.session.commit()
    assert _mass(personas, "a").score == 20.0


def test_voided_draw_visits_do_not_count(personas, sec_c):
    run_draw(personas)
    add_visits(personas, "a2", [household_answers()] * 12)
    draw = db.session.scalar(select(Draw).where(Draw.county_id == personas.counties["a"].id))
    draw.status = "voided"
    db.session.commit()
    m = _mass(personas, "c")
    assert m.result.n_visits == 0 and scoring.NO_DRAW in m.reasons


def test_recompute_matches_stored_results(personas, runner):
    run_draw(personas)
    full_village(personas, "a1")
    meeting = make_meeting(personas, "a")
    vote_all(meeting, [("cadre", ballot_answers("basically_satisfied"))] * 6)
    close(meeting)
    enter(personas, "a", 50, 9, 8)
    finalise(None, personas.cycle, personas.counties["a"].id)
    result = runner.invoke(args=["scores", "recompute", "--cycle", str(personas.cycle.id),
                                 "--county", personas.counties["a"].code])
    assert result.exit_code == 0, result.output
    assert "0 differences" in result.output and "mass=17.50" in result.output
    # Change a stored raw answer: the recomputed score no longer matches the stored one.
    visit = db.session.scalars(select(Visit)).first()
    visit.answers = household_answers("dissatisfied")
    db.session.commit()
    result = runner.invoke(args=["scores", "recompute", "--cycle", str(personas.cycle.id)])
    assert result.exit_code == 1
    assert "DIFF" in result.output and "household_index" in result.output
