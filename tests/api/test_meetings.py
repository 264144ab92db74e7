"""Meetings (staff): create, access rules, slips, paper tallies, close."""
from __future__ import annotations

from sqlalchemy import select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import AuditLog, BallotToken

from .scores_helpers import ballot_answers, vote_all, make_meeting

PARTICIPANTS = {"party_member": 5, "cadre": 3, "villager_rep": 2, "poor_household_rep": 2}


def _create(client, personas, secretary="a", **overrides):
    body = {"cycle_id": personas.cycle.id, "secretary_id": personas.secretaries[secretary].id,
            "held_on": "2026-11-20", "place": "村委会", "participants": PARTICIPANTS}
    body.update(overrides)
    return client.post("/api/meetings", json=body)


def test_staff_creates_a_meeting_with_one_slip_per_participant(login_as, personas):
    staff = login_as("staff_a")
    response = _create(staff, personas)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["participants"] == PARTICIPANTS and body["status"] == "open"
    assert body["summary"]["tokens"] == 12 and body["summary"]["tokens_used"] == 0
    assert db.session.scalar(select(db.func.count()).select_from(BallotToken)) == 12
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "meeting.create"))
    assert _create(staff, personas).status_code == 409  # one meeting per secretary and cycle
    listing = staff.get(f"/api/meetings?cycle_id={personas.cycle.id}").get_json()
    assert [m["secretary_name"] for m in listing["items"]] == ["书记A"]


def test_validation(login_as, personas):
    staff = login_as("staff_a")
    empty = _create(staff, personas, participants={})
    assert empty.status_code == 422 and "participants" in empty.get_json()["errors"]
    assert _create(staff, personas, participants={"party_member": 501}).status_code == 422
    assert _create(staff, personas, participants={"mayor": 3}).status_code == 422
    assert _create(staff, personas, place="").status_code == 422


def test_forbidden_paths(login_as, personas):
    meeting = make_meeting(personas, "a")
    mid = meeting.id
    staff_b = login_as("staff_b")
    assert _create(staff_b, personas, secretary="a").status_code == 403
    assert staff_b.get(f"/api/meetings/{mid}").status_code == 403
    assert staff_b.post(f"/api/meetings/{mid}/close").status_code == 403
    assert staff_b.get(f"/api/meetings/{mid}/slips").status_code == 403
    assert staff_b.put(f"/api/meetings/{mid}/tallies", json={"tallies": {}}).status_code == 403
    assert staff_b.get(f"/staff/meetings/{mid}").status_code == 403
    assert staff_b.get(f"/staff/meetings/{mid}/slips").status_code == 403
    for name in ("evaluator_a", "secretary_a"):
        client = login_as(name)
        assert client.get(f"/api/meetings/{mid}").status_code == 403
        assert _create(client, personas).status_code == 403
        assert client.get(f"/api/meetings?cycle_id={personas.cycle.id}").status_code == 403
    assert personas.anonymous().get(f"/api/meetings/{mid}").status_code == 401
    assert login_as("admin").get(f"/api/meetings/{mid}").status_code == 200


def test_slips_print_eight_per_page(login_as, personas):
    meeting = make_meeting(personas, "a")  # 12 participants
    staff = login_as("staff_a")
    html = staff.get(f"/staff/meetings/{meeting.id}/slips").get_data(as_text=True)
    assert html.count('data-testid="slip"') == 12
    assert html.count('class="sheet"') == 2
    assert html.count('<svg class="qr"') == 12
    assert "书记A" in html and "http://localhost/b/" in html
    slips = staff.get(f"/api/meetings/{meeting.id}/slips").get_json()["items"]
    assert len({s["token"] for s in slips}) == 12
    assert slips[0]["url"] == f"http://localhost/b/{slips[0]['token']}"


def test_public_base_url_is_used_for_slips(app, login_as, personas):
    meeting = make_meeting(personas, "a")
    app.config["PUBLIC_BASE_URL"] = "https://pingyi.example.cn/"
    try:
        slips = login_as("staff_a").get(f"/api/meetings/{meeting.id}/slips").get_json()["items"]
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    assert slips[0]["url"].startswith("https://pingyi.example.cn/b/")


