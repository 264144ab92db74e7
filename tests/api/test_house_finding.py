"""What evaluators get to find the houses, and nothing more (issue 9 §5, issue 11 medium):
their samples and activated reserves, while the cycle is open; every download of phone
numbers audited. Assignments to villages without a draw are kept with a warning."""
from __future__ import annotations

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Cycle, Household

from .sampling_support import assign, draw_county, entries, replacement_record, sync


def give_contacts(village_id: int) -> None:
    for i, household in enumerate(db.session.scalars(select(Household).where(
            Household.village_id == village_id).order_by(Household.id))):
        household.phone = f"1391234{i:04d}"
        household.lat, household.lon = 34.46 + i / 10000, 107.63
        household.id_number = "610323199001011234"
    db.session.commit()


def test_evaluators_read_only_the_households_they_must_find(login_as, personas):
    a1 = personas.villages["a1"]
    give_contacts(a1.id)
    draw_id = draw_county(login_as, personas)
    ev = login_as("evaluator_a")
    items = ev.get("/api/households?per_page=500").get_json()["items"]
    sampled = {e.household_id for e in entries(draw_id, a1.id, "sample")}
    assert {h["id"] for h in items} == sampled and len(items) == 20
    assert all(h["phone"] and h["lat"] for h in items)
    assert all(h["id_number"] is None and h["attribute"] is None and h["exit_status"] is None
               for h in items)
    # A replacement activates a reserve: it becomes findable, the other reserves do not.
    sample = entries(draw_id, a1.id, "sample")
    assert sync(ev, replacement_record(sample[0].token)).status_code == 200
    items = ev.get("/api/households?per_page=500").get_json()["items"]
    first_reserve = entries(draw_id, a1.id, "reserve")[0].household_id
    assert len(items) == 21 and first_reserve in {h["id"] for h in items}
    # Staff still read the registry of their county, details included.
    staff = login_as("staff_a").get(f"/api/households?village_id={a1.id}&per_page=500").get_json()
    assert staff["total"] == 30 and staff["items"][0]["attribute"]
    # Another county's evaluator reads none of them; nothing once the cycle is finalised.
    assert login_as("evaluator_b").get("/api/households?per_page=500").get_json()["items"] == []
    db.session.get(Cycle, personas.cycle.id).status = "finalised"
    db.session.commit()
    assert ev.get("/api/households?per_page=500").get_json()["items"] == []


def test_tasks_carry_contacts_and_homes_of_the_households_to_find_and_audit_them(login_as,
                                                                                personas):
    a1 = personas.villages["a1"]
    give_contacts(a1.id)
    draw_id = draw_county(login_as, personas)
    [village] = login_as("evaluator_a").get("/api/tasks").get_json()["villages"]
    by_role = {}
    for h in village["households"]:
        by_role.setdefault(h["role"], []).append(h)
    assert all(h["phone"] and h["home"]["lat"] for h in by_role["sample"])
    assert all("phone" not in h and "home" not in h for h in by_role["reserve"])
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "household.contacts_sent"))
    assert audit.actor_id == personas.users["evaluator_a"].id
    assert audit.county_id == personas.counties["a"].id
    assert sorted(audit.detail["households"]) == sorted(
        e.household_id for e in entries(draw_id, a1.id, "sample"))


def test_assigning_a_village_without_a_draw_warns_everywhere(login_as, personas):
    staff = login_as("staff_a")
    a2 = personas.villages["a2"]
    one = staff.post(f"/api/cycles/{personas.cycle.id}/assignments", json={
        "user_id": personas.users["evaluator_a"].id, "village_id": a2.id})
    assert one.status_code == 201 and one.get_json()["drawn"] is False
    listing = staff.get(f"/api/cycles/{personas.cycle.id}/assignments").get_json()["items"]
    assert {a["village_id"]: a["drawn"] for a in listing} == {
        personas.villages["a1"].id: False, a2.id: False}
    page = f"/staff/sampling/cycles/{personas.cycle.id}"
    bulk = staff.post(f"{page}/assignments", data={
        "csrf_token": staff.csrf_token, "user_id": str(personas.users["evaluator_a"].id),
        "village_ids": [str(personas.villages["a1"].id)]})
    assert bulk.status_code == 302
    html = staff.get(page).get_data(as_text=True)
    assert 'data-category="warn"' in html and personas.villages["a1"].name in html
    assert html.count('data-testid="not-drawn"') == 2
    draw_county(login_as, personas)
    assert staff.get(page).get_data(as_text=True).count('data-testid="not-drawn"') == 0
    result = staff.post(f"/api/cycles/{personas.cycle.id}/assignments", json={
        "user_id": personas.users["evaluator_a"].id, "village_ids": [a2.id]}).get_json()
    assert result["not_drawn"] == [] and result["created"] == []
    assert {a["drawn"] for a in staff.get(
        f"/api/cycles/{personas.cycle.id}/assignments").get_json()["items"]} == {True}


def test_the_phone_lists_an_undrawn_assigned_village_as_waiting(login_as, personas):
    assign(personas, "evaluator_a", "a2")
    draw_county(login_as, personas, "b", seed="眉县")
    villages = login_as("evaluator_a").get("/api/tasks").get_json()["villages"]
    assert {v["code"]: v["draw"] for v in villages} == {
        personas.villages["a1"].code: None, personas.villages["a2"].code: None}
