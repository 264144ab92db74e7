"""Residency (驻村) days, leave, and the work-discipline (工作纪律) suggestion.

Pure functions over plain dataclasses; services load the facts from the database.
Every day boundary is in Asia/Shanghai whatever the server's TZ, because a secretary's
"day in the village" is a Chinese calendar day. The rules and formulas are explained for
county staff in docs/residency-and-flags.md; keep that file in step with this one.
"""

from __future__ import annotations

import calendar
import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fieldapp.domain import N_

SHANGHAI = ZoneInfo("Asia/Shanghai")

LeaveStatus = Literal["approved", "pending", "rejected"]
DayKind = Literal["present", "leave", "absent", "future", "outside_term"]
GradeCap = Literal["competent", "basically_competent", "incompetent"]


# --- time -----------------------------------------------------------------------------


def local_day(at: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware instant (2026-03-31T17:30Z -> 04-01)."""
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time would silently take the server's zone: refuse it loudly.
        raise ValueError("naive datetime: check-in times must be timezone-aware")
    return at.astimezone(SHANGHAI).date()


def shanghai_today(now: datetime | None = None) -> date:
    """Today in Shanghai; never use date.today(), which follows the server's TZ."""
    return local_day(now if now is not None else datetime.now(SHANGHAI))


def _days(lo: date, hi: date) -> Iterable[date]:
    for i in range((hi - lo).days + 1):
        yield lo + timedelta(days=i)


# --- configuration loading (shared with flags.py) -------------------------------------


class ConfigError(ValueError):
    """A county configuration is invalid; `errors` maps field -> [msgid] for the API."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


C = TypeVar("C")


def load_config(cls: type[C], data: Mapping[str, Any]) -> C:
    """Build a numeric config dataclass from JSON-like data: missing keys take the
    defaults, unknown keys and wrong types are errors (a typo must not be silently lost)."""
    if not isinstance(data, Mapping):
        raise ConfigError({"_schema": [N_("Expected an object.")]})
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in known:
            errors[str(key)] = [N_("Unknown field.")]
    for name, f in known.items():
        if name not in data:
            continue
        value = data[name]
        want_int = f.type == "int"
        ok = isinstance(value, int) if want_int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            errors[name] = [N_("Expected an integer.") if want_int else N_("Expected a number.")]
        elif not math.isfinite(value):
            errors[name] = [N_("Expected a finite number.")]
    if errors:
        raise ConfigError(errors)
    return cls(**{k: data[k] for k in data})


def check_field(errors: dict[str, list[str]], ok: bool, name: str, msgid: str) -> None:
    if not ok:
        errors.setdefault(name, []).append(msgid)


# --- inputs and outputs ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckInFact:
    at: datetime  # aware
    inside_fence: bool
    counted: bool = True  # False e.g. when made with a revoked QR token


@dataclass(frozen=True)
class LeavePeriod:
    start: date
    end: date  # inclusive
    status: LeaveStatus


@dataclass(frozen=True)
class SpotCheckFact:
    day: date
    present: bool


@dataclass(frozen=True)
class DayStatus:
    day: date
    status: DayKind
    checkin_count: int  # counted check-ins that day, in or out of the fence
    outside_count: int  # of which outside the fence


@dataclass(frozen=True)
class SpotCheckSummary:
    n: int
    absent: int  # absences not excused by approved leave
    excused: int  # absences on approved-leave days


@dataclass(frozen=True)
class MonthReport:
    year: int
    month: int
    days_in_month: int
    term_days: int  # days of the month inside the term
    considered_days: int  # days judged so far: present + leave + absent
    days_present: int
    days_on_leave: int
    days_absent: int
    required_days: int  # prorated to the term
    in_progress: bool
    compliant: bool | None  # None while in progress or when the month is outside the term
    checkin_count: int
    outside_fence_count: int
    uncounted_count: int
    spot_checks: SpotCheckSummary
    days: tuple[DayStatus, ...]

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# --- leave ----------------------------------------------------------------------------


def approved_leave_days(leaves: Iterable[LeavePeriod], lo: date, hi: date) -> set[date]:
    """Days in [lo, hi] covered by approved leave; overlapping requests count once."""
    out: set[date] = set()
    for lv in leaves:
        if lv.status != "approved":
            continue
        a, b = max(lv.start, lo), min(lv.end, hi)
        if a <= b:
            out.update(_days(a, b))
    return out


def annual_leave_days(year: int, leaves: Iterable[LeavePeriod]) -> int:
    """Approved leave days in the calendar year (a Dec-Jan leave is split between years)."""
    return len(approved_leave_days(leaves, date(year, 1, 1), date(year, 12, 31)))


def leave_over_limit(year: int, leaves: Iterable[LeavePeriod], limit: int = 30) -> bool:
    """True when approved leave in the year exceeds `limit` days (Baihe county: recall)."""
    return annual_leave_days(year, leaves) > limit


def _one_year_after(d: date) -> date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 Feb -> 1 Mar
        return date(d.year + 1, 3, 1)


def validate_leave(start: date, end: date) -> list[tuple[str, str]]:
    """Field errors for a leave request: end on or after start, spanning at most one year
    (2026-01-01..2026-12-31 is fine, ..2027-01-01 is not)."""
    if end < start:
        return [("end", N_("The end date must be on or after the start date."))]
    if end >= _one_year_after(start):
        return [("end", N_("A leave request can span at most one year."))]
    return []


# --- the month ------------------------------------------------------------------------


def monthly_residency(
    year: int,
    month: int,
    checkins: Iterable[CheckInFact],
    leaves: Iterable[LeavePeriod],
    spot_checks: Iterable[SpotCheckFact],
    *,
    required_days: int = 20,
    today: date | None = None,
    term_start: date | None = None,
    term_end: date | None = None,
    leave_counts_toward_required: bool = False,
) -> MonthReport:
    """One month of residency for one secretary; see docs/residency-and-flags.md.

    `today=None` judges every day (a past month); pass `shanghai_today()` for live views.
    """
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    if isinstance(required_days, bool) or not 0 <= required_days <= 31:
        raise ValueError("required_days must be 0..31")
    n_days = calendar.monthrange(year, month)[1]
    first, last = date(year, month, 1), date(year, month, n_days)
    lo = max(first, term_start) if term_start else first
    hi = min(last, term_end) if term_end else last
    term_days = max(0, (hi - lo).days + 1)

    counted: Counter[date] = Counter()
    outside: Counter[date] = Counter()
    inside_days: set[date] = set()
    uncounted = 0
    for c in checkins:
        d = local_day(c.at)
        if not first <= d <= last:
            continue
        if not c.counted:
            uncounted += 1
            continue
        counted[d] += 1
        if c.inside_fence:
            inside_days.add(d)
        else:
            outside[d] += 1

    on_leave = approved_leave_days(leaves, first, last)
    days: list[DayStatus] = []
    for d in _days(first, last):
        kind: DayKind
        if not lo <= d <= hi:
            kind = "outside_term"
        elif today is not None and d > today:
            kind = "future"
        elif d in inside_days:
            kind = "present"  # present wins over leave: a day is never counted twice
        elif d in on_leave:
            kind = "leave"
        elif d == today:
            kind = "future"  # today is not over: no check-in yet is not an absence
        else:
            kind = "absent"
        days.append(DayStatus(d, kind, counted[d], outside[d]))

    kinds = Counter(s.status for s in days)
    present, leave, absent = kinds["present"], kinds["leave"], kinds["absent"]
    # Proration: the requirement scales with the share of the month inside the term,
    # rounded up, and never exceeds the term days themselves.
    required = 0 if term_days == 0 else min(term_days, -(-required_days * term_days // n_days))
    in_progress = today is not None and term_days > 0 and today <= hi
    credited = present + (leave if leave_counts_toward_required else 0)
    compliant = None if in_progress or term_days == 0 else credited >= required

    spot = [s for s in spot_checks if lo <= s.day <= hi]
    missed = [s for s in spot if not s.present]
    excused = sum(1 for s in missed if s.day in on_leave)
    return MonthReport(
        year=year,
        month=month,
        days_in_month=n_days,
        term_days=term_days,
        considered_days=present + leave + absent,
        days_present=present,
        days_on_leave=leave,
        days_absent=absent,
        required_days=required,
        in_progress=in_progress,
        compliant=compliant,
        checkin_count=sum(counted.values()),
        outside_fence_count=sum(outside.values()),
        uncounted_count=uncounted,
        spot_checks=SpotCheckSummary(len(spot), len(missed) - excused, excused),
        days=tuple(days),
    )


# --- spot checks and the discipline suggestion ----------------------------------------


def spot_check_absences(
    spot_checks: Iterable[SpotCheckFact], leaves: Iterable[LeavePeriod] = ()
) -> int:
    """Absent spot checks, each one counted, except those on approved-leave days."""
    missed = [s for s in spot_checks if not s.present]
    if not missed:
        return 0
    excused = approved_leave_days(leaves, min(s.day for s in missed), max(s.day for s in missed))
    return sum(1 for s in missed if s.day not in excused)


def spot_check_grade_cap(
    absences: int, *, no_excellent_at: int = 1, basic_at: int = 2, incompetent_at: int = 3
) -> GradeCap | None:
    """The best grade allowed after unannounced-check (暗访) absences: 1 -> no 优秀 (at most
    称职), 2 -> at most 基本称职, >= 3 -> 不称职. The scoring module applies this cap."""
    if absences >= incompetent_at:
        return "incompetent"
    if absences >= basic_at:
        return "basically_competent"
    if absences >= no_excellent_at:
        return "competent"
    return None


@dataclass(frozen=True)
class DisciplineConfig:
    max_points: float = 10.0
    per_noncompliant_month: float = 2.0
    per_spot_check_absence: float = 3.0
    leave_over_limit_penalty: float = 2.0
    floor: float = 0.0
    annual_leave_limit: int = 30
    cap_no_excellent_at: int = 1
    cap_basic_at: int = 2
    cap_incompetent_at: int = 3

    def __post_init__(self) -> None:
        e: dict[str, list[str]] = {}
        check_field(e, self.max_points > 0, "max_points", N_("Must be greater than 0."))
        for name in ("per_noncompliant_month", "per_spot_check_absence",
                     "leave_over_limit_penalty", "floor", "annual_leave_limit"):
            check_field(e, getattr(self, name) >= 0, name, N_("Must be 0 or more."))
        check_field(e, self.floor <= self.max_points, "floor", N_("Must not exceed max_points."))
        caps = (self.cap_no_excellent_at, self.cap_basic_at, self.cap_incompetent_at)
        check_field(e, 1 <= caps[0] <= caps[1] <= caps[2], "cap_basic_at",
                    N_("Caps must satisfy 1 <= no_excellent <= basic <= incompetent."))
        if e:
            raise ConfigError(e)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DisciplineConfig:
        return load_config(cls, data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DisciplineSuggestion:
    # None: no check-in data in the whole year ("no data"): nothing to suggest, staff
    # enter the score themselves (never a silent 0 from twelve empty months).
    score: float | None
    # (msgid, params, points); the points add up to `score`. Empty when `score` is None.
    breakdown: tuple[tuple[str, dict[str, Any], float], ...]
    grade_cap: GradeCap | None
    noncompliant_months: tuple[str, ...] = field(default=())
    spot_check_absences: int = 0

    @property
    def no_data(self) -> bool:
        return self.score is None


def months_in_use(month_reports: Sequence[MonthReport],
                  checkins: Iterable[CheckInFact]) -> list[MonthReport]:
    """The months the check-in record can speak for: from the month of the secretary's
    first check-in on. Earlier months are not judged (a county that starts using check-ins
    in September must not turn January–August into absent months: check-ins are evidence
    beside the paper sign-in book and spot checks, never the only measure)."""
    days = [local_day(c.at) for c in checkins]
    if not days:
        return []
    first = min(days)
    return [r for r in month_reports if (r.year, r.month) >= (first.year, first.month)]


def suggest_discipline_score(
    month_reports: Sequence[MonthReport],
    spot_checks: Iterable[SpotCheckFact],
    leave_over_limit: bool,
    config: DisciplineConfig = DisciplineConfig(),
    *,
    leaves: Iterable[LeavePeriod] = (),
    has_checkins: bool = True,
) -> DisciplineSuggestion:
    """A suggested 工作纪律 score; staff confirm or change it. Months still in progress
    (compliant is None) are not judged. `leaves` excuses spot checks on approved leave.
    `has_checkins=False` (no check-in at all in the period): no suggestion (score None);
    the spot-check grade cap still applies."""
    c = config
    bad = tuple(r.label for r in month_reports if r.compliant is False)
    absences = spot_check_absences(spot_checks, leaves)
    cap = spot_check_grade_cap(absences, no_excellent_at=c.cap_no_excellent_at,
                               basic_at=c.cap_basic_at, incompetent_at=c.cap_incompetent_at)
    if not has_checkins:
        return DisciplineSuggestion(None, (), cap, bad, absences)
    lines: list[tuple[str, dict[str, Any], float]] = [
        (N_("Full marks for work discipline"), {}, float(c.max_points))
    ]
    if bad:
        lines.append((
            N_("Months below the residency requirement: %(n)d (%(months)s)"),
            {"n": len(bad), "months": ", ".join(bad)},
            -round(c.per_noncompliant_month * len(bad), 2),
        ))
    if absences:
        lines.append((
            N_("Absent at unannounced spot checks: %(n)d"),
            {"n": absences},
            -round(c.per_spot_check_absence * absences, 2),
        ))
    if leave_over_limit:
        lines.append((
            N_("Approved leave over %(limit)d days in the year"),
            {"limit": c.annual_leave_limit},
            -round(float(c.leave_over_limit_penalty), 2),
        ))
    raw = round(sum(p for _, _, p in lines), 2)
    score = max(float(c.floor), raw)
    if score != raw:
        lines.append((N_("Raised to the minimum of %(floor)s points"), {"floor": c.floor},
                      round(score - raw, 2)))
    return DisciplineSuggestion(round(score, 2), tuple(lines), cap, bad, absences)
