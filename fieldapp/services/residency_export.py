"""The monthly residency report as CSV (UTF-8 with BOM, for Excel) and XLSX.

Only the table is defined here (columns, one row per secretary). Writing it, the BOM,
streaming, the write-only workbook and CSV-injection neutralising (text starting with
= + - @, a tab or CR gets a leading apostrophe) all come from `services/exports.py`, the
one implementation every download shares.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import exports

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


def columns() -> list[exports.Column]:
    """The header row in the request's language (numbers written as whole numbers)."""
    return [exports.Column(str(title), width, None if key in _TEXT_KEYS else "0")
            for key, title, width in COLUMNS]


_TEXT_KEYS = {"town", "village_code", "village_name", "secretary_name", "compliant",
              "leave_over_limit"}


def report_rows(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Plain cell values; `exports` neutralises formulas when it writes them."""
    labels = _labels()
    keys = [key for key, _h, _w in COLUMNS]

    def generate() -> Iterator[list[Any]]:
        for row in rows:
            yield [_cell(key, row, labels) for key in keys]
    return generate()


def report_filename_stem(report: dict[str, Any]) -> str:
    return f"residency-{report['county'].code}-{report['year']:04d}-{report['month']:02d}"


def report_response(report: dict[str, Any], fmt: str) -> Response:
    """The report as a `csv` or `xlsx` download."""
    title = f"{report['year']:04d}-{report['month']:02d}"
    return exports.table_response(fmt, report_filename_stem(report), title, columns(),
                                  report_rows(report["rows"]))
