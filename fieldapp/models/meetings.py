"""Democratic evaluation meetings (民主测评会) and their anonymous ballots.

Anonymity by construction: a `BallotToken` (what a printed slip carries, stored only as a
hash) and a `Ballot` (what was answered) share nothing but the meeting. There is no
foreign key, no timestamp and no sequential id between them: a ballot's id is random, the
token row keeps only `used`. When the meeting is closed, ballots are re-inserted in a
random order and token rows are rewritten (services/meetings.py), so neither the physical
row order nor PostgreSQL's per-row transaction id (xmin) links a vote to its slip any more.
Residual risks are listed in docs/meetings-and-scores.md.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .cycles import Cycle
from .geography import Village
from .roster import FirstSecretary

# Participant categories of an evaluation meeting, stored as codes.
MEETING_CATEGORIES = ("party_member", "cadre", "villager_rep", "poor_household_rep")
MEETING_STATUSES = ("open", "closed")


def random_ballot_id() -> str:
    """A ballot's primary key: random, so ids say nothing about the order of votes."""
    return secrets.token_hex(16)


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("cycle_id", "secretary_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretary.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    # {category: number of participants}; one ballot token per participant.
    participants: Mapped[dict] = mapped_column(JSON, default=dict)
    instrument_id: Mapped[str] = mapped_column(String(60))
    instrument_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")  # MEETING_STATUSES
    # Slip tokens are HMAC(key derived from SECRET_KEY, salt|n): slips can be re-printed, the database alone
    # holds only their hashes.
    token_salt: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    cycle: Mapped[Cycle] = relationship()
    secretary: Mapped[FirstSecretary] = relationship()
    village: Mapped[Village] = relationship()

    @property
    def participant_total(self) -> int:
        return sum(int(v) for v in (self.participants or {}).values())


class BallotToken(db.Model):
    """One printed slip: the SHA-256 of its token and whether it was used. Nothing else."""

    __tablename__ = "ballot_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    # SHA-256 of the random receipt the voting page sent with the vote: a retry after a
    # lost response (same receipt) is told "stored", anyone else "already used". It lives
    # on the token row, never on the ballot, so it links nothing to the answers.
    receipt_hash: Mapped[str | None] = mapped_column(String(64))


class Ballot(db.Model):
    """One cast ballot: the category the voter chose and the answers. No time, no token."""

    __tablename__ = "ballot"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_ballot_id)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))  # MEETING_CATEGORIES
    answers: Mapped[dict] = mapped_column(JSON)


class PaperTally(db.Model):
    """Paper fallback: how many paper ballots of a category chose an option of the
    instrument's overall item. Each counted paper ballot is one respondent."""

    __tablename__ = "paper_tally"
    __table_args__ = (UniqueConstraint("meeting_id", "category", "option"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    option: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=0)
