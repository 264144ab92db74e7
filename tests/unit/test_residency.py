"""Residency days, leave and the work-discipline suggestion (fieldapp.domain.residency)."""

from __future__ import annotations

import math
import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from fieldapp.domain.residency import (
    SHANGHAI,
    CheckInFact,
    ConfigError,
    DisciplineConfig,
    LeavePeriod,
    SpotCheckFact,
    annual_leave_days,
    leave_over_limit,
    local_day,
    monthly_residency,
    shanghai_today,
    spot_check_absences,
    spot_check_grade_cap,
    suggest_discipline_score,
    validate_leave,
)

UTC = timezone.utc


def ci(y: int, m: int, d: int, hour: int = 9, inside: bool = True, counted: bool = True):
    """A check-in at a Shanghai wall-clock time."""
    return CheckInFact(datetime(y, m, d, hour, tzinfo=SHANGHAI), inside, counted)


def days_in(y: int, m: int, ds) -> list[CheckInFact]:
    return [ci(y, m, d) for d in ds]


def approved(a: date, b: date) -> LeavePeriod:
    return LeavePeriod(a, b, "approved")


def statuses(report) -> dict[int, str]:
    return {s.day.day: s.status for s in report.days}


# --- Shanghai days whatever the server's TZ --------------------------------------------


