"""Role x path: what each persona may list, read and change. Forbidden paths first."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldapp.models import FirstSecretary, Household, User, Village
from fieldapp.policy import scope
from fieldapp.services.sessions import revoke_user_sessions


def codes(response):
    return {item["code"] for item in response.get_json()["items"]}


def test_county_staff_lists_only_their_villages(login_as, personas):
    staff_a = login_as("staff_a")
    listed = codes(staff_a.get("/api/villages"))
    assert listed == {personas.villages["a1"].code, personas.villages["a2"].code}
    # Asking for county B explicitly still returns nothing of B.
    response = staff_a.get(f"/api/villages?county_id={personas.counties['b'].id}")
    assert response.get_json()["items"] == []


def test_county_staff_cannot_read_or_change_other_county_village(login_as, personas, db):
    staff_a = login_as("staff_a")
    b1 = personas.villages["b1"]
    assert staff_a.get(f"/api/villages/{b1.id}").status_code == 403
    response = staff_a.patch(f"/api/villages/{b1.id}", json={"radius_m": 5000})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Village, b1.id).radius_m == 1000


def test_county_staff_changes_own_village_radius(login_as, personas, db):
    staff_a = login_as("staff_a")
    a1 = personas.villages["a1"]
    response = staff_a.patch(f"/api/villages/{a1.id}", json={"radius_m": 1500})
    assert response.status_code == 200
    assert response.get_json()["radius_m"] == 1500
    bad = staff_a.patch(f"/api/villages/{a1.id}", json={"radius_m": -1})
    assert bad.status_code == 422 and "radius_m" in bad.get_json()["errors"]


def test_county_staff_households_are_scoped(login_as, personas):
    staff_a = login_as("staff_a")
    body = staff_a.get("/api/households?per_page=500").get_json()
    assert body["total"] == 30 + 12
    village_ids = {h["village_id"] for h in body["items"]}
    assert village_ids == {personas.villages["a1"].id, personas.villages["a2"].id}
    other = staff_a.get(f"/api/households?village_id={personas.villages['b1'].id}").get_json()
    assert other["total"] == 0


def test_id_numbers_masked_except_for_admin(login_as, personas, db):
    household = db.session.scalar(select(Household).where(
        Household.village_id == personas.villages["a1"].id).order_by(Household.id))
    household.id_number = "610323198001011238"
    db.session.commit()
    staff = login_as("staff_a").get(f"/api/households?village_id={household.village_id}")
    shown = {h["household_no"]: h["id_number"] for h in staff.get_json()["items"]}
    assert shown[household.household_no] == "610323********1238"
    admin = login_as("admin").get(f"/api/households?village_id={household.village_id}")
    shown = {h["household_no"]: h["id_number"] for h in admin.get_json()["items"]}
    assert shown[household.household_no] == "610323198001011238"


def test_secretary_cannot_list_households(login_as):
    secretary = login_as("secretary_a")
    response = secretary.get("/api/households")
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_secretary_sees_only_themselves(login_as, personas):
    secretary = login_as("secretary_a")
    items = secretary.get("/api/secretaries").get_json()["items"]
    assert [s["id"] for s in items] == [personas.secretaries["a"].id]


def test_evaluator_sees_only_assigned_villages(login_as, personas):
    evaluator = login_as("evaluator_a")
    assert codes(evaluator.get("/api/villages")) == {personas.villages["a1"].code}
    assert evaluator.get(f"/api/villages/{personas.villages['a2'].id}").status_code == 403
    # Households: only those the house finder covers (none before the draw).
    assert evaluator.get("/api/households?per_page=500").get_json()["items"] == []


def test_evaluator_cannot_list_users_or_secretaries(login_as):
    evaluator = login_as("evaluator_a")
    assert evaluator.get("/api/users").status_code == 403
    assert evaluator.get("/api/secretaries").status_code == 403


def test_staff_lists_only_own_county_users(login_as, personas):
    body = login_as("staff_a").get("/api/users").get_json()
    assert {u["county_id"] for u in body["items"]} == {personas.counties["a"].id}


def test_staff_creates_evaluator_only_in_own_county(login_as, personas, db):
    staff_a = login_as("staff_a")
    ok = staff_a.post("/api/users", json={"phone": "13711112222", "name": "新评议员",
                                          "password": "long-enough-1"})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["role"] == "evaluator"
    assert ok.get_json()["county_id"] == personas.counties["a"].id
    other = staff_a.post("/api/users", json={"phone": "13711113333", "name": "x",
                                             "password": "long-enough-1",
                                             "county_id": personas.counties["b"].id})
    assert other.status_code == 403
    admin_attempt = staff_a.post("/api/users", json={"phone": "13711114444", "name": "x",
                                                     "password": "long-enough-1", "role": "admin"})
    assert admin_attempt.status_code == 403
    assert db.session.scalar(select(User).where(User.phone == "13711113333")) is None


def test_user_create_validation_is_field_level(login_as):
    response = login_as("staff_a").post("/api/users", json={"phone": "123", "name": "x",
                                                            "password": "short"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"phone", "password"}


def test_duplicate_phone_is_conflict(login_as, personas):
    response = login_as("admin").post("/api/users", json={
        "phone": personas.users["staff_b"].phone, "name": "x", "password": "long-enough-1",
        "role": "county_staff", "county_id": personas.counties["a"].id})
    assert response.status_code == 409
    assert "phone" in response.get_json()["errors"]


@pytest.mark.parametrize("path", ["/api/villages", "/api/households", "/api/users",
                                  "/api/secretaries", "/api/me"])
def test_anonymous_gets_401(client, personas, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["code"] == "not_logged_in"


def test_scoped_fails_closed_for_unknown_models(personas, db):
    class Unscoped:  # no village_id, no county_id
        pass
    with pytest.raises(TypeError):
        scope(personas.users["staff_a"], "read_secretaries", select(FirstSecretary), Unscoped)


def test_stale_session_cookie_stops_working(login_as, personas, db):
    staff = login_as("staff_a")
    assert staff.get("/api/me").status_code == 200
    user = db.session.get(User, personas.users["staff_a"].id)
    revoke_user_sessions(user, "reset")
    db.session.commit()
    assert staff.get("/api/me").status_code == 401


def test_one_rule_for_acting_on_a_sample(login_as, personas, db):
    """May this evaluator act on this sample? One rule (policy.py) for reading the village's
    list, visiting and replacing: assigned to the village in the draw's cycle, while that
    cycle is open. Before, reading ignored the cycle's state and replacing did not ask."""
    from fieldapp import policy
    from fieldapp.models import Cycle, SampleEntry, VillageDraw

    from .sampling_support import draw_county, replacement_record, sync

    draw_county(login_as, personas)
    vd = db.session.scalar(select(VillageDraw).where(
        VillageDraw.village_id == personas.villages["a1"].id))
    entry = db.session.scalar(select(SampleEntry).where(
        SampleEntry.village_draw_id == vd.id, SampleEntry.role == "sample"))
    evaluator = db.session.get(User, personas.users["evaluator_a"].id)
    for verb, obj in (("read_sample", vd), ("record_visit", entry), ("record_replacement", entry)):
        assert policy.can(evaluator, verb, obj)
        assert not policy.can(db.session.get(User, personas.users["evaluator_b"].id), verb, obj)
    client = login_as("evaluator_a")
    assert client.get(f"/api/village-draws/{vd.id}").status_code == 200
    db.session.get(Cycle, personas.cycle.id).status = "finalised"
    db.session.commit()
    for verb, obj in (("read_sample", vd), ("record_visit", entry), ("record_replacement", entry)):
        assert not policy.can(evaluator, verb, obj), verb
    assert client.get(f"/api/village-draws/{vd.id}").status_code == 403
    response = sync(client, replacement_record(entry.token))
    assert response.status_code == 422
    assert response.get_json()["results"][0]["status"] == "rejected"
