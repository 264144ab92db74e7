"""Household visits recorded on phones (answers, note, geotag, quality flags)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .cycles import Cycle
from .geography import Village
from .sampling import SampleEntry


class Visit(db.Model):
    __tablename__ = "visit"
    # Sync flags a new visit against the cycle's visits at the same rounded position
    # (services/visit_flags.py): a range on lat within the cycle, not a scan of the cycle.
    __table_args__ = (Index("ix_visit_cycle_lat", "cycle_id", "lat"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    sample_entry_id: Mapped[int] = mapped_column(ForeignKey("sample_entry.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(60))
    instrument_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)  # 走访记录
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The geotag: the fix taken on submit, else the one taken when the form opened.
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    geo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    geo_start: Mapped[dict | None] = mapped_column(JSON)
    geo_end: Mapped[dict | None] = mapped_column(JSON)
    geo_error: Mapped[str | None] = mapped_column(String(20))
    device_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{code, params}]
    # Staff review (docs/meetings-and-scores.md, "Visit review"): pending | approved |
    # rejected. A rejected visit does not count and its household is due again.
    review_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sample_entry: Mapped[SampleEntry] = relationship()
    village: Mapped[Village] = relationship()
    cycle: Mapped[Cycle] = relationship()
