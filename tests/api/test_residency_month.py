"""Month arithmetic in Asia/Shanghai whatever the server's zone, leave, spot checks, the
county report and its downloads, and the work-discipline suggestion."""
from __future__ import annotations

import csv
import io
import os
import time
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, DisciplineDecision, FirstSecretary, LeaveRequest

from .residency_helpers import checkin, point_at


@pytest.fixture
def server_tz():
    """Run the test with the server's local zone far from Beijing."""
    old = os.environ.get("TZ")

    def set_tz(name: str):
        os.environ["TZ"] = name
        time.tzset()
    yield set_tz
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def here(personas, key="a1", metres=100):
    v = personas.villages[key]
    return point_at((v.lat, v.lon), metres)


def month(client, year, m):
    return client.get(f"/api/checkins/month?year={year}&month={m}").get_json()


def approve(staff, leave_id):
    r = staff.post(f"/api/leave/{leave_id}/decision", json={"decision": "approve"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "UTC", "Pacific/Kiritimati"])
def test_day_boundaries_are_beijing_days(login_as, personas, server_tz, tz):
    server_tz(tz)
    sec = login_as("secretary_a")
    # 01:30 on 1 April in Beijing is still 31 March in UTC (and in Los Angeles).
    r = checkin(sec, "2026-03-31T17:30:00+00:00", *here(personas), 10)
    assert r["data"]["day"] == "2026-04-01"
    # 23:59:59 on 31 March in Beijing.
    assert checkin(sec, "2026-03-31T15:59:59+00:00", *here(personas, metres=150), 10
                   )["data"]["day"] == "2026-03-31"
    # Same instant written with a +08:00 offset.
    assert checkin(sec, "2026-04-30T23:59:00+08:00", *here(personas, metres=200), 10
                   )["data"]["day"] == "2026-04-30"
    march, april = month(sec, 2026, 3), month(sec, 2026, 4)
    assert [d["day"] for d in march["days"] if d["status"] == "present"] == ["2026-03-31"]
    assert [d["day"] for d in april["days"] if d["status"] == "present"] == [
        "2026-04-01", "2026-04-30"]
    assert march["days_absent"] == 30 and april["days_in_month"] == 30


def test_leave_across_a_month_end(login_as, personas, server_tz):
    server_tz("America/Los_Angeles")
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    r = sec.post("/api/leave", json={"start": "2026-03-25", "end": "2026-04-05",
                                     "reason": "家中有事"})
    assert r.status_code == 201, r.get_json()
    leave = r.get_json()
    assert leave["status"] == "pending" and leave["days"] == 12
    # Pending leave excuses nothing yet, and is listed on the phone.
    before = month(sec, 2026, 3)
    assert before["days_on_leave"] == 0 and [x["id"] for x in before["pending_leave"]] == [
        leave["id"]]
    approve(staff, leave["id"])
    # Present wins over leave on 26 March (a check-in inside the fence).
    checkin(sec, "2026-03-26T02:00:00+00:00", *here(personas), 10)
    march, april = month(sec, 2026, 3), month(sec, 2026, 4)
    assert (march["days_on_leave"], march["days_present"]) == (6, 1)
    assert march["days_absent"] == 31 - 7
    assert april["days_on_leave"] == 5
    assert march["pending_leave"] == []


def test_february_and_term_proration(login_as, personas):
    sec = login_as("secretary_a")
    feb = month(sec, 2026, 2)
    assert feb["days_in_month"] == 28 and feb["required_days"] == 20
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    secretary.term_end = personas.secretaries["a"].term_start.replace(year=2026, month=4, day=10)
    db.session.commit()
    april = month(sec, 2026, 4)
    assert april["term_days"] == 10 and april["required_days"] == 7  # ceil(20*10/30)


