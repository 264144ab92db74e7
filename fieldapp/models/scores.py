"""The 100-point scorecard: what staff enter, what is computed, and the county lock.

- `ScorecardEntry`: the components staff enter or import (工作实绩 with the 七个一
  evidence, 工作纪律, 工作评价). The mass evaluation (群众评议) is never entered: it is
  computed from stored visits and ballots (services/scoring.py).
- `ScoreResult`: the computed row per secretary and cycle (mass evaluation, total, grade,
  caps). Written when a county is finalised; `fieldapp scores recompute` checks it against
  the raw answers.
- `ScoreLock`: a county finalised in a cycle. Its presence locks the county's scorecard
  and meetings; only an admin, with a reason, changes anything afterwards (audited).
"""
from __future__ import annotations

from datetime import datetime

from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow
from .roster import FirstSecretary

# The 七个一 checklist (evidence for 工作实绩), stored as codes.
SEVEN_ONES = ("strong_team", "party_lecture", "visit_every_household", "diary",
              "research_report", "livelihood_projects", "assistance_projects")


class ScorecardEntry(db.Model):
    __tablename__ = "scorecard_entry"
    __table_args__ = (UniqueConstraint("cycle_id", "secretary_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    work_performance: Mapped[Decimal | None] = mapped_column(Points())  # 0-60
    # {code: {"done": bool, "evidence": str}} for the SEVEN_ONES codes
    seven_ones: Mapped[dict] = mapped_column(JSON, default=dict)
    work_discipline: Mapped[Decimal | None] = mapped_column(Points())  # 0-10
    work_evaluation: Mapped[Decimal | None] = mapped_column(Points())  # 0-10
    note: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    secretary: Mapped[FirstSecretary] = relationship()


class ScoreResult(db.Model):
    __tablename__ = "score_result"
    __table_args__ = (UniqueConstraint("cycle_id", "secretary_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    # 群众评议
    mass_status: Mapped[str] = mapped_column(String(20))  # complete | incomplete
    mass_evaluation: Mapped[Decimal | None] = mapped_column(Points())
    mass_reasons: Mapped[list] = mapped_column(JSON, default=list)  # msgids
    household_index: Mapped[Decimal | None] = mapped_column(Points())  # 0-100, 2 decimals
    meeting_index: Mapped[Decimal | None] = mapped_column(Points())
    household_satisfied_share: Mapped[Decimal | None] = mapped_column(Points(5, 4))  # 0-1
    meeting_satisfied_share: Mapped[Decimal | None] = mapped_column(Points(5, 4))
    n_visits: Mapped[int] = mapped_column(Integer, default=0)
    required_visits: Mapped[int] = mapped_column(Integer, default=0)
    n_ballots: Mapped[int] = mapped_column(Integer, default=0)
    # the scorecard
    work_performance: Mapped[Decimal | None] = mapped_column(Points())
    work_discipline: Mapped[Decimal | None] = mapped_column(Points())
    work_evaluation: Mapped[Decimal | None] = mapped_column(Points())
    total: Mapped[Decimal | None] = mapped_column(Points())
    status: Mapped[str] = mapped_column(String(20))  # graded | incomplete
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # msgids (why incomplete)
    grade: Mapped[str | None] = mapped_column(String(30))  # after every cap
    grade_before_caps: Mapped[str | None] = mapped_column(String(30))
    capped: Mapped[bool] = mapped_column(Boolean, default=False)  # the 20% cap on 优秀
    residency_cap: Mapped[str | None] = mapped_column(String(30))  # from 暗访 absences
    spot_check_absences: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict] = mapped_column(JSON, default=dict)  # the settings used
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A fingerprint of every input at finalising: the whole, and part by part
    # (domain/county_scores.input_digests), so `scores recompute` can name what changed.
    input_digest: Mapped[str | None] = mapped_column(String(64))
    input_parts: Mapped[dict | None] = mapped_column(JSON, default=dict)

    secretary: Mapped[FirstSecretary] = relationship()


class ScoreLock(db.Model):
    """A county finalised in a cycle (a city-wide cycle is finalised county by county)."""

    __tablename__ = "score_lock"
    __table_args__ = (UniqueConstraint("cycle_id", "county_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    finalised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)


DECISION_KINDS = ("tie", "person")


class ScoreDecision(db.Model):
    """A decision staff record before finalising (集体研究, with a reason):

    - kind "tie": secretaries tied for the last 优秀 place(s); `subject` the tied ids,
      `chosen` those who take the places. It applies only while the tie is the same group.
    - kind "person": one person (`key`: the phone) assessed in two villages; `subject` the
      secretary records, `chosen` the one graded (the others are not assessed).
    """

    __tablename__ = "score_decision"
    __table_args__ = (UniqueConstraint("cycle_id", "county_id", "kind", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # DECISION_KINDS
    key: Mapped[str] = mapped_column(String(40))  # "tie", or the person's key
    subject: Mapped[list] = mapped_column(JSON, default=list)  # secretary ids concerned
    chosen: Mapped[list] = mapped_column(JSON, default=list)  # secretary ids chosen
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
