"""Downloads: Excel-safe CSV (BOM, Chinese, injection neutralised), XLSX, scopes, privacy."""
from __future__ import annotations

import csv
from decimal import Decimal
import io
import types

from openpyxl import load_workbook

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import Household
from fieldapp.services import exports
from fieldapp.services.scoring import exports as score_exports

from .scores_helpers import ballot_answers, close, enter, full_village, make_meeting, run_draw, vote_all


def test_neutralise():
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("+86 139") == "'+86 139"
    assert exports.neutralise("-2") == "'-2"
    assert exports.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert exports.neutralise("\tcmd") == "'\tcmd"
    assert exports.neutralise("岐山县") == "岐山县"
    assert exports.neutralise(-3.5) == -3.5 and exports.neutralise(None) is None


def test_csv_is_a_stream_of_chunks():
    rows = ([i, f"户{i}"] for i in range(1200))
    chunks = exports.csv_chunks([exports.Column("n"), exports.Column("名")], rows, rows_per_chunk=500)
    assert isinstance(chunks, types.GeneratorType)
    parts = list(chunks)
    assert len(parts) == 3 and parts[0].startswith("\ufeffn,名\r\n")


def _scored(personas):
    run_draw(personas)
    full_village(personas, "a1")
    m = make_meeting(personas, "a", {"cadre": 5})
    vote_all(m, [("cadre", ballot_answers("basically_satisfied"))] * 5)
    close(m)
    enter(personas, "a", 50, 9, 9)
    personas.secretaries["a"].name = "=HYPERLINK(\"http://x\")"
    db.session.commit()


def test_scorecard_csv(personas, login_as):
    _scored(personas)
    response = login_as("staff_a").get(f"/api/scores/export?cycle_id={personas.cycle.id}&kind=scorecard&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.is_streamed
    assert "filename*=UTF-8''scorecard-2026" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:6] == ["县区", "镇办", "村代码", "村", "第一书记编号", "第一书记"]
    row = rows[1]
    assert row[0] == "岐山县" and row[3] == "岐山一村"
    assert row[4] == str(personas.secretaries["a"].id)  # a stable id to match people by
    assert row[5] == "'=HYPERLINK(\"http://x\")"  # neutralised
    assert row[7] == "17.50" and row[10] == "85.50" and row[11] == "称职"  # exact decimals
    assert row[16] == "否（暂定）"


def test_incomplete_is_exported_as_such(personas, login_as):
    response = login_as("staff_a").get(f"/api/scores/export?cycle_id={personas.cycle.id}&kind=scorecard")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1][7] == "不完整" and rows[1][11] == "不完整"


