"""The mass evaluation (群众评议, 0-20) as rows for pages and downloads.

The formula is fieldapp/domain/scoring.py (docs/algorithms.md §2) and what counts for whom
is domain/county_scores.py (docs/meetings-and-scores.md §2); this module turns a county's
outcome into the fields people see, and pools several secretaries for a village, a town
or the county.

What counts (docs/meetings-and-scores.md):
- household answers: one visit per sample entry (the latest that counts) of a `sample` or
  activated `reserve` entry of the village's ACTIVE draw, made while the secretary served
  there; rejected visits never count, visits held for their time only once approved, and
  a visit without any scored answer does not count toward the minimum;
- meeting answers: the ballots and paper tallies of the secretary's meeting, once closed,
  when it was held during the secretary's term.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

from ...domain.county_scores import CountyInput, SecretaryOutcome, pooled
from ...domain.points import half_up

SUPPRESS_BELOW = 5  # aggregates over fewer respondents are hidden from secretaries


def index2(exact: Fraction | None) -> Decimal | None:
    return None if exact is None else half_up(exact, 2)


def _share(index_result) -> Decimal | None:
    """满意率 to 4 decimals, exactly: (满意 + 基本满意) / scored answers."""
    if index_result is None or not index_result.n_scored_answers:
        return None
    return half_up(Fraction(index_result.n_positive, index_result.n_scored_answers), 4)


def mass_fields(o: SecretaryOutcome) -> dict[str, Any]:
    """The mass-evaluation columns of one secretary's row."""
    r = o.mass
    held = o.meeting_status == "closed"
    score = r.score if r is not None and not o.mass_reasons else None
    return {
        "mass_status": "complete" if score is not None else "incomplete",
        "mass_evaluation": score,
        "mass_reasons": list(o.mass_reasons),
        "household_index": index2(o.household.exact_index) if o.household else None,
        "meeting_index": index2(o.meeting.exact_index) if (o.meeting and held) else None,
        "household_satisfied_share": _share(o.household),
        "meeting_satisfied_share": _share(o.meeting) if held else None,
        "n_visits": r.n_visits if r else 0,
        "n_visits_unscored": r.n_visits_unscored if r else 0,
        "required_visits": r.required_visits if r else 0,
        "n_ballots": r.n_ballots if r else 0,
        "meeting_status": o.meeting_status,
        "eligible_households": o.eligible_households,
    }


def pooled_fields(ci: CountyInput, outcomes: Iterable[SecretaryOutcome],
                  rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A group's satisfaction: respondent-level indexes pooled over every counted answer,
    and the number of secretaries, of complete scores and their mean, from `rows` (the
    same rows the scorecard shows)."""
    outcomes = list(outcomes)
    rows = list(rows)
    p = pooled(ci, outcomes)
    household, meeting = p["household"], p["meeting"]
    complete = [r["mass_evaluation"] for r in rows if r.get("mass_evaluation") is not None]
    mean = half_up(Fraction(sum(complete, Decimal(0))) / len(complete), 2) if complete else None
    return {
        "n_secretaries": len(rows), "n_complete": len(complete), "mean_mass_evaluation": mean,
        "household_index": index2(household.exact_index),
        "household_satisfied_share": _share(household) if household.n_scored_answers else None,
        "meeting_index": index2(meeting.exact_index),
        "meeting_satisfied_share": _share(meeting) if meeting.n_scored_answers else None,
        "n_visits": household.n_scored_respondents, "n_ballots": meeting.n_respondents,
        "distribution": dict(household.distribution),
    }


def suppressed(n: int) -> bool:
    return n < SUPPRESS_BELOW
