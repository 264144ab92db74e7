"""Server-rendered pages: login form, redirects, language, the staff area's access."""
from __future__ import annotations

import re

from .. import personas as P


def form_token(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_login_page_is_chinese_by_default(client, personas):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and "手机号" in html
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english and "Mobile number" in english


def test_staff_login_redirects_to_staff_home(client, personas):
    response = client.post("/login", data={"phone": "13800000001", "password": P.PASSWORD,
                                           "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/")
    html = client.get("/staff/").get_data(as_text=True)
    assert "岐山县" in html and 'data-testid="stat-villages">2<' in html


def test_evaluator_login_goes_to_the_pwa(client, personas):
    response = client.post("/login", data={"phone": "13800000003", "password": P.PASSWORD,
                                           "csrf_token": form_token(client)})
    assert response.headers["Location"].endswith("/")
    assert client.get("/staff/").status_code == 403


def test_login_form_requires_csrf(client, personas):
    response = client.post("/login", data={"phone": "13800000001", "password": P.PASSWORD})
    assert response.status_code == 400


def test_wrong_password_shows_error(client, personas):
    response = client.post("/login", data={"phone": "13800000001", "password": "nope-nope",
                                           "csrf_token": form_token(client)})
    assert response.status_code == 401
    assert "手机号或密码错误" in response.get_data(as_text=True)


def test_no_open_redirect_after_login(client, personas):
    response = client.post("/login?next=https://evil.example/", data={
        "phone": "13800000001", "password": P.PASSWORD, "csrf_token": form_token(client)})
    assert response.headers["Location"].endswith("/staff/")


def test_staff_pages_require_login(client, personas):
    response = client.get("/staff/roster")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_language_cookie(client, personas):
    response = client.get("/lang/en?next=/login")
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_security_headers(client, personas):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_unknown_page_is_html_404_and_api_is_json(client, personas):
    assert client.get("/nope").status_code == 404
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_openapi_document(client, personas):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/roster/import" in spec["paths"] and "/api/sync" in spec["paths"]


def test_favicon(client, personas):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
