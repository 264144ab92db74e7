"""Hostile XLSX files, built the way an attacker would (tests and bench/upload_limits.py)."""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_TAIL = "</sheetData></worksheet>"


def _blank() -> bytes:
    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


def with_sheet(chunks, *, level: int = 6) -> bytes:
    """A real workbook whose first sheet's XML is streamed from `chunks` (str pieces)."""
    src = zipfile.ZipFile(io.BytesIO(_blank()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            if info.filename == SHEET:
                sheet = zipfile.ZipInfo(SHEET)
                sheet.compress_type = zipfile.ZIP_DEFLATED
                sheet._compresslevel = level  # ZipInfo has no public setter for it
                with dst.open(sheet, "w", force_zip64=True) as part:
                    for piece in chunks:
                        part.write(piece.encode("utf-8"))
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def one_wide_row(cells: int = 2_000_000) -> bytes:
    """One row of millions of cells (the 223 KB file that took 141 s and 1.9 GB)."""
    def chunks():
        yield _HEAD + '<row r="1">'
        block = '<c t="n"><v>1</v></c>' * 1000
        for _ in range(cells // 1000):
            yield block
        yield "</row>" + _TAIL
    return with_sheet(chunks(), level=9)


def far_cell() -> bytes:
    """One cell at XFD1: openpyxl would pad every row out to column 16384."""
    return with_sheet([_HEAD, '<row r="1"><c r="XFD1"><v>1</v></c></row>', _TAIL])


def zip_bomb(megabytes: int = 1024) -> bytes:
    """A sheet of `megabytes` MB of blanks, a few MB compressed."""
    def chunks():
        yield _HEAD + '<row r="1"><c r="A1" t="inlineStr"><is><t>'
        block = " " * (1024 * 1024)
        for _ in range(megabytes):
            yield block
        yield "</t></is></c></row>" + _TAIL
    return with_sheet(chunks(), level=9)


def entity_expansion() -> bytes:
    """Billion laughs in a worksheet."""
    dtd = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
           + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">'
                     for i in range(8)) + "]>")
    return with_sheet([dtd, '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                       '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&i;</t></is></c></row>'
                       "</sheetData></worksheet>"])


def many_rows(rows: int, columns: int = 15) -> bytes:
    def chunks():
        yield _HEAD
        for r in range(1, rows + 1):
            yield f'<row r="{r}">' + "".join(f'<c t="n"><v>{c}</v></c>' for c in range(columns)) + "</row>"
        yield _TAIL
    return with_sheet(chunks())
