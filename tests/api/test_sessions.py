"""Sessions that end: logout, password change, reset and deactivation revoke the session
and remember cookies at once; idle and absolute lifetimes; who may reset whom."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from fieldapp.extensions import db
from fieldapp.models import AuditLog, LoginSession, User, utcnow

from .. import personas as P

SYNC_BODY = {"records": [{"uuid": "5b0e1d5e-2f1c-4e8a-9d67-0c8f3a1e2b10", "type": "nothing",
                          "payload": {}}]}


def _saved_cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def _replay(app, cookies: dict[str, str]):
    """A fresh client carrying cookies saved earlier (a stolen or left-behind copy)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _logged_in(app, phone: str):
    client = app.test_client()
    response = P.login(client, phone)
    assert response.status_code == 200
    return client, response.get_json()["csrf_token"]


def test_logout_kills_saved_session_and_remember_cookies(app, personas):
    client, token = _logged_in(app, "13800000001")
    saved = _saved_cookies(client)
    assert set(saved) == {"session", "remember_token"}
    assert _replay(app, saved).get("/api/me").status_code == 200
    assert client.post("/api/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert _replay(app, saved).get("/api/me").status_code == 401
    assert _replay(app, {"remember_token": saved["remember_token"]}).get("/api/me").status_code == 401
    # Writes too: the saved cookie with its CSRF token no longer acts.
    write = _replay(app, saved).post("/api/sync", json=SYNC_BODY, headers={"X-CSRFToken": token})
    assert write.status_code == 401


def test_logout_ends_only_that_device(app, personas):
    phone, laptop = _logged_in(app, "13800000001"), _logged_in(app, "13800000001")
    phone[0].post("/api/auth/logout", headers={"X-CSRFToken": phone[1]})
    assert phone[0].get("/api/me").status_code == 401
    assert laptop[0].get("/api/me").status_code == 200


def test_web_logout_ends_the_session(app, personas):
    client, token = _logged_in(app, "13800000001")
    saved = _saved_cookies(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _replay(app, saved).get("/api/me").status_code == 401


def test_password_change_ends_other_sessions_and_keeps_this_one(app, personas):
    here, token = _logged_in(app, "13800000003")
    elsewhere, _ = _logged_in(app, "13800000003")
    saved = _saved_cookies(elsewhere)
    response = here.post("/api/auth/password", headers={"X-CSRFToken": token},
                         json={"current_password": P.PASSWORD, "new_password": "a-new-pass-9"})
    assert response.status_code == 204, response.get_json()
    assert here.get("/api/me").status_code == 200
    assert elsewhere.get("/api/me").status_code == 401
    assert _replay(app, {"remember_token": saved["remember_token"]}).get("/api/me").status_code == 401
    assert P.login(app.test_client(), "13800000003").status_code == 401
    assert P.login(app.test_client(), "13800000003", "a-new-pass-9").status_code == 200
    assert db.session.scalar(select(AuditLog.action).where(
        AuditLog.action == "user.password_change")) is not None


@pytest.mark.parametrize("body, field", [
    ({"current_password": "wrong-wrong", "new_password": "a-new-pass-9"}, "current_password"),
    ({"current_password": P.PASSWORD, "new_password": "short"}, "new_password"),
    ({"current_password": P.PASSWORD, "new_password": P.PASSWORD}, "new_password"),
])
def test_password_change_field_errors(login_as, body, field):
    response = login_as("evaluator_a").post("/api/auth/password", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_admin_reset_ends_every_session_of_the_user(app, login_as, personas):
    victim, _ = _logged_in(app, "13800000003")
    saved = _saved_cookies(victim)
    uid = personas.users["evaluator_a"].id
    response = login_as("admin").post(f"/api/users/{uid}/password-reset")
    assert response.status_code == 200
    new_password = response.get_json()["password"]
    assert len(new_password) >= 8
    assert victim.get("/api/me").status_code == 401
    assert _replay(app, {"remember_token": saved["remember_token"]}).get("/api/me").status_code == 401
    assert P.login(app.test_client(), "13800000003").status_code == 401
    assert P.login(app.test_client(), "13800000003", new_password).status_code == 200


def test_deactivation_ends_sessions_and_logins_until_reactivated(app, login_as, personas):
    victim, _ = _logged_in(app, "13800000003")
    uid = personas.users["evaluator_a"].id
    staff = login_as("staff_a")  # the evaluator's own county staff may do it
    response = staff.patch(f"/api/users/{uid}", json={"is_active": False})
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert victim.get("/api/me").status_code == 401
    assert P.login(app.test_client(), "13800000003").status_code == 401
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
    assert entry.detail["before"]["is_active"] is True and entry.detail["after"]["is_active"] is False
    assert staff.patch(f"/api/users/{uid}", json={"is_active": True}).status_code == 200
    assert P.login(app.test_client(), "13800000003").status_code == 200


def test_who_may_reset_and_deactivate(login_as, personas):
    evaluator_a = personas.users["evaluator_a"].id
    for name, target, expected in [
        ("staff_b", evaluator_a, 403),                          # another county
        ("staff_a", personas.users["admin"].id, 403),           # not a field account
        ("staff_a", personas.users["staff_b"].id, 403),
        ("evaluator_a", personas.users["evaluator_b"].id, 403),
        ("secretary_a", evaluator_a, 403),
        ("staff_a", personas.users["secretary_a"].id, 200),     # own county's secretary
    ]:
        client = login_as(name)
        assert client.post(f"/api/users/{target}/password-reset").status_code == expected, name
        assert client.patch(f"/api/users/{target}",
                            json={"is_active": True}).status_code == expected, name
    # Staff never change roles; nobody deactivates themselves.
    assert login_as("staff_a").patch(f"/api/users/{evaluator_a}",
                                     json={"role": "county_staff"}).status_code == 403
    me = personas.users["admin"].id
    assert login_as("admin").patch(f"/api/users/{me}", json={"is_active": False}).status_code == 422
    assert personas.anonymous().post(f"/api/users/{evaluator_a}/password-reset").status_code in (400, 401)


def test_admin_changes_a_role_with_before_and_after(login_as, personas):
    uid = personas.users["evaluator_a"].id
    response = login_as("admin").patch(f"/api/users/{uid}", json={
        "role": "county_staff", "county_id": personas.counties["a"].id})
    assert response.status_code == 200 and response.get_json()["role"] == "county_staff"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
    assert entry.detail["before"]["role"] == "evaluator"
    assert entry.detail["after"]["role"] == "county_staff"
    bad = login_as("admin").patch(f"/api/users/{uid}", json={"role": "secretary"})
    assert bad.status_code == 422 and "role" in bad.get_json()["errors"]


def _age(column, delta: timedelta) -> None:
    db.session.execute(update(LoginSession).values({column: utcnow() - delta}))
    db.session.commit()


def test_a_week_offline_keeps_the_session(app, personas):
    client, _ = _logged_in(app, "13800000003")
    assert app.config["SESSION_IDLE_LIFETIME"] > timedelta(days=7)
    _age("last_seen_at", timedelta(days=8))
    assert client.get("/api/me").status_code == 200


def test_idle_limit_ends_the_session(app, personas):
    client, _ = _logged_in(app, "13800000003")
    saved = _saved_cookies(client)
    _age("last_seen_at", app.config["SESSION_IDLE_LIFETIME"] + timedelta(minutes=1))
    assert client.get("/api/me").status_code == 401
    assert _replay(app, {"remember_token": saved["remember_token"]}).get("/api/me").status_code == 401


def test_absolute_limit_ends_even_a_busy_session(app, personas):
    client, _ = _logged_in(app, "13800000003")
    _age("created_at", app.config["SESSION_MAX_LIFETIME"] + timedelta(minutes=1))
    assert client.get("/api/me").status_code == 401


def test_database_holds_no_usable_session_token(app, personas):
    client, _ = _logged_in(app, "13800000003")
    cookie = _saved_cookies(client)["remember_token"]
    hashes = db.session.scalars(select(LoginSession.token_hash)).all()
    assert hashes and all(h not in cookie for h in hashes)


def test_staff_change_password_page_and_users_page_actions(app, login_as, personas):
    staff = login_as("staff_a")
    page = staff.get("/account/password")
    assert page.status_code == 200 and "修改密码" in page.get_data(as_text=True)
    wrong = staff.post("/account/password", data={"csrf_token": staff.csrf_token,
                                                  "current_password": "nope-nope",
                                                  "new_password": "another-pass-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    done = staff.post("/account/password", data={"csrf_token": staff.csrf_token,
                                                 "current_password": P.PASSWORD,
                                                 "new_password": "another-pass-1"})
    assert done.status_code == 200 and 'data-testid="password-changed"' in done.get_data(as_text=True)

    uid = personas.users["evaluator_a"].id
    listing = staff.get("/staff/users/").get_data(as_text=True)
    assert 'data-testid="reset-13800000003"' in listing
    assert 'data-testid="reset-13800000000"' not in listing  # the admin is not staff's to reset
    reset = staff.post(f"/staff/users/{uid}/password-reset", data={"csrf_token": staff.csrf_token})
    assert reset.status_code == 200 and 'data-testid="reset-password-value"' in reset.get_data(as_text=True)
    off = staff.post(f"/staff/users/{uid}/active", data={"csrf_token": staff.csrf_token, "active": "0"})
    assert off.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, uid).is_active_account is False
    foreign = login_as("staff_b").post(f"/staff/users/{uid}/active",
                                       data={"csrf_token": login_as("staff_b").csrf_token, "active": "1"})
    assert foreign.status_code == 403