def test_scorecard_xlsx(personas, login_as):
    _scored(personas)
    response = login_as("staff_a").get(f"/api/scores/export?cycle_id={personas.cycle.id}&kind=scorecard&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    ws = load_workbook(io.BytesIO(response.data)).active
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "县区" and ws["A1"].font.bold
    assert ws["A2"].value == "岐山县" and ws["F2"].value == "'=HYPERLINK(\"http://x\")"
    assert ws["E2"].value == personas.secretaries["a"].id
    assert ws["H2"].value == 17.5 and ws["H2"].number_format == "0.00"
    assert ws["K2"].value == 85.5 and ws["L2"].value == "称职"
    assert ws.column_dimensions["P"].width == 40


def test_satisfaction_levels(personas, login_as):
    _scored(personas)
    staff = login_as("staff_a")
    for level, width in (("secretary", 6), ("village", 4), ("town", 2), ("county", 1)):
        response = staff.get(f"/api/scores/export?cycle_id={personas.cycle.id}&kind=satisfaction&level={level}&format=xlsx")
        ws = load_workbook(io.BytesIO(response.data)).active
        values = [c.value for c in ws[2]]
        # secretaries, complete, mass, household index, household share, visits, meeting index, share, ballots
        assert values[width:] == [1, 1, 17.5, 100.0, 1.0, 20, 75.0, 1.0, 5], level
        assert ws.cell(row=2, column=width + 5).number_format == "0.0%"


def test_household_export_masks_id_numbers(personas, login_as):
    run_draw(personas)
    full_village(personas, "a1", n=2)
    hh = db.session.query(Household).filter_by(village_id=personas.villages["a1"].id).all()
    for h in hh:
        h.id_number = "610323199001011234"
    db.session.commit()
    for who in ("staff_a", "admin"):
        response = login_as(who).get(
            f"/api/scores/export?cycle_id={personas.cycle.id}&county_id={personas.counties['a'].id}&kind=households")
        text = response.data.decode("utf-8-sig")
        assert "610323199001011234" not in text
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 3 and rows[1][6] and rows[1][6] != "610323199001011234"
        assert "满意" in rows[1]


def test_export_scopes(personas, login_as):
    cid = personas.cycle.id
    a = personas.counties["a"].id
    assert login_as("staff_b").get(f"/api/scores/export?cycle_id={cid}&county_id={a}").status_code == 403
    assert login_as("staff_b").get(f"/api/scores/export?cycle_id={cid}&county_id={a}&kind=households").status_code == 403
    assert login_as("secretary_a").get(f"/api/scores/export?cycle_id={cid}&kind=households").status_code == 403
    assert login_as("evaluator_a").get(f"/api/scores/export?cycle_id={cid}&kind=households").status_code == 403
    # Staff without county_id get their own county; admins without one get every county.
    rows = list(csv.reader(io.StringIO(login_as("staff_b").get(
        f"/api/scores/export?cycle_id={cid}").data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["眉县"]
    rows = list(csv.reader(io.StringIO(login_as("admin").get(
        f"/api/scores/export?cycle_id={cid}").data.decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == ["岐山县", "眉县"]


def test_scorecard_rows_are_computed_county_by_county(personas, app):
    # Memory stays flat over a city: the rows are a lazy generator that grades one county
    # at a time, so county b is computed only after county a's rows were written. Proof:
    # a change to county b made after the first row was taken still shows up.
    from fieldapp.services.scoring.entries import save_entry

    admin = personas.users["admin"]
    a, b = personas.counties["a"].id, personas.counties["b"].id
    with app.test_request_context():
        _columns, rows = score_exports.scorecard_table(admin, personas.cycle, [a, b])
        assert isinstance(rows, types.GeneratorType)
        first = next(rows)
        assert first[0] == "岐山县"
        save_entry(SYSTEM, personas.cycle, db.session.get(type(personas.secretaries["b"]), personas.secretaries["b"].id),
                   {"work_performance": 41.5})
        rest = list(rows)
    assert [r[6] for r in rest if r[0] == "眉县"] == [Decimal("41.50")]


def test_admin_city_csv_streams_every_county(personas, login_as):
    _scored(personas)
    response = login_as("admin").get(
        f"/api/scores/export?cycle_id={personas.cycle.id}&kind=satisfaction&level=village")
    assert response.is_streamed and "Content-Length" not in response.headers
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {r[0] for r in rows[1:]} == {"岐山县", "眉县"}
    assert next(r for r in rows[1:] if r[3] == "岐山一村")[6] == "17.50"


def test_household_export_row_is_complete_and_guarded(personas, login_as):
    """One row per visit, straight from SQL columns: local time, labels, flag codes, the
    masked ID, and the formula guard on text (a note starting with '=')."""
    from datetime import datetime, timezone

    from fieldapp.models import Visit

    run_draw(personas)
    full_village(personas, "a1", n=1)
    visit = db.session.query(Visit).first()
    visit.started_at = datetime(2026, 5, 3, 23, 30, tzinfo=timezone.utc)  # 07:30 on the 4th
    visit.note = "=HYPERLINK(\"http://x\")"
    visit.flags = [{"code": "short_visit", "msgid": "m", "params": {}},
                   {"code": "late_sync", "msgid": "m", "params": {}}]
    visit.answers = {**visit.answers, "respondent_family_members": 3, "suggestions": "+1 多培训"}
    db.session.commit()
    text = login_as("staff_a").get(
        f"/api/scores/export?cycle_id={personas.cycle.id}&kind=households").data.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    cell = dict(zip(header, row))
    assert cell["走访时间"] == "2026-05-04 07:30"
    assert cell["质量提示"] == "走访过短、上传延迟"
    assert cell["走访记录"] == "'=HYPERLINK(\"http://x\")"
    assert cell["意见建议"] == "'+1 多培训"
    assert cell["在场家庭成员人数"] == "3"
    assert cell["总体满意度"] in ("满意", "基本满意", "不满意", "不了解")
    assert cell["问卷"] == "贫困户入户走访问卷 v1"
    assert cell["抽样身份"] == "样本户"