def test_leave_validation_and_roles(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    r = sec.post("/api/leave", json={"start": "2026-03-10", "end": "2026-03-09", "reason": "x"})
    assert r.status_code == 422 and "end" in r.get_json()["errors"]
    r = sec.post("/api/leave", json={"start": "2026-03-10", "end": "2026-03-10", "reason": " "})
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = sec.post("/api/leave", json={"start": "2026-03-10", "end": "2026-03-10", "reason": "x",
                                     "secretary_id": 99})
    assert r.status_code == 422  # unknown fields are refused
    assert staff.post("/api/leave", json={"start": "2026-03-10", "end": "2026-03-10",
                                          "reason": "x"}).status_code == 403


def test_leave_scope_and_decisions(login_as, personas):
    sec_a, sec_b = login_as("secretary_a"), login_as("secretary_b")
    staff_a, staff_b = login_as("staff_a"), login_as("staff_b")
    leave = sec_a.post("/api/leave", json={"start": "2026-05-01", "end": "2026-05-03",
                                           "reason": "病假"}).get_json()
    sec_b.post("/api/leave", json={"start": "2026-05-01", "end": "2026-05-02", "reason": "事假"})
    assert sec_b.get("/api/leave").get_json()["total"] == 1
    assert [x["id"] for x in sec_a.get("/api/leave").get_json()["items"]] == [leave["id"]]
    assert sec_b.get("/api/leave", query_string={
        "secretary_id": personas.secretaries["a"].id}).get_json()["total"] == 0
    assert staff_b.get("/api/leave").get_json()["total"] == 1
    assert leave["id"] not in [x["id"] for x in staff_b.get("/api/leave").get_json()["items"]]
    # Forbidden decisions.
    url = f"/api/leave/{leave['id']}/decision"
    assert staff_b.post(url, json={"decision": "approve"}).status_code == 403
    assert sec_a.post(url, json={"decision": "approve"}).status_code == 403
    assert login_as("evaluator_a").post(url, json={"decision": "approve"}).status_code == 403
    assert staff_b.post(f"/staff/residency/leave/{leave['id']}/decision",
                        data={"decision": "approve", "csrf_token": staff_b.csrf_token}
                        ).status_code == 403
    assert db.session.get(LeaveRequest, leave["id"]).status == "pending"
    # Staff of the county decide once; a second decision is a conflict.
    r = staff_a.post(url, json={"decision": "reject", "note": "材料不全"})
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert staff_a.post(url, json={"decision": "approve"}).status_code == 409
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "leave.rejected"))
    assert staff_a.post("/api/leave/999999/decision",
                        json={"decision": "approve"}).status_code == 404


