"""The annual assessment cycle and who evaluates which village in it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .geography import County, Village
from .users import User

CYCLE_STATUSES = ("open", "finalised")

# Defaults a county can change per cycle (see docs/algorithms.md).
DEFAULT_CYCLE_SETTINGS: dict = {
    "sample_size": 20,
    "reserve_count": 5,
    "include_exited": True,
    "required_days": 20,
}


class Cycle(db.Model):
    """One year's assessment for a scope: one county, or the whole city (scope None)."""

    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("year", "county_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    county: Mapped[County | None] = relationship()

    def setting(self, name: str):
        return (self.settings or {}).get(name, DEFAULT_CYCLE_SETTINGS.get(name))

    def covers_county(self, county_id: int) -> bool:
        return self.county_id is None or self.county_id == county_id


class EvaluatorAssignment(db.Model):
    __tablename__ = "evaluator_assignment"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id", "village_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cycle: Mapped[Cycle] = relationship()
    user: Mapped[User] = relationship()
    village: Mapped[Village] = relationship()
