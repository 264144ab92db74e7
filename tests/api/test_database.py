"""Engine settings and the shared (multi-process) login throttle store."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from .. import personas as P


def test_sqlite_runs_with_wal_and_foreign_keys(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(db, personas):
    from sqlalchemy.exc import IntegrityError

    from fieldapp.models import Household
    db.session.add(Household(village_id=999999, household_no="x", head_name="x", family_size=1,
                             attribute="general", exit_status="not_exited"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        return None
    return url


def test_login_throttle_in_redis(app, client, personas):
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis server reachable (set TEST_REDIS_URL)")
    import redis
    store = redis.Redis.from_url(url)
    store.flushdb()
    app.config["REDIS_URL"] = url
    try:
        limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        for _ in range(limit):
            assert P.login(client, "13800000001", "bad-password").status_code == 401
        assert int(store.get("fieldapp:login:acct:13800000001")) == limit
        # A second app process sharing the Redis store sees the same counter.
        other = app.test_client()
        assert P.login(other, "13800000001").status_code == 429
    finally:
        app.config["REDIS_URL"] = None
        store.flushdb()


def test_client_ip_behind_a_trusted_proxy():
    from flask import Flask, request

    from fieldapp import trust_proxies

    app = Flask(__name__)

    @app.route("/ip")
    def ip():
        return request.remote_addr or ""

    headers = {"X-Forwarded-For": "203.0.113.7"}
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    assert app.test_client().get("/ip", headers=headers, environ_base=environ).text == "10.0.0.1"
    trust_proxies(app, 1)
    assert app.test_client().get("/ip", headers=headers, environ_base=environ).text == "203.0.113.7"
