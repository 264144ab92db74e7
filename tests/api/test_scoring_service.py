"""The mass-evaluation service on hand-computed cases, incomplete data, and recompute."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import Draw, FirstSecretary, Visit
from fieldapp.services import meetings as msvc
from fieldapp.domain.county_scores import NO_DRAW, required_visits
from fieldapp.services.scoring.grades import grade_county
from fieldapp.services.scoring.inputs import load_county
from fieldapp.services.scoring.results import finalise

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


class _Mass:
    """One secretary's row and domain outcome, from the county's grading."""

    def __init__(self, personas, key):
        s = secretary(personas, key)
        # The reference path (with the loaded rows) keeps the domain outcome in `_outcome`.
        loaded = load_county(personas.cycle, s.village.county_id)
        res = grade_county(personas.cycle, s.village.county_id, loaded)
        assert res["rows"] == grade_county(personas.cycle, s.village.county_id)["rows"]
        self.row = next(r for r in res["rows"] + res["not_assessed"] if r["secretary_id"] == s.id)
        self.outcome = next(o for o in res["_outcome"].secretaries if o.secretary_id == s.id)
        self.household, self.meeting, self.result = (self.outcome.household, self.outcome.meeting,
                                                     self.outcome.mass)
        self.score, self.status = self.row["mass_evaluation"], self.row["mass_status"]
        self.reasons = self.row["mass_reasons"]


_mass = _Mass


def test_required_visits_rule():
    # 15 for a village of 20 or more; every household below 20 (the discontinuity at 20).
    assert required_visits(120, 15, 20, True) == 15
    assert required_visits(20, 15, 20, True) == 15
    assert required_visits(19, 15, 20, True) == 19
    assert required_visits(12, 15, 20, True) == 12
    assert required_visits(0, 15, 20, True) == 0
    # census_requires_all = false: min(15, eligible)
    assert required_visits(19, 15, 20, False) == 15
    assert required_visits(12, 15, 20, False) == 12


def test_hand_computed_score(personas, sec_c):
    run_draw(personas)
    hh = ([household_answers("satisfied")] * 6 + [household_answers("basically_satisfied")] * 3
          + [household_answers("satisfied", visited_home="dissatisfied")] * 2
          + [household_answers("unknown")])
    visits = add_visits(personas, "a2", hh)
    meeting = make_meeting(personas, "c", {"party_member": 4, "cadre": 3, "villager_rep": 3,
                                           "poor_household_rep": 3})
    vote_all(meeting, [("party_member", ballot_answers("satisfied"))] * 4
             + [("cadre", ballot_answers("basically_satisfied"))] * 2
             + [("villager_rep", ballot_answers("satisfied", overall="dissatisfied"))])
    msvc.set_tallies(SYSTEM, meeting, {"poor_household_rep": {"satisfied": 2, "dissatisfied": 1}})
    close(meeting)

    m = _mass(personas, "c")
    # household index = (6x100 + 3x75 + 2x80) / 11 = 985/11 (the 不了解 household is not scored)
    assert m.household.index == pytest.approx(985 / 11)
    # meeting: 4x100 + 2x75 + 80 + paper (100, 100, 0) over 10 respondents = 83
    assert m.meeting.index == pytest.approx(83.0)
    # A census village of 12: the all-不了解 visit does not count toward the 12 required.
    assert m.result.n_ballots == 10 and m.result.n_visits == 11 and m.result.required_visits == 12
    assert m.row["n_visits_unscored"] == 1
    assert m.score is None and "Fewer completed household visits than required." in m.reasons
    # A later visit of that household (staff rejected the first) with one scored answer.
    from .scores_helpers import add_visit

    first = db.session.get(Visit, visits[-1].id)
    first.review_status = "rejected"
    add_visit(personas, first.sample_entry, household_answers("unknown", overall_satisfaction="satisfied"), n=12)
    db.session.commit()
    m = _mass(personas, "c")
    # household index = (985 + 100) / 12; 20 x (0.5 x 1085/12 + 0.5 x 83) / 100 = 17.3416... -> 17.34
    assert m.household.index == pytest.approx(1085 / 12)
    assert m.result.n_visits == 12 and m.score == Decimal("17.34") and m.status == "complete"
    assert m.row["household_satisfied_share"] == Decimal("0.9643")  # 54/56, half up to 4 places
    assert m.row["meeting_satisfied_share"] == Decimal("0.9474")  # 36/38
    assert m.outcome.meeting_categories.count("poor_household_rep") == 3


def test_weights_and_values_are_configurable(personas, sec_c):
    run_draw(personas)
    add_visits(personas, "a2", [household_answers("dissatisfied")] * 12)
    meeting = make_meeting(personas, "c")
    vote_all(meeting, [("cadre", ballot_answers("satisfied"))])
    close(meeting)
    assert _mass(personas, "c").score == Decimal("10.00")  # 20 x (0.5 x 0 + 0.5 x 100) / 100
    cycle = personas.cycle
    cycle.settings = {"scoring": {"w_h": 0.75, "w_m": 0.25},
                      "answer_values": {"satisfaction": {"dissatisfied": 55}}}
    db.session.commit()
    # 20 x (0.75 x 55 + 0.25 x 100) / 100 = 13.25
    assert _mass(personas, "c").score == Decimal("13.25")


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
    assert m.score is None and NO_DRAW in m.reasons
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
    assert _mass(personas, "a").score == Decimal("20.00")


def test_voided_draw_visits_do_not_count(personas, sec_c):
    run_draw(personas)
    add_visits(personas, "a2", [household_answers()] * 12)
    draw = db.session.scalar(select(Draw).where(Draw.county_id == personas.counties["a"].id))
    draw.status = "voided"
    db.session.commit()
    m = _mass(personas, "c")
    assert m.result.n_visits == 0 and NO_DRAW in m.reasons


def test_recompute_matches_stored_results(personas, runner):
    run_draw(personas)
    full_village(personas, "a1")
    meeting = make_meeting(personas, "a")
    vote_all(meeting, [("cadre", ballot_answers("basically_satisfied"))] * 6)
    close(meeting)
    enter(personas, "a", 50, 9, 8)
    finalise(SYSTEM, personas.cycle, personas.counties["a"].id)
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
    # ...and names which inputs changed since finalising.
    assert "inputs changed since finalising: visits" in result.output
