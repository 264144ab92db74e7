"""Roster import through the API and the command line: all or nothing, idempotent, scoped."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from fieldapp.domain.idcard import check_char
from fieldapp.domain.roster_template import build_template_xlsx
from fieldapp.models import AuditLog, FirstSecretary, Household, Town, Village

HEADERS = ["县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "身份证号", "家庭人口",
           "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系"]
SEC_HEADERS = ["姓名", "手机号", "选派层级", "选派单位", "村代码", "任期开始", "任期结束"]


def valid_id(prefix17: str = "61032319800101123") -> str:
    return prefix17 + check_char(prefix17)


def household_rows(county="岐山县", code="610323200001", n=3):
    return [[county, "凤鸣镇", "新建村", code, f"{code}{i:04d}", f"户主{i}",
             valid_id(f"61032319800101{i % 10}12") if i % 2 else None, 3, "一般贫困户", "已脱贫",
             2019, "13912345678", 34.45 + i / 1000, 107.62, "WGS84"] for i in range(1, n + 1)]


def workbook(rows, secretaries=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "户"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    if secretaries is not None:
        ws2 = wb.create_sheet("第一书记")
        ws2.append(SEC_HEADERS)
        for row in secretaries:
            ws2.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes, name="roster.xlsx", dry_run=False):
    return client.post(f"/api/roster/import?dry_run={'true' if dry_run else 'false'}",
                       data={"files": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_valid_import_then_reimport_is_unchanged(db, login_as, personas):
    staff = login_as("staff_a")
    data = workbook(household_rows(), [["李书记", "13912340000", "市", "宝鸡市财政局",
                                        "610323200001", "2025-01-01", "2026-12-31"]])
    before = count(db, Household)
    response = upload(staff, data)
    assert response.status_code == 200, response.get_json()
    counts = response.get_json()["counts"]
    assert counts["households"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert counts["villages"]["created"] == 1 and counts["towns"]["created"] == 1
    assert counts["secretaries"]["created"] == 1
    assert count(db, Household) == before + 3
    village = db.session.scalar(select(Village).where(Village.code == "610323200001"))
    assert village.county_id == personas.counties["a"].id
    # The same file again changes nothing.
    again = upload(staff, data).get_json()["counts"]
    assert again["households"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again["secretaries"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert count(db, Household) == before + 3
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "roster.import")) == 2


def test_edited_file_reports_updates(db, login_as, personas):
    staff = login_as("staff_a")
    rows = household_rows()
    assert upload(staff, workbook(rows)).status_code == 200
    rows[0][7] = 5  # family size
    rows.append(household_rows(n=4)[3])
    counts = upload(staff, workbook(rows)).get_json()["counts"]["households"]
    assert counts == {"created": 1, "updated": 1, "unchanged": 2}
    household = db.session.scalar(select(Household).where(
        Household.household_no == "6103232000010001"))
    assert household.family_size == 5


def test_dry_run_writes_nothing(db, login_as, personas):
    staff = login_as("staff_a")
    before = count(db, Household)
    response = upload(staff, workbook(household_rows()), dry_run=True)
    assert response.status_code == 200
    assert response.get_json()["dry_run"] is True
    assert response.get_json()["counts"]["households"]["created"] == 3
    assert count(db, Household) == before
    assert count(db, Town) == 2


def test_broken_file_rejected_with_rows_and_nothing_stored(db, login_as, personas):
    staff = login_as("staff_a")
    rows = household_rows(n=4)
    rows[0][6] = "610323198001011230"  # bad checksum (real one is computed)
    if valid_id("61032319800101123")[-1] == "0":
        rows[0][6] = "610323198001011231"
    rows[1][7] = "两"  # family size not an integer
    rows[2][8] = "富裕户"  # unknown attribute
    rows[3][4] = rows[2][4]  # duplicate 户编号
    before = count(db, Household)
    response = upload(staff, workbook(rows))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "import_rejected"
    found = {(r["row"], r["column"]) for r in body["rows"]}
    assert (2, "身份证号") in found
    assert (3, "家庭人口") in found
    assert (4, "贫困户属性") in found
    assert (5, "户编号") in found
    assert all(r["file"] == "roster.xlsx" and r["sheet"] == "户" for r in body["rows"])
    # Chinese messages by default.
    assert any("校验" in r["message"] or "身份证" in r["message"] for r in body["rows"])
    assert count(db, Household) == before


def test_coordinates_outside_china_and_village_conflict(db, login_as, personas):
    staff = login_as("staff_a")
    rows = household_rows(n=3)
    rows[0][12], rows[0][13] = 48.85, 2.35  # Paris
    rows[1][2] = "另一个村"  # same village code, different name
    response = upload(staff, workbook(rows))
    assert response.status_code == 422
    found = {(r["row"], r["column"]) for r in response.get_json()["rows"]}
    assert any(row == 2 and col in ("纬度", "经度") for row, col in found)
    assert any(row == 3 and col in ("村名", "村代码") for row, col in found)


def test_gcj02_coordinates_are_converted(db, login_as, personas):
    from fieldapp.domain.geo import wgs84_to_gcj02

    staff = login_as("staff_a")
    rows = household_rows(n=1)
    gcj = wgs84_to_gcj02(34.4512, 107.6234)
    rows[0][12], rows[0][13], rows[0][14] = gcj[0], gcj[1], "GCJ02"
    assert upload(staff, workbook(rows)).status_code == 200
    household = db.session.scalar(select(Household).where(
        Household.household_no == "6103232000010001"))
    assert abs(household.lat - 34.4512) < 1e-5 and abs(household.lon - 107.6234) < 1e-5


def test_staff_cannot_import_another_county(db, login_as, personas):
    staff_b = login_as("staff_b")
    response = upload(staff_b, workbook(household_rows(county="岐山县")))
    assert response.status_code == 422
    # Every row is named, not only the village's first.
    assert [(r["row"], r["column"]) for r in response.get_json()["rows"]] == [
        (2, "村代码"), (3, "村代码"), (4, "村代码")]
    assert "岐山县" in response.get_json()["rows"][0]["message"]
    assert db.session.scalar(select(Village).where(Village.code == "610323200001")) is None


def test_staff_cannot_move_a_village_of_another_county(db, login_as, personas):
    staff_b = login_as("staff_b")
    code_a = personas.villages["a1"].code
    response = upload(staff_b, workbook(household_rows(county="眉县", code=code_a)))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Village, personas.villages["a1"].id).county_id == personas.counties["a"].id


@pytest.mark.parametrize("persona", ["evaluator_a", "secretary_a"])
def test_evaluators_and_secretaries_cannot_import(db, login_as, personas, persona):
    user = login_as(persona)
    response = upload(user, workbook(household_rows()))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_secretary_with_unknown_village_rejected(db, login_as, personas):
    staff = login_as("staff_a")
    data = workbook(household_rows(), [["李书记", "13912340000", "县", "岐山县财政局",
                                        "610323999999", "2025-01-01", None]])
    response = upload(staff, data)
    assert response.status_code == 422
    assert any(r["sheet"] == "第一书记" and r["column"] == "村代码"
               for r in response.get_json()["rows"])
    assert count(db, FirstSecretary) == 2


def test_csv_gb18030_and_fullwidth_digits(db, login_as, personas):
    staff = login_as("staff_a")
    lines = [",".join(HEADERS)]
    lines.append("岐山县,凤鸣镇,新建村,６１０３２３２００００１,６１０３２３２００００１０００１,张三,,"
                 "３,低保贫困户,未脱贫,,,,,")
    data = ("\r\n".join(lines) + "\r\n").encode("gb18030")
    response = upload(staff, data, name="户.csv")
    assert response.status_code == 200, response.get_json()
    household = db.session.scalar(select(Household).where(
        Household.household_no == "6103232000010001"))
    assert household.head_name == "张三" and household.family_size == 3
    assert household.attribute == "low_income"


def test_template_carries_the_staff_members_county_and_its_examples_are_named(
        db, client, login_as, personas):
    staff = login_as("staff_a")
    response = staff.get("/api/roster/template.xlsx")
    assert response.status_code == 200
    served = openpyxl.load_workbook(io.BytesIO(response.data))
    assert served.sheetnames == ["户", "第一书记", "村", "说明"]
    first = [c.value for c in served["户"][2]]
    assert first[0] == "岐山县" and first[3].startswith("610323")
    # Anonymous visitors get the default example place.
    assert openpyxl.load_workbook(io.BytesIO(client.get("/api/roster/template.xlsx").data))[
        "户"]["A2"].value == "陈仓区"
    # Imported unchanged: every example row is named in one go, nothing is stored.
    before = count(db, Household)
    result = upload(staff, response.data, name="template.xlsx")
    assert result.status_code == 422
    assert sorted((r["sheet"], r["row"]) for r in result.get_json()["rows"]) == sorted(
        [("户", 2), ("户", 3), ("第一书记", 2), ("村", 2)])
    assert all("示例" in r["message"] for r in result.get_json()["rows"])
    assert count(db, Household) == before
    # Filled in (the example mark replaced by a real name): it imports for that county.
    for sheet in served.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "示例" in cell.value:
                    cell.value = cell.value.replace("示例", "东风").strip()
    buffer = io.BytesIO()
    served.save(buffer)
    result = upload(staff, buffer.getvalue(), name="filled.xlsx")
    assert result.status_code == 200, result.get_json()
    counts = result.get_json()["counts"]
    assert counts["households"]["created"] == 2 and counts["secretaries"]["created"] == 1
    assert counts["centres"]["created"] == 1
    household = db.session.scalar(select(Household).where(Household.head_name == "李秀兰"))
    assert household.village.county_id == personas.counties["a"].id
    assert household.village.centre_source == "roster"


def test_cli_import_and_dry_run(db, runner, personas, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(workbook(household_rows()))
    before = count(db, Household)
    result = runner.invoke(args=["roster", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert count(db, Household) == before
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert count(db, Household) == before + 3


def test_cli_import_rejects_broken_file(db, runner, personas, tmp_path):
    rows = household_rows()
    rows[1][7] = 0
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook(rows))
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "bad.xlsx:户:3 [家庭人口]" in result.output
