"""Places from the roster's own codes, every row checked against the uploader's county,
village centres from the 村 sheet or estimated from the households (issues 9 and 11)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from fieldapp.models import AuditLog, City, County, FirstSecretary, Household, Town, Village

from .roster_helpers import (HOUSEHOLD_HEADERS, SECRETARY_HEADERS, VILLAGE_HEADERS, csv_bytes,
                             household, upload, xlsx)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def rows_of(response) -> list[tuple]:
    return [(r["sheet"], r["row"], r["column"]) for r in response.get_json()["rows"]]


# --- issue 11, High: cross-county secretary writes -----------------------------------------


def test_secretary_csv_naming_another_countys_villages_creates_nothing_and_changes_no_term(
        db, login_as, personas):
    staff_a = login_as("staff_a")
    b1 = personas.villages["b1"]
    real = personas.secretaries["b"]
    data = csv_bytes(SECRETARY_HEADERS, [
        ["假书记", "13912349999", "县", "岐山县财政局", b1.code, "2025-01-01", "2026-12-31"],
        [real.name, real.phone, "县", real.dispatch_unit, b1.code, "2025-01-01", "2025-03-31"],
    ])
    before = count(db, FirstSecretary)
    response = upload(staff_a, ("第一书记.csv", data))
    assert response.status_code == 422
    assert rows_of(response) == [(None, 2, "村代码"), (None, 3, "村代码")]
    assert all("眉县" in r["message"] for r in response.get_json()["rows"])
    db.session.expire_all()
    assert count(db, FirstSecretary) == before
    assert db.session.get(FirstSecretary, real.id).term_end == date(2026, 12, 31)


def test_village_sheet_of_another_county_is_refused(db, login_as, personas):
    b1 = personas.villages["b1"]
    response = upload(login_as("staff_a"), ("村.xlsx", xlsx(村=(VILLAGE_HEADERS, [
        [b1.code, b1.name, 34.0, 107.0, "WGS84", 500]]))))
    assert response.status_code == 422
    assert rows_of(response) == [("村", 2, "村代码")]
    db.session.expire_all()
    assert db.session.get(Village, b1.id).radius_m == 1000


def test_admin_may_import_any_county_of_the_city(db, login_as, personas):
    b1 = personas.villages["b1"]
    response = upload(login_as("admin"), ("村.xlsx", xlsx(村=(VILLAGE_HEADERS, [
        [b1.code, b1.name, None, None, None, 600]]))))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.get(Village, b1.id).radius_m == 600


# --- issue 9: geography from the codes --------------------------------------------------------


def test_county_and_town_must_agree_with_the_code_every_row_listed(db, login_as, personas):
    rows = [household("眉县", "凤鸣镇", "新村", "610323200001", n) for n in (1, 2)]
    rows.append(household("岐山县", "蔡家坡镇", "老村", "610323200002", 3))  # 610323200 is 凤鸣镇
    rows.append(household("岐山", "益店镇", "西村", "610323201001", 4))  # the short name is fine
    response = upload(login_as("admin"), ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 422
    assert rows_of(response) == [("户", 2, "县区"), ("户", 3, "县区"), ("户", 4, "镇办")]
    assert "岐山县" in response.get_json()["rows"][0]["message"]


def test_town_name_must_agree_with_the_code_already_stored(db, login_as, personas):
    staff = login_as("staff_a")
    first = [household("岐山县", "凤鸣镇", "新村", "610323200001", 1)]
    assert upload(staff, ("a.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, first)))).status_code == 200
    assert db.session.scalar(select(Town.code).where(Town.name == "凤鸣镇")) == "610323200"
    again = [household("岐山县", "益店镇", "旧村", "610323200002", 1)]
    response = upload(staff, ("b.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, again))))
    assert response.status_code == 422
    assert rows_of(response) == [("户", 2, "镇办")]
    assert "凤鸣镇" in response.get_json()["rows"][0]["message"]


def test_unknown_county_code_and_another_city_are_row_errors(db, login_as, personas):
    rows = [household("某县", "某镇", "某村", "610399100001", 1),  # no such county
            household("新城区", "西一路街道", "某社区", "610102001001", 1)]  # 西安, not 宝鸡
    response = upload(login_as("admin"), ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 422
    messages = {r["row"]: r["message"] for r in response.get_json()["rows"]}
    assert set(messages) == {2, 3}
    assert "610399" in messages[2] and "西安市" in messages[3] and "宝鸡市" in messages[3]


def test_village_code_must_be_twelve_digits(db, login_as, personas):
    rows = [household("岐山县", "凤鸣镇", "新村", "V0001", 1)]
    response = upload(login_as("staff_a"), ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 422
    assert rows_of(response) == [("户", 2, "村代码")]


def test_admin_import_creates_a_county_of_the_city_from_the_official_codes(db, login_as,
                                                                          personas):
    rows = [household("扶风县", "天度镇", "新村", "610324101001", n, 34.37 + n / 5000, 107.9)
            for n in (1, 2, 3)]
    response = upload(login_as("admin"), ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["counties"]["created"] == 1
    county = db.session.scalar(select(County).where(County.code == "610324"))
    assert county.name == "扶风县" and county.city.name == "宝鸡市"
    assert county.lat is not None


# --- fresh install: nothing but the roster ----------------------------------------------------


def test_fresh_install_needs_only_an_admin_and_the_roster(db, runner, tmp_path):
    result = runner.invoke(args=["user", "create", "--phone", "13900000001", "--name", "管理员",
                                 "--role", "admin", "--password", "secret-pass-1"])
    assert result.exit_code == 0, result.output
    rows = [household("岐山县", "凤鸣镇", "东村", "610323100201", n, 34.45 + n / 10000,
                      107.62 + n / 10000) for n in range(1, 6)]
    rows += [household("岐山县", "蔡家坡镇", "西村", "610323101202", n) for n in range(1, 4)]
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx(户=(HOUSEHOLD_HEADERS, rows)))
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "西村" in result.output  # the village without a centre is named
    (city,) = db.session.scalars(select(City)).all()
    assert (city.code, city.name) == ("610300", "宝鸡市")
    county = db.session.scalar(select(County))
    assert (county.code, county.name) == ("610323", "岐山县")
    assert {(t.code, t.name) for t in db.session.scalars(select(Town))} == {
        ("610323100", "凤鸣镇"), ("610323101", "蔡家坡镇")}
    east = db.session.scalar(select(Village).where(Village.code == "610323100201"))
    assert east.centre_source == "estimated" and abs(east.lat - 34.4503) < 1e-6
    west = db.session.scalar(select(Village).where(Village.code == "610323101202"))
    assert west.lat is None and west.centre_source is None
    # Staff accounts can name the county by its code.
    result = runner.invoke(args=["user", "create", "--phone", "13900000002", "--name", "干部",
                                 "--role", "county_staff", "--county", "610326",
                                 "--password", "secret-pass-1"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(County.name).where(County.code == "610326")) == "眉县"


# --- village centres ---------------------------------------------------------------------------


def test_centre_is_estimated_robustly_and_outliers_are_reported(db, login_as, personas):
    rows = [household("岐山县", "凤鸣镇", "东村", "610323100201", n, 34.45 + n / 20000, 107.62)
            for n in range(1, 8)]
    rows.append(household("岐山县", "凤鸣镇", "东村", "610323100201", 8, 34.60, 107.62))  # 16 km
    response = upload(login_as("staff_a"), ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 200, response.get_json()
    warnings = response.get_json()["warnings"]
    outlier = [w for w in warnings if w["row"] == 9]
    assert len(outlier) == 1 and "16" in outlier[0]["message"]
    village = db.session.scalar(select(Village).where(Village.code == "610323100201"))
    assert village.centre_source == "estimated"
    assert abs(village.lat - 34.4502) < 1e-4  # the outlier did not pull it north
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "village.centre")) == 1


def test_village_sheet_gives_the_centre_and_wins_over_the_estimate(db, login_as, personas):
    from fieldapp.domain.geo import wgs84_to_gcj02

    staff = login_as("staff_a")
    homes = [household("岐山县", "凤鸣镇", "东村", "610323100201", n, 34.45 + n / 20000, 107.62)
             for n in range(1, 4)]
    gcj = wgs84_to_gcj02(34.4480, 107.6250)
    data = xlsx(户=(HOUSEHOLD_HEADERS, homes),
                村=(VILLAGE_HEADERS, [["610323100201", "东村", gcj[0], gcj[1], "GCJ02", 800]]))
    response = upload(staff, ("roster.xlsx", data))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["centres"] == {"created": 1, "updated": 0, "unchanged": 0}
    village = db.session.scalar(select(Village).where(Village.code == "610323100201"))
    assert village.centre_source == "roster" and village.radius_m == 800
    assert abs(village.lat - 34.4480) < 1e-6 and abs(village.lon - 107.6250) < 1e-6
    # The same file again: nothing changes; households alone do not move a roster centre.
    again = upload(staff, ("roster.xlsx", data)).get_json()["counts"]["centres"]
    assert again == {"created": 0, "updated": 0, "unchanged": 1}
    homes.append(household("岐山县", "凤鸣镇", "东村", "610323100201", 9, 34.46, 107.63))
    assert upload(staff, ("户.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, homes)))).status_code == 200
    db.session.expire_all()
    village = db.session.get(Village, village.id)
    assert (village.centre_source, round(village.lat, 4)) == ("roster", 34.448)


def test_village_sheet_name_must_match_and_village_must_exist(db, login_as, personas):
    a1 = personas.villages["a1"]
    response = upload(login_as("staff_a"), ("村.xlsx", xlsx(村=(VILLAGE_HEADERS, [
        [a1.code, "别的村", 34.45, 107.62, None, None],
        ["610323100999", "无此村", 34.45, 107.62, None, None],
        [a1.code[:-1] + "8", "半径村", None, None, None, 50]]))))
    assert response.status_code == 422
    assert rows_of(response) == [("村", 2, "村名"), ("村", 3, "村代码"), ("村", 4, "打卡半径")]
