"""Random draws of households to visit (see docs/algorithms.md, hmac-sha256-rank-v1).

A `Draw` is one run from one public seed: for a county in a cycle, or for one village
added later (`village_id`). It stores, per village, every eligible household with its
HMAC key and rank (`SampleEntry`), so that anyone can re-derive it. Draws are locked;
only an admin can void one, or one village of one, with a reason.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, new_token, utcnow
from .cycles import Cycle
from .geography import County, Village
from .roster import Household
from .users import User

DRAW_STATUSES = ("active", "voided")
ENTRY_ROLES = ("sample", "reserve", "unused")
ENTRY_STATUSES = ("pending", "visited", "unreachable", "reserve_unused", "reserve_active", "unused")


class Draw(db.Model):
    __tablename__ = "draw"
    __table_args__ = (
        # Re-drawing is refused: at most one active county draw per cycle and county, even
        # when two requests race (the loser gets an IntegrityError). Voided draws stay, any
        # number. Single-village draws are held to one per village by VillageDraw's index.
        Index("uq_draw_one_active", "cycle_id", "county_id", unique=True,
              postgresql_where=text("status = 'active' AND village_id IS NULL"),
              sqlite_where=text("status = 'active' AND village_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    # Set for a single-village draw (a village added after its county's draw); None for a
    # county draw.
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(40))
    seed: Mapped[str] = mapped_column(Text)  # exactly as published
    seed_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sample_size: Mapped[int] = mapped_column(Integer)
    reserve_count: Mapped[int] = mapped_column(Integer)
    include_exited: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Public page URL token (no names on that page).
    public_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    cycle: Mapped[Cycle] = relationship()
    county: Mapped[County] = relationship()
    village: Mapped[Village | None] = relationship()
    villages: Mapped[list["VillageDraw"]] = relationship(back_populates="draw")


class VillageDraw(db.Model):
    """The draw's result for one village. Its own status: an admin can void one village's
    draw without touching the other villages of the same draw."""

    __tablename__ = "village_draw"
    __table_args__ = (
        UniqueConstraint("draw_id", "village_id"),
        # One active draw per village and cycle, whichever draw (county or village) made it.
        Index("uq_village_draw_one_active", "cycle_id", "village_id", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)  # = draw's
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # DRAW_STATUSES
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    # Snapshot of Village.code at draw time: the HMAC message uses it, so the record must
    # not change if the registry is ever corrected.
    village_code: Mapped[str] = mapped_column(String(20))
    eligible_count: Mapped[int] = mapped_column(Integer)
    complete_census: Mapped[bool] = mapped_column(Boolean)  # 全部入样

    draw: Mapped[Draw] = relationship(back_populates="villages")
    village: Mapped[Village] = relationship()
    entries: Mapped[list["SampleEntry"]] = relationship(
        back_populates="village_draw", order_by="SampleEntry.rank")


class SampleEntry(db.Model):
    """One eligible household in a village draw, with its key and rank."""

    __tablename__ = "sample_entry"
    __table_args__ = (UniqueConstraint("village_draw_id", "rank"),
                      UniqueConstraint("village_draw_id", "household_no"))
    id: Mapped[int] = mapped_column(primary_key=True)
    village_draw_id: Mapped[int] = mapped_column(ForeignKey("village_draw.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    household_no: Mapped[str] = mapped_column(String(40))  # snapshot at draw time
    hmac_key: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)  # 1-based
    role: Mapped[str] = mapped_column(String(10))  # ENTRY_ROLES
    status: Mapped[str] = mapped_column(String(20))  # ENTRY_STATUSES
    # Printed on the field sheet QR: opens the visit without exposing 户编号 or ids.
    token: Mapped[str | None] = mapped_column(String(64), unique=True)

    village_draw: Mapped[VillageDraw] = relationship(back_populates="entries")
    household: Mapped[Household] = relationship()
    village: Mapped[Village] = relationship()


REPLACEMENT_REASONS = ("not_home", "migrant_work", "moved_out", "deceased", "refused", "other")


class Replacement(db.Model):
    """A sampled household marked 无法访问 and the reserve that took its place."""

    __tablename__ = "replacement"
    __table_args__ = (
        # A reserve is used once: two transactions can never both take it.
        UniqueConstraint("reserve_entry_id"),
        # A household is replaced once; later attempts (another phone) are conflicts.
        Index("uq_replacement_replaced_once", "replaced_entry_id", unique=True,
              postgresql_where=text("NOT is_conflict"), sqlite_where=text("is_conflict = 0")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    village_draw_id: Mapped[int] = mapped_column(ForeignKey("village_draw.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    replaced_entry_id: Mapped[int] = mapped_column(ForeignKey("sample_entry.id"))
    reserve_entry_id: Mapped[int | None] = mapped_column(ForeignKey("sample_entry.id"))
    reason: Mapped[str] = mapped_column(String(20))  # REPLACEMENT_REASONS
    reason_text: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when, by the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two phones replacing the same household offline: the later one is kept as evidence,
    # activates nothing, and is shown to staff.
    is_conflict: Mapped[bool] = mapped_column(Boolean, default=False)

    replaced_entry: Mapped[SampleEntry] = relationship(foreign_keys=[replaced_entry_id])
    actor: Mapped[User] = relationship()
    reserve_entry: Mapped[SampleEntry | None] = relationship(foreign_keys=[reserve_entry_id])
