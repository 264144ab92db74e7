"""Login, CSRF, throttling and the session."""
from __future__ import annotations

from .. import personas as P


def test_login_and_me(client, personas):
    response = P.login(client, "13800000001")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["role"] == "county_staff"
    assert body["user"]["county_id"] == personas.counties["a"].id
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    me = client.get("/api/me").get_json()
    assert me["phone"] == "13800000001"


def test_wrong_password_is_401_with_error_shape(client, personas):
    response = P.login(client, "13800000001", "wrong-password")
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "invalid_credentials"
    assert body["status"] == 401
    assert body["message"]  # a human sentence, Chinese by default
    assert "errors" in body


def test_default_language_is_chinese(client, personas):
    body = P.login(client, "13800000001", "wrong-password").get_json()
    assert body["message"] == "手机号或密码错误。"
    english = client.post("/api/auth/login?lang=en", json={"phone": "1", "password": "x"},
                          headers={"X-CSRFToken": P.csrf_token(client)}).get_json()
    assert english["message"] == "Wrong phone number or password."


def test_login_requires_csrf(client, personas):
    response = client.post("/api/auth/login", json={"phone": "13800000001",
                                                     "password": P.PASSWORD})
    assert response.status_code == 400
    assert response.get_json()["code"] == "csrf_failed"


def test_state_changing_api_requires_csrf(login_as):
    staff = login_as("staff_a")
    response = staff.client.post("/api/users", json={"phone": "13700000001", "name": "x",
                                                     "password": "12345678"})
    assert response.get_json()["code"] == "csrf_failed"


def test_me_requires_login(client, personas):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_logged_in"


def test_session_cookie_flags(client, personas):
    response = P.login(client, "13800000001")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie


def test_logout_ends_session(login_as):
    staff = login_as("staff_a")
    assert staff.post("/api/auth/logout").status_code == 204
    assert staff.get("/api/me").status_code == 401


def test_password_is_hashed(personas):
    user = personas.users["staff_a"]
    assert P.PASSWORD not in user.password_hash
    assert user.check_password(P.PASSWORD)


def test_unknown_field_rejected_with_field_error(client, personas):
    response = client.post("/api/auth/login",
                           json={"phone": "1", "password": "x", "admin": True},
                           headers={"X-CSRFToken": P.csrf_token(client)})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert "admin" in body["errors"]


def test_validation_messages_are_chinese_by_default(client, personas):
    response = client.post("/api/auth/login", json={"password": "x", "extra": 1},
                           headers={"X-CSRFToken": P.csrf_token(client)})
    errors = response.get_json()["errors"]
    assert errors["phone"] == ["此项必填。"]
    assert errors["extra"] == ["不允许提交此字段。"]
    english = client.post("/api/auth/login?lang=en", json={"password": "x"},
                          headers={"X-CSRFToken": P.csrf_token(client)}).get_json()
    assert english["errors"]["phone"] == ["This field is required."]


def test_range_messages_keep_their_numbers(login_as, personas):
    response = login_as("staff_a").patch(f"/api/villages/{personas.villages['a1'].id}",
                                         json={"radius_m": 5})
    assert response.get_json()["errors"]["radius_m"] == ["必须介于 100 与 20000 之间。"]
