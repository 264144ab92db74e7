"""Chinese resident ID numbers (公民身份号码, GB 11643-1999).

18 characters: a 6-digit region code, the birth date YYYYMMDD, a 3-digit sequence and a
check character computed with ISO 7064 MOD 11-2 ('X' stands for 10).

These are personal data: error messages never repeat the number, and lists show it
masked (`mask_id_number`).
"""

from __future__ import annotations

import re
from datetime import date

from fieldapp.domain import N_

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17-i) mod 11
_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_SHAPE = re.compile(r"\d{17}[\dX]")

ID_EMPTY = N_("The ID number is empty.")
ID_LENGTH = N_("The ID number must have 18 characters, not %(length)s.")
ID_CHARACTERS = N_("The ID number must be 17 digits followed by a digit or X.")
ID_BIRTH_DATE = N_("The birth date inside the ID number is not a valid date.")
ID_CHECKSUM = N_("The ID number's check character does not match: there is a typo in it.")


def check_char(first17: str) -> str:
    """The GB 11643 check character for 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(
    value: str | None, today: date | None = None
) -> tuple[str | None, str | None]:
    """Return (normalised number, None) when valid, else (None, error msgid).

    Normalisation strips spaces and upper-cases a final 'x'. ID_LENGTH takes the
    parameter `length`; the other msgids take none.
    """
    if value is None:
        return None, ID_EMPTY
    text = re.sub(r"\s+", "", str(value)).upper()
    if not text:
        return None, ID_EMPTY
    if len(text) != 18:
        return None, ID_LENGTH
    if not _SHAPE.fullmatch(text):
        return None, ID_CHARACTERS
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None, ID_BIRTH_DATE
    if born.year < 1900 or born > (today or date.today()):
        return None, ID_BIRTH_DATE
    if check_char(text[:17]) != text[17]:
        return None, ID_CHECKSUM
    return text, None


def id_error_params(value: str | None) -> dict[str, object]:
    """The %-parameters for whichever msgid validate_id_number returned."""
    text = re.sub(r"\s+", "", str(value or ""))
    return {"length": len(text)}


def mask_id_number(value: str | None) -> str | None:
    """First 6 + '********' + last 4, e.g. '610302********123X'. Short values are fully masked."""
    if value is None:
        return None
    text = str(value).strip()
    if len(text) <= 10:
        return "*" * len(text)
    return f"{text[:6]}********{text[-4:]}"
