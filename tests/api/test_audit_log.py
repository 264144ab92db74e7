"""The audit log: every change to samples, replacements, scores, finalisation, users and
roles writes an entry with before and after; staff read it filtered, within their county.

Adding a kind of change is one line in CHANGES: (action, persona who acts, what they do).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Draw, EvaluatorAssignment, Household, Visit

from .. import personas as P
from . import visit_helpers as V
from .sampling_support import draw_county, entries, replacement_record, sync, village_draw


class Change(NamedTuple):
    action: str
    persona: str
    act: Callable  # (client, personas, login_as) -> response


def _draw(personas, login_as) -> int:
    return draw_county(login_as, personas)


def _finalised(personas, login_as) -> None:
    login_as("staff_a").post("/api/scores/finalise", json={
        "cycle_id": personas.cycle.id, "county_id": personas.counties["a"].id,
        "accept_incomplete": True})


def _assignment(personas) -> int:
    return db.session.scalar(select(EvaluatorAssignment.id).where(
        EvaluatorAssignment.user_id == personas.users["evaluator_a"].id))


def _uid(personas, name: str) -> int:
    return personas.users[name].id


def _visit(personas, login_as) -> int:
    """A visit of a sampled household of a1, synced by its evaluator."""
    V.draw(personas)
    village = personas.villages["a1"]
    response = V.sync(login_as("evaluator_a"), V.record(V.visit_payload(V.tokens(village)[0], village)))
    assert response.status_code == 200, response.get_json()
    return db.session.scalar(select(Visit.id))


def _contacts(personas, login_as):
    """The tasks download carrying the phones of the households to find."""
    for h in db.session.scalars(select(Household).where(
            Household.village_id == personas.villages["a1"].id)):
        h.phone = f"1520000{h.id:04d}"
    db.session.commit()
    draw_county(login_as, personas)
    return login_as("evaluator_a").get("/api/tasks")


CHANGES = [
    Change("user.create", "staff_a", lambda c, p, l: c.post("/api/users", json={
        "phone": "13711110000", "name": "新评议员", "password": "initial-pass-1"})),
    Change("user.update", "admin", lambda c, p, l: c.patch(
        f"/api/users/{_uid(p, 'evaluator_a')}", json={"role": "county_staff", "county_id": p.counties["a"].id})),
    Change("user.update", "staff_a", lambda c, p, l: c.patch(
        f"/api/users/{_uid(p, 'evaluator_a')}", json={"is_active": False})),
    Change("user.password_reset", "staff_a", lambda c, p, l: c.post(
        f"/api/users/{_uid(p, 'evaluator_a')}/password-reset")),
    Change("user.password_change", "evaluator_a", lambda c, p, l: c.post(
        "/api/auth/password", json={"current_password": P.PASSWORD, "new_password": "next-pass-2"})),
    Change("assignment.create", "staff_a", lambda c, p, l: c.post(
        f"/api/cycles/{p.cycle.id}/assignments",
        json={"user_id": _uid(p, "evaluator_a"), "village_id": p.villages["a2"].id})),
    Change("assignment.delete", "staff_a", lambda c, p, l: c.delete(f"/api/assignments/{_assignment(p)}")),
    Change("draw.run", "staff_a", lambda c, p, l: c.post(
        f"/api/cycles/{p.cycle.id}/draws", json={"seed": "公开种子 2026", "county_id": p.counties["a"].id})),
    Change("draw.void", "admin", lambda c, p, l: c.post(
        f"/api/draws/{_draw(p, l)}/void", json={"reason": "名单未冻结"})),
    Change("draw.void_village", "admin", lambda c, p, l: c.post(
        f"/api/village-draws/{village_draw(_draw(p, l), p.villages['a1'].id).id}/void",
        json={"reason": "村名单有误"})),
    Change("replacement.record", "evaluator_a", lambda c, p, l: sync(c, replacement_record(
        entries(_draw(p, l), p.villages["a1"].id, "sample")[0].token, "moved_out"))),
    Change("scorecard.save", "staff_a", lambda c, p, l: c.put(
        f"/api/scores/entries/{p.secretaries['a'].id}", json={"cycle_id": p.cycle.id, "work_performance": 55})),
    Change("scores.finalise", "staff_a", lambda c, p, l: c.post("/api/scores/finalise", json={
        "cycle_id": p.cycle.id, "county_id": p.counties["a"].id, "accept_incomplete": True})),
    Change("scores.unlock", "admin", lambda c, p, l: (_finalised(p, l), c.post("/api/scores/unlock", json={
        "cycle_id": p.cycle.id, "county_id": p.counties["a"].id, "reason": "复核"}))[1]),
    Change("visit.approved", "staff_a", lambda c, p, l: c.post(
        f"/api/visits/{_visit(p, l)}/review", json={"decision": "approved"})),
    Change("visit.rejected", "staff_a", lambda c, p, l: c.post(
        f"/api/visits/{_visit(p, l)}/review", json={"decision": "rejected", "reason": "未见户主"})),
    Change("village.centre", "staff_a", lambda c, p, l: c.patch(
        f"/api/villages/{p.villages['a1'].id}", json={"lat": 34.47, "lon": 107.64, "radius_m": 1500})),
    Change("household.contacts_sent", "evaluator_a", lambda c, p, l: _contacts(p, l)),
]


@pytest.mark.parametrize("change", CHANGES, ids=[f"{c.action}-{c.persona}" for c in CHANGES])
def test_every_change_writes_before_and_after(login_as, personas, change):
    client = login_as(change.persona)
    response = change.act(client, personas, login_as)
    assert response.status_code < 300, response.get_json()
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == change.action)
                               .order_by(AuditLog.id.desc())).first()
    assert entry is not None, f"no {change.action} entry"
    assert entry.actor_id == personas.users[change.persona].id
    assert entry.county_id == personas.counties["a"].id
    assert "before" in entry.detail and "after" in entry.detail, entry.detail
    assert entry.detail["before"] != entry.detail["after"]
    # And staff can read it: the API and the page.
    listing = login_as("admin").get(f"/api/audit?action={change.action}").get_json()
    assert any(item["id"] == entry.id and item["after"] == entry.detail["after"]
               for item in listing["items"])


def test_filters_and_county_scope(login_as, personas):
    draw_county(login_as, personas, "a")
    draw_county(login_as, personas, "b", seed="眉县种子")
    login_as("staff_a").post("/api/users", json={"phone": "13711110001", "name": "甲",
                                                 "password": "initial-pass-1"})
    staff_a, staff_b, admin = login_as("staff_a"), login_as("staff_b"), login_as("admin")
    mine = staff_a.get("/api/audit").get_json()
    assert mine["total"] == 2 and {i["county_id"] for i in mine["items"]} == {personas.counties["a"].id}
    assert staff_a.get(f"/api/audit?county_id={personas.counties['b'].id}").get_json()["total"] == 0
    assert staff_b.get("/api/audit").get_json()["total"] == 1
    assert admin.get("/api/audit").get_json()["total"] == 3
    assert admin.get("/api/audit?action=draw").get_json()["total"] == 2
    assert admin.get("/api/audit?action=user").get_json()["total"] == 1
    by_staff_b = admin.get(f"/api/audit?actor_id={personas.users['staff_b'].id}").get_json()
    assert [i["action"] for i in by_staff_b["items"]] == ["draw.run"]
    assert admin.get("/api/audit?since=2000-01-01&until=2000-12-31").get_json()["total"] == 0
    assert admin.get("/api/audit?since=2000-01-01").get_json()["total"] == 3
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).get("/api/audit").status_code == 403
        assert login_as(who).get("/staff/audit").status_code == 403
    assert personas.anonymous().get("/api/audit").status_code == 401

    page = staff_a.get("/staff/audit?action=draw").get_data(as_text=True)
    assert "审计日志" in page and "抽取户" in page and page.count('data-testid="audit-row"') == 1
    assert "眉县" not in page.split('data-testid="audit-table"')[1]
