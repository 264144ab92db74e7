"""Exact points (domain/points.py) and who is assessed (domain/assessment.py)."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from fieldapp.domain.assessment import AssessmentRule, is_assessed, person_key, served_days
from fieldapp.domain.points import NotPoints, to_points

D = Decimal


@pytest.mark.parametrize("typed, points", [
    (59.995, "60.00"), ("59.995", "60.00"), (69.995, "70.00"), ("69.995", "70.00"),
    (89.995, "90.00"), ("89.995", "90.00"), (59.994, "59.99"), (21.055, "21.06"),
    (31.455, "31.46"), (50.575, "50.58"), (0, "0.00"), ("７", "7.00"), ("８.５", "8.50"), (" 8.5 ", "8.50"), ("8，5", "8.50"),
    (D("0.005"), "0.01"), (60, "60.00"),
])
def test_half_up_as_typed(typed, points):
    assert to_points(typed) == D(points) and str(to_points(typed)) == points


def test_binary_floats_round_the_wrong_way_that_points_avoid():
    assert round(59.995, 2) == 59.99 and round(21.055, 2) == 21.05  # the old behaviour
    assert to_points(59.995) == D("60.00") and to_points(21.055) == D("21.06")


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, None, "abc", "", [1], "NaN"])
def test_not_points(bad):
    with pytest.raises(NotPoints):
        to_points(bad)


@given(st.decimals(min_value=0, max_value=100, places=3))
def test_to_points_is_half_up_of_the_decimal_and_of_its_float_repr(d):
    expected = d.quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert to_points(d) == expected and to_points(str(d)) == expected
    assert to_points(float(d)) == expected  # a float typed with 3 decimals reads as typed


def test_served_days_and_the_six_month_rule():
    rule = AssessmentRule()
    assert served_days(date(2025, 1, 1), date(2026, 2, 28), 2026) == 59
    assert not is_assessed(date(2025, 1, 1), date(2026, 2, 28), 2026, rule)  # left in February
    assert not is_assessed(date(2026, 1, 1), date(2026, 6, 30), 2026, rule)  # 181 days
    assert is_assessed(date(2026, 1, 1), date(2026, 7, 2), 2026, rule)  # 183 days
    assert is_assessed(date(2026, 7, 1), None, 2026, rule)  # 184 days
    assert not is_assessed(date(2027, 1, 1), None, 2026, rule)  # not in the year at all


def test_reference_date_and_switching_rules_off():
    ref = AssessmentRule(min_months=None, reference_date=date(2026, 11, 30))
    assert is_assessed(date(2026, 11, 1), None, 2026, ref)
    assert not is_assessed(date(2025, 1, 1), date(2026, 10, 31), 2026, ref)
    both = AssessmentRule(min_months=6, reference_date=date(2026, 11, 30))
    assert is_assessed(date(2025, 1, 1), date(2026, 10, 31), 2026, both)  # 10 months
    everyone = AssessmentRule(min_months=None, reference_date=None)
    assert is_assessed(date(2026, 12, 31), None, 2026, everyone)
    with pytest.raises(ValueError):
        AssessmentRule.from_dict({"reference_date": "2025-12-31"}, 2026)
    with pytest.raises(ValueError):
        AssessmentRule.from_dict({"min_months": 13}, 2026)
    with pytest.raises(ValueError):
        AssessmentRule.from_dict({"months": 3}, 2026)


def test_person_key_is_the_phone_digits():
    assert person_key("139 0000-0007") == person_key("13900000007") == "13900000007"
