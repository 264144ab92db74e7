"""The settings a county's scores are computed with, from the cycle (docs/meetings-and-scores.md).

Cycle settings (all optional; the defaults are documented beside each):
- `scoring`: ScoringConfig fields (w_h 0.5, w_m 0.5, max_points 20, min_visits 15,
  household_values, meeting_values);
- `census_requires_all` (true), `census_below` (the draw's sample size, 20);
- `grading`: excellent 90, competent 70, basically_competent 60, excellent_cap_ratio 0.2,
  tie_breakers ["mass_evaluation", "work_performance"];
- `assessment`: min_months 6, reference_date null (who is assessed);
- `review`: require_flagged_reviewed true (finalising needs every flagged visit reviewed);
- `counties`: {county code: {"grading": {...}, "assessment": {...}, "review": {...}}},
  per-county overrides of those three in a city-wide cycle (a county cycle sets them
  directly).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...domain import grading as dgrade
from ...domain.assessment import AssessmentRule
from ...domain.county_scores import GradingSettings
from ...domain.residency import ConfigError, DisciplineConfig
from ...domain.scoring import ScoringConfig, ScoringConfigError
from ...errors import AppError, translate
from ...extensions import db
from ...models import County, Cycle

COUNTY_KEYS = ("grading", "assessment", "review")


def raw_for(cycle: Cycle, county_code: str | None) -> dict[str, Any]:
    """The cycle's settings with the county's overrides applied (one level deep)."""
    base = dict(cycle.settings or {})
    override = ((base.get("counties") or {}).get(county_code) or {}) if county_code else {}
    for key in COUNTY_KEYS:
        if key in override:
            base[key] = {**(base.get(key) or {}), **(override[key] or {})}
    return base


def scoring_config(cycle: Cycle) -> ScoringConfig:
    raw = (cycle.settings or {}).get("scoring") or {}
    try:
        return ScoringConfig.from_dict(raw)
    except (ScoringConfigError, TypeError) as err:
        errors = getattr(err, "errors", [("scoring", str(err))])
        raise AppError("validation_failed", errors={
            f"settings.scoring.{f}": [translate(m)] for f, m in errors}) from err


@dataclass(frozen=True)
class CountySettings:
    scoring: ScoringConfig
    explicit_household_values: dict | None
    explicit_meeting_values: dict | None
    census_requires_all: bool
    census_below: int | None
    grading: GradingSettings
    assessment: AssessmentRule
    require_flagged_reviewed: bool
    answer_values: Any

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe: stored with every result, and part of the input digest."""
        t = self.grading.thresholds
        return {**self.scoring.to_dict(), "census_requires_all": self.census_requires_all,
                "census_below": self.census_below, "answer_values": self.answer_values,
                "thresholds": {"excellent": t.excellent, "competent": t.competent,
                               "basically_competent": t.basically_competent},
                "excellent_cap_ratio": str(self.grading.cap_ratio),
                "tie_breakers": list(self.grading.tie_breakers),
                "assessment": self.assessment.to_dict(),
                "require_flagged_reviewed": self.require_flagged_reviewed}


def county_settings(cycle: Cycle, county_id: int) -> CountySettings:
    """Validated settings for one county; a broken configuration is a 422 naming the key."""
    county = db.session.get(County, county_id)
    raw = raw_for(cycle, county.code if county is not None else None)
    cfg = scoring_config(cycle)
    scoring_raw = raw.get("scoring") or {}
    grading_raw = raw.get("grading") or {}
    try:
        thresholds = dgrade.Thresholds(**{k: grading_raw[k] for k in
                                          ("excellent", "competent", "basically_competent")
                                          if k in grading_raw})
        ratio = grading_raw.get("excellent_cap_ratio", dgrade.DEFAULT_CAP_RATIO)
        dgrade.excellent_cap(0, ratio)
        breakers = tuple(grading_raw.get("tie_breakers", dgrade.DEFAULT_TIE_BREAKERS))
        if any(b not in dgrade.TIE_BREAKERS for b in breakers):
            raise ValueError(f"tie_breakers: choose from {', '.join(dgrade.TIE_BREAKERS)}")
    except (TypeError, ValueError) as err:
        raise AppError("validation_failed", errors={"settings.grading": [str(err)]}) from err
    try:
        discipline = DisciplineConfig.from_dict(raw.get("discipline") or {})
    except ConfigError as err:
        raise AppError("validation_failed", errors={
            f"settings.discipline.{k}": [translate(m) for m in v]
            for k, v in err.errors.items()}) from err
    try:
        assessment = AssessmentRule.from_dict(raw.get("assessment") or {}, cycle.year)
    except (TypeError, ValueError) as err:
        raise AppError("validation_failed", errors={
            "settings.assessment": [translate(str(err))]}) from err
    census_below = raw.get("census_below")
    if census_below is not None and (type(census_below) is not int or census_below < 1):
        raise AppError("validation_failed", errors={"settings.census_below": [
            translate("Must be a whole number, 1 or more.")]})
    review = raw.get("review") or {}
    return CountySettings(
        scoring=cfg,
        explicit_household_values=cfg.household_values if "household_values" in scoring_raw else None,
        explicit_meeting_values=cfg.meeting_values if "meeting_values" in scoring_raw else None,
        census_requires_all=bool(raw.get("census_requires_all", True)),
        census_below=census_below,
        grading=GradingSettings(
            thresholds=thresholds, cap_ratio=Decimal(str(ratio)), tie_breakers=breakers,
            cap_no_excellent_at=discipline.cap_no_excellent_at,
            cap_basic_at=discipline.cap_basic_at, cap_incompetent_at=discipline.cap_incompetent_at),
        assessment=assessment,
        require_flagged_reviewed=bool(review.get("require_flagged_reviewed", True)),
        answer_values=raw.get("answer_values"))
