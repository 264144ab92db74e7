"""Login throttling: progressive delays per account and per client IP, counted atomically.

Each key ("acct:<phone>", "ip:<addr>") has a row in `login_throttle`. An attempt first
reserves its place by a compare-and-set UPDATE that counts it as a failure (and sets the
delay the next attempt must wait); only then is the password checked, and a success
clears the account's count. So a burst of concurrent tries gets exactly as many password
checks as the allowance, on every worker and either database.

The first `free` failures in a window cost nothing; after that each failure doubles the
wait before the next attempt (1 s, 2 s, 4 s ...) up to a cap. There is no lock: the right
password is accepted as soon as the current short wait is over, so wrong passwords sent
by someone else cannot keep an account (an admin's included) out for long, while guessing
slows to one try per cap. Counts are forgotten after LOGIN_WINDOW_SECONDS without failure.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .errors import AppError
from .extensions import db
from .models import LoginThrottle, utcnow

# Many people logging in at once behind one address (a county office) all update that
# address's row: a lost compare-and-set is retried after a short random pause.
CAS_ATTEMPTS = 50


@dataclass(frozen=True)
class Rule:
    free: int        # failures in a window before any delay
    max_delay: int   # seconds, the cap of the doubling delay
    base_delay: int = 1  # seconds, the first wait

    def delay(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(self.base_delay * 2 ** min(failures - self.free, 30), self.max_delay)


def _keys(phone: str, ip: str | None) -> list[tuple[str, Rule]]:
    cfg = current_app.config
    keys = []
    if ip:
        keys.append((f"ip:{ip}"[:120], Rule(cfg["LOGIN_FREE_FAILURES_PER_IP"],
                                             cfg["LOGIN_MAX_DELAY_PER_IP"],
                                             cfg["LOGIN_BASE_DELAY"])))
    keys.append((f"acct:{phone}"[:120], Rule(cfg["LOGIN_FREE_FAILURES_PER_ACCOUNT"],
                                              cfg["LOGIN_MAX_DELAY_PER_ACCOUNT"],
                                              cfg["LOGIN_BASE_DELAY"])))
    return keys


def _ensure_row(key: str, now: datetime) -> None:
    values = {"key": key, "failures": 0, "blocked_until": now, "last_failure_at": now}
    if db.engine.dialect.name == "postgresql":
        stmt = postgresql.insert(LoginThrottle).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(LoginThrottle).values(**values).on_conflict_do_nothing()
    db.session.execute(stmt)
    # Keep the table small: forget keys idle for two windows (random phones, old addresses).
    stale = now - 2 * timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < stale,
                                                   LoginThrottle.blocked_until < now))
    db.session.commit()


def _too_many(wait: timedelta) -> AppError:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return AppError("too_many_attempts", extra={"retry_after": seconds})


def _reserve(key: str, rule: Rule) -> None:
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    for _attempt in range(CAS_ATTEMPTS):
        now = utcnow()
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key)
                                .execution_options(populate_existing=True))
        if row is None:
            _ensure_row(key, now)
            continue
        if row.blocked_until > now:
            raise _too_many(row.blocked_until - now)
        failures = row.failures if now - row.last_failure_at <= window else 0
        counted = failures + 1
        result = db.session.execute(update(LoginThrottle).where(
            LoginThrottle.key == key, LoginThrottle.failures == row.failures,
            LoginThrottle.last_failure_at == row.last_failure_at,
        ).values(failures=counted, last_failure_at=now,
                 blocked_until=now + timedelta(seconds=rule.delay(counted))))
        db.session.commit()
        if result.rowcount == 1:
            return
        time.sleep(random.random() * 0.005)
    # Others changed the count under us every time: a burst, which is what this stops.
    raise _too_many(timedelta(seconds=1))


def begin_attempt(phone: str, ip: str | None) -> None:
    """Count this attempt, or raise too_many_attempts (429, retry_after) while it must wait."""
    for key, rule in _keys(phone, ip):
        _reserve(key, rule)


def record_success(phone: str, ip: str | None) -> None:
    """The password was right: clear the account's count, and take this attempt back off
    the address's count (other failures from that address stay)."""
    db.session.execute(update(LoginThrottle).where(LoginThrottle.key == f"acct:{phone}"[:120])
                       .values(failures=0, blocked_until=utcnow()))
    if ip:
        db.session.execute(update(LoginThrottle).where(
            LoginThrottle.key == f"ip:{ip}"[:120], LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1))
    db.session.commit()