def test_leave_page_approves(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    leave = sec.post("/api/leave", json={"start": "2026-05-01", "end": "2026-05-03",
                                         "reason": "病假"}).get_json()
    page = staff.get("/staff/residency/leave?status=pending").get_data(as_text=True)
    assert "病假" in page
    r = staff.post(f"/staff/residency/leave/{leave['id']}/decision",
                   data={"decision": "approve", "csrf_token": staff.csrf_token})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(LeaveRequest, leave["id"]).status == "approved"


def test_leave_over_thirty_days_is_flagged(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    for start, end in (("2026-06-01", "2026-06-20"), ("2026-07-01", "2026-07-10")):
        approve(staff, sec.post("/api/leave", json={"start": start, "end": end,
                                                    "reason": "事假"}).get_json()["id"])
    row = staff.get("/api/residency/report?year=2026&month=7").get_json()["rows"][0]
    assert row["annual_leave_days"] == 30 and row["leave_over_limit"] is False
    approve(staff, sec.post("/api/leave", json={"start": "2026-12-31", "end": "2027-01-02",
                                                "reason": "事假"}).get_json()["id"])
    row = staff.get("/api/residency/report?year=2026&month=7").get_json()["rows"][0]
    assert row["annual_leave_days"] == 31 and row["leave_over_limit"] is True


def test_spot_checks(login_as, personas):
    staff_a, staff_b, sec = login_as("staff_a"), login_as("staff_b"), login_as("secretary_a")
    body = {"secretary_id": personas.secretaries["a"].id, "day": "2026-03-12",
            "present": False, "note": "夜间暗访，不在村"}
    r = staff_a.post("/api/spot-checks", json=body)
    assert r.status_code == 201 and r.get_json()["present"] is False
    assert staff_b.post("/api/spot-checks", json=body).status_code == 403
    assert sec.post("/api/spot-checks", json=body).status_code == 403
    assert staff_a.post("/api/spot-checks", json={**body, "day": "2099-01-01"}).status_code == 422
    assert staff_b.get("/api/spot-checks").get_json()["total"] == 0
    assert staff_a.get("/api/spot-checks").get_json()["total"] == 1
    row = staff_a.get("/api/residency/report?year=2026&month=3").get_json()["rows"][0]
    assert (row["spot_checks"], row["spot_checks_absent"]) == (1, 1)
    page = staff_a.post("/staff/residency/spot-checks", data={
        "secretary_id": personas.secretaries["a"].id, "day": "2026-03-13", "present": "yes",
        "note": "在村", "csrf_token": staff_a.csrf_token})
    assert page.status_code == 302
    assert staff_a.get("/api/spot-checks").get_json()["total"] == 2


def _fill_month(sec, personas, year, m, days):
    for d in days:
        lat, lon = here(personas, metres=100 + d)
        checkin(sec, f"{year}-{m:02d}-{d:02d}T02:00:00+00:00", lat, lon, 10 + d % 7)


def test_county_report_and_downloads(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    _fill_month(sec, personas, 2026, 3, range(1, 22))  # 21 present days
    lat, lon = point_at((personas.villages["a1"].lat, personas.villages["a1"].lon), 9000)
    checkin(sec, "2026-03-25T02:00:00+00:00", lat, lon, 10)
    report = staff.get("/api/residency/report?year=2026&month=3").get_json()
    assert report["county"]["id"] == personas.counties["a"].id
    assert [r["secretary_name"] for r in report["rows"]] == ["书记A"]
    row = report["rows"][0]
    assert (row["days_present"], row["days_absent"], row["required_days"]) == (21, 10, 20)
    assert row["compliant"] is True and row["outside_fence_count"] == 1
    # Scope.
    b = personas.counties["b"].id
    assert staff.get(f"/api/residency/report?year=2026&month=3&county_id={b}").status_code == 403
    assert sec.get("/api/residency/report?year=2026&month=3").status_code == 403
    assert login_as("staff_b").get("/api/residency/report.csv?year=2026&month=3&county_id="
                                   f"{personas.counties['a'].id}").status_code == 403
    assert login_as("admin").get("/api/residency/report?year=2026&month=3").status_code == 422
    # CSV: UTF-8 with BOM, Chinese headers, one row.
    r = staff.get("/api/residency/report.csv?year=2026&month=3")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][3] == "第一书记" and len(rows) == 2
    assert rows[1][3] == "书记A" and rows[1][5] == "21" and rows[1][9] == "是"
    # XLSX: frozen header, widths, the same row.
    x = staff.get("/api/residency/report.xlsx?year=2026&month=3")
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(x.data)).active
    assert ws.freeze_panes == "A2" and ws.column_dimensions["A"].width > 0
    values = list(ws.iter_rows(values_only=True))
    assert values[1][3] == "书记A" and values[1][5] == 21
    # The staff page shows the table.
    page = staff.get("/staff/residency/?year=2026&month=3").get_data(as_text=True)
    assert "书记A" in page and "report.csv" in page


def test_exports_neutralise_formulas(login_as, personas):
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    secretary.name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    staff = login_as("staff_a")
    text = staff.get("/api/residency/report.csv?year=2026&month=3").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    ws = load_workbook(io.BytesIO(staff.get(
        "/api/residency/report.xlsx?year=2026&month=3").data)).active
    assert ws.cell(row=2, column=4).value.startswith("'=")
    assert ws.cell(row=2, column=4).data_type == "s"


def test_calendar_page(login_as, personas):
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    _fill_month(sec, personas, 2026, 3, [2, 3])
    html = staff.get(f"/staff/residency/secretaries/{personas.secretaries['a'].id}"
                     "?year=2026&month=3").get_data(as_text=True)
    assert 'data-day="2026-03-02" data-status="present"' in html
    assert 'data-day="2026-03-04" data-status="absent"' in html


# --- work discipline -------------------------------------------------------------------


def test_discipline_suggestion_follows_the_formula(login_as, personas):
    """Worked example of docs/residency-and-flags.md: two months below 20, one spot-check
    absence, 31 leave days -> 10 - 2*2 - 3*1 - 2 = 1, grade capped at 称职."""
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    _fill_month(sec, personas, 2026, 1, range(1, 21))  # January: 20, compliant
    _fill_month(sec, personas, 2026, 2, range(1, 16))  # February: 15
    _fill_month(sec, personas, 2026, 3, range(1, 20))  # March: 19
    for start, end in (("2026-04-01", "2026-04-30"), ("2026-05-04", "2026-05-04")):
        approve(staff, sec.post("/api/leave", json={"start": start, "end": end,
                                                    "reason": "病假"}).get_json()["id"])
    # April-May are on leave / absent: set the term to end in March to keep the example.
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    secretary.term_end = secretary.term_end.replace(year=2026, month=3, day=31)
    db.session.commit()
    staff.post("/api/spot-checks", json={"secretary_id": secretary.id, "day": "2026-03-20",
                                         "present": False})
    url = f"/api/residency/discipline/{secretary.id}?year=2026"
    body = staff.get(url).get_json()
    s = body["suggestion"]
    assert s["noncompliant_months"] == ["2026-02", "2026-03"]
    assert s["spot_check_absences"] == 1 and s["annual_leave_days"] == 31
    assert s["score"] == 1.0 and s["grade_cap"] == "competent"
    assert sum(line["points"] for line in s["breakdown"]) == pytest.approx(1.0)
    assert body["decision"] is None
    # Confirm as suggested, then override with a reason.
    post = f"/api/residency/discipline/{secretary.id}"
    r = staff.post(post, json={"year": 2026})
    assert r.status_code == 200 and r.get_json()["score"] == "1.00"  # points: exact decimal strings
    assert r.get_json()["overridden"] is False
    r = staff.post(post, json={"year": 2026, "score": 4})
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = staff.post(post, json={"year": 2026, "score": 4, "reason": "2月病假有医院证明"})
    assert r.status_code == 200 and r.get_json()["overridden"] is True
    assert r.get_json()["suggested"] == "1.00"
    assert db.session.scalar(select(db.func.count()).select_from(DisciplineDecision)) == 1
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "discipline.override"))
    from fieldapp.services.checkins import confirmed_discipline_score
    assert confirmed_discipline_score(personas.cycle.id, secretary.id) == Decimal("4.00")
    assert staff.post(post, json={"year": 2026, "score": 11, "reason": "x"}).status_code == 422
    # Scope.
    assert login_as("staff_b").get(url).status_code == 403
    assert login_as("staff_b").post(post, json={"year": 2026}).status_code == 403
    assert sec.get(url).status_code == 403
    overview = staff.get("/api/residency/discipline?year=2026").get_json()
    assert overview["rows"][0]["decision"]["score"] == "4.00"
    assert overview["config"]["per_noncompliant_month"] == 2.0


