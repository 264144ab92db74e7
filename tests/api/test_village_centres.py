"""Village centres: set through the API, the map page and the CLI (audited, scoped); a
village without a centre keeps its check-ins, and setting the centre judges them again."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, CheckIn, Village

from .residency_helpers import checkin, point_at

CENTRE = (34.4750, 107.6450)  # away from the personas' centres


def clear_centre(personas, key="a1") -> Village:
    village = db.session.get(Village, personas.villages[key].id)
    village.lat = village.lon = village.centre_source = None
    db.session.commit()
    return village


def test_checkins_without_a_centre_are_kept_and_judged_once_the_centre_is_set(login_as, personas):
    village = clear_centre(personas)
    sec = login_as("secretary_a")
    near = point_at(CENTRE, 250)
    far = point_at(CENTRE, 4000)
    first = checkin(sec, "2026-03-10T01:00:00+00:00", *near)
    checkin(sec, "2026-03-11T01:00:00+00:00", *far)
    assert first["data"]["inside_fence"] is None  # kept, not judged
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 0 and month["village"]["lat"] is None

    staff = login_as("staff_a")
    response = staff.patch(f"/api/villages/{village.id}", json={"lat": CENTRE[0], "lon": CENTRE[1]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["centre_source"] == "staff"
    stored = {c.day.day: c for c in db.session.scalars(select(CheckIn))}
    assert stored[10].inside_fence is True and abs(stored[10].distance_m - 250) < 1
    assert stored[11].inside_fence is False
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 1 and month["village"]["lat"] == CENTRE[0]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "village.centre"))
    assert entry.actor_id == personas.users["staff_a"].id
    assert entry.detail["before"]["lat"] is None and entry.detail["after"]["lat"] == CENTRE[0]
    assert entry.detail["rejudged"] == 2


def test_moving_the_centre_judges_again(login_as, personas):
    village = db.session.get(Village, personas.villages["a1"].id)
    sec = login_as("secretary_a")
    here = point_at((village.lat, village.lon), 3000)
    assert checkin(sec, "2026-03-10T01:00:00+00:00", *here)["data"]["inside_fence"] is False
    staff = login_as("staff_a")
    assert staff.patch(f"/api/villages/{village.id}",
                       json={"lat": here[0], "lon": here[1], "radius_m": 500}).status_code == 200
    assert db.session.scalar(select(CheckIn.inside_fence)) is True


def test_centre_in_gcj02_is_stored_as_wgs84(login_as, personas):
    from fieldapp.domain.geo import wgs84_to_gcj02

    village = personas.villages["a1"]
    gcj = wgs84_to_gcj02(*CENTRE)
    response = login_as("admin").patch(f"/api/villages/{village.id}", json={
        "lat": gcj[0], "lon": gcj[1], "coordinate_system": "GCJ02"})
    assert response.status_code == 200
    assert abs(response.get_json()["lat"] - CENTRE[0]) < 1e-6


def test_centre_updates_are_checked_and_scoped(login_as, personas):
    village = personas.villages["a1"]
    staff = login_as("staff_a")
    assert staff.patch(f"/api/villages/{village.id}", json={"lat": 34.4}).status_code == 422
    assert staff.patch(f"/api/villages/{village.id}", json={"lat": 48.85, "lon": 2.35}
                       ).status_code == 422  # Paris
    assert login_as("staff_b").patch(f"/api/villages/{village.id}", json={
        "lat": CENTRE[0], "lon": CENTRE[1]}).status_code == 403
    assert login_as("evaluator_a").patch(f"/api/villages/{village.id}", json={
        "lat": CENTRE[0], "lon": CENTRE[1]}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Village, village.id).lat != CENTRE[0]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "village.centre")) == 0


def test_villages_without_a_centre_are_listed(login_as, personas):
    clear_centre(personas, "a2")
    items = login_as("staff_a").get("/api/villages?has_centre=false").get_json()["items"]
    assert [v["code"] for v in items] == [personas.villages["a2"].code]


def test_centre_map_page_saves_through_the_form(login_as, personas):
    village = clear_centre(personas)
    staff = login_as("staff_a")
    page = staff.get(f"/staff/villages/{village.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="centre-map"' in html and re.search(r'/vendor/leaflet/leaflet\.[0-9a-f]+\.js', html)
    assert 'data-testid="centre-missing"' in html
    bad = staff.post(f"/staff/villages/{village.id}", data={"lat": "北", "lon": "107.63",
                                                            "radius_m": "1000"})
    assert bad.status_code == 302
    assert "纬度" in staff.get(f"/staff/villages/{village.id}").get_data(as_text=True)
    saved = staff.post(f"/staff/villages/{village.id}", data={
        "lat": str(CENTRE[0]), "lon": str(CENTRE[1]), "radius_m": "800",
        "coordinate_system": "WGS84"})
    assert saved.status_code == 302
    db.session.expire_all()
    village = db.session.get(Village, village.id)
    assert (village.lat, village.lon, village.radius_m, village.centre_source) == (
        CENTRE[0], CENTRE[1], 800, "staff")
    assert login_as("staff_b").get(f"/staff/villages/{village.id}").status_code == 403
    listing = staff.get("/staff/villages?centre=none").get_data(as_text=True)
    assert village.code not in listing


def test_dashboard_lists_villages_without_a_centre(login_as, personas):
    clear_centre(personas, "a2")
    html = login_as("staff_a").get("/staff/dashboard").get_data(as_text=True)
    assert 'data-testid="no-centre"' in html
    assert f'data-village="{personas.villages["a2"].code}"' in html
    assert f'data-village="{personas.villages["a1"].code}"' not in html


def test_cli_sets_a_centre_and_lists_villages_without_one(runner, personas):
    clear_centre(personas, "a2")
    code = personas.villages["a2"].code
    listed = runner.invoke(args=["village", "list", "--no-centre"])
    assert listed.exit_code == 0 and code in listed.output
    result = runner.invoke(args=["village", "centre", code, "--lat", "34.44", "--lon", "107.61",
                                 "--radius", "700"])
    assert result.exit_code == 0, result.output
    village = db.session.scalar(select(Village).where(Village.code == code))
    assert (village.lat, village.radius_m, village.centre_source) == (34.44, 700, "staff")
    assert db.session.scalar(select(AuditLog.action).where(
        AuditLog.action == "village.centre")) == "village.centre"
    refused = runner.invoke(args=["village", "centre", code, "--lat", "34.44"])
    assert refused.exit_code == 1
