import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from fieldapp.domain import roster_file as rf
from fieldapp.domain.idcard import ID_BIRTH_DATE, ID_CHECKSUM, ID_LENGTH
from fieldapp.domain.roster_file import (
    HOUSEHOLD_COLUMNS,
    SECRETARY_COLUMNS,
    HouseholdRow,
    RowError,
    SecretaryRow,
    VillageRow,
    parse_roster,
    read_tables,
)

TODAY = date(2025, 3, 1)


def household(**changes):
    row = {
        "县区": "陈仓区", "镇办": "千河镇", "村名": "东风村", "村代码": "610304105201",
        "贫困村": "是", "软弱涣散村": "否", "户编号": "6103041052010001", "户主姓名": "张建国",
        "身份证号": "610304196503121238", "家庭人口": 4, "贫困户属性": "一般贫困户",
        "脱贫状态": "已脱贫", "脱贫年度": 2019, "联系电话": "13991230001", "纬度": 34.3632,
        "经度": 107.3681, "坐标系": "WGS84",
    }
    row.update(changes)
    return row


def secretary(**changes):
    row = {
        "姓名": "王磊", "手机号": "13891750001", "选派层级": "市", "选派单位": "宝鸡市农业农村局",
        "村代码": "610304105201", "任期开始": date(2023, 7, 1), "任期结束": date(2025, 6, 30),
    }
    row.update(changes)
    return row


def grid(records, columns):
    """Header row + one list per record (columns absent from a record stay empty)."""
    return [list(columns)] + [[record.get(name) for name in columns] for record in records]


