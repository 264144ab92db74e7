"""Residency check-ins through the sync framework, the secretary's month, scoping."""
from __future__ import annotations

from fieldapp.extensions import db
from fieldapp.models import CheckIn

from .residency_helpers import checkin, checkin_record, point_at, sync


def centre(personas, key="a1"):
    v = personas.villages[key]
    return (v.lat, v.lon)


def test_checkin_stored_once_and_counted(login_as, personas):
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 300)
    record = checkin_record("2026-03-10T01:00:00+00:00", lat, lon, 20)
    first = sync(sec, record)
    assert first.status_code == 200, first.get_json()
    result = first.get_json()["results"][0]
    assert result["status"] == "stored"
    assert result["data"]["inside_fence"] is True and result["data"]["day"] == "2026-03-10"
    again = sync(sec, record)
    assert again.get_json()["results"][0]["status"] == "duplicate"
    assert db.session.query(CheckIn).count() == 1
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 1
    assert month["required_days"] == 20
    assert month["days_in_month"] == 31
    assert month["compliant"] is False
    assert [d["status"] for d in month["days"]][9] == "present"


def test_smoke_pages(login_as, personas):
    staff = login_as("staff_a")
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 300)
    checkin(sec, "2026-03-10T01:00:00+00:00", lat, lon, 20)
    for url in ["/staff/residency/?year=2026&month=3", "/staff/residency/leave",
                "/staff/residency/spot-checks", "/staff/residency/villages",
                f"/staff/residency/villages/{personas.villages['a1'].id}/poster",
                f"/staff/residency/villages/{personas.villages['a1'].id}/poster.svg",
                f"/staff/residency/villages/{personas.villages['a1'].id}/qr.png",
                f"/staff/residency/secretaries/{personas.secretaries['a'].id}?year=2026&month=3",
                "/staff/residency/discipline?year=2026",
                "/api/residency/report?year=2026&month=3",
                "/api/residency/report.csv?year=2026&month=3",
                "/api/residency/report.xlsx?year=2026&month=3",
                f"/api/residency/discipline/{personas.secretaries['a'].id}?year=2026",
                "/api/residency/discipline?year=2026"]:
        r = staff.get(url)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:2000])
