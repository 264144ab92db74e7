import io
from datetime import date

from openpyxl import load_workbook

from fieldapp.domain import roster_file as rf
from fieldapp.domain.roster_file import (HOUSEHOLD_COLUMNS, SECRETARY_COLUMNS, VILLAGE_COLUMNS,
                                         parse_roster)
from fieldapp.domain.roster_template import (
    HELP_ROWS,
    TemplatePlace,
    build_template_xlsx,
    household_examples,
)

QISHAN = TemplatePlace("岐山县", "610323", "凤鸣镇", "610323100", 34.445, 107.6165)


def _without_example_marks(data: bytes) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and rf.EXAMPLE_MARK in cell.value:
                    cell.value = cell.value.replace(rf.EXAMPLE_MARK, "东风").strip()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_unchanged_template_names_every_example_row_and_nothing_else():
    result = parse_roster([("模板.xlsx", build_template_xlsx(QISHAN))], today=date(2025, 3, 1))
    assert sorted((e.sheet, e.row, e.msgid) for e in result.errors) == sorted([
        ("村", 2, rf.EXAMPLE_ROW), ("户", 2, rf.EXAMPLE_ROW), ("户", 3, rf.EXAMPLE_ROW),
        ("第一书记", 2, rf.EXAMPLE_ROW)])
    assert not result.households and not result.secretaries and not result.centres


def test_template_without_marks_parses_cleanly_in_the_staff_members_county():
    data = _without_example_marks(build_template_xlsx(QISHAN))
    result = parse_roster([("模板.xlsx", data)], today=date(2025, 3, 1))
    assert result.errors == []
    zhang, li = result.households
    assert (zhang.county, zhang.township, zhang.village_code) == ("岐山县", "凤鸣镇", "610323100201")
    assert zhang.id_number.startswith("610323") and zhang.attribute == "general"
    assert (li.attribute, li.exit_status, li.source_system) == ("low_income", "not_exited", "GCJ02")
    assert abs(zhang.lat - 34.445) < 0.01  # the examples sit near the county seat
    (wang,) = result.secretaries
    assert (wang.dispatch_level, wang.term_start) == ("city", date(2023, 7, 1))
    (centre,) = result.centres
    assert (centre.code, centre.radius_m) == ("610323100201", 1000)
    assert [t.sheet for t in result.tables_seen] == ["户", "第一书记", "村"]


def test_template_layout():
    workbook = load_workbook(io.BytesIO(build_template_xlsx()))
    assert workbook.sheetnames == ["户", "第一书记", "村", "说明"]
    households, secretaries, villages, help_sheet = workbook.worksheets
    assert [c.value for c in households[1]] == list(HOUSEHOLD_COLUMNS)
    assert [c.value for c in secretaries[1]] == list(SECRETARY_COLUMNS)
    assert [c.value for c in villages[1]] == list(VILLAGE_COLUMNS)
    assert households.freeze_panes == secretaries.freeze_panes == "A2"
    assert households.column_dimensions["I"].width == 22  # 身份证号
    # ID numbers and household codes are text cells, so Excel keeps all 18 digits.
    id_column = HOUSEHOLD_COLUMNS.index("身份证号") + 1
    assert households.cell(row=2, column=id_column).number_format == "@"
    assert households.cell(row=3, column=id_column).value == household_examples(
        TemplatePlace("陈仓区", "610304", "千河镇", "610304105"))[1][8]

    def dropdowns(sheet):
        return {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}

    assert dropdowns(households)['"一般贫困户,低保贫困户,特困供养贫困户"'] == "K2:K5000"
    assert '"未脱贫,已脱贫"' in dropdowns(households)
    assert '"WGS84,GCJ02,BD09"' in dropdowns(households)
    assert dropdowns(secretaries) == {'"中央,省,市,县"': "C2:C5000"}
    documented = {row[0].value for row in help_sheet.iter_rows(min_row=2) if row[0].value}
    assert documented == set(HOUSEHOLD_COLUMNS) | set(SECRETARY_COLUMNS) | set(VILLAGE_COLUMNS)
    assert len(HELP_ROWS) == len(documented)
