"""The scorecard: thresholds, the 20% cap with ties, spot-check caps, import, finalise/lock,
and who may see what."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import (AuditLog, DisciplineDecision, FirstSecretary, ScoreLock, ScoreResult,
                             SpotCheck)
from fieldapp.services.scoring.entries import save_entry
from fieldapp.services.scoring.grades import grade_county
from fieldapp.services.scoring.results import finalise

from .scores_helpers import (ballot_answers, close, enter, full_village, make_meeting, run_draw,
                             secretary, vote_all)


def _complete_mass(personas, key="a", meeting_option="satisfied", overall=None):
    """A closed meeting whose ballots give mass evaluation 20 (or 18 with overall=dissatisfied)."""
    m = make_meeting(personas, key, {"cadre": 5})
    answers = ballot_answers(meeting_option, **({"overall": overall} if overall else {}))
    vote_all(m, [("cadre", answers)] * 5)
    close(m)


@pytest.fixture
def ready(personas):
    """County a: drawn, 20 visits all 满意, secretary a with a closed meeting (mass = 20)."""
    run_draw(personas)
    full_village(personas, "a1")
    _complete_mass(personas, "a")
    return personas


def _row(personas, key="a"):
    res = grade_county(personas.cycle, personas.counties["a"].id)
    sid = personas.secretaries[key].id
    return next(r for r in res["rows"] if r["secretary_id"] == sid), res


@pytest.mark.parametrize("wp, total, grade", [
    (29.99, "59.99", "incompetent"), (30, "60.00", "basically_competent"),
    (39.99, "69.99", "basically_competent"), (40, "70.00", "competent"),
    (59.99, "89.99", "competent"), (60, "90.00", "excellent"),
])
def test_grade_thresholds(ready, wp, total, grade):
    # mass 20 + discipline 5 + evaluation 5 + work performance
    enter(ready, "a", wp, 5, 5)
    row, res = _row(ready)
    assert row["mass_evaluation"] == Decimal("20.00")
    assert row["total"] == Decimal(total) and row["grade_before_caps"] == grade
    # One secretary in the county: floor(20% x 1) = 0 places, so 优秀 becomes 称职 (capped).
    assert row["grade"] == ("competent" if grade == "excellent" else grade)


def test_single_secretary_cannot_be_excellent_because_of_the_cap(ready):
    enter(ready, "a", 60, 10, 10)
    row, res = _row(ready)
    assert row["grade_before_caps"] == "excellent"
    assert row["grade"] == "competent" and row["capped"] is True and res["cap"]["places"] == 0


def test_missing_component_is_incomplete(ready):
    save_entry(SYSTEM, ready.cycle, secretary(ready, "a"), {"work_performance": 50})
    row, _ = _row(ready)
    assert row["status"] == "incomplete" and row["total"] is None and row["grade"] is None
    assert "Work evaluation has not been entered." in row["reasons"]


def test_confirmed_discipline_prefills(ready):
    s = secretary(ready, "a")
    db.session.add(DisciplineDecision(cycle_id=ready.cycle.id, secretary_id=s.id,
                                      village_id=s.village_id, suggested=10, suggestion={},
                                      score=7.5))
    db.session.commit()
    save_entry(SYSTEM, ready.cycle, s, {"work_performance": 50, "work_evaluation": 8})
    row, _ = _row(ready)
    assert row["work_discipline"] == Decimal("7.50") and row["total"] == Decimal("85.50")
    view = ready.client_for("staff_a").get(
        f"/api/scores/entries/{s.id}?cycle_id={ready.cycle.id}").get_json()
    assert view["discipline_prefill"] == "7.50" and view["discipline_source"] == "confirmed"


def test_spot_check_absences_cap_the_grade(ready):
    s = secretary(ready, "a")
    enter(ready, "a", 55, 10, 10)  # 95
    db.session.add_all(SpotCheck(secretary_id=s.id, village_id=s.village_id, day=date(2026, 5, d),
                                 present=False) for d in (4, 5))
    db.session.commit()
    row, _ = _row(ready)
    assert row["total"] == Decimal("95.00") and row["spot_check_absences"] == 2
    assert row["grade"] == "basically_competent" and row["residency_cap"] == "basically_competent"


def _add_secretaries(personas, n):
    out = []
    for i in range(n):
        s = FirstSecretary(name=f"书记A{i}", phone=f"1370000{i:04d}", dispatch_level="county",
                           dispatch_unit="岐山县农业局", village_id=personas.villages["a1"].id,
                           term_start=date(2025, 1, 1), term_end=date(2026, 12, 31))
        db.session.add(s)
        db.session.flush()
        personas.secretaries[f"x{i}"] = s
        out.append(f"x{i}")
    db.session.commit()
    return out


def test_excellent_cap_with_ties_decided_by_people(ready, login_as):
    keys = ["a"] + _add_secretaries(ready, 9)  # 10 secretaries -> 2 places
    # x0: mass 18 (meeting index 80), x1 and x2 mass 18 as well.
    for k in keys[1:]:
        overall = "dissatisfied" if k in ("x0", "x1", "x2") else None
        _complete_mass(ready, k, overall=overall)
    enter(ready, "a", 55, 10, 10)  # 95, mass 20
    enter(ready, "x0", 57, 10, 10)  # 95, mass 18, wp 57
    enter(ready, "x1", 57, 10, 10)  # 95, mass 18, wp 57: a full tie with x0
    enter(ready, "x2", 55, 10, 10)  # 93
    for k in keys[4:]:
        enter(ready, k, 40, 5, 5)  # 70
    res = grade_county(ready.cycle, ready.counties["a"].id)
    by = {r["secretary_id"]: r for r in res["rows"]}
    sid = {k: ready.secretaries[k].id for k in keys}
    assert res["cap"]["places"] == 2 and res["cap"]["qualified"] == 4
    # Ranking: total, then mass evaluation (a wins), then work performance; x0 and x1 are
    # equal in everything: both 待定 for the last place, never decided by their ids.
    assert by[sid["a"]]["grade"] == "excellent" and not by[sid["a"]]["capped"]
    for k in ("x0", "x1"):
        assert by[sid[k]]["status"] == "pending" and by[sid[k]]["grade"] is None
        assert by[sid[k]]["pending"] == "tie" and by[sid[k]]["total"] == Decimal("95.00")
    assert by[sid["x2"]]["grade"] == "competent" and by[sid["x2"]]["capped"]
    assert all(by[sid[k]]["grade"] == "competent" for k in keys[4:])
    assert res["cap"]["excellent"] == 1 and res["cap"]["pending"] == 2
    assert res["tie"] == {"secretary_ids": sorted([sid["x0"], sid["x1"]]), "places": 1,
                          "decided": False, "rows": res["tie"]["rows"]}
    staff = login_as("staff_a")
    cid = ready.cycle.id
    # Finalising is refused until staff decide the tie.
    refused = staff.post("/api/scores/finalise", json={"cycle_id": cid})
    assert refused.status_code == 409 and refused.get_json()["code"] == "decision_required"
    # A decision needs a reason and exactly as many as there are places.
    assert staff.post("/api/scores/ties", json={"cycle_id": cid, "chosen": [sid["x1"]],
                                                "reason": ""}).status_code == 422
    assert staff.post("/api/scores/ties", json={"cycle_id": cid, "chosen": [sid["x0"], sid["x1"]],
                                                "reason": "集体研究"}).status_code == 422
    assert login_as("staff_b").post("/api/scores/ties", json={
        "cycle_id": cid, "county_id": ready.counties["a"].id, "chosen": [sid["x1"]],
        "reason": "集体研究"}).status_code == 403
    ok = staff.post("/api/scores/ties", json={"cycle_id": cid, "chosen": [sid["x1"]],
                                              "reason": "县委集体研究：x1 驻村时间更长"})
    assert ok.status_code == 200, ok.get_json()
    by = {r["secretary_id"]: r for r in grade_county(ready.cycle, ready.counties["a"].id)["rows"]}
    assert by[sid["x1"]]["grade"] == "excellent" and by[sid["x0"]]["grade"] == "competent"
    assert by[sid["x0"]]["capped"]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "scores.decide_tie"))
    assert audit.detail["reason"] == "县委集体研究：x1 驻村时间更长" and audit.detail["chosen"] == [sid["x1"]]
    done = staff.post("/api/scores/finalise", json={"cycle_id": cid})
    assert done.status_code == 200 and done.get_json()["cap"]["excellent"] == 2


def test_recall_list(ready):
    enter(ready, "a", 20, 5, 5)  # 50
    res = ready.client_for("staff_a").get(
        f"/api/scores?cycle_id={ready.cycle.id}").get_json()
    assert [r["secretary_name"] for r in res["recall"]] == ["书记A"]
    assert res["rows"][0]["grade_label"] == "不称职"


def test_finalise_freezes_until_an_admin_reopens_with_a_reason(ready, login_as):
    enter(ready, "a", 50, 9, 9)
    staff = login_as("staff_a")
    sid = ready.secretaries["a"].id
    cid = ready.cycle.id
    done = staff.post("/api/scores/finalise", json={"cycle_id": cid})
    assert done.status_code == 200 and done.get_json()["finalised"] is True
    assert done.get_json()["rows"][0]["total"] == "88.00"  # points are exact decimal strings
    assert db.session.scalar(select(ScoreLock.id)) is not None
    assert db.session.get(type(ready.cycle), cid).status == "open"  # county b is not finalised
    # Frozen: nobody, not even an admin, changes anything under the scores.
    for client in (staff, login_as("admin")):
        refused = client.put(f"/api/scores/entries/{sid}", json={"cycle_id": cid, "work_performance": 60})
        assert refused.status_code == 409 and refused.get_json()["code"] == "county_finalised"
    assert staff.post("/api/scores/finalise", json={"cycle_id": cid}).status_code == 409
    created = staff.post(f"/api/meetings", json={
        "cycle_id": cid, "secretary_id": sid, "held_on": "2026-12-01", "place": "x",
        "participants": {"cadre": 1}})
    assert created.status_code == 409 and created.get_json()["code"] == "county_finalised"
    assert staff.post("/api/scores/unlock", json={"cycle_id": cid, "county_id": ready.counties["a"].id,
                                                  "reason": "x"}).status_code == 403
    admin = login_as("admin")
    # Reopen with a reason (admin), audited.
    assert admin.post("/api/scores/unlock", json={"cycle_id": cid, "county_id": ready.counties["a"].id,
                                                  "reason": ""}).status_code == 422
    reopened = admin.post("/api/scores/unlock", json={
        "cycle_id": cid, "county_id": ready.counties["a"].id, "reason": "复核发现漏计一项民生实事"})
    assert reopened.status_code == 200
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "scores.unlock"))
    assert staff.put(f"/api/scores/entries/{sid}", json={"cycle_id": cid, "work_performance": 55}).status_code == 200
    # Finalising again is a restatement: every moved secretary, before and after, under the
    # reason given for reopening, with the inputs that changed.
    assert staff.post("/api/scores/finalise", json={"cycle_id": cid}).status_code == 200
    restated = db.session.scalar(select(AuditLog).where(AuditLog.action == "scores.restate"))
    assert restated.detail["reason"] == "复核发现漏计一项民生实事"
    assert restated.detail["changes"] == [{
        "secretary_id": sid, "name": "书记A", "before": {"total": "88.00", "grade": "competent"},
        "after": {"total": "93.00", "grade": "competent"}, "inputs_changed": ["entry"]}]
    stored = db.session.scalar(select(ScoreResult).where(ScoreResult.secretary_id == sid))
    assert stored.total == Decimal("93.00") and len(stored.input_digest) == 64


def test_finalising_with_incomplete_needs_confirmation(personas, login_as):
    staff = login_as("staff_a")
    refused = staff.post("/api/scores/finalise", json={"cycle_id": personas.cycle.id})
    assert refused.status_code == 422 and "accept_incomplete" in refused.get_json()["errors"]
    ok = staff.post("/api/scores/finalise", json={"cycle_id": personas.cycle.id, "accept_incomplete": True})
    assert ok.status_code == 200
    assert ok.get_json()["rows"][0]["status"] == "incomplete"
    assert ok.get_json()["rows"][0]["mass_evaluation"] is None


def test_whole_cycle_is_finalised_when_every_county_is(ready):
    finalise(SYSTEM, ready.cycle, ready.counties["a"].id, accept_incomplete=True)
    finalise(SYSTEM, ready.cycle, ready.counties["b"].id, accept_incomplete=True)
    assert db.session.get(type(ready.cycle), ready.cycle.id).status == "finalised"


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def test_import_is_all_or_nothing(ready, login_as):
    staff = login_as("staff_a")
    sid = ready.secretaries["a"].id
    url = f"/api/scores/import?cycle_id={ready.cycle.id}"
    header = ["第一书记编号", "村代码", "第一书记", "工作实绩（0-60）", "工作纪律（0-10）",
              "工作评价（0-10）", "讲一次党课", "备注"]
    bad = staff.post(url, data={"file": (_xlsx([header, [sid, None, None, 70, 8, 9, "是", ""],
                                                [99999, None, None, 50, 8, 9, "", ""]]), "s.xlsx")},
                     content_type="multipart/form-data")
    assert bad.status_code == 422
    body = bad.get_json()
    rows = {(e["row"], e["column"]) for e in body["row_errors"]}
    assert (2, "work_performance") in rows and (3, "secretary_id") in rows
    # The messages name the column as the template's header does, in Chinese.
    assert "第 2 行 [工作实绩（0-60）]" in " ".join(body["errors"]["rows"])
    assert db.session.scalar(select(ScoreResult.id)) is None
    ok = staff.post(url, data={"file": (_xlsx([header, [sid, None, None, 52.5, 8, 9, "2026-05-04 讲党课", "好"]]),
                                        "s.xlsx")}, content_type="multipart/form-data")
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["rows"] == 1
    view = staff.get(f"/api/scores/entries/{sid}?cycle_id={ready.cycle.id}").get_json()
    assert view["work_performance"] == "52.50" and view["work_discipline"] == "8.00"
    assert view["seven_ones"]["party_lecture"] == {"done": True, "evidence": "2026-05-04 讲党课"}
    assert staff.post(url, data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
                      content_type="multipart/form-data").status_code == 422


def test_template_download(ready, login_as):
    response = login_as("staff_a").get(f"/api/scores/template.xlsx?cycle_id={ready.cycle.id}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    assert ws["A1"].value == "第一书记编号" and ws["C2"].value == "书记A"


def test_scores_access(ready, login_as):
    cid = ready.cycle.id
    county_a = ready.counties["a"].id
    assert login_as("staff_b").get(f"/api/scores?cycle_id={cid}&county_id={county_a}").status_code == 403
    assert login_as("staff_b").post("/api/scores/finalise", json={"cycle_id": cid, "county_id": county_a}).status_code == 403
    assert login_as("staff_b").put(f"/api/scores/entries/{ready.secretaries['a'].id}",
                                   json={"cycle_id": cid, "work_performance": 1}).status_code == 403
    for name in ("evaluator_a", "secretary_a"):
        assert login_as(name).get(f"/api/scores?cycle_id={cid}").status_code == 403
        assert login_as(name).get(f"/api/scores/export?cycle_id={cid}").status_code == 403
    assert login_as("evaluator_a").get("/api/scores/mine").status_code == 403
    assert login_as("admin").get(f"/api/scores?cycle_id={cid}&county_id={county_a}").status_code == 200


def test_secretary_sees_only_own_final_scores_with_suppression(ready, login_as):
    enter(ready, "a", 50, 9, 9)
    secretary_a = login_as("secretary_a")
    assert secretary_a.get("/api/scores/mine").get_json()["items"] == []  # not finalised yet
    finalise(SYSTEM, ready.cycle, ready.counties["a"].id)
    items = secretary_a.get("/api/scores/mine").get_json()["items"]
    assert len(items) == 1 and items[0]["total"] == "88.00" and items[0]["grade_label"] == "称职"
    # 20 visits but 5 ballots: shown. Never individual answers or ballots.
    assert items[0]["suppressed"] is False and items[0]["meeting_satisfied_share"] == "1.0000"
    assert login_as("secretary_b").get("/api/scores/mine").get_json()["items"] == []
    assert secretary_a.get("/api/ballots/whatever-token-000").status_code == 404
    assert secretary_a.get(f"/api/meetings?cycle_id={ready.cycle.id}").status_code == 403
    assert secretary_a.get("/api/visits").status_code in (403, 200)
    if secretary_a.get("/api/visits").status_code == 200:
        assert secretary_a.get("/api/visits").get_json()["total"] == 0


def test_small_aggregates_are_suppressed_for_secretaries(personas, login_as):
    run_draw(personas)
    full_village(personas, "a1")
    m = make_meeting(personas, "a", {"cadre": 3})
    vote_all(m, [("cadre", ballot_answers())] * 3)  # 3 ballots < 5
    close(m)
    enter(personas, "a", 50, 9, 9)
    finalise(SYSTEM, personas.cycle, personas.counties["a"].id)
    item = login_as("secretary_a").get("/api/scores/mine").get_json()["items"][0]
    assert item["suppressed"] is True
    assert item["meeting_index"] is None and item["meeting_satisfied_share"] is None
    # Both parts hidden, or the score would reveal the small one.
    assert item["household_index"] is None and item["household_satisfied_share"] is None
    assert item["mass_evaluation"] == "20.00"


def test_staff_pages(ready, login_as):
    staff = login_as("staff_a")
    sid = ready.secretaries["a"].id
    page = staff.get(f"/staff/scores/{sid}?cycle_id={ready.cycle.id}")
    assert page.status_code == 200 and "讲一次党课" in page.get_data(as_text=True)
    saved = staff.post(f"/staff/scores/{sid}?cycle_id={ready.cycle.id}", data={
        "csrf_token": staff.csrf_token, "work_performance": "50", "work_discipline": "9",
        "work_evaluation": "9", "seven.diary.done": "1", "seven.diary.evidence": "民情日记 3 本"})
    assert saved.status_code == 302
    html = staff.get(f"/staff/scores?cycle_id={ready.cycle.id}").get_data(as_text=True)
    assert 'data-testid="score-row"' in html and "88.00" in html and "称职" in html
    bad = staff.post(f"/staff/scores/{sid}?cycle_id={ready.cycle.id}", data={
        "csrf_token": staff.csrf_token, "work_performance": "75"})
    assert bad.status_code == 422
    done = staff.post(f"/staff/scores?cycle_id={ready.cycle.id}", data={
        "csrf_token": staff.csrf_token, "action": "finalise"})
    assert done.status_code == 302
    assert "已定稿" in staff.get(f"/staff/scores?cycle_id={ready.cycle.id}").get_data(as_text=True)


def test_pages_render_a_capped_secretary(ready, login_as):
    # The "20% cap" badge once crashed the page (Jinja formats every msgid: "20% c" is a
    # bad format), exactly when the cap applied.
    enter(ready, "a", 60, 10, 10)
    staff = login_as("staff_a")
    for url in (f"/staff/scores?cycle_id={ready.cycle.id}", f"/staff/dashboard?cycle_id={ready.cycle.id}"):
        page = staff.get(url)
        assert page.status_code == 200, url
        assert "达到优秀分数，但超出 20% 名额" in page.get_data(as_text=True)


def test_entry_form_errors_name_the_field_in_chinese(ready, login_as):
    staff = login_as("staff_a")
    sid = ready.secretaries["a"].id
    bad = staff.post(f"/staff/scores/{sid}?cycle_id={ready.cycle.id}", data={
        "csrf_token": staff.csrf_token, "work_performance": "75"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "<li>工作实绩（0-60）：" in html and "work_performance:" not in html


def test_import_into_a_finalised_county_is_refused(ready, login_as):
    enter(ready, "a", 50, 9, 9)
    finalise(SYSTEM, ready.cycle, ready.counties["a"].id)
    sid = ready.secretaries["a"].id
    url = f"/api/scores/import?cycle_id={ready.cycle.id}&county_id={ready.counties['a'].id}"
    header = ["第一书记编号", "工作实绩（0-60）", "工作纪律（0-10）", "工作评价（0-10）"]
    for name in ("staff_a", "admin"):
        refused = login_as(name).post(url, data={"file": (_xlsx([header, [sid, 20, 9, 9]]), "s.xlsx")},
                                      content_type="multipart/form-data")
        assert refused.status_code == 409 and refused.get_json()["code"] == "county_finalised"
    stored = db.session.scalar(select(ScoreResult).where(ScoreResult.secretary_id == sid))
    assert stored.total == Decimal("88.00")


def test_no_checkin_data_is_not_prefilled_as_zero(ready, login_as):
    """A secretary without any check-in in the cycle year gets no suggested work-discipline
    score: not pre-filled, not in the template, so an unchanged import leaves it missing."""
    staff = login_as("staff_a")
    s = secretary(ready, "a")
    view = staff.get(f"/api/scores/entries/{s.id}?cycle_id={ready.cycle.id}").get_json()
    assert view["discipline_prefill"] is None and view["discipline_source"] == "no_data"
    page = staff.get(f"/staff/scores/{s.id}?cycle_id={ready.cycle.id}").get_data(as_text=True)
    assert 'data-testid="discipline-no-data">无打卡数据<' in page
    assert 'name="work_discipline" value=""' in page
    template = staff.get(f"/api/scores/template.xlsx?cycle_id={ready.cycle.id}")
    ws = load_workbook(io.BytesIO(template.data)).active
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == s.id)
    assert row[4] is None  # 工作纪律 left blank, not 0
    # The template imported unchanged enters no work-discipline score.
    imported = staff.post(f"/api/scores/import?cycle_id={ready.cycle.id}",
                          data={"file": (io.BytesIO(template.data), "t.xlsx")},
                          content_type="multipart/form-data")
    assert imported.status_code in (200, 422), imported.get_json()
    again = staff.get(f"/api/scores/entries/{s.id}?cycle_id={ready.cycle.id}").get_json()
    assert again["work_discipline"] is None
    save_entry(SYSTEM, ready.cycle, s, {"work_performance": 50, "work_evaluation": 8})
    graded, _ = _row(ready)
    assert graded["status"] == "incomplete" and graded["discipline_source"] is None  # nothing entered or confirmed
    assert "Work discipline has not been entered or confirmed." in graded["reasons"]
