"""CSV/XLSX formula injection: the guard also catches formulas behind leading whitespace or
control characters, and the full-width ＝ ＋ － ＠ that WPS and Excel also evaluate."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from fieldapp.services import exports

HOSTILE = [" =1+1", "\n=HYPERLINK(\"http://x\")", "\r\n+1", "\x00@SUM(A1)", "\u3000=1",
           "\u200b=1", "\ufeff-1", "＝1+1", "＋86", "－2", "＠SUM(A1)", "  ＝cmd", "\t=1"]
HARMLESS = ["岐山县", "a=b", "户主 = 张三", "1-2", "", "(=)"]


@pytest.mark.parametrize("value", HOSTILE)
def test_guarded(value):
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_left_alone(value):
    assert exports.neutralise(value) == value


def test_csv_and_xlsx_files_carry_no_live_formula(tmp_path):
    columns = [exports.Column("值")]
    rows = [[v] for v in HOSTILE]
    text = "".join(exports.csv_chunks(columns, rows)).lstrip(exports.BOM)
    cells = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert cells == ["'" + v for v in HOSTILE]

    path = tmp_path / "out.xlsx"
    with path.open("wb") as fh:
        exports.write_xlsx(fh, "表", columns, rows)
    sheet = load_workbook(path).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, str) and v.startswith("'") for v in values), values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