def xlsx(sheets):
    """sheets: {title: list of rows (lists)} -> workbook bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode(encoding)


def parse(*files):
    return parse_roster(list(files), today=TODAY)


def parse_households(*records, columns=HOUSEHOLD_COLUMNS):
    return parse(("户.xlsx", xlsx({"户": grid(records, columns)})))


def parse_secretaries(*records, columns=SECRETARY_COLUMNS):
    return parse(("书记.xlsx", xlsx({"第一书记": grid(records, columns)})))


def where(result):
    """The errors as (row, column, msgid) triples, in order."""
    return [(error.row, error.column, error.msgid) for error in result.errors]


# --- reading ----------------------------------------------------------------------------
def test_valid_workbook_with_both_sheets():
    data = xlsx({
        "户": grid([household(), household(户编号="6103041052010002", 户主姓名="李秀兰",
                                        身份证号="61030419780925242x", 脱贫状态="未脱贫",
                                        脱贫年度=None, 坐标系="GCJ02")], HOUSEHOLD_COLUMNS),
        "第一书记": grid([secretary()], SECRETARY_COLUMNS),
    })
    result = parse(("roster.xlsx", data))
    assert result.errors == []
    assert result.ok
    first, second = result.households
    assert first == HouseholdRow(
        "roster.xlsx", "户", 2, "陈仓区", "千河镇", "东风村", "610304105201", "6103041052010001",
        "张建国", "610304196503121238", 4, "general", "exited", 2019, "13991230001",
        34.3632, 107.3681, "WGS84",
    )
    assert second.id_number == "61030419780925242X"
    assert (second.exit_status, second.exit_year, second.source_system) == ("not_exited", None, "GCJ02")
    assert result.secretaries == [SecretaryRow(
        "roster.xlsx", "第一书记", 2, "王磊", "13891750001", "city", "宝鸡市农业农村局",
        "610304105201", date(2023, 7, 1), date(2025, 6, 30),
    )]
    assert result.villages == {"610304105201": VillageRow(
        "610304105201", "东风村", "千河镇", "陈仓区", True, False, "roster.xlsx", "户", 2)}
    assert [(t.sheet, t.kind, t.header_row, t.rows) for t in result.tables_seen] == [
        ("户", "households", 1, 2), ("第一书记", "secretaries", 1, 1)]


def test_gcj02_and_bd09_coordinates_are_converted_and_rounded():
    result = parse_households(
        household(纬度=34.3641, 经度=107.3735, 坐标系="gcj-02"),
        household(户编号="2", 纬度=34.3641, 经度=107.3735, 坐标系="BD-09"),
    )
    gcj, bd = result.households
    assert (gcj.lat, gcj.lon) == (34.365356, 107.3685485)
    assert (gcj.lat, gcj.lon) != (bd.lat, bd.lon)
    for row in (gcj, bd):
        assert round(row.lat, 7) == row.lat and round(row.lon, 7) == row.lon


def test_title_rows_blank_rows_and_real_row_numbers():
    rows = [["东风村建档立卡户花名册"], [], list(HOUSEHOLD_COLUMNS),
            [household()[c] for c in HOUSEHOLD_COLUMNS], [], [None, "  ", "\u3000"],
            [household(户编号="X2", 家庭人口=0)[c] for c in HOUSEHOLD_COLUMNS]]
    result = parse(("a.xlsx", xlsx({"户": rows})))
    assert result.tables_seen[0].header_row == 3
    assert [h.row for h in result.households] == [4]
    assert where(result) == [(7, "家庭人口", rf.FAMILY_SIZE_INVALID)]


def test_header_not_within_first_rows_is_unrecognised():
    rows = [[f"备注{i}"] for i in range(6)] + [list(HOUSEHOLD_COLUMNS)]
    result = parse(("a.xlsx", xlsx({"户": rows})))
    assert where(result) == [(1, None, rf.TABLE_UNRECOGNISED)]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings_round_trip_chinese(encoding):
    rows = grid([household(户主姓名="欧阳秀兰"), household(户编号="6103041052010002",
                                                    村名="东风村", 镇办="千河镇")], HOUSEHOLD_COLUMNS)
    data = csv_bytes(rows, encoding)
    result = parse(("户.csv", data))
    assert result.errors == []
    assert [h.head_name for h in result.households] == ["欧阳秀兰", "张建国"]
    assert result.households[0].sheet is None
    assert [h.row for h in result.households] == [2, 3]
    assert result.households[0].family_size == 4  # '4' from the CSV text


def test_decode_csv_prefers_utf8_and_falls_back_to_gb18030():
    assert rf.decode_csv("县区".encode("utf-8")) == "县区"
    assert rf.decode_csv("\ufeff县区".encode("utf-8")) == "县区"
    assert rf.decode_csv("县区".encode("gb18030")) == "县区"
    assert rf.decode_csv("县区".encode("utf-16")) == "县区"


def test_csv_tab_separated_and_multiline_cells_keep_row_numbers():
    text = "\t".join(HOUSEHOLD_COLUMNS) + "\n" + "\t".join(
        str(household()[c]) for c in HOUSEHOLD_COLUMNS) + "\n"
    result = parse(("户.txt", text.encode()))
    assert result.errors == [] and len(result.households) == 1

    rows = grid([household(户主姓名="张\n建国"), household(户编号="2", 家庭人口="x")], HOUSEHOLD_COLUMNS)
    result = parse(("户.csv", csv_bytes(rows)))
    assert where(result) == [(3, "家庭人口", rf.FAMILY_SIZE_INVALID)]


def test_full_width_input_is_normalised():
    row = household(村代码="６１０３０４１０５２０１", 户编号="６１０３０４１０５２０１０００１",
                    户主姓名="\u3000张建国\u00a0", 身份证号="６１０３０４１９６５０３１２１２３８",
                    家庭人口="４", 脱贫年度="２０１９年", 联系电话="１３９ ９１２３ ０００１",
                    纬度="３４．３６３２", 经度="１０７．３６８１", 坐标系="ＷＧＳ－８４",
                    贫困户属性=" 一般贫困户 ")
    result = parse(("户.csv", csv_bytes(grid([row], HOUSEHOLD_COLUMNS))))
    assert result.errors == []
    h = result.households[0]
    assert (h.village_code, h.household_code, h.head_name) == ("610304105201", "6103041052010001", "张建国")
    assert (h.id_number, h.family_size, h.exit_year, h.phone) == ("610304196503121238", 4, 2019, "13991230001")
    assert (h.lat, h.lon, h.attribute) == (34.3632, 107.3681, "general")


def test_full_width_headers_aliases_and_markers():
    columns = ["＊县区", "镇办（必填）", "村名", "村代码", "户编号*", "户主", "公民身份号码",
               "家庭人口数", "贫困户类型", "脱贫状态", "脱贫年份", "电话"]
    values = ["陈仓区", "千河镇", "东风村", "610304105201", "1", "张建国", "610304196503121238",
              3, "低保户", "脱贫", "2020", "029-88881234"]
    result = parse(("户.xlsx", xlsx({"Sheet1": [columns, values]})))
    assert result.errors == []
    h = result.households[0]
    assert (h.head_name, h.attribute, h.exit_status, h.exit_year, h.phone) == (
        "张建国", "low_income", "exited", 2020, "029-88881234")


def test_excel_number_cells():
    result = parse_households(
        household(户编号=6103041052010001, 村代码=610304105201, 家庭人口=3.0, 脱贫年度=2019.0,
                  联系电话=13991230001),
        household(户编号=6.103041052010002e15),
        household(户编号=61030410.5),
        household(户编号="3", 身份证号=6.10304196503121e17),
        household(户编号="4", 家庭人口=2.5),
    )
    assert [h.household_code for h in result.households] == ["6103041052010001", "6103041052010002"]
    assert result.households[0].id_number == "610304196503121238"
    assert result.households[0].phone == "13991230001"
    assert where(result) == [
        (4, "户编号", rf.CODE_INVALID),
        (5, "身份证号", rf.NUMBER_LOST_DIGITS),
        (6, "家庭人口", rf.FAMILY_SIZE_INVALID),
    ]


def test_excel_float_too_large_for_exact_digits():
    # openpyxl writes integral floats as integers; Excel writes big numbers in E notation.
    data = xlsx({"户": grid([household(户编号=9007199254740994)], HOUSEHOLD_COLUMNS)})
    data = rewrite_sheet_xml(data, "<v>9007199254740994</v>", "<v>9.007199254740994E+15</v>")
    result = parse(("户.xlsx", data))
    assert where(result) == [(2, "户编号", rf.NUMBER_LOST_DIGITS)]


def rewrite_sheet_xml(data, old, new):
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode())
            out.writestr(item, content)
    return target.getvalue()


# --- error kinds ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "msgid", "params"),
    [
        ({"身份证号": "610304196503121239"}, "身份证号", ID_CHECKSUM, {"length": 18}),
        ({"身份证号": "61030419650312123"}, "身份证号", ID_LENGTH, {"length": 17}),
        ({"身份证号": "610304196513121238"}, "身份证号", ID_BIRTH_DATE, {"length": 18}),
        ({"家庭人口": 0}, "家庭人口", rf.FAMILY_SIZE_INVALID, {"max": 30}),
        ({"家庭人口": 31}, "家庭人口", rf.FAMILY_SIZE_INVALID, {"max": 30}),
        ({"家庭人口": "三"}, "家庭人口", rf.FAMILY_SIZE_INVALID, {"max": 30}),
        ({"家庭人口": "-1"}, "家庭人口", rf.FAMILY_SIZE_INVALID, {"max": 30}),
        ({"贫困户属性": "富裕户"}, "贫困户属性", rf.ATTRIBUTE_UNKNOWN, {"value": "富裕户"}),
        ({"脱贫状态": "返贫"}, "脱贫状态", rf.STATUS_UNKNOWN, {"value": "返贫"}),
        ({"户主姓名": None}, "户主姓名", rf.VALUE_REQUIRED, {}),
        ({"县区": "\u3000"}, "县区", rf.VALUE_REQUIRED, {}),
        ({"户主姓名": "张" * 51}, "户主姓名", rf.VALUE_TOO_LONG, {"max": 50}),
        ({"户编号": "61 03!"}, "户编号", rf.CODE_INVALID, {}),
        ({"村代码": datetime(2024, 1, 1)}, "村代码", rf.CODE_INVALID, {}),
        ({"联系电话": "12345"}, "联系电话", rf.PHONE_INVALID, {}),
        ({"联系电话": "12991230001"}, "联系电话", rf.PHONE_INVALID, {}),
        ({"联系电话": "139912300011"}, "联系电话", rf.PHONE_INVALID, {}),
        ({"联系电话": 1399123000.5}, "联系电话", rf.PHONE_INVALID, {}),
        ({"纬度": 60.0, "经度": 2.35}, "纬度", rf.COORDS_OUTSIDE, {"lat": 60.0, "lon": 2.35}),
        ({"纬度": 34.36, "经度": 2.35}, "经度", rf.COORDS_OUTSIDE, {"lat": 34.36, "lon": 2.35}),
        ({"纬度": 107.24, "经度": 34.36}, "纬度", rf.COORDS_SWAPPED, {"lat": 107.24, "lon": 34.36}),
        ({"经度": None}, "经度", rf.COORDS_INCOMPLETE, {}),
        ({"纬度": None}, "纬度", rf.COORDS_INCOMPLETE, {}),
        ({"纬度": "北纬34度"}, "纬度", rf.NUMBER_INVALID, {}),
        ({"坐标系": "UTM"}, "坐标系", rf.SYSTEM_UNKNOWN, {"value": "UTM"}),
        ({"脱贫年度": 2010}, "脱贫年度", rf.EXIT_YEAR_INVALID, {"min": 2013, "max": 2026}),
        ({"脱贫年度": 2027}, "脱贫年度", rf.EXIT_YEAR_INVALID, {"min": 2013, "max": 2026}),
        ({"脱贫年度": "去年"}, "脱贫年度", rf.EXIT_YEAR_INVALID, {"min": 2013, "max": 2026}),
        ({"脱贫年度": None}, "脱贫年度", rf.EXIT_YEAR_MISSING, {}),
        ({"脱贫状态": "未脱贫"}, "脱贫年度", rf.EXIT_YEAR_UNEXPECTED, {}),
        ({"贫困村": "可能"}, "贫困村", rf.FLAG_INVALID, {}),
    ],
)
def test_household_error_kinds(changes, column, msgid, params):
    result = parse_households(household(**changes))
    assert result.errors == [RowError("户.xlsx", "户", 2, column, msgid, params)]
    assert result.households == []


@pytest.mark.parametrize(
    "changes",
    [{"脱贫年度": 2013}, {"脱贫年度": 2026}, {"家庭人口": 1}, {"家庭人口": 30},
     {"身份证号": None}, {"联系电话": None}, {"联系电话": "0917-6212345"}, {"联系电话": "+86 13991230001"},
     {"纬度": None, "经度": None, "坐标系": None}, {"坐标系": None}, {"贫困村": 1, "软弱涣散村": "N"},
     {"贫困户属性": "五保户"}, {"贫困户属性": "extreme_poor"}, {"脱贫状态": "未脱贫", "脱贫年度": None}],
)
def test_household_boundaries_accepted(changes):
    result = parse_households(household(**changes))
    assert result.errors == []
    assert len(result.households) == 1


def test_coordinate_system_alone_is_fine_and_defaults_to_wgs84():
    result = parse_households(household(纬度=None, 经度=None, 坐标系="GCJ02"), household(户编号="2", 坐标系=""))
    assert [(h.lat, h.source_system) for h in result.households] == [(None, "GCJ02"), (34.3632, "WGS84")]


def test_exit_year_missing_when_the_column_is_absent():
    columns = [c for c in HOUSEHOLD_COLUMNS if c != "脱贫年度"]
    result = parse_households(household(), household(户编号="2", 脱贫状态="未脱贫"), columns=columns)
    assert where(result) == [(2, "脱贫年度", rf.EXIT_YEAR_MISSING)]
    assert [h.household_code for h in result.households] == ["2"]


def test_missing_required_column_is_a_table_error_once():
    columns = [c for c in HOUSEHOLD_COLUMNS if c not in ("户编号", "家庭人口")]
    result = parse_households(household(), household(贫困户属性="富裕户"), columns=columns)
    assert where(result) == [
        (1, "户编号", rf.COLUMN_MISSING),
        (1, "家庭人口", rf.COLUMN_MISSING),
        (3, "贫困户属性", rf.ATTRIBUTE_UNKNOWN),
    ]
    assert result.errors[0].params == {"column": "户编号"}
    assert result.households == []


def test_duplicate_header_reported_first_column_read():
    columns = list(HOUSEHOLD_COLUMNS) + ["家庭人口"]
    rows = [columns, [household()[c] for c in HOUSEHOLD_COLUMNS] + [99]]
    result = parse(("户.xlsx", xlsx({"户": rows})))
    assert where(result) == [(1, "家庭人口", rf.COLUMN_DUPLICATE)]
    assert result.households[0].family_size == 4


def test_village_code_naming_two_villages_reported_on_each_later_row():
    result = parse_households(
        household(),
        household(户编号="2", 村名="西河村"),
        household(户编号="3"),
        household(户编号="4", 镇办="虢镇街道"),
    )
    assert where(result) == [(3, "村代码", rf.VILLAGE_CONFLICT), (5, "村代码", rf.VILLAGE_CONFLICT)]
    assert result.errors[0].params == {
        "code": "610304105201", "county": "陈仓区", "township": "千河镇", "village": "东风村",
        "first_file": "户.xlsx", "first_row": 2,
    }
    assert [h.row for h in result.households] == [2, 4]
    assert result.villages["610304105201"].name == "东风村"


def test_village_flags_fill_in_and_conflict():
    result = parse_households(
        household(贫困村=None, 软弱涣散村=None),
        household(户编号="2", 贫困村="否", 软弱涣散村=None),
        household(户编号="3", 贫困村="是", 软弱涣散村="是"),
        household(户编号="4", 村代码="610304105202", 村名="西河村", 贫困村=None, 软弱涣散村=None),
    )
    assert where(result) == [(4, "贫困村", rf.VILLAGE_FLAG_CONFLICT)]
    assert result.errors[0].params == {"first_file": "户.xlsx", "first_row": 2}
    east = result.villages["610304105201"]
    assert (east.is_poor_village, east.is_weak_village, east.row) == (False, True, 2)
    west = result.villages["610304105202"]
    assert (west.is_poor_village, west.is_weak_village) == (None, None)


def test_duplicate_household_number_within_a_village_only():
    result = parse_households(
        household(),
        household(村代码="610304105202", 村名="西河村"),  # same 户编号, other village: fine
        household(户主姓名="张三"),
        household(户主姓名="张四"),
    )
    assert where(result) == [(4, "户编号", rf.HOUSEHOLD_DUPLICATE), (5, "户编号", rf.HOUSEHOLD_DUPLICATE)]
    assert result.errors[1].params == {"code": "6103041052010001", "first_file": "户.xlsx", "first_row": 2}
    assert [h.row for h in result.households] == [2, 3]


def test_duplicates_across_files_name_the_first_file():
    first = ("a.csv", csv_bytes(grid([household()], HOUSEHOLD_COLUMNS)))
    second = ("b.csv", csv_bytes(grid([household(村名="西河村")], HOUSEHOLD_COLUMNS), "gb18030"))
    result = parse(first, second)
    assert [(e.file, e.row, e.column, e.msgid) for e in result.errors] == [
        ("b.csv", 2, "村代码", rf.VILLAGE_CONFLICT), ("b.csv", 2, "户编号", rf.HOUSEHOLD_DUPLICATE)]
    assert result.errors[0].params["first_file"] == "a.csv"


def test_every_problem_is_reported_at_once():
    result = parse_households(
        household(身份证号="610304196503121239", 家庭人口=0, 贫困户属性="?", 坐标系="UTM"),
        household(户编号="2"),
        household(户编号="3", 户主姓名=None, 联系电话="1", 纬度=10.0, 经度=10.0),
    )
    assert where(result) == [
        (2, "身份证号", ID_CHECKSUM),
        (2, "家庭人口", rf.FAMILY_SIZE_INVALID),
        (2, "贫困户属性", rf.ATTRIBUTE_UNKNOWN),
        (2, "坐标系", rf.SYSTEM_UNKNOWN),
        (4, "户主姓名", rf.VALUE_REQUIRED),
        (4, "联系电话", rf.PHONE_INVALID),
        (4, "经度", rf.COORDS_OUTSIDE),
    ]
    assert [h.row for h in result.households] == [3]


# --- secretaries ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "column", "msgid", "params"),
    [
        ({"姓名": None}, "姓名", rf.VALUE_REQUIRED, {}),
        ({"手机号": None}, "手机号", rf.VALUE_REQUIRED, {}),
        ({"手机号": "1389175000"}, "手机号", rf.MOBILE_INVALID, {}),
        ({"手机号": "0917-6212345"}, "手机号", rf.MOBILE_INVALID, {}),
        ({"手机号": 1389175000.5}, "手机号", rf.MOBILE_INVALID, {}),
        ({"选派层级": "乡"}, "选派层级", rf.LEVEL_UNKNOWN, {"value": "乡"}),
        ({"选派单位": ""}, "选派单位", rf.VALUE_REQUIRED, {}),
        ({"村代码": None}, "村代码", rf.VALUE_REQUIRED, {}),
        ({"任期开始": None}, "任期开始", rf.VALUE_REQUIRED, {}),
        ({"任期开始": "2024-13-01"}, "任期开始", rf.DATE_INVALID, {}),
        ({"任期开始": "下个月"}, "任期开始", rf.DATE_INVALID, {}),
        ({"任期开始": 2023}, "任期开始", rf.DATE_INVALID, {}),  # a bare year read as serial 2023
        ({"任期结束": "2023/2/30"}, "任期结束", rf.DATE_INVALID, {}),
        ({"任期结束": date(2023, 6, 30)}, "任期结束", rf.TERM_END_BEFORE_START, {}),
    ],
)
def test_secretary_error_kinds(changes, column, msgid, params):
    result = parse_secretaries(secretary(**changes))
    assert result.errors == [RowError("书记.xlsx", "第一书记", 2, column, msgid, params)]
    assert result.secretaries == []


@pytest.mark.parametrize(
    ("level", "code"),
    [("中央", "central"), ("中央单位", "central"), ("省", "provincial"), ("省级", "provincial"),
     ("市", "city"), ("市级", "city"), ("县", "county"), ("县级", "county"), (" 县 级 ", "county")],
)
def test_dispatch_levels(level, code):
    result = parse_secretaries(secretary(选派层级=level))
    assert result.secretaries[0].dispatch_level == code


def test_secretary_values_are_normalised():
    result = parse_secretaries(
        secretary(手机号="+86 138-9175-0001", 任期开始="2023年7月1日", 任期结束=None),
        secretary(手机号=13891750002, 任期开始=datetime(2023, 7, 1, 0, 0), 村代码=610304105299),
        secretary(手机号="１３８９１７５０００３", 任期开始="2023/7/1", 任期结束="2025.6.30"),
    )
    assert result.errors == []
    assert [(s.phone, s.term_start, s.term_end) for s in result.secretaries] == [
        ("13891750001", date(2023, 7, 1), None),
        ("13891750002", date(2023, 7, 1), date(2025, 6, 30)),
        ("13891750003", date(2023, 7, 1), date(2025, 6, 30)),
    ]
    # A village code absent from this import is the service's business, not an error.
    assert result.secretaries[1].village_code == "610304105299"
    assert result.villages == {}


def test_duplicate_secretary_mobile():
    result = parse_secretaries(secretary(), secretary(姓名="李娜", 村代码="610304105202"))
    assert where(result) == [(3, "手机号", rf.SECRETARY_DUPLICATE)]
    assert result.errors[0].params == {"first_file": "书记.xlsx", "first_row": 2}


def test_secretaries_csv_gb18030():
    rows = grid([secretary(任期开始="2023-07-01", 任期结束="")], SECRETARY_COLUMNS)
    result = parse(("第一书记.csv", csv_bytes(rows, "gb18030")))
    assert result.errors == []
    assert result.secretaries[0].dispatch_unit == "宝鸡市农业农村局"
    assert result.tables_seen[0].kind == "secretaries"


# --- files ------------------------------------------------------------------------------
def test_separate_files_combine():
    result = parse(
        ("户.csv", csv_bytes(grid([household()], HOUSEHOLD_COLUMNS))),
        ("书记.xlsx", xlsx({"Sheet1": grid([secretary()], SECRETARY_COLUMNS)})),
    )
    assert result.errors == []
    assert (len(result.households), len(result.secretaries), list(result.villages)) == (1, 1, ["610304105201"])


@pytest.mark.parametrize(
    ("filename", "data", "msgid", "params"),
    [
        ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, rf.FILE_XLS, {}),
        ("roster.xlsx", b"PK\x03\x04 not really a zip", rf.FILE_UNREADABLE, {}),
        ("roster.xlsx", b"", rf.FILE_UNREADABLE, {}),
        ("roster.pdf", b"%PDF-1.4", rf.FILE_UNSUPPORTED, {"filename": "roster.pdf"}),
        ("roster.csv", b"\x80\x81\xff,\xfe", rf.FILE_ENCODING, {}),
        ("roster.csv", b"", rf.FILE_NO_TABLE, {}),
        ("roster.csv", b"\n,,\n", rf.FILE_NO_TABLE, {}),
    ],
)
def test_unreadable_files(filename, data, msgid, params):
    result = parse((filename, data))
    assert result.errors == [RowError(filename, None, None, None, msgid, params)]


def test_unrecognised_headers_are_an_error_not_ignored():
    result = parse(("other.csv", csv_bytes([["序号", "姓名", "备注"], ["1", "张三", ""]])))
    assert where(result) == [(1, None, rf.TABLE_UNRECOGNISED)]
    assert "户编号" in result.errors[0].message
    assert "手机号" in result.errors[0].message


def test_workbook_instructions_sheet_skipped_other_sheet_reported():
    data = xlsx({
        "户": grid([household()], HOUSEHOLD_COLUMNS),
        "填表说明": [["列名", "说明"], ["户编号", "必填"], ["县区", "必填"]],
        "汇总": [["村", "户数"], ["东风村", 1]],
        "空表": [],
    })
    result = parse(("a.xlsx", data))
    assert [(e.sheet, e.row, e.msgid) for e in result.errors] == [("汇总", 1, rf.TABLE_UNRECOGNISED)]
    assert len(result.households) == 1


def test_read_tables_shape():
    data = xlsx({"户": [["标题"], list(HOUSEHOLD_COLUMNS), [household()[c] for c in HOUSEHOLD_COLUMNS] + ["extra"]]})
    (table,) = read_tables(data, "a.xlsx")
    assert (table.sheet, table.kind, table.header_row) == ("户", "households", 2)
    assert table.headers == list(HOUSEHOLD_COLUMNS)
    number, values = table.rows[0]
    assert number == 3 and values["户主姓名"] == "张建国" and values["家庭人口"] == 4
    assert set(values) == set(HOUSEHOLD_COLUMNS)  # columns without a header are dropped


def test_xlsx_detected_by_content_whatever_the_name():
    data = xlsx({"户": grid([household()], HOUSEHOLD_COLUMNS)})
    assert parse(("upload.bin", data)).errors == []


def test_row_error_message_and_translation():
    error = RowError("a.xlsx", "户", 3, "家庭人口", rf.FAMILY_SIZE_INVALID, {"max": 30})
    assert error.message == "Family size must be a whole number from 1 to 30."
    assert error.format(lambda msgid: "家庭人口须为1至%(max)s的整数") == "家庭人口须为1至30的整数"
    plain = RowError("a.xlsx", "户", 3, "户主姓名", rf.VALUE_REQUIRED)
    assert plain.message == "A value is required."


def test_every_msgid_formats_with_the_params_given():
    # Build one error of every kind and check no placeholder is left unfilled.
    result = parse_households(
        household(身份证号="1", 家庭人口=0, 贫困户属性="?", 脱贫状态="?", 联系电话="1",
                  纬度=1.0, 经度=1.0, 坐标系="?", 贫困村="?", 户编号="!"),
        household(村名="别村", 脱贫年度=1999, 户主姓名="x" * 60),
    )
    assert len(result.errors) >= 10
    for error in result.errors:
        assert "%(" not in error.message
