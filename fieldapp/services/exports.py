"""Streaming CSV and XLSX downloads that open correctly in Excel, in Chinese.

Generic writers anyone may reuse:
- `csv_response(filename, columns, rows)`: UTF-8 with a BOM (Excel then reads Chinese
  correctly), a generator response, so memory stays flat however many rows;
- `xlsx_response(filename, sheet, columns, rows)`: an openpyxl write-only workbook (rows
  go to a temporary file as they come, not into memory), frozen header, column widths and
  number formats, then streamed from that file in chunks;
- `neutralise(value)`: text cells starting with = + - @ or their full-width forms, also
  after leading spaces, line feeds or control characters (or a tab / carriage return), get
  a leading apostrophe, so Excel never runs them as formulas (CSV injection). Numbers are
  written as numbers and never touched.

- `sql_guard(column, dialect)`: the same guard in SQL, for a table the database writes
  itself; `StreamedTable`: rows that also bring such a CSV body (`csv_chunks` then writes
  the header and streams that body: the households export, scoring/households_csv.py).

`rows` is any iterable of sequences (a generator over a `yield_per` query is ideal); for
CSV it is consumed after the view returned, inside the request context that
`stream_with_context` keeps alive (same session, same locale). The area-specific tables
(scores, satisfaction, households) are built in services/scoring/exports.py.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import quote

from flask import Response, current_app, has_app_context
from sqlalchemy import case, func, literal, null
from sqlalchemy.sql.elements import ColumnElement

# What starts a formula in Excel, WPS or LibreOffice, the full-width forms included (WPS
# and a Chinese IME turn ＝ into =), and what a spreadsheet skips before it: whitespace
# (a space, a line feed, the ideographic space), control and zero-width characters.
FORMULA_CHARS = frozenset("=+-@＝＋－＠")
_SKIPPED = re.compile(r"[\s\x00-\x1f\x7f\u200b-\u200f\u2060\ufeff]*")
BOM = "\ufeff"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 14
    number_format: str | None = None  # e.g. "0.00", "0.0%", "0"


def neutralise(value: Any) -> Any:
    """Make a cell safe for spreadsheets: text whose first character after any skipped
    ones is a formula character, or that starts with a tab or carriage return, is
    prefixed with an apostrophe; other values are returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    rest = value[_SKIPPED.match(value).end():]
    if value[0] in "\t\r" or (rest and rest[0] in FORMULA_CHARS):
        return "'" + value
    return value


def _skipped_chars() -> str:
    """Every character `_SKIPPED` matches (all of them are in the Basic Multilingual Plane)."""
    return "".join(c for c in map(chr, range(0x10000)) if _SKIPPED.fullmatch(c))


SKIPPED_CHARS = _skipped_chars()
# A text cell can only need the guard when it starts with one of these.
GUARD_FIRST = frozenset(SKIPPED_CHARS) | FORMULA_CHARS


def _regex_class(chars: str) -> str:
    return "[" + "".join(f"\\u{ord(c):04x}" for c in sorted(chars) if c != "\x00") + "]"


GUARD_REGEX = f"^([\\t\\r]|{_regex_class(SKIPPED_CHARS)}*{_regex_class(''.join(FORMULA_CHARS))})"


def sql_guard(value: ColumnElement, dialect: str, python_guard: str = "fieldapp_neutralise"
              ) -> ColumnElement:
    """`neutralise` in SQL for a text column (for exports that the database writes):
    exactly the same rule.

    Only a cell whose first character is in GUARD_FIRST is checked further: on PostgreSQL
    by a regular expression of the same classes, on SQLite by calling `neutralise` itself
    (registered on the connection as `python_guard`, see `register_sql_guard`). `value`
    is named several times: give a column, not an expression to compute."""
    firsts = sorted({ord(c) for c in GUARD_FIRST})
    if dialect == "postgresql":
        risky = func.ascii(value).in_(firsts) & value.regexp_match(GUARD_REGEX)
        return case((risky, literal("'") + value), else_=value)
    return case((func.unicode(value).in_(firsts), getattr(func, python_guard)(value)),
                else_=value)


