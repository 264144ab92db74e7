"""Cycles, their settings, and evaluator assignments (api/cycles.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, EvaluatorAssignment

from .. import personas as P
from .sampling_support import draw_county


def test_admin_creates_city_and_county_cycles(login_as, personas):
    admin = login_as("admin")
    city = admin.post("/api/cycles", json={"year": 2027, "settings": {"sample_size": 15}})
    assert city.status_code == 201, city.get_json()
    body = city.get_json()
    assert body["county_id"] is None and body["status"] == "open"
    assert body["settings"]["sample_size"] == 15 and body["settings"]["reserve_count"] == 5
    assert body["settings"]["include_exited"] is True
    # The city cycle of 2027 already covers county A.
    clash = admin.post("/api/cycles", json={"year": 2027, "county_id": personas.counties["a"].id})
    assert clash.status_code == 409
    county = admin.post("/api/cycles", json={"year": 2028, "county_id": personas.counties["a"].id})
    assert county.status_code == 201
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "cycle.create")) is not None


def test_staff_create_cycles_for_their_county_only(login_as, personas):
    staff = login_as("staff_a")
    own = staff.post("/api/cycles", json={"year": 2027})
    assert own.status_code == 201 and own.get_json()["county_id"] == personas.counties["a"].id
    other = staff.post("/api/cycles", json={"year": 2028, "county_id": personas.counties["b"].id})
    assert other.status_code == 403
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).post("/api/cycles", json={"year": 2029}).status_code == 403


def test_cycle_list_is_scoped(login_as, personas):
    login_as("staff_b").post("/api/cycles", json={"year": 2027})
    years_a = [(c["year"], c["county_id"]) for c in login_as("staff_a").get("/api/cycles").get_json()]
    assert years_a == [(2026, None)]
    assert len(login_as("admin").get("/api/cycles").get_json()) == 2
    b_cycle = login_as("staff_b").get("/api/cycles?year=2027").get_json()[0]
    assert login_as("staff_a").get(f"/api/cycles/{b_cycle['id']}").status_code == 403


@pytest.mark.parametrize("settings", [{"sample_size": 0}, {"sample_size": "20"}, {"colour": "red"},
                                      {"answer_values": {"no_such_set": {"x": 1}}}])
def test_bad_settings_rejected(login_as, personas, settings):
    response = login_as("admin").post("/api/cycles", json={"year": 2030, "settings": settings})
    assert response.status_code == 422, response.get_json()


def test_sampling_settings_lock_after_a_draw(login_as, personas):
    admin = login_as("admin")
    url = f"/api/cycles/{personas.cycle.id}"
    assert admin.patch(url, json={"settings": {"reserve_count": 6}}).status_code == 200
    # County staff cannot change the city-wide cycle.
    assert login_as("staff_a").patch(url, json={"settings": {"reserve_count": 4}}).status_code == 403
    draw_county(login_as, personas)
    locked = admin.patch(url, json={"settings": {"sample_size": 10}})
    assert locked.status_code == 409 and "sample_size" in locked.get_json()["errors"]
    # Other settings stay editable.
    assert admin.patch(url, json={"settings": {"required_days": 18}}).get_json()["settings"]["required_days"] == 18


def test_assignments_crud(login_as, personas):
    staff = login_as("staff_a")
    url = f"/api/cycles/{personas.cycle.id}/assignments"
    listing = staff.get(url).get_json()
    assert [(a["village_code"], a["user_name"]) for a in listing["items"]] == [
        (personas.villages["a1"].code, "岐山评议员")]
    created = staff.post(url, json={"user_id": personas.users["evaluator_a"].id,
                                    "village_id": personas.villages["a2"].id})
    assert created.status_code == 201, created.get_json()
    assert staff.get(url).get_json()["total"] == 2
    dup = staff.post(url, json={"user_id": personas.users["evaluator_a"].id,
                                "village_id": personas.villages["a2"].id})
    assert dup.status_code == 409
    assert staff.delete(f"/api/assignments/{created.get_json()['id']}").status_code == 204
    assert staff.get(url).get_json()["total"] == 1
    actions = {a.action for a in db.session.scalars(select(AuditLog))}
    assert {"assignment.create", "assignment.delete"} <= actions


def test_assignment_rules(login_as, personas):
    url = f"/api/cycles/{personas.cycle.id}/assignments"
    staff_a = login_as("staff_a")
    # An evaluator of county B cannot be assigned to a village of county A: county staff
    # may not name another county's account at all (403); an admin gets the pair refused.
    wrong = staff_a.post(url, json={"user_id": personas.users["evaluator_b"].id,
                                    "village_id": personas.villages["a2"].id})
    assert wrong.status_code == 403
    wrong = login_as("admin").post(url, json={"user_id": personas.users["evaluator_b"].id,
                                              "village_id": personas.villages["a2"].id})
    assert wrong.status_code == 422 and "user_id" in wrong.get_json()["errors"]
    # Only evaluators.
    not_eval = staff_a.post(url, json={"user_id": personas.users["staff_a"].id,
                                       "village_id": personas.villages["a2"].id})
    assert not_eval.status_code == 422
    # Staff B cannot assign in county A, nor remove A's assignments, nor list them.
    staff_b = login_as("staff_b")
    assert staff_b.post(url, json={"user_id": personas.users["evaluator_a"].id,
                                   "village_id": personas.villages["a2"].id}).status_code == 403
    existing = db.session.scalar(select(EvaluatorAssignment).where(
        EvaluatorAssignment.user_id == personas.users["evaluator_a"].id))
    assert staff_b.delete(f"/api/assignments/{existing.id}").status_code == 403
    assert staff_b.get(url).get_json()["total"] == 1  # only B's own village
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).get(url).status_code == 403


def test_admin_assigns_new_county_evaluator(login_as, personas):
    new = P.make_user("13800000019", "evaluator", "新评议员", personas.counties["b"])
    db.session.commit()
    response = login_as("admin").post(f"/api/cycles/{personas.cycle.id}/assignments",
                                      json={"user_id": new.id, "village_id": personas.villages["b2"].id})
    assert response.status_code == 201


def _assigned(cycle_id: int) -> set[tuple[int, int]]:
    db.session.expire_all()
    return {(a.user_id, a.village_id) for a in db.session.scalars(
        select(EvaluatorAssignment).where(EvaluatorAssignment.cycle_id == cycle_id))}


def test_bulk_assignment_stores_all_and_reports_unchanged(login_as, personas):
    url = f"/api/cycles/{personas.cycle.id}/assignments"
    ev, a1, a2 = personas.users["evaluator_a"], personas.villages["a1"], personas.villages["a2"]
    before = _assigned(personas.cycle.id)
    response = login_as("staff_a").post(url, json={"user_id": ev.id,
                                                   "village_ids": [a1.id, a2.id, a2.id]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [a["village_code"] for a in body["created"]] == [a2.code]
    assert body["unchanged"] == [{"village_id": a1.id, "village_code": a1.code,
                                  "village_name": a1.name}]  # already there: not an error
    assert _assigned(personas.cycle.id) == before | {(ev.id, a2.id)}
    again = login_as("staff_a").post(url, json={"user_id": ev.id, "village_ids": [a1.id, a2.id]})
    assert again.status_code == 200
    assert again.get_json()["created"] == [] and len(again.get_json()["unchanged"]) == 2
    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "assignment.create")).all()
    assert len(audits) == 1


def test_bulk_assignment_is_scoped_and_all_or_nothing(login_as, personas):
    url = f"/api/cycles/{personas.cycle.id}/assignments"
    users, villages = personas.users, personas.villages
    before = _assigned(personas.cycle.id)
    staff_b = login_as("staff_b")
    # Staff B cannot bulk-assign county A's villages, not even with their own evaluator.
    for user in ("evaluator_a", "evaluator_b"):
        response = staff_b.post(url, json={"user_id": users[user].id,
                                           "village_ids": [villages["a1"].id, villages["a2"].id]})
        assert response.status_code == 403
    # A list with one foreign village among their own stores nothing.
    mixed = staff_b.post(url, json={"user_id": users["evaluator_b"].id,
                                    "village_ids": [villages["b2"].id, villages["a2"].id]})
    assert mixed.status_code == 403
    # The admin may act anywhere, but an evaluator only in their county: nothing stored either.
    admin = login_as("admin")
    wrong = admin.post(url, json={"user_id": users["evaluator_a"].id,
                                  "village_ids": [villages["a2"].id, villages["b2"].id]})
    assert wrong.status_code == 422 and "village_ids" in wrong.get_json()["errors"]
    assert villages["b2"].code in wrong.get_json()["errors"]["village_ids"][0]
    unknown = admin.post(url, json={"user_id": users["evaluator_a"].id,
                                    "village_ids": [villages["a2"].id, 999999]})
    assert unknown.status_code == 422 and "999999" in unknown.get_json()["errors"]["village_ids"][0]
    for body in ({"user_id": users["evaluator_a"].id, "village_ids": []},
                 {"user_id": users["evaluator_a"].id},
                 {"user_id": users["evaluator_a"].id, "village_id": villages["a2"].id,
                  "village_ids": [villages["a2"].id]},
                 {"user_id": users["staff_a"].id, "village_ids": [villages["a2"].id]}):
        assert admin.post(url, json=body).status_code == 422, body
    assert _assigned(personas.cycle.id) == before
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).post(url, json={"user_id": users["evaluator_a"].id,
                                             "village_ids": [villages["a2"].id]}).status_code == 403
