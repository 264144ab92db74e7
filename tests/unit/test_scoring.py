"""Tests for fieldapp.domain.scoring (群众评议, 0-20). The arithmetic is in the comments."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction

import pytest

from fieldapp.domain.scoring import (
    DEFAULT_VALUES,
    PUBLISHED_ALT_VALUES,
    IndexResult,
    ScoringConfig,
    ScoringConfigError,
    item_mean,
    mass_evaluation_score,
    round2,
)

Dec = Decimal
ITEMS = ["q1", "q2", "q3"]
S, B, D, U = "satisfied", "basically_satisfied", "dissatisfied", "unknown"

# Four households. "visited" is a factual yes/no item outside the scored items.
HOUSEHOLDS = [
    {"q1": S, "q2": B, "q3": U},  # (100 + 75) / 2       = 87.5
    {"q1": S, "q2": S, "q3": D},  # (100 + 100 + 0) / 3  = 66.666...
    {"q1": U, "q2": U, "q3": U},  # nothing scored: counts as a visit, not in the index
    {"q1": B, "q2": B, "q3": B, "visited": "yes"},  # 75
]
# index = (87.5 + 200/3 + 75) / 3 = (525 + 400 + 450) / 18 = 1375/18 = 76.3888...
# (pooling all 8 scored answers would give 600/8 = 75: the respondent mean is the documented choice)
HOUSEHOLD_INDEX = Fraction(1375, 18)

# Ten ballots, one item: 6 x 100 + 3 x 75 + 1 x 0 = 825 -> 82.5
BALLOTS = [{"overall": S}] * 6 + [{"overall": B}] * 3 + [{"overall": D}]


def test_household_index_by_hand():
    r = item_mean(HOUSEHOLDS, DEFAULT_VALUES, ITEMS)
    assert r.index == pytest.approx(76.38888888888889)
    assert r.exact_index == HOUSEHOLD_INDEX
    assert r.n_respondents == 4
    assert r.n_scored_respondents == 3
    assert r.n_scored_answers == 8
    # 满意率: (satisfied + basically) / scored answers = (2 + 2 + 3) / 8
    assert r.satisfied_share == 7 / 8
    assert r.distribution == {S: 3, B: 4, D: 1, U: 4}  # unknown counted, not scored


def test_meeting_index_by_hand():
    r = item_mean(BALLOTS, DEFAULT_VALUES, ["overall"])
    assert r.index == 82.5
    assert r.satisfied_share == 0.9
    assert r.distribution == {S: 6, B: 3, D: 1, U: 0}


def test_alternative_values_100_75_55():
    # households: 87.5, (100 + 100 + 55)/3 = 85, 75 -> 247.5 / 3 = 82.5
    h = item_mean(HOUSEHOLDS, PUBLISHED_ALT_VALUES, ITEMS)
    assert h.index == 82.5
    # ballots: (600 + 225 + 55) / 10 = 88
    m = item_mean(BALLOTS, PUBLISHED_ALT_VALUES, ["overall"])
    assert m.index == 88
    # 20 x (0.5 x 82.5 + 0.5 x 88) / 100 = 20 x 85.25 / 100 = 17.05
    e = mass_evaluation_score(h, m, village_eligible_count=3, meeting_held=True)
    assert e.score == Dec("17.05") and e.status == "complete" and e.reasons == []


def test_unknown_only_is_not_scored():
    r = item_mean([{"q1": U, "q2": U}], DEFAULT_VALUES, ITEMS)
    assert r.index is None and r.satisfied_share is None
    assert r.n_respondents == 1 and r.n_scored_answers == 0 and r.n_scored_respondents == 0


def test_no_answers():
    r = item_mean([], DEFAULT_VALUES, ITEMS)
    assert r.index is None and r.n_respondents == 0 and r.distribution == {S: 0, B: 0, D: 0, U: 0}


def test_unanswered_and_unscored_items_are_ignored():
    r = item_mean([{"q1": S, "visited": "no"}, {"q9": D, "q2": B}], DEFAULT_VALUES, ITEMS)
    assert r.index == (100 + 75) / 2
    assert r.n_scored_answers == 2


def test_unknown_option_is_an_error():
    with pytest.raises(ValueError, match="very_satisfied"):
        item_mean([{"q1": "very_satisfied"}], DEFAULT_VALUES, ITEMS)


def test_custom_options_and_positive_set():
    values = {"excellent": 100, "competent": 80, "basically_competent": 60, "incompetent": 0}
    ballots = [{"g": "excellent"}, {"g": "competent"}, {"g": "incompetent"}, {"g": "competent"}]
    r = item_mean(ballots, values, ["g"], positive_options=frozenset({"excellent", "competent"}))
    assert r.index == (100 + 80 + 0 + 80) / 4  # 65
    assert r.satisfied_share == 3 / 4


# --- the score ----------------------------------------------------------------------


def test_score_by_hand_equal_weights():
    h = item_mean(HOUSEHOLDS, DEFAULT_VALUES, ITEMS)
    m = item_mean(BALLOTS, DEFAULT_VALUES, ["overall"])
    # 20 x (0.5 x 1375/18 + 0.5 x 82.5) / 100 = (38.19444 + 41.25) / 5 = 15.88888 -> 15.89
    e = mass_evaluation_score(h, m, village_eligible_count=3, meeting_held=True)
    assert e.score == Dec("15.89")
    assert e.household_index == pytest.approx(76.388888)
    assert e.meeting_index == 82.5
    assert e.household_satisfied_share == 0.875 and e.meeting_satisfied_share == 0.9
    assert (e.n_visits, e.required_visits, e.n_ballots) == (3, 3, 10)  # household C (all 不了解) is visited but not counted


def test_score_by_hand_custom_weights():
    h = item_mean(HOUSEHOLDS, DEFAULT_VALUES, ITEMS)
    m = item_mean(BALLOTS, DEFAULT_VALUES, ["overall"])
    # 20 x (0.7 x 76.38889 + 0.3 x 82.5) / 100 = 0.2 x (53.47222 + 24.75) = 15.64444 -> 15.64
    e = mass_evaluation_score(h, m, w_h=0.7, w_m=0.3, village_eligible_count=3, meeting_held=True)
    assert e.score == Dec("15.64")
    # a 10-point scale: 10 x 78.22222 / 100 = 7.82
    e = mass_evaluation_score(h, m, w_h=0.7, w_m=0.3, max_points=10, village_eligible_count=3, meeting_held=True)
    assert e.score == Dec("7.82")


def full_village(n_satisfied=8, n_basic=8):
    # n households answering all items satisfied (100) and n all basically satisfied (75)
    answers = [{q: S for q in ITEMS}] * n_satisfied + [{q: B for q in ITEMS}] * n_basic
    return item_mean(answers, DEFAULT_VALUES, ITEMS)


MEETING = item_mean(BALLOTS, DEFAULT_VALUES, ["overall"])


def test_full_village_score():
    # household index (8 x 100 + 8 x 75) / 16 = 87.5; 20 x (43.75 + 41.25) / 100 = 17.00
    e = mass_evaluation_score(full_village(), MEETING, village_eligible_count=120, meeting_held=True)
    assert e.score == Dec("17.0") and e.status == "complete" and e.required_visits == 15


def test_perfect_and_zero():
    best = item_mean([{"q1": S}] * 15, DEFAULT_VALUES, ITEMS)
    worst = item_mean([{"q1": D}] * 15, DEFAULT_VALUES, ITEMS)
    best_m = item_mean([{"o": S}], DEFAULT_VALUES, ["o"])
    worst_m = item_mean([{"o": D}], DEFAULT_VALUES, ["o"])
    assert mass_evaluation_score(best, best_m, village_eligible_count=30, meeting_held=True).score == Dec("20")
    zero = mass_evaluation_score(worst, worst_m, village_eligible_count=30, meeting_held=True)
    assert zero.score == Dec("0") and zero.status == "complete"  # a real zero is complete


def test_rounding_is_half_up_on_the_exact_value():
    # 20 x (0.5 x 80.05 + 0.5 x 80) / 100 = 16.005 exactly -> 16.01 (naive float rounding gives 16.0)
    h = IndexResult(80.05, 20, 60, None, {}, n_scored_respondents=20)
    m = IndexResult(80.0, 10, 10, None, {}, n_scored_respondents=10)
    assert round(20 * (0.5 * 80.05 + 0.5 * 80) / 100, 2) == 16.0
    assert mass_evaluation_score(h, m, village_eligible_count=30, meeting_held=True).score == Dec("16.01")


def test_round2():
    assert round2(Fraction(2675, 1000)) == Dec("2.68")  # round(2.675, 2) would give 2.67
    assert round2(Fraction(1, 3)) == Dec("0.33")
    assert round2(Fraction(-2675, 1000)) == Dec("-2.68")
    assert round2(Fraction(20)) == Dec("20.00") and str(round2(Fraction(20))) == "20.00"


# --- incomplete data: a score of None with reasons, never a silent zero -------------

VISITS = "Fewer completed household visits than required."


@pytest.mark.parametrize(
    "visits, eligible, complete",
    [
        (14, 120, False),  # fewer than 15
        (15, 120, True),
        (20, 120, True),
        (11, 12, False),  # a village of 12 needs all 12
        (12, 12, True),
        (15, 18, True),  # min(15, 18) = 15: see docs/algorithms.md
        (14, 18, False),
    ],
)
def test_minimum_visits(visits, eligible, complete):
    h = item_mean([{"q1": S}] * visits, DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, MEETING, village_eligible_count=eligible, meeting_held=True)
    assert e.required_visits == min(15, eligible)
    if complete:
        assert e.status == "complete" and e.score == Dec("18.25")  # 20 x (0.5 x 100 + 0.5 x 82.5) / 100
    else:
        assert e.status == "incomplete" and e.score is None and e.reasons == [VISITS]


def test_custom_min_visits():
    h = item_mean([{"q1": S}] * 10, DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, MEETING, min_visits=10, village_eligible_count=50, meeting_held=True)
    assert e.status == "complete"


def test_no_meeting():
    e = mass_evaluation_score(full_village(), item_mean([], DEFAULT_VALUES, ["o"]),
                              village_eligible_count=50, meeting_held=False)
    assert e.score is None and e.reasons == ["No evaluation meeting was held."]
    assert e.meeting_index is None and e.n_ballots == 0


def test_meeting_without_ballots():
    e = mass_evaluation_score(full_village(), item_mean([], DEFAULT_VALUES, ["o"]),
                              village_eligible_count=50, meeting_held=True)
    assert e.score is None and e.reasons == ["The evaluation meeting has no ballots."]


def test_meeting_with_only_unscored_ballots():
    m = item_mean([{"o": U}] * 5, DEFAULT_VALUES, ["o"])
    e = mass_evaluation_score(full_village(), m, village_eligible_count=50, meeting_held=True)
    assert e.score is None and e.reasons == ["No meeting ballot gave a scored answer."]


def test_households_all_unknown():
    h = item_mean([{"q1": U}] * 20, DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, MEETING, village_eligible_count=50, meeting_held=True)
    # 20 completed visits, none with a scored answer: none counts toward the minimum.
    assert e.score is None and e.reasons == ["Fewer completed household visits than required.",
                                             "No household gave a scored answer."]
    assert e.n_visits == 0 and e.n_visits_unscored == 20


def test_a_visit_with_no_scored_answer_does_not_count_toward_the_minimum():
    # 15 visits needed; 14 scored and one all 不了解: incomplete.
    h = item_mean([{"q1": S}] * 14 + [{"q1": U, "q2": U, "q3": U}], DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, MEETING, village_eligible_count=50, meeting_held=True)
    assert e.status == "incomplete" and e.reasons == [VISITS]
    assert e.n_visits == 14 and e.n_visits_unscored == 1
    h = item_mean([{"q1": S}] * 15 + [{"q1": U}], DEFAULT_VALUES, ITEMS)
    assert mass_evaluation_score(h, MEETING, village_eligible_count=50, meeting_held=True).status == "complete"


def test_no_eligible_households():
    h = item_mean([], DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, MEETING, village_eligible_count=0, meeting_held=True)
    assert e.required_visits == 0
    assert e.score is None and e.reasons == ["No household gave a scored answer."]


def test_several_reasons():
    h = item_mean([{"q1": S}] * 3, DEFAULT_VALUES, ITEMS)
    e = mass_evaluation_score(h, item_mean([], DEFAULT_VALUES, ["o"]), village_eligible_count=50, meeting_held=False)
    assert e.reasons == [VISITS, "No evaluation meeting was held."]


def test_zero_weight_part_is_not_required():
    # w_m = 0: households only, no meeting needed. 20 x 87.5 / 100 = 17.5
    e = mass_evaluation_score(full_village(), item_mean([], DEFAULT_VALUES, ["o"]), w_h=1, w_m=0,
                              village_eligible_count=50, meeting_held=False)
    assert e.status == "complete" and e.score == Dec("17.5")
    # w_h = 0: the meeting only. 20 x 82.5 / 100 = 16.5
    e = mass_evaluation_score(item_mean([], DEFAULT_VALUES, ITEMS), MEETING, w_h=0, w_m=1,
                              village_eligible_count=50, meeting_held=True)
    assert e.status == "complete" and e.score == Dec("16.5")


@pytest.mark.parametrize(
    "w_h, w_m", [(0.6, 0.6), (0.5, 0.4), (-0.1, 1.1), (True, 0), (math.nan, 0.5), ("0.5", 0.5), (None, 1)]
)
def test_bad_weights(w_h, w_m):
    with pytest.raises(ValueError):
        mass_evaluation_score(full_village(), MEETING, w_h=w_h, w_m=w_m, village_eligible_count=50, meeting_held=True)


def test_weights_summing_to_one_in_floating_point():
    e = mass_evaluation_score(full_village(), MEETING, w_h=1 / 3, w_m=2 / 3,
                              village_eligible_count=50, meeting_held=True)
    # 20 x (87.5/3 + 2 x 82.5/3) / 100 = 20 x 84.1666 / 100 = 16.8333 -> 16.83
    assert e.score == Dec("16.83")


def test_bad_eligible_count():
    with pytest.raises(ValueError):
        mass_evaluation_score(full_village(), MEETING, village_eligible_count=-1, meeting_held=True)


# --- configuration ------------------------------------------------------------------


def test_config_defaults_and_roundtrip():
    cfg = ScoringConfig()
    assert (cfg.w_h, cfg.w_m, cfg.max_points, cfg.min_visits) == (0.5, 0.5, 20, 15)
    assert cfg.household_values == DEFAULT_VALUES and cfg.meeting_values == DEFAULT_VALUES
    data = json.loads(json.dumps(cfg.to_dict()))
    assert data["household_values"]["unknown"] is None
    assert ScoringConfig.from_dict(data) == cfg
    assert ScoringConfig.from_dict({}) == cfg


def test_config_custom():
    cfg = ScoringConfig.from_dict({"household_values": PUBLISHED_ALT_VALUES, "w_h": 0.6, "w_m": 0.4})
    assert cfg.household_values["dissatisfied"] == 55 and cfg.meeting_values["dissatisfied"] == 0
    assert ScoringConfig.from_dict(cfg.to_dict()) == cfg


def test_config_defaults_are_not_shared():
    a = ScoringConfig()
    a.household_values["satisfied"] = 1
    assert ScoringConfig().household_values["satisfied"] == 100 and DEFAULT_VALUES["satisfied"] == 100


@pytest.mark.parametrize(
    "data, fields",
    [
        ({"w_h": 0.7}, ["w_m"]),  # 0.7 + 0.5 != 1
        ({"w_h": -0.5, "w_m": 1.5}, ["w_h"]),
        ({"max_points": 0}, ["max_points"]),
        ({"min_visits": 0}, ["min_visits"]),
        ({"min_visits": 2.5}, ["min_visits"]),
        ({"min_visits": True}, ["min_visits"]),
        ({"household_values": {"satisfied": 101}}, ["household_values"]),
        ({"meeting_values": {"satisfied": None}}, ["meeting_values"]),
        ({"meeting_values": {}}, ["meeting_values"]),
        ({"meeting_values": ["satisfied"]}, ["meeting_values"]),
        ({"household_values": {"satisfied": "100"}}, ["household_values"]),
        ({"min_visits": 0, "max_points": -1}, ["max_points", "min_visits"]),
        ({"colour": "red"}, ["colour"]),
    ],
)
def test_config_errors(data, fields):
    with pytest.raises(ScoringConfigError) as info:
        ScoringConfig.from_dict(data)
    assert [f for f, _ in info.value.errors] == fields
    assert all(isinstance(m, str) and m for _, m in info.value.errors)
