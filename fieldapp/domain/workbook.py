"""Open uploaded XLSX workbooks without letting them sink the server.

An XLSX file is a zip of XML parts, and both layers can be made to explode: a zip bomb
(a few MB that inflate to GBs), a sheet that declares cells far out (`XFD1048576`, which
openpyxl pads with empty cells), or one row of millions of cells. So before openpyxl
parses anything, `check_xlsx` looks at:
1. the compressed size, the number of parts, each part's declared size and compression
   ratio, and their total (from the zip directory, without inflating; Python's zipfile
   never inflates a part past its declared size, so a lying directory only truncates);
2. every worksheet, inflated as a stream and scanned with expat (no DTD allowed, so no
   entity expansion), counting rows, columns and cells and stopping at the first excess.
Only then does `open_xlsx` hand the bytes to openpyxl in read-only (streaming) mode.

Pure Python: callers translate `WorkbookRejected.msgid` with its params.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from . import N_

CHUNK = 64 * 1024
# Rows above a table (title lines, the header) do not count against max_rows.
HEADER_ROWS = 20
_CELL_REF = re.compile(r"([A-Z]{1,3})?(\d+)?$")


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024        # the upload itself
    max_parts: int = 1000                          # zip members
    max_unzipped_bytes: int = 250 * 1024 * 1024    # all members, inflated
    max_ratio: int = 200                           # inflated / compressed, per large member
    # Rows per sheet, and per upload in all: a county's roster (Baoji's largest county has
    # about 10,000 registered households) with room to spare, and a peak memory under
    # 300 MB for the whole import (bench/upload_limits.py).
    max_rows: int = 30_000
    max_columns: int = 200                         # per row (by count and by reference)
    max_cells: int = 3_000_000                     # in the whole workbook


class WorkbookRejected(ValueError):
    """The workbook is refused before parsing; `msgid % params` says why."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params


TOO_LARGE = N_("The file is larger than %(mb)d MB.")
NOT_XLSX = N_("The workbook could not be read: it may be damaged or password-protected.")
INFLATES = N_("The workbook unpacks to more than %(mb)d MB: it looks like a zip bomb, or it "
              "is too large. Save it again with only the roster's sheets.")
TOO_MANY_ROWS = N_("Sheet %(sheet)s has more than %(limit)d rows. Split the file (for "
                   "example one file per county) and import the parts one after another.")
TOO_MANY_COLUMNS = N_("Sheet %(sheet)s uses more than %(limit)d columns. Delete the unused "
                      "columns on the right, save and try again.")
TOO_MANY_CELLS = N_("The workbook has more than %(limit)d cells. Split the file and import "
                    "the parts one after another.")
TOO_MANY_ROWS_IN_ALL = N_("The upload has more than %(limit)d rows in all. Import the files "
                         "one after another.")
HAS_DTD = N_("The workbook holds XML that spreadsheet programs do not write (a DTD).")


