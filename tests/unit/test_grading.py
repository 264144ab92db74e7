"""Tests for fieldapp.domain.grading: totals, grades, the 20% cap on 优秀, the recall list."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from fieldapp.domain.grading import (
    GRADE_LABELS,
    Components,
    GradedEntry,
    Thresholds,
    TieDecision,
    apply_excellent_cap,
    apply_excellent_cap_with_ties,
    excellent_cap,
    grade_entry,
    grade_for,
    recall_list,
    total,
    validate_components,
)


D = Decimal


def comp(wp=50.0, me=15.0, wd=8.0, we=8.0):
    return Components(work_performance=wp, mass_evaluation=me, work_discipline=wd, work_evaluation=we)


# --- totals and grades --------------------------------------------------------------


def test_total_is_exact_to_two_decimals():
    assert 57.97 + 18.4 + 9.03 + 4.56 == 89.96000000000001  # float drift the Decimal sum avoids
    assert total(comp(57.97, 18.4, 9.03, 4.56)) == D("89.96")
    assert total(comp(55.5, 17.89, 9, 8.6)) == D("90.99")
    assert total(comp(59.99, 0.01, 0, 0)) == D("60.00")
    assert total(comp(60, 20, 10, 10)) == D("100.00")
    assert total(comp(0, 0, 0, 0)) == D("0.00")
    assert total(comp(me=None)) is None
    assert isinstance(total(comp()), Decimal)


def test_total_of_decimal_components_is_exact():
    assert total(comp(D("40.00"), D("15.01"), D("2.49"), D("2.49"))) == D("59.99")
    assert total(comp(D("29.995"), D("20"), D("5"), D("5"))) == D("60.00")  # a sum, rounded half up


@pytest.mark.parametrize(
    "t, grade",
    [
        (100, "excellent"),
        (90, "excellent"),
        (90.0, "excellent"),
        (89.99, "competent"),
        (70, "competent"),
        (69.99, "basically_competent"),
        (60, "basically_competent"),
        (59.99, "incompetent"),
        (0, "incompetent"),
        (Decimal("89.99"), "competent"),
        (Decimal("90.00"), "excellent"),
        (89.995, "excellent"),  # shows as 90.00, so it is graded 90.00 (half up)
        (89.994, "competent"),
        (59.995, "basically_competent"),
        (0.1 + 0.2 + 59.7, "basically_competent"),  # 60.00000000000001 in floating point
        (69.99999999999999, "competent"),
    ],
)
def test_grade_boundaries(t, grade):
    assert grade_for(t) == grade


def test_custom_thresholds():
    th = Thresholds(excellent=85, competent=75, basically_competent=60)
    assert grade_for(85, th) == "excellent"
    assert grade_for(84.99, th) == "competent"
    assert grade_for(74.99, th) == "basically_competent"


@pytest.mark.parametrize("args", [(70, 90, 60), (90, 70, 70), (90, 70, -1), (90, math.nan, 60), (True, 0.5, 0.2)])
def test_bad_thresholds(args):
    with pytest.raises(ValueError):
        Thresholds(*args)


def test_labels():
    assert set(GRADE_LABELS) == {"excellent", "competent", "basically_competent", "incompetent"}


@pytest.mark.parametrize(
    "c, fields",
    [
        (comp(), []),
        (comp(0, 0, 0, 0), []),
        (comp(60, 20, 10, 10), []),
        (comp(me=None), []),
        (comp(wp=60.01), ["work_performance"]),
        (comp(wp=-1), ["work_performance"]),
        (comp(me=20.5), ["mass_evaluation"]),
        (comp(wd=10.5), ["work_discipline"]),
        (comp(we=-0.01), ["work_evaluation"]),
        (comp(wp=math.nan), ["work_performance"]),
        (comp(wp=math.inf), ["work_performance"]),
        (comp(wd=True), ["work_discipline"]),
        (comp(we="5"), ["work_evaluation"]),
        (comp(wp=None), ["work_performance"]),
        (comp(61, 21, 11, 11), ["work_performance", "mass_evaluation", "work_discipline", "work_evaluation"]),
    ],
)
def test_validate_components(c, fields):
    assert [f for f, _ in validate_components(c)] == fields


def test_grade_entry():
    e = grade_entry(7, comp(55, 18, 9, 9))  # 91
    assert (e.total, e.grade, e.status, e.capped) == (D("91.00"), "excellent", "graded", False)
    with pytest.raises(ValueError, match="work_performance"):
        grade_entry(7, comp(wp=70))


def test_incomplete_mass_evaluation_cannot_be_graded():
    e = grade_entry(7, comp(60, None, 10, 10))
    assert (e.total, e.grade, e.status) == (None, None, "incomplete")


# --- the cap ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, cap", [(0, 0), (1, 0), (4, 0), (5, 1), (9, 1), (10, 2), (14, 2), (15, 3), (679, 135), (797, 159)]
)
def test_cap_floor(n, cap):
    assert excellent_cap(n) == cap


def test_cap_is_exact_for_decimal_ratios():
    assert 0.29 * 100 < 29  # floor would give 28
    assert excellent_cap(100, 0.29) == 29
    assert excellent_cap(10, 0) == 0 and excellent_cap(10, 1) == 10


@pytest.mark.parametrize("ratio", [-0.1, 1.5, math.nan, True])
def test_bad_cap_ratio(ratio):
    with pytest.raises(ValueError):
        excellent_cap(10, ratio)


def county(specs):
    """specs: (id, work_performance, mass_evaluation) with discipline/evaluation 10 + 10."""
    return [grade_entry(i, comp(wp, me, 10, 10)) for i, wp, me in specs]


def by_id(entries):
    return {e.secretary_id: e for e in entries}


def fillers(start, n):  # competent secretaries (total 50 + 15 + 20 = 85)
    return [(i, 50, 15) for i in range(start, start + n)]


def test_cap_keeps_the_best_and_flags_the_rest():
    # 10 secretaries -> cap 2; four qualify: totals 98, 95, 92, 90
    entries = county([(1, 60, 18), (2, 60, 15), (3, 55, 17), (4, 55, 15)] + fillers(5, 6))
    out = apply_excellent_cap(entries)
    assert [e.secretary_id for e in out] == list(range(1, 11))  # input order kept
    g = by_id(out)
    assert [g[i].grade for i in (1, 2, 3, 4)] == ["excellent", "excellent", "competent", "competent"]
    assert [g[i].capped for i in (1, 2, 3, 4)] == [False, False, True, True]
    assert g[3].total == D("92.00")  # the total is unchanged, only the grade
    assert all(not g[i].capped and g[i].grade == "competent" for i in range(5, 11))
    assert entries[2].grade == "excellent"  # the input is not mutated


def test_ties_at_the_boundary_mass_evaluation_then_work_performance_never_id():
    # 10 secretaries -> cap 2. Totals: #1 = 95; #2, #3, #4, #5 = 92.
    #   #2: 54 + 18 + 20 (mass 18) loses to the mass-19 ones
    #   #3: 53 + 19 + 20, #4: 53 + 19 + 20 (equal in everything)
    #   #5: 52 + 20 + 20 (mass 20: best after #1)
    entries = county([(1, 60, 15), (2, 54, 18), (4, 53, 19), (3, 53, 19), (5, 52, 20)] + fillers(6, 5))
    assert {e.total for e in entries[1:5]} == {D("92.00")}
    g = by_id(apply_excellent_cap(entries))
    assert g[1].grade == "excellent" and g[5].grade == "excellent"
    assert all(g[i].capped and g[i].grade == "competent" for i in (2, 3, 4))
    # cap 3 (15 secretaries): #3 and #4 tie for the third place: both 待定, nobody wins by id
    entries = county([(1, 60, 15), (2, 54, 18), (4, 53, 19), (3, 53, 19), (5, 52, 20)] + fillers(6, 10))
    out = apply_excellent_cap_with_ties(entries)
    g = by_id(out.entries)
    assert [g[i].grade for i in (1, 5)] == ["excellent"] * 2
    assert g[3].grade is None and g[3].tie_pending and g[4].grade is None and g[4].tie_pending
    assert g[2].grade == "competent" and g[2].capped
    assert out.tied == frozenset({3, 4}) and out.places_in_tie == 1 and not out.decided
    # Staff decide (a recorded reason lives with the decision): #4 takes the place.
    decided = apply_excellent_cap_with_ties(entries, decision=TieDecision(frozenset({3, 4}), frozenset({4})))
    g = by_id(decided.entries)
    assert g[4].grade == "excellent" and g[3].grade == "competent" and g[3].capped and decided.decided
    # A decision for another group (the data changed since) does not apply.
    stale = apply_excellent_cap_with_ties(entries, decision=TieDecision(frozenset({3, 4, 2}), frozenset({4})))
    assert not stale.decided and by_id(stale.entries)[4].tie_pending


def test_work_performance_breaks_a_mass_evaluation_tie():
    # total 92 both, mass 18 both: 55 + 18 + 10 + 9 vs 54 + 18 + 10 + 10
    a = grade_entry(1, comp(55, 18, 10, 9))
    b = grade_entry(2, comp(54, 18, 10, 10))
    others = county(fillers(3, 3))  # 5 secretaries -> cap 1
    g = by_id(apply_excellent_cap([b, a] + others))
    assert g[1].grade == "excellent" and g[2].capped


def test_a_full_tie_is_never_broken_by_id():
    a = grade_entry("sec-b", comp(55, 18, 10, 10))
    b = grade_entry("sec-a", comp(55, 18, 10, 10))
    g = by_id(apply_excellent_cap([a, b, *[grade_entry(f"x{i}", comp()) for i in range(3)]]))
    assert g["sec-a"].tie_pending and g["sec-b"].tie_pending
    assert g["sec-a"].grade is None and g["sec-b"].grade is None


def test_tie_breakers_are_configurable():
    # Same total 92, different mass: with no tie breakers they are tied (staff decide).
    a = grade_entry(1, comp(55, 17, 10, 10))
    b = grade_entry(2, comp(54, 18, 10, 10))
    others = county(fillers(3, 3))  # 5 -> 1 place
    g = by_id(apply_excellent_cap([a, b] + others, tie_breakers=()))
    assert g[1].tie_pending and g[2].tie_pending
    g = by_id(apply_excellent_cap([a, b] + others))
    assert g[2].grade == "excellent" and g[1].capped


def test_base_counts_people_not_records():
    # 10 records but 9 people (one in two villages): floor(20% x 9) = 1 place, not 2.
    entries = county([(1, 60, 20), (2, 60, 19)] + fillers(3, 8))
    g = by_id(apply_excellent_cap(entries, base=9))
    assert g[1].grade == "excellent" and g[2].capped


def test_small_county_cap_zero():
    # 4 secretaries -> floor(0.8) = 0: even a perfect score is 称职, flagged capped
    entries = county([(1, 60, 20)] + fillers(2, 3))
    g = by_id(apply_excellent_cap(entries))
    assert g[1].total == D("100.00") and g[1].grade == "competent" and g[1].capped


def test_nine_secretaries_cap_one():
    entries = county([(1, 60, 20), (2, 60, 19)] + fillers(3, 7))
    g = by_id(apply_excellent_cap(entries))
    assert g[1].grade == "excellent" and g[2].grade == "competent" and g[2].capped


def test_under_the_cap_nobody_is_capped():
    entries = county([(1, 60, 20)] + fillers(2, 9))
    assert apply_excellent_cap(entries) == entries


def test_incomplete_entries_count_in_the_base_but_are_not_graded():
    # 9 complete + 1 incomplete = 10 -> cap 2; with 9 alone the cap would be 1.
    entries = county([(1, 60, 20), (2, 60, 19)] + fillers(3, 7)) + [grade_entry(10, comp(60, None, 10, 10))]
    g = by_id(apply_excellent_cap(entries))
    assert g[1].grade == "excellent" and g[2].grade == "excellent"
    assert g[10].grade is None and g[10].status == "incomplete" and not g[10].capped


def test_custom_ratio():
    entries = county([(1, 60, 20), (2, 60, 19), (3, 60, 18)] + fillers(4, 7))
    g = by_id(apply_excellent_cap(entries, cap_ratio=0.3))
    assert [g[i].grade for i in (1, 2, 3)] == ["excellent"] * 3


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        apply_excellent_cap(county([(1, 60, 20), (1, 50, 15)]))


def test_empty_county():
    assert apply_excellent_cap([]) == []
    assert recall_list([]) == []


# --- recall list --------------------------------------------------------------------


def test_recall_list():
    entries = [
        grade_entry(1, comp(30, 10, 5, 5)),  # 50 不称职
        grade_entry(2, comp(40, 10, 5, 4.99)),  # 59.99 不称职
        grade_entry(3, comp(40, 10, 5, 5)),  # 60 基本称职
        grade_entry(4, comp(10, None, 0, 0)),  # incomplete: not on the list
        grade_entry(5, comp(20, 5, 2, 2)),  # 29 不称职
        grade_entry(6, comp(60, 20, 10, 10)),  # 优秀
    ]
    out = recall_list(apply_excellent_cap(entries))
    assert [(e.secretary_id, e.total) for e in out] == [(5, D("29.00")), (1, D("50.00")), (2, D("59.99"))]
    assert all(isinstance(e, GradedEntry) and e.grade == "incompetent" for e in out)


# --- properties (hypothesis) ----------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

points2 = st.decimals(min_value=0, max_value=60, places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(wp=points2, me=st.decimals(min_value=0, max_value=20, places=2),
       wd=st.decimals(min_value=0, max_value=10, places=2),
       we=st.decimals(min_value=0, max_value=10, places=2))
def test_total_is_the_exact_sum_rounded_half_up(wp, me, wd, we):
    t = total(comp(wp, me, wd, we))
    exact = wp + me + wd + we
    assert t == exact.quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert grade_for(t) == grade_for(exact)  # graded on the number people see


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 4)), min_size=0, max_size=30))
def test_the_cap_is_never_exceeded_and_ties_are_never_split_by_id(specs):
    # Coarse values make many ties; ids are the positions.
    entries = [grade_entry(i, comp(48 + wp, 16 + me, 10, 10)) for i, (wp, me) in enumerate(specs)]
    out = apply_excellent_cap_with_ties(entries)
    excellent = [e for e in out.entries if e.grade == "excellent"]
    assert len(excellent) <= excellent_cap(len(entries))
    pending = [e for e in out.entries if e.tie_pending]
    # Everyone tied is pending, together: none of them was preferred for its id.
    assert {e.secretary_id for e in pending} == set(out.tied)
    keys = {(e.total, e.components.mass_evaluation, e.components.work_performance) for e in pending}
    assert len(keys) <= 1