def register_sql_guard(dbapi_connection, name: str = "fieldapp_neutralise") -> None:
    """Make `neutralise` callable from SQLite SQL on this connection (sql_guard)."""
    dbapi_connection.create_function(name, 1, neutralise, deterministic=True)


class StreamedTable:
    """Rows that can also write their own CSV body, faster than row by row in Python.

    Iterating gives the rows (XLSX, or any consumer); `csv_body()` yields the CSV lines
    after the header (bytes or text, lines ending in CRLF), exactly as `csv_chunks` would
    have written the same rows."""

    def __init__(self, rows: Callable[[], Iterator[Sequence[Any]]],
                 csv_body: Callable[[], Iterator[bytes | str]]):
        self._rows = rows
        self.csv_body = csv_body

    def __iter__(self) -> Iterator[Sequence[Any]]:
        return iter(self._rows())


def in_own_context(make_rows: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Run a lazy row generator in an application context of its own (its own database
    session), in the locale of the current request, so it can query chunk by chunk while
    the response streams, after the request context has been torn down.

    The context is pushed when the first row is asked for and popped when the generator
    ends or is closed (a client that disconnects closes it). Between two rows it stays
    the current context of the thread that iterates, which is the WSGI server writing.
    `make_rows` must load what it needs by id: objects of the request's session are
    detached by then."""
    from flask_babel import force_locale, get_locale

    app = current_app._get_current_object()
    locale = str(get_locale() or "zh_Hans") if has_app_context() else "zh_Hans"

    def run() -> Iterator[Any]:
        with app.app_context(), force_locale(locale):
            yield from make_rows()

    return run()


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, Decimal):  # points: exact, as stored ("59.99")
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return neutralise(str(value)) if not isinstance(value, int) else value


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]],
               rows_per_chunk: int = 500) -> Iterator[str | bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(c.title) for c in columns])
    if isinstance(rows, StreamedTable):
        yield buffer.getvalue()
        yield from rows.csv_body()
        return
    n = 0
    for row in rows:
        # Text goes straight to the guard (one call per value); other types are formatted.
        writer.writerow([neutralise(v) if type(v) is str else _csv_text(v) for v in row])
        n += 1
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Response:
    """A generator response. The body is produced after the view returned and its request
    context is gone: `rows` must bring its own context if it queries as it goes (see
    `in_own_context`, used by `scorecard_table` and `satisfaction_table`)."""
    return Response(csv_chunks(columns, rows), content_type=CSV_MIMETYPE,
                    headers={"Content-Disposition": _disposition(filename),
                             "Cache-Control": "no-store"})


def _xlsx_value(value: Any) -> Any:
    """Guarded, then without the control characters XLSX cannot hold (openpyxl would raise)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = neutralise(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def write_xlsx(fh, sheet_title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    bold = Font(bold=True)
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=_xlsx_value(col.title))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in rows:
        out = []
        for col, value in zip(columns, row):
            if isinstance(value, bool):
                value = int(value)
            cell = WriteOnlyCell(ws, value=_xlsx_value(value))
            if col.number_format and isinstance(value, (int, float, Decimal)):
                cell.number_format = col.number_format
            out.append(cell)
        ws.append(out)
    wb.save(fh)


def xlsx_response(filename: str, sheet_title: str, columns: Sequence[Column],
                  rows: Iterable[Sequence[Any]]) -> Response:
    """Build the workbook into a temporary file (write-only: flat memory), then stream it."""
    fh = tempfile.TemporaryFile()
    write_xlsx(fh, sheet_title, columns, rows)
    size = fh.tell()
    fh.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while True:
                data = fh.read(CHUNK)
                if not data:
                    break
                yield data
        finally:
            fh.close()

    return Response(chunks(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": _disposition(filename),
                             "Content-Length": str(size), "Cache-Control": "no-store"})


def table_response(fmt: str, filename_stem: str, sheet_title: str, columns: Sequence[Column],
                   rows: Iterable[Sequence[Any]]) -> Response:
    if fmt == "xlsx":
        return xlsx_response(f"{filename_stem}.xlsx", sheet_title, columns, rows)
    return csv_response(f"{filename_stem}.csv", columns, rows)
