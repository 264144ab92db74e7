"""The monthly residency report as CSV (UTF-8 with BOM, for Excel) and XLSX.

Rows are produced lazily and written as they come: CSV is streamed line by line, XLSX
uses openpyxl's write-only workbook (constant memory). Text cells that a spreadsheet
would run as a formula (starting with = + - @, or a tab/CR) get a leading apostrophe
(OWASP "CSV injection").
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (row key, header msgid, column width)
COLUMNS: tuple[tuple[str, Any, int], ...] = (
    ("town", _l("Town"), 12),
    ("village_code", _l("Village code"), 16),
    ("village_name", _l("Village"), 14),
    ("secretary_name", _l("First secretary"), 12),
    ("term_days", _l("Days in term"), 10),
    ("days_present", _l("Days present"), 10),
    ("days_on_leave", _l("Days on leave"), 10),
    ("days_absent", _l("Days absent"), 10),
    ("required_days", _l("Required days"), 10),
    ("compliant", _l("Compliant"), 10),
    ("checkin_count", _l("Check-ins"), 10),
    ("outside_fence_count", _l("Check-ins outside the fence"), 12),
    ("uncounted_count", _l("Check-ins not counted"), 12),
    ("flagged_count", _l("Flagged check-ins"), 12),
    ("spot_checks", _l("Spot checks"), 10),
    ("spot_checks_absent", _l("Absent at spot checks"), 12),
    ("annual_leave_days", _l("Approved leave days this year"), 12),
    ("leave_over_limit", _l("Leave over the yearly limit"), 12),
)


def neutralise(value: Any) -> Any:
    """A string a spreadsheet could read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _labels() -> dict[str, str]:
    """Translated words, looked up once in the request so the row generators need no
    request context (a streamed response outlives it)."""
    return {"in_progress": _("In progress"), "not_judged": _("Not judged"),
            "yes": _("Yes"), "no": _("No")}


def compliant_text(row: dict[str, Any], labels: dict[str, str]) -> str:
    if row["in_progress"]:
        return labels["in_progress"]
    if row["compliant"] is None:
        return labels["not_judged"]
    return labels["yes"] if row["compliant"] else labels["no"]


def _cell(key: str, row: dict[str, Any], labels: dict[str, str]) -> Any:
    if key == "compliant":
        return compliant_text(row, labels)
    value = row[key]
    if isinstance(value, bool):
        return labels["yes"] if value else labels["no"]
    return value


def headers() -> list[str]:
    return [str(h) for _key, h, _w in COLUMNS]


def report_rows(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    labels = _labels()
    keys = [key for key, _h, _w in COLUMNS]

    def generate() -> Iterator[list[Any]]:
        for row in rows:
            yield [neutralise(_cell(key, row, labels)) for key in keys]
    return generate()


def csv_stream(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """UTF-8 with BOM (Excel on Chinese Windows needs it), one chunk per line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([neutralise(h) for h in header])
    yield "\ufeff" + take()
    for row in rows:
        writer.writerow(row)
        yield take()


def xlsx_file(header: list[str], rows: Iterable[list[Any]], widths: list[int],
              title: str) -> io.BytesIO:
    """A write-only workbook with a bold, frozen header row and set column widths."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    from openpyxl.cell import WriteOnlyCell

    bold = []
    for h in header:
        cell = WriteOnlyCell(ws, value=neutralise(h))
        cell.font = Font(bold=True)
        bold.append(cell)
    ws.append(bold)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()  # one county's month: a few hundred rows, well under a megabyte
    wb.save(out)
    out.seek(0)
    return out


def report_csv(report: dict[str, Any]) -> Iterator[str]:
    return csv_stream(headers(), report_rows(report["rows"]))


def report_xlsx(report: dict[str, Any]) -> io.BytesIO:
    title = f"{report['year']:04d}-{report['month']:02d}"
    return xlsx_file(headers(), report_rows(report["rows"]), [w for _k, _h, w in COLUMNS], title)


def report_filename(report: dict[str, Any], ext: str) -> str:
    return f"residency-{report['county'].code}-{report['year']:04d}-{report['month']:02d}.{ext}"
