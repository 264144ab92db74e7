"""The demo's activity in 岐山县, built on a small city (two counties, a dozen villages
each): it goes through the real services, so the staff API shows visits with flags,
residency days, closed meetings with ballots and graded scores; and it is deterministic."""
from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from fieldapp.models import County, Cycle, User
from fieldapp.services import demo

from ..conftest import _empty_tables
from ..personas import csrf_token

TODAY = date(2026, 10, 23)  # a fixed "today": check-ins run from 1 September up to it
SMALL = {"county_codes": ("610323", "610326"), "max_villages": 12, "today": TODAY,
         "checkin_months": 2}


def _build_small() -> dict[str, int]:
    return demo.build_demo(**SMALL)


def _client(app, phone: str):
    client = app.test_client()
    response = client.post("/api/auth/login", json={"phone": phone, "password": demo.DEMO_PASSWORD},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 200, response.get_json()
    return client


def _ids(db) -> tuple[int, int]:
    county = db.session.scalar(select(County).where(County.code == demo.ACTIVITY_COUNTY))
    cycle = db.session.scalar(select(Cycle).where(Cycle.county_id == county.id))
    return county.id, cycle.id


def test_small_demo_has_activity_in_qishan(app, db):
    counts = _build_small()
    assert counts["villages"] == 24 and counts["visits"] > 0 and counts["checkins"] > 0
    assert counts["meetings"] > 0 and counts["ballots"] > 0 and counts["scorecards"] > 0
    county_id, cycle_id = _ids(db)
    staff = _client(app, "13800000001")

    # Visits, some with quality flags (the forced ones: outside the fence, short, ...).
    page = staff.get("/api/visits?per_page=500").get_json()
    assert page["total"] == counts["visits"]
    flags = Counter(f["code"] for v in page["items"] for f in v["flags"])
    assert {"outside_fence", "short_visit", "low_accuracy", "no_location"} <= set(flags)
    assert flags["outside_fence"] == 1
    assert Counter(v["role"] for v in page["items"])["sample"] > 0

    # Residency: present days last month, an approved leave, a pending request, spot checks.
    report = staff.get("/api/residency/report?year=2026&month=10").get_json()
    assert any(r["days_present"] >= 15 for r in report["rows"])
    assert any(r["days_on_leave"] == 5 for r in report["rows"])
    assert any(r["flagged_count"] > 0 for r in report["rows"])
    leave = staff.get("/api/leave").get_json()["items"]
    assert sorted(lv["status"] for lv in leave) == ["approved", "pending"]
    assert staff.get("/api/spot-checks").get_json()["total"] >= 1

    # Meetings: closed with ballots; one upcoming (open), one secretary without a meeting.
    meetings = staff.get(f"/api/meetings?cycle_id={cycle_id}").get_json()["items"]
    closed = [m for m in meetings if m["status"] == "closed"]
    assert closed and all(m["summary"]["ballots"] > 0 for m in closed)
    assert [m["status"] for m in meetings].count("open") == 1

    # Scores: graded rows with grades, incomplete ones (few visits, no meeting), a recall
    # list, not finalised.
    scores = staff.get(f"/api/scores?cycle_id={cycle_id}").get_json()
    assert scores["finalised"] is False
    statuses = Counter(r["status"] for r in scores["rows"])
    assert statuses["graded"] > 0 and statuses["incomplete"] >= 2
    assert all(r["grade"] for r in scores["rows"] if r["status"] == "graded")
    assert scores["recall"] and all(r["grade"] == "incompetent" for r in scores["recall"])

    # Only 岐山县: 眉县's staff see no visits and no meetings.
    meixian = _client(app, "13800000011")
    assert meixian.get("/api/visits").get_json()["total"] == 0
    assert meixian.get("/api/residency/report?year=2026&month=10").get_json()["rows"]
    assert all(r["checkin_count"] == 0 for r in meixian.get(
        "/api/residency/report?year=2026&month=10").get_json()["rows"])

    # The demo evaluator still has households to visit; the demo secretary has a calendar.
    evaluator = _client(app, "13800000002")
    tasks = evaluator.get("/api/tasks").get_json()["villages"]
    statuses = [Counter(h["status"] for h in v["households"] if h["role"] == "sample")
                for v in tasks]
    assert len(tasks) == 3
    assert statuses[1]["visited"] == 9 and statuses[2]["visited"] == 0  # still to do
    secretary = _client(app, "13800000003")
    month = secretary.get("/api/checkins/month?year=2026&month=10").get_json()
    assert month["days_present"] > 0 and month["days_on_leave"] == 5


def _snapshot(db) -> dict:
    """What the demo built, through the services, without ids, tokens or random salts."""
    from fieldapp.services import checkins, meetings, visits
    from fieldapp.services.scoring import results as scorecard

    county_id, cycle_id = _ids(db)
    staff = db.session.scalar(select(User).where(User.phone == "13800000001"))
    cycle = db.session.get(Cycle, cycle_id)
    visit_rows = sorted(
        (v.sample_entry.household_no, v.started_at.isoformat(), v.ended_at.isoformat(),
         v.lat, v.lon, sorted(v.answers.items()), [f["code"] for f in v.flags])
        for v in db.session.scalars(visits.visits_query(staff, {})))
    checkin_rows = sorted(
        (c.secretary_id, c.at.isoformat(), c.inside_fence, c.via_qr,
         [f["code"] for f in c.flags])
        for c in db.session.scalars(checkins.checkin_query(staff)))
    meeting_rows = [
        (m.village.code, m.held_on.isoformat(), m.status, m.participants,
         meetings.meeting_summary(m)["by_category"])
        for m in meetings.meetings_for(staff, cycle, county_id)]
    scores = scorecard.results(staff, cycle, county_id)
    score_rows = [(r["village_code"], r["total"], r["grade"], r["capped"], r["status"])
                  for r in scores["rows"]]
    return {"visits": visit_rows, "checkins": checkin_rows, "meetings": meeting_rows,
            "scores": score_rows, "cap": scores["cap"]}


def test_the_demo_is_deterministic(app, db):
    first_counts = _build_small()
    first = _snapshot(db)
    _empty_tables()
    second_counts = _build_small()
    assert second_counts == first_counts
    assert _snapshot(db) == first


def test_if_empty_keeps_an_existing_demo(app, db, runner):
    counts = demo.build_demo(county_codes=("610323",), max_villages=5, activity=False)
    assert counts == {"counties": 1, "villages": 5, "households": counts["households"],
                      "secretaries": 5}
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "not empty" in result.output
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
