"""Residency check-ins through the sync framework: exactly once, the geofence at its
boundaries, poster tokens, anomaly flags, and who may see what."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, CheckIn, Village

from .residency_helpers import checkin, checkin_record, point_at, sync


def centre(personas, key="a1"):
    v = personas.villages[key]
    return (v.lat, v.lon)


def flags_of(client, **query) -> dict[str, list[str]]:
    """client_uuid -> flag codes, from the API."""
    items = client.get("/api/checkins", query_string={"per_page": 500, **query}).get_json()
    return {c["client_uuid"]: sorted(f["code"] for f in c["flags"]) for c in items["items"]}


# --- exactly once ----------------------------------------------------------------------


def test_checkin_stored_once_and_counted(login_as, personas):
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 300)
    record = checkin_record("2026-03-10T01:00:00+00:00", lat, lon, 20)
    first = sync(sec, record)
    assert first.status_code == 200, first.get_json()
    result = first.get_json()["results"][0]
    assert result["status"] == "stored"
    assert result["data"] == {"day": "2026-03-10", "inside_fence": True, "distance_m": 300.0,
                              "via_qr": False, "token_valid": True, "counted": True}
    again = sync(sec, record)
    assert again.get_json()["results"][0]["status"] == "duplicate"
    assert db.session.scalar(select(db.func.count()).select_from(CheckIn)) == 1
    stored = db.session.scalar(select(CheckIn))
    assert stored.secretary_id == personas.secretaries["a"].id
    assert stored.village_id == personas.villages["a1"].id
    assert (stored.lat, stored.lon, stored.accuracy_m) == (lat, lon, 20)
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 1
    assert month["required_days"] == 20
    assert month["days_in_month"] == 31
    assert month["compliant"] is False
    assert month["days"][9] == {"day": "2026-03-10", "status": "present",
                                "checkin_count": 1, "outside_count": 0}


def test_several_checkins_a_day_make_one_present_day(login_as, personas):
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 100)
    r = sync(sec, *[checkin_record(f"2026-03-10T0{h}:00:00+00:00", lat + h * 1e-5, lon, 12)
                    for h in range(1, 4)])
    assert r.status_code == 200
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 1 and month["checkin_count"] == 3


def test_same_uuid_other_content_is_a_conflict(login_as, personas):
    sec = login_as("secretary_a")
    record = checkin_record("2026-03-10T01:00:00+00:00", *centre(personas), 10)
    assert sync(sec, record).status_code == 200
    record["payload"]["at"] = "2026-03-11T01:00:00+00:00"
    r = sync(sec, record)
    assert r.status_code == 422
    assert r.get_json()["results"][0]["status"] == "conflict"


def test_invalid_payload_rejects_the_batch_and_stores_nothing(login_as, personas):
    sec = login_as("secretary_a")
    good = checkin_record("2026-03-10T01:00:00+00:00", *centre(personas), 10)
    bad = checkin_record("2026-03-10T02:00:00+00:00", 95.0, 107.0, 10)  # lat out of range
    extra = checkin_record("2026-03-10T03:00:00+00:00")
    extra["payload"]["photo"] = "data:..."  # unknown fields are refused
    naive = checkin_record("2026-03-10T03:00:00")
    future = checkin_record((datetime.now(timezone.utc) + timedelta(days=5)).isoformat())
    r = sync(sec, good, bad, extra, naive, future)
    assert r.status_code == 422
    statuses = [x["status"] for x in r.get_json()["results"]]
    assert statuses == ["pending", "rejected", "rejected", "rejected", "rejected"]
    errors = r.get_json()["results"]
    assert "geo.lat" in errors[1]["errors"]
    assert "photo" in errors[2]["errors"]
    assert "at" in errors[3]["errors"] and "at" in errors[4]["errors"]
    assert db.session.scalar(select(db.func.count()).select_from(CheckIn)) == 0


def test_no_position_is_stored_flagged_and_not_present(login_as, personas):
    sec = login_as("secretary_a")
    result = checkin(sec, "2026-03-10T01:00:00+00:00", geo_error="denied")
    assert result["data"]["inside_fence"] is None
    assert "no_location" in next(iter(flags_of(sec).values()))
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 0 and month["checkin_count"] == 1


def test_evaluator_and_staff_cannot_check_in(login_as, personas):
    for name in ("evaluator_a", "staff_a"):
        client = login_as(name)
        r = sync(client, checkin_record("2026-03-10T01:00:00+00:00", *centre(personas), 10))
        assert r.status_code == 422
        result = r.get_json()["results"][0]
        assert result["status"] == "rejected" and "type" in result["errors"]
    assert db.session.scalar(select(db.func.count()).select_from(CheckIn)) == 0


# --- the geofence at its boundaries ---------------------------------------------------


@pytest.mark.parametrize("metres, accuracy, inside", [
    (999.9, 0, True),        # inside the radius with a perfect fix
    (1000.1, 0, False),      # just outside, nothing to credit
    (1000.1, None, False),   # no accuracy reported: no credit
    (1099.9, 100, True),     # distance - accuracy just within the radius
    (1100.1, 100, False),    # ... and just beyond it
    (1199.9, 200, True),     # the credit is at most 200 m
    (1199.9, 5000, True),    # a vague fix still earns only 200 m
    (1200.1, 5000, False),
])
def test_geofence_boundaries(login_as, personas, metres, accuracy, inside):
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), metres, bearing=37)
    result = checkin(sec, "2026-03-10T01:00:00+00:00", lat, lon, accuracy)
    assert result["data"]["inside_fence"] is inside
    assert result["data"]["distance_m"] == pytest.approx(metres, abs=0.1)
    codes = next(iter(flags_of(sec).values()))
    assert ("outside_fence" in codes) is (not inside)


def test_per_village_radius(login_as, personas):
    personas.villages["a1"].radius_m = 2000
    db.session.commit()
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 1500)
    assert checkin(sec, "2026-03-10T01:00:00+00:00", lat, lon, 10)["data"]["inside_fence"]


def test_outside_fence_counts_as_a_record_but_not_a_present_day(login_as, personas):
    sec = login_as("secretary_a")
    lat, lon = point_at(centre(personas), 5000)
    result = checkin(sec, "2026-03-10T01:00:00+00:00", lat, lon, 10)
    assert result["status"] == "stored" and result["data"]["inside_fence"] is False
    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month["days_present"] == 0
    assert month["outside_fence_count"] == 1
    assert month["days"][9]["outside_count"] == 1


# --- poster tokens ---------------------------------------------------------------------


def test_qr_token_marks_checkin_and_rotation_voids_old_token(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    village = personas.villages["a1"]
    info = staff.get(f"/api/villages/{village.id}/checkin-token").get_json()
    old = info["token"]
    assert info["url"].endswith(f"/#/checkin?v={old}")
    here = point_at(centre(personas), 50)
    ok = checkin(sec, "2026-03-10T01:00:00+00:00", *here, 10, token=old)
    assert ok["data"]["via_qr"] is True and ok["data"]["counted"] is True

    rotated = staff.post(f"/api/villages/{village.id}/checkin-token/rotate")
    assert rotated.status_code == 200
    new = rotated.get_json()["token"]
    assert new != old and len(new) >= 20
    assert db.session.scalar(select(AuditLog).where(
        AuditLog.action == "village.checkin_token.rotate")) is not None

    stale = checkin(sec, "2026-03-11T01:00:00+00:00", *here, 10, token=old)
    assert stale["status"] == "stored"
    assert stale["data"]["via_qr"] is True and stale["data"]["token_valid"] is False
    fresh = checkin(sec, "2026-03-12T01:00:00+00:00", *here, 10, token=new)
    assert fresh["data"]["token_valid"] is True
    other = db.session.scalar(select(Village.checkin_token).where(
        Village.id == personas.villages["b1"].id))
    foreign = checkin(sec, "2026-03-13T01:00:00+00:00", *here, 10, token=other)
    unknown = checkin(sec, "2026-03-14T01:00:00+00:00", *here, 10, token="made-up")
    assert foreign["data"]["counted"] is False and unknown["data"]["counted"] is False
    statuses = {c.day.day: c.token_status for c in db.session.scalars(select(CheckIn))}
    assert statuses == {10: "valid", 11: "rotated", 12: "valid", 13: "other_village",
                        14: "unknown"}

    month = sec.get("/api/checkins/month?year=2026&month=3").get_json()
    present = [d["day"] for d in month["days"] if d["status"] == "present"]
    assert present == ["2026-03-10", "2026-03-12"]  # made before rotation / with the new code
    assert month["uncounted_count"] == 3


def test_token_rotation_and_posters_are_county_scoped(login_as, personas):
    a1 = personas.villages["a1"]
    staff_b, sec = login_as("staff_b"), login_as("secretary_a")
    assert staff_b.post(f"/api/villages/{a1.id}/checkin-token/rotate").status_code == 403
    assert staff_b.get(f"/api/villages/{a1.id}/checkin-token").status_code == 403
    assert staff_b.get(f"/staff/residency/villages/{a1.id}/poster").status_code == 403
    assert staff_b.get(f"/staff/residency/villages/{a1.id}/poster.svg").status_code == 403
    assert sec.post(f"/api/villages/{a1.id}/checkin-token/rotate").status_code == 403
    assert sec.get(f"/api/villages/{a1.id}/checkin-token").status_code == 403
    assert login_as("admin").get(f"/api/villages/{a1.id}/checkin-token").status_code == 200


def test_poster_has_name_and_qr_of_the_pwa_route(app, login_as, personas):
    staff = login_as("staff_a")
    village = personas.villages["a1"]
    page = staff.get(f"/staff/residency/villages/{village.id}/poster")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert village.name in html and "<svg" in html and "<script>" not in html
    assert f"/#/checkin?v={village.checkin_token}" in html
    svg = staff.get(f"/staff/residency/villages/{village.id}/poster.svg")
    assert svg.mimetype == "image/svg+xml"
    assert village.name in svg.get_data(as_text=True)
    png = staff.get(f"/staff/residency/villages/{village.id}/qr.png")
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    app.config["PUBLIC_BASE_URL"] = "https://fieldapp.example.cn/"
    try:
        html = staff.get(f"/staff/residency/villages/{village.id}/poster").get_data(as_text=True)
        assert f"https://fieldapp.example.cn/#/checkin?v={village.checkin_token}" in html
    finally:
        app.config["PUBLIC_BASE_URL"] = ""


def test_rotate_from_the_poster_page(login_as, personas):
    staff = login_as("staff_a")
    village = personas.villages["a1"]
    old = village.checkin_token
    r = staff.post(f"/staff/residency/villages/{village.id}/rotate",
                   data={"csrf_token": staff.csrf_token})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Village, village.id).checkin_token != old


# --- anomaly flags ---------------------------------------------------------------------


def test_repeated_coordinates_on_many_days(login_as, personas):
    sec = login_as("secretary_a")
    spot = (round(centre(personas)[0] + 0.001, 5), round(centre(personas)[1], 5))
    for day in (10, 11, 12):
        checkin(sec, f"2026-03-{day}T01:00:00+00:00", *spot, 8 + day)
    other = point_at(centre(personas), 200)
    checkin(sec, "2026-03-13T01:00:00+00:00", *other, 9)
    flags = flags_of(sec)
    repeated = [u for u, codes in flags.items() if "repeated_coordinates" in codes]
    assert len(repeated) == 3  # flagged once the third day arrives: the series is recomputed


def test_zero_and_constant_accuracy(login_as, personas):
    sec = login_as("secretary_a")
    for day in range(1, 6):
        lat, lon = point_at(centre(personas), 100 + day * 10)
        checkin(sec, f"2026-03-{day:02d}T01:00:00+00:00", lat, lon, 30)
    lat, lon = point_at(centre(personas), 50)
    checkin(sec, "2026-03-08T01:00:00+00:00", lat, lon, 0)
    rows = {c.day.day: sorted(f["code"] for f in c.flags if f["code"] != "late_sync")
            for c in db.session.scalars(select(CheckIn))}
    assert all("constant_accuracy" in rows[d] for d in range(1, 6))
    assert rows[8] == ["zero_accuracy"]


def test_impossible_speed_between_checkins(login_as, personas):
    sec = login_as("secretary_a")
    checkin(sec, "2026-03-10T01:00:00+00:00", *centre(personas), 10)
    far = point_at(centre(personas), 130_000)  # 130 km in one hour
    checkin(sec, "2026-03-10T02:00:00+00:00", *far, 10)
    slow = point_at(centre(personas), 110_000, bearing=0)  # 110 km the next day
    checkin(sec, "2026-03-11T02:00:00+00:00", *slow, 10)
    rows = {c.at.isoformat(): [f["code"] for f in c.flags]
            for c in db.session.scalars(select(CheckIn))}
    assert "impossible_speed" in rows["2026-03-10T01:00:00+00:00"]
    assert "impossible_speed" in rows["2026-03-10T02:00:00+00:00"]


def test_clock_skew_and_late_sync(login_as, personas):
    sec = login_as("secretary_a")
    now = datetime.now(timezone.utc)
    lat, lon = point_at(centre(personas), 100)
    checkin(sec, (now - timedelta(hours=1)).isoformat(), lat, lon, 11,
            device_sent_at=(now + timedelta(hours=30)).isoformat())
    checkin(sec, (now - timedelta(days=4)).isoformat(), lat + 0.0001, lon, 12,
            device_sent_at=now.isoformat())
    items = sec.get("/api/checkins").get_json()["items"]
    by_delay = sorted(items, key=lambda c: c["sync_delay_hours"])
    assert [f["code"] for f in by_delay[0]["flags"]] == ["clock_skew"]
    assert [f["code"] for f in by_delay[1]["flags"]] == ["late_sync"]
    assert by_delay[1]["sync_delay_hours"] >= 96
    assert by_delay[1]["counted"] is True  # late check-ins still count
    # Flag texts are translated (Chinese by default).
    assert "小时" in by_delay[1]["flags"][0]["text"]


# --- scope -----------------------------------------------------------------------------


def test_secretary_sees_only_own_checkins(login_as, personas):
    sec_a, sec_b = login_as("secretary_a"), login_as("secretary_b")
    checkin(sec_a, "2026-03-10T01:00:00+00:00", *centre(personas), 10)
    checkin(sec_b, "2026-03-10T01:00:00+00:00", *centre(personas, "b1"), 10)
    assert sec_b.get("/api/checkins").get_json()["total"] == 1
    mine = sec_b.get("/api/checkins",
                     query_string={"secretary_id": personas.secretaries["a"].id}).get_json()
    assert mine["total"] == 0
    other = f"/api/residency/secretaries/{personas.secretaries['a'].id}/month?year=2026&month=3"
    assert sec_b.get(other).status_code == 403
    assert sec_a.get(other).status_code == 200
    month_b = sec_b.get("/api/checkins/month?year=2026&month=3").get_json()
    assert month_b["checkin_count"] == 1 and month_b["village"]["id"] == personas.villages["b1"].id


def test_staff_see_only_their_county(login_as, personas):
    checkin(login_as("secretary_a"), "2026-03-10T01:00:00+00:00", *centre(personas), 10)
    checkin(login_as("secretary_b"), "2026-03-10T01:00:00+00:00", *centre(personas, "b1"), 10)
    staff_a, staff_b = login_as("staff_a"), login_as("staff_b")
    a_items = staff_a.get("/api/checkins").get_json()["items"]
    assert {c["secretary_id"] for c in a_items} == {personas.secretaries["a"].id}
    url = f"/api/residency/secretaries/{personas.secretaries['a'].id}/month"
    assert staff_b.get(url).status_code == 403
    assert staff_b.get(f"/staff/residency/secretaries/{personas.secretaries['a'].id}"
                       ).status_code == 403
    assert login_as("admin").get("/api/checkins").get_json()["total"] == 2


def test_month_endpoint_is_for_secretaries(login_as, personas):
    assert login_as("staff_a").get("/api/checkins/month").status_code == 403
    assert login_as("evaluator_a").get("/api/checkins/month").status_code == 403
    assert personas.anonymous().get("/api/checkins/month").status_code == 401
    from fieldapp.domain.residency import shanghai_today

    body = login_as("secretary_a").get("/api/checkins/month").get_json()
    today = shanghai_today()
    assert (body["year"], body["month"], body["today"]) == (today.year, today.month,
                                                           today.isoformat())
    assert body["checked_in_today"] is False and body["pending_leave"] == []
    assert len(body["days"]) == body["days_in_month"]


def test_forbidden_paths_change_nothing(login_as, personas):
    """Every residency path a persona must not take: 403 (401 anonymous), nothing stored."""
    from fieldapp.models import LeaveRequest, SpotCheck

    sec_a = login_as("secretary_a")
    checkin(sec_a, "2026-03-10T01:00:00+00:00", *centre(personas), 10)
    leave = sec_a.post("/api/leave", json={"start": "2026-03-20", "end": "2026-03-21",
                                           "reason": "病假"}).get_json()
    a, b = personas.secretaries["a"].id, personas.counties["a"].id
    village = personas.villages["a1"]
    token = village.checkin_token
    reads = [f"/api/residency/report?year=2026&month=3&county_id={b}",
             f"/api/residency/report.csv?year=2026&month=3&county_id={b}",
             f"/api/residency/report.xlsx?year=2026&month=3&county_id={b}",
             f"/api/residency/secretaries/{a}/month?year=2026&month=3",
             f"/api/residency/discipline?year=2026&county_id={b}",
             f"/api/residency/discipline/{a}?year=2026",
             f"/api/villages/{village.id}/checkin-token",
             f"/staff/residency/secretaries/{a}?year=2026&month=3",
             f"/staff/residency/villages/{village.id}/poster"]
    writes = [(f"/api/leave/{leave['id']}/decision", {"decision": "approve"}),
              ("/api/spot-checks", {"secretary_id": a, "day": "2026-03-12", "present": False}),
              (f"/api/residency/discipline/{a}", {"year": 2026}),
              (f"/api/villages/{village.id}/checkin-token/rotate", None)]
    for name in ("staff_b", "secretary_b", "evaluator_a"):
        client = login_as(name)
        for url in reads:
            assert client.get(url).status_code == 403, (name, url)
        for url, body in writes:
            assert client.post(url, json=body).status_code == 403, (name, url)
        # Lists are scoped to nothing of county A rather than refused.
        if name != "evaluator_a":
            for url in (f"/api/checkins?secretary_id={a}", f"/api/leave?secretary_id={a}"):
                assert client.get(url).get_json()["total"] == 0, (name, url)
    # The secretary of the county may not act as staff either, API or staff pages.
    assert sec_a.post(f"/api/leave/{leave['id']}/decision",
                      json={"decision": "approve"}).status_code == 403
    assert sec_a.post("/api/spot-checks", json={"secretary_id": a, "day": "2026-03-12",
                                                "present": True}).status_code == 403
    assert sec_a.post("/staff/residency/spot-checks", data={
        "secretary_id": a, "day": "2026-03-12", "present": "yes",
        "csrf_token": sec_a.csrf_token}).status_code == 403
    assert sec_a.get("/api/residency/report?year=2026&month=3").status_code == 403
    assert sec_a.get(f"/api/residency/discipline/{a}?year=2026").status_code == 403
    # The evaluator cannot check in, and has no month; anonymous gets 401.
    r = sync(login_as("evaluator_a"), checkin_record("2026-03-11T01:00:00+00:00",
                                                     *centre(personas), 10))
    assert r.status_code == 422 and "type" in r.get_json()["results"][0]["errors"]
    assert login_as("evaluator_a").get("/api/checkins/month").status_code == 403
    assert personas.anonymous().get("/api/residency/report.csv").status_code == 401
    db.session.expire_all()
    assert db.session.get(LeaveRequest, leave["id"]).status == "pending"
    assert db.session.scalar(select(db.func.count()).select_from(SpotCheck)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(CheckIn)) == 1
    assert db.session.get(Village, village.id).checkin_token == token


def test_spot_check_page_never_defaults_to_absent(login_as, personas):
    from fieldapp.models import SpotCheck

    staff = login_as("staff_a")
    r = staff.post("/staff/residency/spot-checks", data={
        "secretary_id": personas.secretaries["a"].id, "day": "2026-03-12",
        "csrf_token": staff.csrf_token})
    assert r.status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(SpotCheck)) == 0
    page = staff.get("/staff/residency/spot-checks").get_data(as_text=True)
    assert "请选择在村或缺勤" in page


def test_spot_check_page_refuses_a_note_over_1000_characters(login_as, personas):
    from fieldapp.models import SpotCheck

    staff = login_as("staff_a")
    long_note = "走访" * 500 + "完"  # 1001 characters
    form = {"secretary_id": personas.secretaries["a"].id, "day": "2026-03-12", "present": "no",
            "note": long_note, "csrf_token": staff.csrf_token}
    r = staff.post("/staff/residency/spot-checks", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "<li>备注：最多 1000 个字符。</li>" in page
    assert long_note in page  # the typed note is shown again, not lost or cut
    assert 'value="no" checked' in page
    assert db.session.scalar(select(db.func.count()).select_from(SpotCheck)) == 0
    api = staff.post("/api/spot-checks", json={"secretary_id": personas.secretaries["a"].id,
                                                "day": "2026-03-12", "present": False, "note": long_note})
    assert api.status_code == 422 and "note" in api.get_json()["errors"]
    r = staff.post("/staff/residency/spot-checks", data={**form, "note": long_note[:1000]})
    assert r.status_code == 302
    assert db.session.scalar(select(SpotCheck.note)) == long_note[:1000]


def test_a_checkin_near_the_village_needs_no_geodesic(login_as, personas, monkeypatch):
    """geopy's geodesic (pure Python, ~200 us) was 70% of a check-in request: the fence
    uses an ellipsoidal formula equal to it at fence scale, speed flags a haversine."""
    from fieldapp.domain import flags as dflags
    from fieldapp.domain import geo as dgeo

    def boom(*_args, **_kwargs):
        raise AssertionError("geodesic computed on the check-in path")

    for module in (dflags, dgeo):
        monkeypatch.setattr(module, "geodesic", boom, raising=False)
    sec = login_as("secretary_a")
    c = centre(personas)
    for hours, metres in ((1, 300), (2, 1500), (3, 200)):
        result = checkin(sec, f"2026-03-10T0{hours}:00:00+00:00", *point_at(c, metres), 10)
        assert result["data"]["distance_m"] == pytest.approx(metres, abs=0.1)
    assert result["data"]["inside_fence"] is True
