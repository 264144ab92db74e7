"""Cleaning and parsing of spreadsheet cells.

Rosters are typed by hand in Excel or WPS on Chinese input methods, so cells carry
full-width digits (３), ideographic spaces (U+3000), non-breaking spaces pasted from web
pages and zero-width characters. Every cell goes through `normalise_cell` before any check.

The `parse_*` helpers take what openpyxl or the csv module hands over (str, int, float,
bool, datetime, date or None). They return None for an empty cell and raise ValueError
for a value they cannot read; the caller turns that into a row error.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

# Full-width ASCII block U+FF01..U+FF5E maps onto U+0021..U+007E; U+3000 is the
# ideographic space. NBSP and friends become plain spaces so that strip() removes them.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x2007: 0x20, 0x202F: 0x20})
# Invisible characters that never carry meaning in roster data: drop them everywhere.
_HALF_WIDTH.update({code: None for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD)})

# Excel's day zero (serial 1 = 1900-01-01, counting the non-existent 1900-02-29).
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
# A date written by a CSV export of a datetime cell: "2024-01-05 00:00:00" / "…T00:00".
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def normalise_cell(value: object) -> str | None:
    """Return the cell as a clean half-width string, or None when it is empty.

    Non-string values are rendered the way a person would read them: 3.0 -> '3',
    a datetime -> its ISO date (time dropped only when it is midnight).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.translate(_HALF_WIDTH).strip()
        return text or None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def clean_value(value: object) -> object:
    """Normalise strings, keep typed cells (int, float, date, ...) as they are."""
    if isinstance(value, str):
        return normalise_cell(value)
    return value


def parse_int(value: object) -> int | None:
    """Read an integer: 3, 3.0, '3', '３', '3.0', ' 3 '. Fractions raise ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise ValueError(f"not an integer: {value!r}")
    text = normalise_cell(value)
    if text is None:
        return None
    text = text.replace(",", "")
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.0*", text):
        return int(text.split(".")[0])
    raise ValueError(f"not an integer: {text!r}")


def parse_float(value: object) -> float | None:
    """Read a finite decimal number: 34.36, '34.36', '３４．３６'. NaN/inf raise ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = normalise_cell(value)
        if text is None:
            return None
        # float() accepts 'nan', 'inf', '1_0': allow plain decimal notation only.
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            raise ValueError(f"not a number: {text!r}")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError("number is not finite")
    return number


def parse_date(value: object) -> date | None:
    """Read a date from a datetime/date cell, an Excel serial number or text.

    Text forms: 2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105, optionally followed
    by a time (CSV exports of date cells). Impossible dates raise ValueError.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("boolean is not a date")
    if isinstance(value, (int, float)):
        # A number cell formatted as General: Excel serial days (1..9999-12-31).
        if not (math.isfinite(value) and 1 <= value <= 2958465):
            raise ValueError(f"not a date serial: {value!r}")
        return _EXCEL_EPOCH + timedelta(days=int(value))
    text = normalise_cell(value)
    if text is None:
        return None
    text = _TIME_SUFFIX.sub("", text).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)  # raises ValueError for 2023-02-30
    raise ValueError(f"not a date: {text!r}")


def parse_year(value: object) -> int | None:
    """Read a year: 2019, 2019.0, '2019', '２０１９', '2019年'."""
    if isinstance(value, str):
        text = normalise_cell(value)
        if text is not None and text.endswith("年"):
            value = text[:-1].strip()
    return parse_int(value)
