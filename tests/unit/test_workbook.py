"""domain/workbook.py: hostile XLSX files are refused before openpyxl parses them."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from fieldapp.domain import workbook as wbk

from .. import hostile_files as H


def _normal(rows: int = 3) -> bytes:
    wb = Workbook()
    for r in range(rows):
        wb.active.append([f"户{r}", r, "岐山县"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_normal_workbook_opens_read_only():
    workbook = wbk.open_xlsx(_normal())
    assert workbook.read_only
    assert [row[0] for row in workbook.active.iter_rows(values_only=True)] == ["户0", "户1", "户2"]
    workbook.close()


@pytest.mark.parametrize("make, msgid", [
    (lambda: H.one_wide_row(5000), wbk.TOO_MANY_COLUMNS),
    (H.one_wide_row, wbk.INFLATES),  # 2M cells: the directory already gives it away
    (H.far_cell, wbk.TOO_MANY_COLUMNS),
    (lambda: H.zip_bomb(300), wbk.INFLATES),
    (H.entity_expansion, wbk.HAS_DTD),
    (lambda: H.many_rows(1001 + wbk.HEADER_ROWS, 3), wbk.TOO_MANY_ROWS),
])
def test_hostile_workbooks_are_refused(make, msgid):
    limits = wbk.Limits(max_rows=1000)
    with pytest.raises(wbk.WorkbookRejected) as caught:
        wbk.check_xlsx(make(), limits)
    assert caught.value.msgid == msgid


def test_size_ratio_and_cell_limits():
    with pytest.raises(wbk.WorkbookRejected) as caught:
        wbk.check_xlsx(b"PK\x03\x04" + b"x" * 2048, wbk.Limits(max_file_bytes=1024))
    assert caught.value.msgid == wbk.TOO_LARGE
    bomb = H.zip_bomb(20)  # 20 MB of blanks, far past the ratio for its size
    with pytest.raises(wbk.WorkbookRejected) as caught:
        wbk.check_xlsx(bomb)
    assert caught.value.msgid == wbk.INFLATES
    with pytest.raises(wbk.WorkbookRejected) as caught:
        wbk.check_xlsx(H.many_rows(100, 20), wbk.Limits(max_cells=1000))
    assert caught.value.msgid == wbk.TOO_MANY_CELLS


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04broken", b""])
def test_garbage_is_unreadable(data):
    with pytest.raises(wbk.WorkbookRejected) as caught:
        wbk.check_xlsx(data)
    assert caught.value.msgid == wbk.NOT_XLSX


def test_csv_row_limit():
    wbk.check_text_rows("a\n" * (10 + wbk.HEADER_ROWS), "x.csv", wbk.Limits(max_rows=10))
    with pytest.raises(wbk.WorkbookRejected):
        wbk.check_text_rows("a\n" * (11 + wbk.HEADER_ROWS), "x.csv", wbk.Limits(max_rows=10))