@pytest.fixture(params=["America/Los_Angeles", "UTC", "Asia/Shanghai"])
def server_tz(request):
    """Run the test with the process TZ set to a zone; restore it afterwards."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_local_day_crosses_midnight_in_shanghai(server_tz):
    assert local_day(datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)) == date(2026, 3, 31)
    assert local_day(datetime(2026, 3, 31, 16, 0, tzinfo=UTC)) == date(2026, 4, 1)
    assert local_day(datetime(2026, 3, 31, 17, 30, tzinfo=UTC)) == date(2026, 4, 1)
    la = datetime(2026, 3, 31, 10, 30, tzinfo=timezone(timedelta(hours=-7)))  # = 17:30Z
    assert local_day(la) == date(2026, 4, 1)
    assert shanghai_today(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == date(2027, 1, 1)


def test_utc_evening_checkin_belongs_to_next_shanghai_month(server_tz):
    late = CheckInFact(datetime(2026, 3, 31, 17, 30, tzinfo=UTC), True)
    april = monthly_residency(2026, 4, [late], [], [])
    march = monthly_residency(2026, 3, [late], [], [])
    assert april.days[0].status == "present" and april.days_present == 1
    assert march.days_present == 0 and march.checkin_count == 0


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        local_day(datetime(2026, 3, 1, 9))


# --- month shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "n_days"),
    [(2026, 1, 31), (2026, 2, 28), (2028, 2, 29), (2026, 4, 30), (2026, 12, 31)],
)
def test_month_ends(year, month, n_days):
    r = monthly_residency(year, month, days_in(year, month, range(1, 21)), [], [])
    assert r.days_in_month == n_days == len(r.days)
    assert r.days[-1].day == date(year, month, n_days)
    assert (r.days_present, r.days_absent, r.required_days) == (20, n_days - 20, 20)
    assert r.compliant is True and r.in_progress is False


def test_leap_day_checkin_counts():
    r = monthly_residency(2028, 2, [ci(2028, 2, 29)], [], [])
    assert statuses(r)[29] == "present"


def test_nineteen_days_is_not_enough():
    r = monthly_residency(2026, 1, days_in(2026, 1, range(1, 20)), [], [])
    assert r.days_present == 19 and r.compliant is False


# --- what makes a day present ----------------------------------------------------------


def test_outside_fence_checkin_is_recorded_but_not_present():
    r = monthly_residency(2026, 3, [ci(2026, 3, 2, inside=False),
                                    ci(2026, 3, 3, inside=False), ci(2026, 3, 3, 18)], [], [])
    d2, d3 = r.days[1], r.days[2]
    assert (d2.status, d2.checkin_count, d2.outside_count) == ("absent", 1, 1)
    assert (d3.status, d3.checkin_count, d3.outside_count) == ("present", 2, 1)
    assert (r.checkin_count, r.outside_fence_count) == (3, 2)


def test_uncounted_checkin_does_not_make_a_day():
    r = monthly_residency(2026, 3, [ci(2026, 3, 2, counted=False)], [], [])
    assert r.days[1].status == "absent" and r.days[1].checkin_count == 0
    assert r.uncounted_count == 1 and r.checkin_count == 0


def test_several_checkins_one_day_count_once():
    r = monthly_residency(2026, 3, [ci(2026, 3, 2, h) for h in (8, 12, 20)], [], [])
    assert r.days_present == 1 and r.days[1].checkin_count == 3


# --- leave -----------------------------------------------------------------------------


def test_present_on_leave_is_present_not_double_counted():
    leave = [approved(date(2026, 3, 1), date(2026, 3, 5))]
    r = monthly_residency(2026, 3, days_in(2026, 3, [3, 4]), leave, [])
    s = statuses(r)
    assert [s[d] for d in range(1, 7)] == ["leave", "leave", "present", "present", "leave",
                                           "absent"]
    assert (r.days_present, r.days_on_leave, r.days_absent) == (2, 3, 26)
    assert r.considered_days == 31


def test_leave_spanning_two_months():
    leave = [approved(date(2026, 3, 25), date(2026, 4, 5))]
    assert monthly_residency(2026, 3, [], leave, []).days_on_leave == 7
    assert monthly_residency(2026, 4, [], leave, []).days_on_leave == 5


def test_leave_spanning_the_year_boundary():
    leave = [approved(date(2026, 12, 28), date(2027, 1, 3))]
    assert monthly_residency(2026, 12, [], leave, []).days_on_leave == 4
    assert monthly_residency(2027, 1, [], leave, []).days_on_leave == 3
    assert annual_leave_days(2026, leave) == 4
    assert annual_leave_days(2027, leave) == 3


def test_only_approved_leave_counts():
    leave = [LeavePeriod(date(2026, 3, 1), date(2026, 3, 3), "pending"),
             LeavePeriod(date(2026, 3, 4), date(2026, 3, 6), "rejected")]
    r = monthly_residency(2026, 3, [], leave, [])
    assert r.days_on_leave == 0 and r.days_absent == 31
    assert annual_leave_days(2026, leave) == 0


def test_leave_does_not_count_toward_required_unless_configured():
    leave = [approved(date(2026, 3, 21), date(2026, 3, 31))]
    checkins = days_in(2026, 3, range(1, 16))  # 15 present + 11 leave
    assert monthly_residency(2026, 3, checkins, leave, []).compliant is False
    r = monthly_residency(2026, 3, checkins, leave, [], leave_counts_toward_required=True)
    assert r.compliant is True


def test_annual_leave_limit_boundary_and_overlaps():
    thirty = [approved(date(2026, 5, 1), date(2026, 5, 30))]
    assert annual_leave_days(2026, thirty) == 30
    assert leave_over_limit(2026, thirty) is False
    overlap = thirty + [approved(date(2026, 5, 20), date(2026, 5, 30))]  # counted once
    assert leave_over_limit(2026, overlap) is False
    assert leave_over_limit(2026, thirty + [approved(date(2026, 8, 3), date(2026, 8, 3))])
    assert leave_over_limit(2026, thirty, limit=29) is True


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (date(2026, 3, 1), date(2026, 3, 1), True),
        (date(2026, 3, 2), date(2026, 3, 1), False),
        (date(2026, 1, 1), date(2026, 12, 31), True),
        (date(2026, 1, 1), date(2027, 1, 1), False),
        (date(2028, 2, 29), date(2029, 2, 28), True),
        (date(2028, 2, 29), date(2029, 3, 1), False),
    ],
)
def test_validate_leave(start, end, ok):
    errors = validate_leave(start, end)
    assert (errors == []) is ok
    assert all(field == "end" and isinstance(msg, str) for field, msg in errors)


# --- term and the current month --------------------------------------------------------


def test_term_starting_mid_month_prorates_required_days():
    start = date(2026, 3, 16)  # 16 of 31 days: ceil(20 * 16 / 31) = ceil(10.32) = 11
    r = monthly_residency(2026, 3, days_in(2026, 3, range(16, 27)), [], [], term_start=start)
    s = statuses(r)
    assert all(s[d] == "outside_term" for d in range(1, 16))
    assert (r.term_days, r.required_days, r.days_present, r.days_absent) == (16, 11, 11, 5)
    assert r.compliant is True
    r10 = monthly_residency(2026, 3, days_in(2026, 3, range(16, 26)), [], [], term_start=start)
    assert r10.compliant is False


def test_term_ending_mid_month_and_checkins_outside_term():
    end = date(2026, 3, 10)  # ceil(20 * 10 / 31) = ceil(6.45) = 7
    r = monthly_residency(2026, 3, days_in(2026, 3, [1, 2, 3, 4, 5, 6, 7, 20]), [], [],
                          term_end=end)
    assert (r.term_days, r.required_days, r.days_present, r.days_absent) == (10, 7, 7, 3)
    assert r.days[19].status == "outside_term" and r.days[19].checkin_count == 1
    assert r.compliant is True


def test_required_never_exceeds_term_days():
    r = monthly_residency(2026, 2, [], [], [], required_days=31)
    assert r.required_days == 28


def test_month_outside_term_is_not_judged():
    r = monthly_residency(2026, 3, [], [], [], term_start=date(2026, 4, 1))
    assert (r.term_days, r.required_days, r.compliant) == (0, 0, None)
    assert {s.status for s in r.days} == {"outside_term"}


def test_current_month_in_progress():
    today = date(2026, 4, 15)
    r = monthly_residency(2026, 4, days_in(2026, 4, range(1, 11)), [], [], today=today)
    s = statuses(r)
    assert [s[d] for d in (10, 11, 14, 15, 16, 30)] == [
        "present", "absent", "absent", "future", "future", "future"]
    assert (r.days_present, r.days_absent, r.considered_days) == (10, 4, 14)
    assert r.in_progress is True and r.compliant is None and r.required_days == 20


def test_today_with_checkin_is_present_and_last_day_still_in_progress():
    r = monthly_residency(2026, 4, [ci(2026, 4, 30)], [], [], today=date(2026, 4, 30))
    assert r.days[-1].status == "present" and r.in_progress and r.compliant is None
    done = monthly_residency(2026, 4, [ci(2026, 4, 30)], [], [], today=date(2026, 5, 1))
    assert done.in_progress is False and done.compliant is False and done.days_absent == 29


def test_future_month_is_all_future():
    r = monthly_residency(2026, 6, [], [], [], today=date(2026, 4, 15))
    assert {s.status for s in r.days} == {"future"}
    assert r.in_progress and r.considered_days == 0


def test_month_judged_when_term_ended_before_today():
    r = monthly_residency(2026, 4, days_in(2026, 4, range(1, 8)), [], [],
                          today=date(2026, 4, 20), term_end=date(2026, 4, 10))
    assert r.in_progress is False and r.compliant is True  # 7 of ceil(20*10/30) = 7


# --- spot checks -----------------------------------------------------------------------


def test_spot_check_summary_excuses_approved_leave():
    leave = [approved(date(2026, 3, 10), date(2026, 3, 12))]
    checks = [SpotCheckFact(date(2026, 3, 5), True), SpotCheckFact(date(2026, 3, 11), False),
              SpotCheckFact(date(2026, 3, 20), False), SpotCheckFact(date(2026, 4, 1), False)]
    r = monthly_residency(2026, 3, [], leave, checks)
    assert (r.spot_checks.n, r.spot_checks.absent, r.spot_checks.excused) == (3, 1, 1)
    assert spot_check_absences(checks, leave) == 2
    assert spot_check_absences(checks) == 3


@pytest.mark.parametrize(("absences", "cap"), [
    (0, None), (1, "competent"), (2, "basically_competent"), (3, "incompetent"),
    (7, "incompetent")])
def test_spot_check_grade_cap(absences, cap):
    assert spot_check_grade_cap(absences) == cap


# --- the discipline suggestion ---------------------------------------------------------


def _month(year: int, month: int, present: int, today: date | None = None):
    return monthly_residency(year, month, days_in(year, month, range(1, present + 1)), [], [],
                             today=today)


def test_discipline_hand_computed():
    months = [_month(2026, 1, 20), _month(2026, 2, 15), _month(2026, 3, 19),
              _month(2026, 4, 3, today=date(2026, 4, 5))]  # April in progress: not judged
    checks = [SpotCheckFact(date(2026, 2, 10), False), SpotCheckFact(date(2026, 3, 1), True)]
    s = suggest_discipline_score(months, checks, leave_over_limit=True)
    # 10 - 2 x 2 months - 3 x 1 absence - 2 leave = 1
    assert s.score == 1.0
    assert s.noncompliant_months == ("2026-02", "2026-03")
    assert [p for _, _, p in s.breakdown] == [10.0, -4.0, -3.0, -2.0]
    assert s.breakdown[1][1] == {"n": 2, "months": "2026-02, 2026-03"}
    assert s.grade_cap == "competent" and s.spot_check_absences == 1


def test_discipline_floor_and_breakdown_sum():
    months = [_month(2026, m, 0) for m in (1, 2, 3)]
    checks = [SpotCheckFact(date(2026, 1, d), False) for d in (5, 6)]
    s = suggest_discipline_score(months, checks, leave_over_limit=False)
    # 10 - 6 - 6 = -2 -> floor 0, with a +2 line so the lines add up to the score
    assert s.score == 0.0
    assert s.breakdown[-1][2] == 2.0
    assert math.isclose(sum(p for _, _, p in s.breakdown), s.score)
    assert s.grade_cap == "basically_competent"


def test_discipline_custom_config_and_excused_absence():
    cfg = DisciplineConfig.from_dict({"per_noncompliant_month": 1.5, "floor": 4,
                                      "per_spot_check_absence": 2.5})
    months = [_month(2026, 1, 10), _month(2026, 2, 20)]
    leave = [approved(date(2026, 2, 1), date(2026, 2, 3))]
    checks = [SpotCheckFact(date(2026, 2, 2), False), SpotCheckFact(date(2026, 2, 9), False)]
    s = suggest_discipline_score(months, checks, False, cfg, leaves=leave)
    assert s.score == 6.0  # 10 - 1.5 - 2.5 (the leave-day absence is excused)
    full = suggest_discipline_score([], [], False)
    assert full.score == 10.0 and full.grade_cap is None and len(full.breakdown) == 1


def test_discipline_config_round_trip_and_validation():
    cfg = DisciplineConfig(max_points=10, per_noncompliant_month=1)
    assert DisciplineConfig.from_dict(cfg.to_dict()) == cfg
    assert DisciplineConfig.from_dict({}) == DisciplineConfig()
    bad = [
        ({"per_month": 1}, "per_month"),
        ({"floor": "1"}, "floor"),
        ({"floor": True}, "floor"),
        ({"max_points": float("nan")}, "max_points"),
        ({"per_spot_check_absence": -1}, "per_spot_check_absence"),
        ({"floor": 11}, "floor"),
        ({"max_points": 0}, "max_points"),
        ({"annual_leave_limit": 30.5}, "annual_leave_limit"),
        ({"cap_basic_at": 4}, "cap_basic_at"),
    ]
    for data, field in bad:
        with pytest.raises(ConfigError) as e:
            DisciplineConfig.from_dict(data)
        assert field in e.value.errors, data


def test_discipline_without_any_checkin_is_no_data_not_zero():
    months = [_month(2026, m, 0) for m in range(1, 11)]  # ten judged months, no day present
    checks = [SpotCheckFact(date(2026, 3, 2), False)]
    s = suggest_discipline_score(months, checks, leave_over_limit=False, has_checkins=False)
    assert s.score is None and s.no_data and s.breakdown == ()
    assert s.grade_cap == "competent" and s.spot_check_absences == 1  # spot checks still cap
    # The same months with check-in data keep the documented formula (floored at 0).
    with_data = suggest_discipline_score(months, checks, leave_over_limit=False)
    assert with_data.score == 0.0 and not with_data.no_data


def test_months_before_the_first_checkin_are_not_judged():
    """A county adopting check-ins in September: January–August are not absent months."""
    from datetime import datetime, timezone

    from fieldapp.domain.residency import (CheckInFact, DisciplineConfig, monthly_residency,
                                           months_in_use, suggest_discipline_score)
    # 2026-08-31T16:30Z is already 1 September in Shanghai.
    checkins = [CheckInFact(at=datetime(2026, 8, 31, 16, 30, tzinfo=timezone.utc) + timedelta(days=d),
                            inside_fence=True) for d in range(0, 30)]
    reports = [monthly_residency(2026, m, checkins, [], [], today=date(2026, 10, 15))
               for m in range(1, 13)]
    used = months_in_use(reports, checkins)
    assert [r.month for r in used] == list(range(9, 13))
    all_months = suggest_discipline_score(reports, [], False, DisciplineConfig())
    in_use = suggest_discipline_score(used, [], False, DisciplineConfig())
    assert all_months.score < in_use.score == 10.0  # September has 30 days present
    assert months_in_use(reports, []) == []
