"""Who is assessed in a cycle, and whose work a dated record belongs to.

Rules (docs/meetings-and-scores.md §3, "Who is assessed"):
- A secretary is assessed in a cycle year when they served at least `min_months` months of
  that year (default 6: at least half the year's days), or served on `reference_date`
  (default: not used). Either rule may be switched off (None); with both off, everyone
  whose term touches the year is assessed.
- A visit or a meeting belongs to the secretary (or secretaries) serving in the village on
  its date: a successor never inherits the predecessor's visits, and a secretary whose
  term ended in February is not judged on November's visits.
- One person (the same phone number) assessed in two villages of one county is one
  person: the 20% base counts them once, and staff decide which village's record is graded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from . import N_

DEFAULT_MIN_MONTHS = 6


@dataclass(frozen=True)
class AssessmentRule:
    min_months: int | None = DEFAULT_MIN_MONTHS  # 0-12; None: not used
    reference_date: date | None = None  # serving on this day is enough; None: not used

    def __post_init__(self) -> None:
        if self.min_months is not None and (type(self.min_months) is not int
                                            or not 0 <= self.min_months <= 12):
            raise ValueError(N_("The minimum number of months must be a whole number from 0 to 12."))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], year: int) -> AssessmentRule:
        unknown = set(data) - {"min_months", "reference_date"}
        if unknown:
            raise ValueError(N_("Unknown setting."))
        ref = data.get("reference_date")
        ref_date = None
        if ref is not None:
            try:
                ref_date = date.fromisoformat(str(ref))
            except ValueError as err:
                raise ValueError(N_("The reference date must be a date (YYYY-MM-DD).")) from err
            if ref_date.year != year:
                raise ValueError(N_("The reference date must be in the cycle's year."))
        return cls(min_months=data.get("min_months", DEFAULT_MIN_MONTHS), reference_date=ref_date)

    def to_dict(self) -> dict[str, Any]:
        return {"min_months": self.min_months,
                "reference_date": self.reference_date.isoformat() if self.reference_date else None}


def served_days(term_start: date, term_end: date | None, year: int) -> int:
    """Days of `year` within the term (both ends inclusive)."""
    lo = max(term_start, date(year, 1, 1))
    hi = min(term_end or date(year, 12, 31), date(year, 12, 31))
    return max((hi - lo).days + 1, 0)


def serves_on(term_start: date, term_end: date | None, day: date) -> bool:
    return term_start <= day and (term_end is None or day <= term_end)


def is_assessed(term_start: date, term_end: date | None, year: int, rule: AssessmentRule) -> bool:
    days = served_days(term_start, term_end, year)
    if days == 0:
        return False
    if rule.min_months is None and rule.reference_date is None:
        return True
    year_days = (date(year, 12, 31) - date(year, 1, 1)).days + 1
    # N months = N/12 of the year's days, compared exactly in integers: 6 months of 2026
    # (365 days) is 182.5 days, so 183 served days are enough and 182 are not.
    if rule.min_months is not None and days * 12 >= rule.min_months * year_days:
        return True
    return rule.reference_date is not None and serves_on(term_start, term_end, rule.reference_date)


def person_key(phone: str) -> str:
    """The identity of a person across villages: the phone number, digits only."""
    return "".join(ch for ch in phone or "" if ch.isdigit()) or (phone or "")
