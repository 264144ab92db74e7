"""Server-side login sessions: every session and remember cookie names a LoginSession row,
checked on every request, so that ending one takes effect at once on every worker.

Lifetimes (config): a session ends after SESSION_IDLE_DAYS without any request, and in any
case SESSION_MAX_DAYS after login. Both default to more than a week, because evaluators
log in once and then work offline in villages for days before they sync.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import LoginSession, User, utcnow

TOKEN_PREFIX = "s1."
# Writing last_seen_at on every request would make every GET a write: once a minute is
# precise enough for an idle limit counted in days.
TOUCH_EVERY = timedelta(minutes=1)
REVOKE_REASONS = ("logout", "password", "reset", "deactivated", "expired")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User, user_agent: str | None = None) -> User:
    """A new session for `user` after a successful login; call before login_user()."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, token_hash=_digest(token),
                       user_agent=(user_agent or "")[:200] or None)
    db.session.add(row)
    db.session.commit()
    user.login_token = token
    g.login_session_id = row.id
    return user


def load_session(token: str) -> User | None:
    """The user of a live session, or None (unknown, revoked, idle or too old)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token))
                            .options(joinedload(LoginSession.user)))  # one statement per request
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    cfg = current_app.config
    if (now - row.last_seen_at > cfg["SESSION_IDLE_LIFETIME"]
            or now - row.created_at > cfg["SESSION_MAX_LIFETIME"]):
        return None
    user = row.user
    if not user.is_active:
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        # Conditional: a revocation committed meanwhile is never overwritten.
        db.session.execute(update(LoginSession).where(
            LoginSession.id == row.id, LoginSession.revoked_at.is_(None)).values(last_seen_at=now))
        db.session.commit()
    user.login_token = token
    g.login_session_id = row.id
    return user


def current_session_id() -> int | None:
    return g.get("login_session_id")


def end_current_session() -> None:
    """Logout: this device's session (and its remember cookie) stops working."""
    session_id = current_session_id()
    if session_id is not None:
        _revoke(LoginSession.id == session_id, "logout")
        g.login_session_id = None


def revoke_user_sessions(user: User, reason: str, *, keep_current: bool = False) -> int:
    """End every session of `user` (password change keeps the device that changed it)."""
    condition = LoginSession.user_id == user.id
    keep = current_session_id() if keep_current else None
    if keep is not None:
        condition = condition & (LoginSession.id != keep)
    return _revoke(condition, reason)


def _revoke(condition, reason: str) -> int:
    result = db.session.execute(update(LoginSession).where(
        condition, LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow(),
                                                              revoked_reason=reason))
    return result.rowcount or 0
