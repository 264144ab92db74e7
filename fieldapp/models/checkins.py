"""Residency (驻村): daily check-ins, leave, unannounced spot checks, and the confirmed
work-discipline (工作纪律) score.

The rules that turn these rows into present/leave/absent days live in
fieldapp/domain/residency.py (see docs/residency-and-flags.md); the rows only keep facts.
Every row carries both `secretary_id` (a secretary sees their own rows) and `village_id`
(staff see their county's rows), so `policy.scope()` needs no special rule.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, Date, Float, ForeignKey, Index, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Points, UTCDateTime, utcnow
from .cycles import Cycle
from .geography import Village
from .roster import FirstSecretary
from .users import User

LEAVE_STATUSES = ("pending", "approved", "rejected")
# Why a QR token did not count: None (no QR, or the village's current token), else one of
TOKEN_STATUSES = ("valid", "rotated", "other_village", "unknown")


class CheckIn(db.Model):
    """One tap on 今日驻村打卡: the phone's time and at most one position fix.

    Never deleted or edited by staff: flags only ask for a second look.
    """

    __tablename__ = "checkin"
    __table_args__ = (Index("ix_checkin_secretary_id_day", "secretary_id", "day"),
                      # flagging reads a new check-in's neighbours in time (checkin_window)
                      Index("ix_checkin_secretary_id_at", "secretary_id", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock at the tap
    day: Mapped[date] = mapped_column(Date)  # Asia/Shanghai day of `at`
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    geo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    geo_error: Mapped[str | None] = mapped_column(String(20))
    via_qr: Mapped[bool] = mapped_column(Boolean, default=False)  # 扫码
    token_valid: Mapped[bool] = mapped_column(Boolean, default=True)  # False: does not count
    token_status: Mapped[str | None] = mapped_column(String(20))  # TOKEN_STATUSES
    inside_fence: Mapped[bool | None] = mapped_column(Boolean)  # None: no fix or no centre
    distance_m: Mapped[float | None] = mapped_column(Float)
    device_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{code, msgid, params}]

    secretary: Mapped[FirstSecretary] = relationship()
    village: Mapped[Village] = relationship()

    @property
    def counted(self) -> bool:
        return self.token_valid


class RetiredCheckinToken(db.Model):
    """A village's poster token after rotation: scanning it no longer counts, but the
    check-in can say "old poster" instead of "unknown code"."""

    __tablename__ = "retired_checkin_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LeaveRequest(db.Model):
    """请假: dates (both inclusive) and a reason; county staff approve or reject."""

    __tablename__ = "leave_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    secretary: Mapped[FirstSecretary] = relationship()
    village: Mapped[Village] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class SpotCheck(db.Model):
    """暗访: an unannounced check by county staff, present or absent, with a note."""

    __tablename__ = "spot_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    present: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    secretary: Mapped[FirstSecretary] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class DisciplineDecision(db.Model):
    """The 工作纪律 score staff confirmed (or overrode, with a reason) for one cycle.

    `suggested` and `suggestion` freeze what the formula said at decision time, so a later
    change of data or settings never silently rewrites a decision.
    """

    __tablename__ = "discipline_decision"
    __table_args__ = (UniqueConstraint("cycle_id", "secretary_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    suggested: Mapped[Decimal | None] = mapped_column(Points())  # None: no check-in data
    suggestion: Mapped[dict] = mapped_column(JSON, default=dict)  # breakdown, cap, config
    score: Mapped[Decimal] = mapped_column(Points())  # the confirmed score
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cycle: Mapped[Cycle] = relationship()
    secretary: Mapped[FirstSecretary] = relationship()
    decided_by: Mapped[User | None] = relationship()
