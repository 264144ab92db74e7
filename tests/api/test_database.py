"""Engine settings and the client address behind proxies (the login throttle's shared
counters are tested in test_login_throttle.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import text


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
