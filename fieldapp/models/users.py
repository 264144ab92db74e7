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
    # Bumped on password change/logout-everywhere: old session cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county: Mapped[County | None] = relationship()
    secretary: Mapped[FirstSecretary | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:
        # The session version makes a stolen/stale cookie useless after a reset.
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        method = (current_app.config["PASSWORD_HASH_METHOD"] if has_app_context()
                  else "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class LoginFailure(db.Model):
    """A failed login, kept briefly: the database is the shared counter store for
    throttling across worker processes when Redis is not configured."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)  # "acct:<phone>" or "ip:<addr>"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