def check_xlsx(data: bytes, limits: Limits = Limits()) -> int:
    """Raise WorkbookRejected unless `data` is an XLSX within `limits` (see module doc);
    return its number of rows (all sheets)."""
    if len(data) > limits.max_file_bytes:
        raise WorkbookRejected(TOO_LARGE, mb=limits.max_file_bytes // (1024 * 1024))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookRejected(NOT_XLSX) from exc
    inflate_mb = limits.max_unzipped_bytes // (1024 * 1024)
    if len(infos) > limits.max_parts:
        raise WorkbookRejected(INFLATES, mb=inflate_mb)
    total = 0
    for info in infos:
        total += info.file_size
        compressed = max(info.compress_size, 1)
        if total > limits.max_unzipped_bytes or (
                info.file_size > 1024 * 1024 and info.file_size / compressed > limits.max_ratio):
            raise WorkbookRejected(INFLATES, mb=inflate_mb)
    cells = rows = 0
    with archive:
        names = _sheet_names(archive)
        for number, info in enumerate(_sheets(infos), start=1):
            sheet = names.get(info.filename, str(number))
            sheet_rows, cells = _scan_sheet(archive, info, sheet, limits, cells)
            rows += sheet_rows
    return rows


def check_upload_rows(files: list[tuple[str, bytes]], limits: Limits = Limits()) -> None:
    """Several files (or sheets) in one upload share one row budget: `max_rows` in all."""
    total = 0
    for _name, data in files:
        rows = check_xlsx(data, limits) if data.startswith(b"PK\x03\x04") else data.count(b"\n")
        total += max(rows - HEADER_ROWS, 0)
        if total > limits.max_rows:
            raise WorkbookRejected(TOO_MANY_ROWS_IN_ALL, limit=limits.max_rows)


def open_xlsx(data: bytes, limits: Limits = Limits()):
    """The checked workbook, opened by openpyxl read-only (rows stream from the zip)."""
    check_xlsx(data, limits)
    from openpyxl import load_workbook  # only callers that open workbooks pay for it

    return load_workbook(io.BytesIO(data), read_only=True, data_only=True)


def check_text_rows(text: str, sheet: str, limits: Limits = Limits()) -> None:
    """The row limit for CSV text (a line count, quoted line breaks overcount: safe side)."""
    if text.count("\n") > limits.max_rows + HEADER_ROWS:
        raise WorkbookRejected(TOO_MANY_ROWS, sheet=sheet, limit=limits.max_rows)


def _sheets(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    return [i for i in infos
            if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]


_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SMALL = 1024 * 1024


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Part name -> the sheet's title, for messages; {} when the parts look unusual."""
    try:
        if max(archive.getinfo(n).file_size for n in (_WORKBOOK, _WORKBOOK_RELS)) > _SMALL:
            return {}
        titles: dict[str, str] = {}   # relationship id -> title
        targets: dict[str, str] = {}  # relationship id -> part
        _each_element(archive.read(_WORKBOOK), lambda name, a: titles.__setitem__(
            a.get("r:id", ""), a.get("name", "")) if name.endswith("sheet") else None)
        _each_element(archive.read(_WORKBOOK_RELS), lambda name, a: targets.__setitem__(
            a.get("Id", ""), a.get("Target", "")) if name.endswith("Relationship") else None)
    except (KeyError, ValueError, expat.ExpatError, zipfile.BadZipFile, _Stop):
        return {}
    return {"xl/" + targets[rid].lstrip("/").removeprefix("xl/"): title
            for rid, title in titles.items() if rid in targets}


def _each_element(xml: bytes, handle) -> None:
    parser = expat.ParserCreate()
    parser.StartElementHandler = handle
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.Parse(xml, True)


def _refuse_dtd(*_args: Any) -> None:
    raise _Stop


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


class _Stop(Exception):
    pass


def _scan_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, limits: Limits,
                cells: int) -> tuple[int, int]:
    """Count rows, columns and cells of one worksheet part as it inflates: (rows, cells
    so far in the workbook)."""
    state = {"rows": 0, "in_row": 0, "cells": cells}
    problem: list[WorkbookRejected] = []

    def stop(msgid: str, **params: Any) -> None:
        problem.append(WorkbookRejected(msgid, **params))
        raise _Stop

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "row":
            state["rows"] += 1
            state["in_row"] = 0
            ref = attrs.get("r", "")
            last = limits.max_rows + HEADER_ROWS
            if state["rows"] > last or (ref.isdigit() and int(ref) > last):
                stop(TOO_MANY_ROWS, sheet=sheet, limit=limits.max_rows)
        elif local == "c":
            state["in_row"] += 1
            state["cells"] += 1
            match = _CELL_REF.match(attrs.get("r", ""))
            column = _column_number(match.group(1)) if match and match.group(1) else 0
            if state["in_row"] > limits.max_columns or column > limits.max_columns:
                stop(TOO_MANY_COLUMNS, sheet=sheet, limit=limits.max_columns)
            row = match.group(2) if match else None
            if row and int(row) > limits.max_rows + HEADER_ROWS:
                stop(TOO_MANY_ROWS, sheet=sheet, limit=limits.max_rows)
            if state["cells"] > limits.max_cells:
                stop(TOO_MANY_CELLS, limit=limits.max_cells)

    def doctype(*_args: Any) -> None:
        stop(HAS_DTD)

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    parser.buffer_text = True
    try:
        with archive.open(info) as part:
            while chunk := part.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop:
        raise problem[0] from None
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise WorkbookRejected(NOT_XLSX) from exc
    return state["rows"], state["cells"]