def test_discipline_formula_is_configurable(login_as, personas):
    personas.cycle.settings = {"required_days": 10,
                               "discipline": {"per_noncompliant_month": 1.5}}
    db.session.commit()
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    _fill_month(sec, personas, 2026, 1, range(1, 10))  # 9 < 10
    secretary = personas.secretaries["a"]
    db.session.get(FirstSecretary, secretary.id).term_end = \
        secretary.term_end.replace(year=2026, month=1, day=31)
    db.session.commit()
    s = staff.get(f"/api/residency/discipline/{secretary.id}?year=2026").get_json()["suggestion"]
    assert s["noncompliant_months"] == ["2026-01"] and s["score"] == 8.5
    assert month(sec, 2026, 1)["required_days"] == 10


def test_discipline_without_cycle_is_404(login_as, personas):
    staff = login_as("staff_a")
    r = staff.get(f"/api/residency/discipline/{personas.secretaries['a'].id}?year=2031")
    assert r.status_code == 404


def test_downloads_round_trip_chinese_and_neutralise_through_exports(login_as, personas):
    """Both files open with csv/openpyxl: BOM, Chinese intact, formulas neutralised in any
    text cell, numbers as numbers; written by services/exports.py (RFC 5987 file name)."""
    from fieldapp.models import Town, Village
    v = db.session.get(Village, personas.villages["a1"].id)
    v.name = "东风村"
    db.session.get(Town, v.town_id).name = "@蔡家坡镇"
    db.session.commit()
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    _fill_month(sec, personas, 2026, 3, range(1, 4))
    r = staff.get("/api/residency/report.csv?year=2026&month=3")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''residency-" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8"))))
    assert rows[0][0] == "\ufeff镇办"
    assert rows[1][:4] == ["'@蔡家坡镇", personas.villages["a1"].code, "东风村", "书记A"]
    assert rows[1][5] == "3" and rows[1][9] == "否"
    x = staff.get("/api/residency/report.xlsx?year=2026&month=3")
    assert x.status_code == 200 and "filename*=UTF-8''residency-" in x.headers[
        "Content-Disposition"]
    ws = load_workbook(io.BytesIO(x.data)).active
    assert ws.title == "2026-03" and ws.freeze_panes == "A2"
    header, row = [c.value for c in ws[1]], [c.value for c in ws[2]]
    assert header[:4] == ["镇办", "村代码", "村", "第一书记"] and ws["A1"].font.bold
    assert row[:4] == ["'@蔡家坡镇", personas.villages["a1"].code, "东风村", "书记A"]
    assert row[5] == 3 and isinstance(row[5], int) and row[9] == "否"


