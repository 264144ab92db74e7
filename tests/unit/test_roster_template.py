import io
from datetime import date

from openpyxl import load_workbook

from fieldapp.domain.roster_file import HOUSEHOLD_COLUMNS, SECRETARY_COLUMNS, parse_roster
from fieldapp.domain.roster_template import (
    HELP_ROWS,
    HOUSEHOLD_EXAMPLES,
    SECRETARY_EXAMPLES,
    build_template_xlsx,
)


def test_template_parses_without_errors_and_yields_the_examples():
    result = parse_roster([("模板.xlsx", build_template_xlsx())], today=date(2025, 3, 1))
    assert result.errors == []
    assert len(result.households) == len(HOUSEHOLD_EXAMPLES) == 2
    assert len(result.secretaries) == len(SECRETARY_EXAMPLES) == 1
    zhang, li = result.households
    assert (zhang.head_name, zhang.id_number, zhang.attribute, zhang.exit_year) == (
        "张建国", "610304196503121238", "general", 2019)
    assert (li.head_name, li.id_number, li.attribute, li.exit_status, li.source_system) == (
        "李秀兰", "61030419780925242X", "low_income", "not_exited", "GCJ02")
    assert li.lat != 34.3641  # converted from GCJ-02
    (wang,) = result.secretaries
    assert (wang.name, wang.dispatch_level, wang.term_start) == ("王磊", "city", date(2023, 7, 1))
    assert wang.village_code in result.villages
    assert [t.sheet for t in result.tables_seen] == ["户", "第一书记"]


def test_template_layout():
    workbook = load_workbook(io.BytesIO(build_template_xlsx()))
    assert workbook.sheetnames == ["户", "第一书记", "说明"]
    households, secretaries, help_sheet = workbook.worksheets
    assert [c.value for c in households[1]] == list(HOUSEHOLD_COLUMNS)
    assert [c.value for c in secretaries[1]] == list(SECRETARY_COLUMNS)
    assert households.freeze_panes == secretaries.freeze_panes == "A2"
    assert households.column_dimensions["I"].width == 22  # 身份证号
    # ID numbers and household codes are text cells, so Excel keeps all 18 digits.
    id_column = HOUSEHOLD_COLUMNS.index("身份证号") + 1
    assert households.cell(row=2, column=id_column).number_format == "@"
    assert households.cell(row=3, column=id_column).value == "61030419780925242X"

    def dropdowns(sheet):
        return {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}

    assert dropdowns(households)['"一般贫困户,低保贫困户,特困供养贫困户"'] == "K2:K5000"
    assert '"未脱贫,已脱贫"' in dropdowns(households)
    assert '"WGS84,GCJ02,BD09"' in dropdowns(households)
    assert dropdowns(secretaries) == {'"中央,省,市,县"': "C2:C5000"}
    documented = {row[0].value for row in help_sheet.iter_rows(min_row=2) if row[0].value}
    assert documented == set(HOUSEHOLD_COLUMNS) | set(SECRETARY_COLUMNS)
    assert len(HELP_ROWS) == len(documented)
