"""Login throttling with counters shared by all worker processes.

Failures are counted per account and per client IP inside a sliding window. The counters
live in the database (always available, shared across workers and machines), or in Redis
when REDIS_URL is set. Nothing is kept in process memory.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from .extensions import db
from .models import LoginFailure, utcnow


class _DatabaseCounter:
    def count(self, key: str, window: int) -> int:
        since = utcnow() - timedelta(seconds=window)
        return db.session.scalar(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.key == key, LoginFailure.at >= since)) or 0

    def add(self, key: str, window: int) -> None:
        db.session.add(LoginFailure(key=key))
        # Keep the table small: forget failures older than the window.
        db.session.execute(delete(LoginFailure).where(
            LoginFailure.at < utcnow() - timedelta(seconds=window)))
        db.session.commit()

    def reset(self, key: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))
        db.session.commit()


class _RedisCounter:
    def __init__(self, url: str):
        import redis  # optional dependency, extra "prod"

        self.redis = redis.Redis.from_url(url)

    def count(self, key: str, window: int) -> int:
        return int(self.redis.get(f"fieldapp:login:{key}") or 0)

    def add(self, key: str, window: int) -> None:
        pipe = self.redis.pipeline()
        pipe.incr(f"fieldapp:login:{key}")
        pipe.expire(f"fieldapp:login:{key}", window)
        pipe.execute()

    def reset(self, key: str) -> None:
        self.redis.delete(f"fieldapp:login:{key}")


def _counter():
    url = current_app.config.get("REDIS_URL")
    return _RedisCounter(url) if url else _DatabaseCounter()


def _keys(phone: str, ip: str | None) -> list[tuple[str, int]]:
    cfg = current_app.config
    keys = [(f"acct:{phone}", cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"])]
    if ip:
        keys.append((f"ip:{ip}", cfg["LOGIN_MAX_FAILURES_PER_IP"]))
    return keys


def is_throttled(phone: str, ip: str | None) -> bool:
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    counter = _counter()
    return any(counter.count(key, window) >= limit for key, limit in _keys(phone, ip))


def record_failure(phone: str, ip: str | None) -> None:
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    counter = _counter()
    for key, _limit in _keys(phone, ip):
        counter.add(key, window)


def record_success(phone: str) -> None:
    _counter().reset(f"acct:{phone}")