def test_county_report_queries_do_not_grow_with_secretaries(app, login_as, personas):
    """One query per kind of fact, not one per secretary (village and town included)."""
    from datetime import date

    from fieldapp.models import Town, Village

    from .test_query_counts import count_queries

    staff = login_as("staff_a")

    def queries() -> int:
        with count_queries(app) as counts:
            for path in ("/api/residency/report?year=2026&month=3",
                         "/api/residency/report.xlsx?year=2026&month=3"):
                assert staff.get(path).status_code == 200
        return counts["n"]

    one = queries()
    county = personas.counties["a"]
    for i in range(5):
        town = Town(county_id=county.id, name=f"新镇{i}")
        db.session.add(town)
        db.session.flush()
        village = Village(town_id=town.id, county_id=county.id, code=f"61032399{i:04d}",
                          name=f"新村{i}", lat=34.4, lon=107.6, radius_m=1000)
        db.session.add(village)
        db.session.flush()
        db.session.add(FirstSecretary(name=f"新书记{i}", village_id=village.id,
                                      phone=f"1370000000{i}", dispatch_unit="县财政局",
                                      term_start=date(2025, 1, 1), term_end=date(2027, 1, 1),
                                      dispatch_level="county", status="active"))
    db.session.commit()
    assert len(staff.get("/api/residency/report?year=2026&month=3").get_json()["rows"]) == 6
    assert queries() == one


def test_discipline_formula_hand_computed_with_a_county_config(login_as, personas):
    """docs/residency-and-flags.md section 6 with every setting changed, through the API:
    January 20 present days (compliant), February 10 (< 20: one bad month), two unexcused
    spot-check absences (a third on approved leave is excused), 6 approved leave days over
    a limit of 5: 10 - 1.5*1 - 2.5*2 - 1 = 2.5, and two absences cap the grade at 基本称职."""
    personas.cycle.settings = {"discipline": {
        "per_noncompliant_month": 1.5, "per_spot_check_absence": 2.5,
        "leave_over_limit_penalty": 1, "annual_leave_limit": 5}}
    db.session.commit()
    sec, staff = login_as("secretary_a"), login_as("staff_a")
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    secretary.term_end = secretary.term_end.replace(year=2026, month=2, day=28)
    db.session.commit()
    _fill_month(sec, personas, 2026, 1, range(1, 21))
    _fill_month(sec, personas, 2026, 2, range(1, 11))
    approve(staff, sec.post("/api/leave", json={"start": "2026-01-25", "end": "2026-01-30",
                                                "reason": "探亲"}).get_json()["id"])
    for day, present in (("2026-01-05", True), ("2026-01-26", False), ("2026-02-20", False),
                         ("2026-02-21", False)):
        assert staff.post("/api/spot-checks", json={"secretary_id": secretary.id, "day": day,
                                                    "present": present}).status_code == 201
    body = staff.get(f"/api/residency/discipline/{secretary.id}?year=2026").get_json()
    s = body["suggestion"]
    assert s["noncompliant_months"] == ["2026-02"]
    assert (s["spot_check_absences"], s["annual_leave_days"]) == (2, 6)
    assert [line["points"] for line in s["breakdown"]] == [10.0, -1.5, -5.0, -1.0]
    assert s["score"] == 2.5 and s["grade_cap"] == "basically_competent"
    assert body["config"]["per_spot_check_absence"] == 2.5
    # Confirming without a score stores the suggestion as the 工作纪律 points.
    r = staff.post(f"/api/residency/discipline/{secretary.id}", json={"year": 2026})
    assert r.status_code == 200 and r.get_json()["score"] == "2.50"


