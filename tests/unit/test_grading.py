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
    apply_excellent_cap,
    excellent_cap,
    grade_entry,
    grade_for,
    recall_list,
    total,
    validate_components,
)


def comp(wp=50.0, me=15.0, wd=8.0, we=8.0):
    return Components(work_performance=wp, mass_evaluation=me, work_discipline=wd, work_evaluation=we)


# --- totals and grades --------------------------------------------------------------


def test_total_is_exact_to_two_decimals():
    assert 57.97 + 18.4 + 9.03 + 4.56 == 89.96000000000001  # float drift the Decimal sum avoids
    assert total(comp(57.97, 18.4, 9.03, 4.56)) == 89.96
    assert total(comp(55.5, 17.89, 9, 8.6)) == 90.99
    assert total(comp(59.99, 0.01, 0, 0)) == 60.0
    assert total(comp(60, 20, 10, 10)) == 100.0
    assert total(comp(0, 0, 0, 0)) == 0.0
    assert total(comp(me=None)) is None


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
    assert (e.total, e.grade, e.status, e.capped) == (91.0, "excellent", "graded", False)
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
    assert g[3].total == 92.0  # the total is unchanged, only the grade
    assert all(not g[i].capped and g[i].grade == "competent" for i in range(5, 11))
    assert entries[2].grade == "excellent"  # the input is not mutated


def test_ties_at_the_boundary_mass_evaluation_then_work_performance_then_id():
    # 10 secretaries -> cap 2. Totals: #1 = 95; #2, #3, #4, #5 = 92.
    #   #2: 54 + 18 + 20 (mass 18) loses to the mass-19 ones
    #   #3: 53 + 19 + 20, #4: 53 + 19 + 20 (equal in everything: lower id wins)
    #   #5: 52 + 20 + 20 (mass 20: best after #1)
    entries = county([(1, 60, 15), (2, 54, 18), (4, 53, 19), (3, 53, 19), (5, 52, 20)] + fillers(6, 5))
    assert {e.total for e in entries[1:5]} == {92.0}
    g = by_id(apply_excellent_cap(entries))
    assert g[1].grade == "excellent" and g[5].grade == "excellent"
    assert all(g[i].capped and g[i].grade == "competent" for i in (2, 3, 4))
    # cap 3 (15 secretaries): the next is #3 (mass 19, id 3 < 4)
    entries = county([(1, 60, 15), (2, 54, 18), (4, 53, 19), (3, 53, 19), (5, 52, 20)] + fillers(6, 10))
    g = by_id(apply_excellent_cap(entries))
    assert [g[i].grade for i in (1, 5, 3, 4, 2)] == ["excellent"] * 3 + ["competent"] * 2


def test_work_performance_breaks_a_mass_evaluation_tie():
    # total 92 both, mass 18 both: 55 + 18 + 10 + 9 vs 54 + 18 + 10 + 10
    a = grade_entry(1, comp(55, 18, 10, 9))
    b = grade_entry(2, comp(54, 18, 10, 10))
    others = county(fillers(3, 3))  # 5 secretaries -> cap 1
    g = by_id(apply_excellent_cap([b, a] + others))
    assert g[1].grade == "excellent" and g[2].capped


def test_string_ids_sort_ascending():
    a = grade_entry("sec-b", comp(55, 18, 10, 10))
    b = grade_entry("sec-a", comp(55, 18, 10, 10))
    g = by_id(apply_excellent_cap([a, b, *[grade_entry(f"x{i}", comp()) for i in range(3)]]))
    assert g["sec-a"].grade == "excellent" and g["sec-b"].capped


def test_small_county_cap_zero():
    # 4 secretaries -> floor(0.8) = 0: even a perfect score is 称职, flagged capped
    entries = county([(1, 60, 20)] + fillers(2, 3))
    g = by_id(apply_excellent_cap(entries))
    assert g[1].total == 100.0 and g[1].grade == "competent" and g[1].capped


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
    assert [(e.secretary_id, e.total) for e in out] == [(5, 29.0), (1, 50.0), (2, 59.99)]
    assert all(isinstance(e, GradedEntry) and e.grade == "incompetent" for e in out)
