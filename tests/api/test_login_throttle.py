"""The login throttle: progressive delays per account and per address, no lock that
refuses the right password, the same cost for unknown phones, and an atomic count."""
from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import requests
from sqlalchemy import select, update

from fieldapp.extensions import db
from fieldapp.models import LoginThrottle, User, utcnow

from .. import personas as P
from ..live import threaded_server

STAFF = "13800000001"


def _wait_over(key: str) -> None:
    """Let the current wait of `key` run out (instead of sleeping through it)."""
    db.session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                       .values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_wrong_passwords_bring_short_doubling_waits_not_a_lock(app, client, personas):
    free = app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]
    for _ in range(free):
        assert P.login(client, STAFF, "bad-password").status_code == 401
    waiting = P.login(client, STAFF)
    assert waiting.status_code == 429
    assert waiting.get_json()["code"] == "too_many_attempts"
    assert waiting.get_json()["retry_after"] == 1 and waiting.headers["Retry-After"] == "1"
    _wait_over(f"acct:{STAFF}")
    # Another wrong one doubles the wait ...
    assert P.login(client, STAFF, "bad-password").status_code == 401
    assert P.login(client, STAFF).get_json()["retry_after"] == 2
    # ... but once it is over, the right password is accepted: nobody can lock an account.
    _wait_over(f"acct:{STAFF}")
    assert P.login(client, STAFF).status_code == 200
    # And a success clears the account's count.
    count = db.session.scalar(select(LoginThrottle.failures).where(
        LoginThrottle.key == f"acct:{STAFF}"))
    assert count == 0


def test_wait_is_capped(app, client, personas, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_DELAY_PER_ACCOUNT", 60)
    free = app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]
    for _ in range(free + 10):
        _wait_over(f"acct:{STAFF}")
        assert P.login(client, STAFF, "bad-password").status_code == 401
    assert P.login(client, STAFF).get_json()["retry_after"] == 60


def test_throttled_per_address_across_accounts(app, client, personas):
    free = app.config["LOGIN_FREE_FAILURES_PER_IP"]
    token = P.csrf_token(client)
    for i in range(free):
        response = client.post("/api/auth/login", json={"phone": f"1370000{i:04d}",
                                                         "password": "nope-nope"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 401
    response = client.post("/api/auth/login", json={"phone": STAFF, "password": P.PASSWORD},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 429
    # Another address is not affected.
    other = app.test_client()
    response = other.post("/api/auth/login", json={"phone": STAFF, "password": P.PASSWORD},
                          headers={"X-CSRFToken": P.csrf_token(other)},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 200, response.get_json()


def test_unknown_phone_costs_the_same_as_a_known_one(app, client, personas, monkeypatch):
    """A costly hash makes the difference visible: an unknown phone used to answer at once
    (no hash checked), giving away which phones have accounts."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:300000")
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_ACCOUNT", 100)
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES_PER_IP", 100)
    user = db.session.get(User, personas.users["staff_a"].id)
    user.set_password(P.PASSWORD)
    db.session.commit()
    token = P.csrf_token(client)

    def timed(phone: str) -> float:
        start = time.perf_counter()
        response = client.post("/api/auth/login", json={"phone": phone, "password": "wrong-one"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 401
        return time.perf_counter() - start

    timed("13711112222")  # warm-up: the stand-in hash is made once per process
    known = statistics.median(timed(STAFF) for _ in range(5))
    unknown = statistics.median(timed("13711112222") for _ in range(5))
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_concurrent_tries_cannot_exceed_the_allowance(app, personas, monkeypatch):
    """40 tries at once, on a real threaded server: exactly `free` passwords are checked."""
    free = app.config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]
    monkeypatch.setitem(app.config, "LOGIN_BASE_DELAY", 600)  # the burst outlasts no wait
    statuses: list[int] = []
    with threaded_server(app) as base:
        sessions = []
        for _ in range(40):
            s = requests.Session()
            s.headers["X-CSRFToken"] = s.get(f"{base}/api/auth/csrf").json()["csrf_token"]
            sessions.append(s)
        barrier = threading.Barrier(len(sessions))

        def attempt(s: requests.Session) -> None:
            barrier.wait()
            response = s.post(f"{base}/api/auth/login",
                              json={"phone": STAFF, "password": "bad-password"}, timeout=60)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=attempt, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(statuses) == 40 and set(statuses) <= {401, 429}
    assert statuses.count(401) == free, statuses