def test_discipline_floor_line(login_as, personas):
    """Penalties beyond the points: the score stops at the floor and a line says so."""
    personas.cycle.settings = {"discipline": {"per_spot_check_absence": 4, "floor": 1}}
    db.session.commit()
    staff = login_as("staff_a")
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    secretary.term_end = secretary.term_end.replace(year=2026, month=1, day=31)
    db.session.commit()
    for day in ("2025-12-01", "2026-01-10", "2026-01-11", "2026-01-12"):
        staff.post("/api/spot-checks", json={"secretary_id": secretary.id, "day": day,
                                             "present": False})
    # One check-in far outside the village: check-in data, but no day in the village.
    lat, lon = point_at((personas.villages["a1"].lat, personas.villages["a1"].lon), 9000)
    checkin(login_as("secretary_a"), "2026-01-20T02:00:00+00:00", lat, lon, 10)
    s = staff.get(f"/api/residency/discipline/{secretary.id}?year=2026").get_json()["suggestion"]
    # January has no day present: -2; three absences in 2026: -12; 10 - 2 - 12 = -4 -> floor 1.
    assert [line["points"] for line in s["breakdown"]] == [10.0, -2.0, -12.0, 5.0]
    assert s["score"] == 1.0 and s["grade_cap"] == "incompetent"


def test_no_checkin_in_the_year_is_no_data_not_zero(login_as, personas):
    """A secretary who never checked in gets no suggested score (not 0): staff must enter
    one consciously; the spot-check grade cap still applies."""
    staff = login_as("staff_a")
    secretary = personas.secretaries["a"]
    staff.post("/api/spot-checks", json={"secretary_id": secretary.id, "day": "2026-01-10",
                                         "present": False})
    url = f"/api/residency/discipline/{secretary.id}?year=2026"
    s = staff.get(url).get_json()["suggestion"]
    assert s["score"] is None and s["no_data"] is True and s["breakdown"] == []
    assert s["grade_cap"] == "competent"
    post = f"/api/residency/discipline/{secretary.id}"
    r = staff.post(post, json={"year": 2026})  # nothing to confirm
    assert r.status_code == 422 and r.get_json()["errors"]["score"] == ["本年度没有打卡数据，请填写分数。"]
    page = staff.get("/staff/residency/discipline?year=2026").get_data(as_text=True)
    assert 'data-testid="no-data">无打卡数据<' in page
    r = staff.post(post, json={"year": 2026, "score": 6})  # entered, overriding nothing
    assert r.status_code == 200 and r.get_json()["score"] == "6.00" and r.get_json()["overridden"] is False
    decision = db.session.scalar(select(DisciplineDecision))
    assert decision.suggestion["no_data"] is True and decision.suggestion["score"] is None
    # The other secretary checked in (outside the fence): data, so the formula applies.
    sec_b = personas.secretaries["b"]
    lat, lon = point_at((personas.villages["a1"].lat, personas.villages["a1"].lon), 9000)
    checkin(login_as("secretary_b"), "2026-01-20T02:00:00+00:00", lat, lon, 10)
    other = login_as("admin").get(f"/api/residency/discipline/{sec_b.id}?year=2026").get_json()["suggestion"]
    assert other["no_data"] is False and other["score"] is not None
