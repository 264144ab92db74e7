"""The mass-evaluation score (群众评议, 0-20 points). See docs/algorithms.md.

score = max_points * (w_h * household_index + w_m * meeting_index) / 100

Each index (0-100) is the mean over respondents of each respondent's mean item value,
where 不了解 ("unknown") and unanswered items are not scored. Why respondent means and not
the mean of all answers pooled: the household (or the ballot) is the sampling unit, so each
sampled household weighs the same however many items it could judge.

Arithmetic is exact (fractions) and the score is a Decimal rounded half up (四舍五入) to 2
decimals, so a re-implementation with decimals gets the same digits. When data are missing
the score is None with reasons, never a silent zero. A visit without a single scored answer
(every item 不了解) is a completed visit but does not count toward the minimum number of
visits: it says nothing about the secretary's work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, Mapping, Sequence

from . import N_
from .points import half_up

FieldError = tuple[str, str]  # (field, English msgid)

# option code -> value (0-100) or None (not scored)
DEFAULT_VALUES: dict[str, float | None] = {
    "satisfied": 100,  # 满意
    "basically_satisfied": 75,  # 基本满意
    "dissatisfied": 0,  # 不满意
    "unknown": None,  # 不了解
}
# A published conversion: 不满意 still earns 55% of the item's weight.
PUBLISHED_ALT_VALUES: dict[str, float | None] = {
    "satisfied": 100,
    "basically_satisfied": 75,
    "dissatisfied": 55,
    "unknown": None,
}
SATISFIED_OPTIONS = frozenset({"satisfied", "basically_satisfied"})  # counted in 满意率


def _exact(x: float | int | Fraction) -> Fraction:
    # str() of a float is its shortest decimal form: 0.6 -> 3/5, not the binary neighbour.
    return x if isinstance(x, Fraction) else Fraction(str(x))


def round2(x: Fraction) -> Decimal:
    """Round half up (away from zero at .5) to 2 decimals, exactly (no float or 28-digit drift)."""
    return half_up(x, 2)


@dataclass(frozen=True)
class IndexResult:
    index: float | None  # 0-100, None when nothing was scored
    n_respondents: int  # completed visits (households) or ballots cast
    n_scored_answers: int
    satisfied_share: float | None  # 满意率 = (满意 + 基本满意) / scored answers
    distribution: dict[str, int]  # option -> count over the scored items (incl. unscored options)
    n_scored_respondents: int = 0  # respondents with at least one scored answer
    exact_index: Fraction | None = field(default=None, repr=False, compare=False)
    n_positive: int = 0  # 满意 + 基本满意 answers among the scored ones


def item_mean(
    answers: Sequence[Mapping[str, str]],
    values: Mapping[str, float | None],
    scored_items: Sequence[str],
    positive_options: frozenset[str] = SATISFIED_OPTIONS,
) -> IndexResult:
    """Index over respondents: `answers` holds one {item_id: option} per respondent.

    Items outside `scored_items` are ignored; an option missing from `values` is a
    ValueError (the instrument and the values disagree: fix the configuration).
    """
    distribution = {option: 0 for option in values}
    respondent_means: list[Fraction] = []
    n_scored = n_positive = 0
    for respondent in answers:
        scores: list[Fraction] = []
        for item in scored_items:
            if item not in respondent:
                continue
            option = respondent[item]
            if option not in values:
                raise ValueError(f"option {option!r} of item {item!r} has no value")
            distribution[option] += 1
            value = values[option]
            if value is None:
                continue
            scores.append(_exact(value))
            n_positive += option in positive_options
        if scores:
            respondent_means.append(sum(scores, Fraction(0)) / len(scores))
            n_scored += len(scores)
    exact = sum(respondent_means, Fraction(0)) / len(respondent_means) if respondent_means else None
    return IndexResult(
        index=float(exact) if exact is not None else None,
        n_respondents=len(answers),
        n_scored_answers=n_scored,
        satisfied_share=n_positive / n_scored if n_scored else None,
        distribution=distribution,
        n_scored_respondents=len(respondent_means),
        exact_index=exact,
        n_positive=n_positive,
    )


@dataclass(frozen=True)
class MassEvaluation:
    score: Decimal | None  # 0..max_points, 2 decimals; None when incomplete
    status: Literal["complete", "incomplete"]
    reasons: list[str]  # msgids saying why it is incomplete
    household_index: float | None
    meeting_index: float | None
    household_satisfied_share: float | None
    meeting_satisfied_share: float | None
    n_visits: int  # visits that count toward the minimum: with at least one scored answer
    required_visits: int
    n_ballots: int
    n_visits_unscored: int = 0  # completed, but every answer 不了解: not counted


def validate_weights(w_h: float, w_m: float) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, w in (("w_h", w_h), ("w_m", w_m)):
        if not _is_number(w) or w < 0:
            errors.append((name, N_("A weight must be a number, 0 or more.")))
    if not errors and abs(w_h + w_m - 1) > 1e-9:
        errors.append(("w_m", N_("The two weights must add up to 1.")))
    return errors


def mass_evaluation_score(
    household: IndexResult,
    meeting: IndexResult,
    *,
    w_h: float = 0.5,
    w_m: float = 0.5,
    max_points: float = 20,
    min_visits: int = 15,
    village_eligible_count: int,
    meeting_held: bool,
) -> MassEvaluation:
    """Combine the household and meeting indexes. A part whose weight is 0 is not required."""
    errors = validate_weights(w_h, w_m)
    if errors:
        raise ValueError(errors[0][1])
    if type(village_eligible_count) is not int or village_eligible_count < 0:
        raise ValueError("village_eligible_count must be an integer >= 0")
    required = min(min_visits, village_eligible_count)  # small villages: visit every household
    reasons: list[str] = []
    if w_h > 0:
        if household.n_scored_respondents < required:
            reasons.append(N_("Fewer completed household visits than required."))
        if household.index is None:
            reasons.append(N_("No household gave a scored answer."))
    if w_m > 0:
        if not meeting_held:
            reasons.append(N_("No evaluation meeting was held."))
        elif meeting.n_respondents == 0:
            reasons.append(N_("The evaluation meeting has no ballots."))
        elif meeting.index is None:
            reasons.append(N_("No meeting ballot gave a scored answer."))

    score = None
    if not reasons:
        h = _index_exact(household) if w_h > 0 else Fraction(0)
        m = _index_exact(meeting) if w_m > 0 else Fraction(0)
        score = round2(_exact(max_points) * (_exact(w_h) * h + _exact(w_m) * m) / 100)
    return MassEvaluation(
        score=score,
        status="incomplete" if reasons else "complete",
        reasons=reasons,
        household_index=household.index,
        meeting_index=meeting.index if meeting_held else None,
        household_satisfied_share=household.satisfied_share,
        meeting_satisfied_share=meeting.satisfied_share if meeting_held else None,
        n_visits=household.n_scored_respondents,
        required_visits=required,
        n_ballots=meeting.n_respondents if meeting_held else 0,
        n_visits_unscored=household.n_respondents - household.n_scored_respondents,
    )


def _index_exact(r: IndexResult) -> Fraction:
    if r.exact_index is not None:
        return r.exact_index
    assert r.index is not None
    return _exact(r.index)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# --- configuration stored in a cycle's settings --------------------------------------


class ScoringConfigError(ValueError):
    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


@dataclass(frozen=True)
class ScoringConfig:
    w_h: float = 0.5
    w_m: float = 0.5
    max_points: float = 20
    min_visits: int = 15
    household_values: dict[str, float | None] = field(default_factory=lambda: dict(DEFAULT_VALUES))
    meeting_values: dict[str, float | None] = field(default_factory=lambda: dict(DEFAULT_VALUES))

    def __post_init__(self) -> None:
        errors = self.validate()
        if errors:
            raise ScoringConfigError(errors)

    def validate(self) -> list[FieldError]:
        errors = validate_weights(self.w_h, self.w_m)
        if not _is_number(self.max_points) or self.max_points <= 0:
            errors.append(("max_points", N_("The maximum must be a number above 0.")))
        if type(self.min_visits) is not int or self.min_visits < 1:
            errors.append(("min_visits", N_("The minimum number of visits must be a whole number, 1 or more.")))
        for name in ("household_values", "meeting_values"):
            errors.extend((name, msg) for msg in _value_errors(getattr(self, name)))
        return errors

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringConfig:
        """Missing keys take the defaults; unknown keys and bad values raise ScoringConfigError."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ScoringConfigError([(k, N_("Unknown setting.")) for k in unknown])
        kwargs = dict(data)
        for name in ("household_values", "meeting_values"):
            if name in kwargs and isinstance(kwargs[name], Mapping):
                kwargs[name] = dict(kwargs[name])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "w_h": self.w_h,
            "w_m": self.w_m,
            "max_points": self.max_points,
            "min_visits": self.min_visits,
            "household_values": dict(self.household_values),
            "meeting_values": dict(self.meeting_values),
        }


def _value_errors(values: object) -> list[str]:
    if not isinstance(values, Mapping) or not values:
        return [N_("The values must map each answer option to a number or null.")]
    if any(not isinstance(k, str) or not k for k in values):
        return [N_("The values must map each answer option to a number or null.")]
    if any(v is not None and (not _is_number(v) or not 0 <= v <= 100) for v in values.values()):
        return [N_("Each value must be between 0 and 100, or null (not scored).")]
    if all(v is None for v in values.values()):
        return [N_("At least one answer option must be scored.")]
    return []
