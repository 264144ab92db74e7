"""The staff accounts page: county staff create evaluators for their county only."""
from __future__ import annotations

import re

from sqlalchemy import select

from fieldapp.models import User

from .. import personas as P


def staff_client(app, phone):
    client = app.test_client()
    P.login(client, phone)
    return client


def token(client) -> str:
    html = client.get("/staff/users/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_staff_creates_evaluator_in_own_county(app, db, personas):
    client = staff_client(app, personas.users["staff_a"].phone)
    response = client.post("/staff/users/", data={
        "phone": "13755556666", "name": "新评议员", "password": "long-enough-1",
        "role": "admin", "county_id": personas.counties["b"].id, "csrf_token": token(client)})
    # County staff cannot create an admin, nor an account in another county: the policy
    # refuses it (403) before the form is read.
    assert response.status_code == 403
    assert db.session.scalar(select(User).where(User.phone == "13755556666")) is None
    response = client.post("/staff/users/", data={
        "phone": "13755556666", "name": "新评议员", "password": "long-enough-1",
        "csrf_token": token(client)})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "13755556666"))
    assert user.role == "evaluator" and user.county_id == personas.counties["a"].id
    html = client.get("/staff/users/").get_data(as_text=True)
    assert "13755556666" in html and "账号 13755556666 已创建" in html
    assert personas.users["staff_b"].phone not in html  # county B's accounts are not listed


def test_field_errors_in_chinese(app, db, personas):
    client = staff_client(app, personas.users["staff_a"].phone)
    response = client.post("/staff/users/", data={"phone": "123", "name": "",
                                                   "password": "short", "csrf_token": token(client)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请输入11位手机号码" in html and "至少8个字符" in html


def test_evaluators_and_secretaries_cannot_open_it(app, db, personas):
    for name in ("evaluator_a", "secretary_a"):
        client = staff_client(app, personas.users[name].phone)
        assert client.get("/staff/users/").status_code == 403


def test_secretary_accounts_created_once_with_working_passwords(app, db, personas):
    from fieldapp.models import FirstSecretary
    db.session.add(FirstSecretary(name="新书记", phone="13966667777", dispatch_level="city",
                                  dispatch_unit="宝鸡市财政局",
                                  village_id=personas.villages["a2"].id,
                                  term_start=personas.secretaries["a"].term_start))
    db.session.commit()
    client = staff_client(app, personas.users["staff_a"].phone)
    html = client.post("/staff/users/secretaries",
                       data={"csrf_token": token(client)}).get_data(as_text=True)
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td><code>([^<]+)</code>", html)
    assert [phone for phone, _ in rows] == ["13966667777"]  # secretary A already had one
    user = db.session.scalar(select(User).where(User.phone == "13966667777"))
    assert user.role == "secretary" and user.county_id == personas.counties["a"].id
    assert P.login(app.test_client(), "13966667777", rows[0][1]).status_code == 200
    again = client.post("/staff/users/secretaries", data={"csrf_token": token(client)})
    assert 'data-testid="new-passwords-none"' in again.get_data(as_text=True)
    # County B's secretaries got nothing from county A's staff.
    assert db.session.scalar(select(User).where(
        User.secretary_id == personas.secretaries["b"].id)).phone == "13900000008"


def test_nav_marks_the_current_area(app, db, personas):
    client = staff_client(app, personas.users["staff_a"].phone)
    html = client.get("/staff/users/").get_data(as_text=True)
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
    assert current == ["/staff/users/"]
    home = client.get("/staff/").get_data(as_text=True)
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', home) == ["/staff/"]
