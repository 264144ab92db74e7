"""Accounts and roles."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow
from .geography import County
from .roster import FirstSecretary

ROLES = ("admin", "county_staff", "evaluator", "secretary")
# What an account is attached to (its shape; what a role may do is fieldapp/policy.py's):
# these roles belong to one county, and a secretary's account to one FirstSecretary.
COUNTY_ROLES = frozenset({"county_staff", "evaluator"})
SECRETARY_ROLE = "secretary"


class User(UserMixin, db.Model):
    """admin: the whole city; county_staff and evaluator: one county (evaluators further
    limited to villages assigned in a cycle); secretary: linked to one FirstSecretary."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # ROLES
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("first_secretary.id"), unique=True)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county: Mapped[County | None] = relationship()
    secretary: Mapped[FirstSecretary | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    # The login session this request runs under (set by services/sessions.py): Flask-Login
    # stores get_id() in the session cookie and the remember cookie, so both name the
    # server-side LoginSession, never the bare user id, and die when it is revoked.
    login_token = None  # str, per request; not a column

    def get_id(self) -> str:
        if not self.login_token:
            raise RuntimeError("log in through services.sessions.start_session")
        return self.login_token

    def set_password(self, password: str) -> None:
        method = (current_app.config["PASSWORD_HASH_METHOD"] if has_app_context()
                  else "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class LoginSession(db.Model):
    """One login on one device. The cookie carries a random token; the database keeps only
    its SHA-256, so a copy of the database opens no session. Revoked on logout (this one),
    and on password change, reset and deactivation (all of the user's)."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))  # REVOKE_REASONS
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed-login counter for one key ("acct:<phone>" or "ip:<addr>"), shared by every
    worker. `failures` and `blocked_until` change only by compare-and-set updates
    (security.py), so concurrent attempts cannot exceed the allowance."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
