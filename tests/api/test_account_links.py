"""Linking an account to a first secretary: only within one's county, one account per
secretary, and a clear 4xx (never a 500) when the secretary already has one."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import FirstSecretary, User


def _body(secretary_id: int, role: str = "secretary", phone: str = "13712345678") -> dict:
    return {"phone": phone, "name": "新账号", "password": "initial-pass-1", "role": role,
            "secretary_id": secretary_id}


def _new_secretary(personas, village: str = "a2") -> FirstSecretary:
    sec = FirstSecretary(name="书记新", phone="13955550000", dispatch_level="county",
                         dispatch_unit="岐山县农业局", village_id=personas.villages[village].id,
                         term_start=date(2025, 1, 1), term_end=date(2026, 12, 31),
                         status="active")
    db.session.add(sec)
    db.session.commit()
    return sec


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_county_staff_cannot_link_another_countys_secretary(login_as, personas):
    staff_a = login_as("staff_a")
    before = _accounts()
    foreign = personas.secretaries["b"].id
    assert staff_a.post("/api/users", json=_body(foreign)).status_code == 403
    # Not through an evaluator account either: only a secretary's account is linked.
    sneaky = staff_a.post("/api/users", json=_body(foreign, role="evaluator"))
    assert sneaky.status_code in (403, 422)
    assert _accounts() == before


def test_county_staff_link_their_own_countys_secretary(login_as, personas):
    sec = _new_secretary(personas, "a2")
    response = login_as("staff_a").post("/api/users", json=_body(sec.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["secretary_id"] == sec.id and body["county_id"] == personas.counties["a"].id


def test_secretary_with_an_account_is_a_clear_409(login_as, personas):
    admin = login_as("admin")
    response = admin.post("/api/users", json=_body(personas.secretaries["a"].id))
    assert response.status_code == 409
    assert response.get_json()["errors"]["secretary"] == ["此第一书记已有账号。"]


def test_admin_county_must_match_the_secretarys(login_as, personas):
    sec = _new_secretary(personas, "a2")
    body = {**_body(sec.id), "county_id": personas.counties["b"].id}
    response = login_as("admin").post("/api/users", json=body)
    assert response.status_code == 422 and "county" in response.get_json()["errors"]