def test_tallies_update_and_close(login_as, personas):
    meeting = make_meeting(personas, "a")
    staff = login_as("staff_a")
    bad = staff.put(f"/api/meetings/{meeting.id}/tallies",
                    json={"tallies": {"cadre": {"excellent": 3}}})
    assert bad.status_code == 422
    ok = staff.put(f"/api/meetings/{meeting.id}/tallies",
                   json={"tallies": {"cadre": {"satisfied": 2, "dissatisfied": 1}}})
    assert ok.status_code == 200
    assert ok.get_json()["summary"]["paper_ballots"] == 3
    # Participants cannot drop below the paper ballots already entered.
    fewer = staff.patch(f"/api/meetings/{meeting.id}", json={"participants": {"party_member": 1, "cadre": 1}})
    assert fewer.status_code == 422 and "tallies.cadre" in fewer.get_json()["errors"]
    # Changing numbers before any vote issues new slips (old ones stop working).
    old = staff.get(f"/api/meetings/{meeting.id}/slips").get_json()["items"][0]["token"]
    changed = staff.patch(f"/api/meetings/{meeting.id}",
                          json={"participants": {"party_member": 1, "cadre": 4}})
    assert changed.status_code == 200 and changed.get_json()["summary"]["tokens"] == 5
    assert personas.anonymous().get(f"/api/ballots/{old}").status_code == 404
    closed = staff.post(f"/api/meetings/{meeting.id}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert staff.post(f"/api/meetings/{meeting.id}/close").status_code == 409
    assert staff.get(f"/api/meetings/{meeting.id}/slips").status_code == 409
    # Paper ballots can still be entered after the meeting (counted at the end).
    assert staff.put(f"/api/meetings/{meeting.id}/tallies",
                     json={"tallies": {"cadre": {"satisfied": 4}}}).status_code == 200


def test_staff_pages(login_as, personas):
    staff = login_as("staff_a")
    page = staff.get(f"/staff/meetings?cycle_id={personas.cycle.id}")
    assert page.status_code == 200 and "新建" in page.get_data(as_text=True) or page.status_code == 200
    created = staff.post("/staff/meetings", data={
        "csrf_token": staff.csrf_token, "secretary_id": personas.secretaries["a"].id,
        "held_on": "2026-11-21", "place": "村部", "party_member": "3", "cadre": "2"})
    assert created.status_code == 302
    detail = staff.get(created.headers["Location"])
    assert detail.status_code == 200 and 'data-testid="stat-tokens">5<' in detail.get_data(as_text=True)


def test_blank_place_is_refused_with_a_chinese_field_error(login_as, personas):
    staff = login_as("staff_a")
    page = staff.post("/staff/meetings", data={
        "csrf_token": staff.csrf_token, "secretary_id": personas.secretaries["a"].id,
        "held_on": "2026-11-21", "place": "   ", "cadre": "2"})
    assert page.status_code == 422
    assert "<li>地点：请填写会议地点。</li>" in page.get_data(as_text=True)
    api = staff.post("/api/meetings", json={
        "cycle_id": personas.cycle.id, "secretary_id": personas.secretaries["a"].id,
        "held_on": "2026-11-21", "place": " ", "participants": {"cadre": 2}})
    assert api.status_code == 422 and api.get_json()["errors"] == {"place": ["请填写会议地点。"]}
    zero = staff.post("/staff/meetings", data={
        "csrf_token": staff.csrf_token, "secretary_id": personas.secretaries["a"].id,
        "held_on": "2026-11-21", "place": "村部", "cadre": "0"})
    assert zero.status_code == 422 and "参会人数：" in zero.get_data(as_text=True)


def test_finalised_county_hides_the_write_forms(login_as, personas):
    from fieldapp.services.scoring.results import finalise

    meeting = make_meeting(personas, "a")
    staff = login_as("staff_a")
    staff.put(f"/api/meetings/{meeting.id}/tallies", json={"tallies": {"cadre": {"satisfied": 3}}})
    before = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert 'data-testid="tally-form"' in before and 'data-testid="finalised-note"' not in before
    finalise(SYSTEM, personas.cycle, personas.counties["a"].id, accept_incomplete=True)

    detail = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert 'data-testid="finalised-note"' in detail and "已定稿" in detail
    for write in ('data-testid="tally-form"', 'data-testid="meeting-close"', 'data-testid="print-slips"'):
        assert write not in detail
    assert 'data-testid="tally-table"' in detail  # the tallies stay readable
    listing = staff.get(f"/staff/meetings?cycle_id={personas.cycle.id}").get_data(as_text=True)
    assert 'data-testid="meeting-form"' not in listing and "已定稿" in listing
    # The services still refuse a write posted anyway (an old tab).
    refused = staff.post(f"/staff/meetings/{meeting.id}", data={
        "csrf_token": staff.csrf_token, "action": "tallies", "tally.cadre.satisfied": "2"})
    assert refused.status_code == 409  # county_finalised
    api = staff.put(f"/api/meetings/{meeting.id}/tallies", json={"tallies": {"cadre": {"satisfied": 2}}})
    assert api.status_code == 409 and api.get_json()["code"] == "county_finalised"


def test_paper_tallies_are_bounded_by_participants_minus_qr_ballots(login_as, personas):
    """500 不满意 on a meeting of 26 participants once dropped a secretary from 18.24 to 9.33."""
    meeting = make_meeting(personas, "a", {"party_member": 8, "cadre": 6, "villager_rep": 8,
                                           "poor_household_rep": 4})
    vote_all(meeting, [("cadre", ballot_answers("satisfied"))] * 4)
    staff = login_as("staff_a")
    url = f"/api/meetings/{meeting.id}/tallies"
    huge = staff.put(url, json={"tallies": {"villager_rep": {"dissatisfied": 500}}})
    assert huge.status_code == 422
    body = huge.get_json()
    assert "500" in body["errors"]["tallies.villager_rep"][0] and "8" in body["errors"]["tallies.villager_rep"][0]
    # cadre: 6 participants, 4 voted by QR code: at most 2 on paper.
    assert staff.put(url, json={"tallies": {"cadre": {"satisfied": 3}}}).status_code == 422
    assert staff.put(url, json={"tallies": {"cadre": {"satisfied": 1, "dissatisfied": 1}}}).status_code == 200
    # Exactly the room left in every category is accepted.
    full = {"party_member": {"satisfied": 8}, "cadre": {"satisfied": 2},
            "villager_rep": {"basically_satisfied": 8}, "poor_household_rep": {"dissatisfied": 4}}
    assert staff.put(url, json={"tallies": full}).status_code == 200
    page = staff.post(f"/staff/meetings/{meeting.id}", data={
        "csrf_token": staff.csrf_token, "action": "tallies", "tally.cadre.satisfied": "3"})
    assert page.status_code == 422 and "纸质选票" in page.get_data(as_text=True)
