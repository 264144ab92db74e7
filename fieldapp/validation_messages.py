"""Marshmallow's built-in messages, in the request's language.

Marshmallow writes its default messages in English ("Missing data for required field.").
Every field-level error passes through `translate_message` on its way out, so the phone
and the staff pages show them in Chinese like the rest of the UI.
"""
from __future__ import annotations

import re

from flask_babel import gettext

from .domain import N_

# (pattern of marshmallow's English message, msgid with the same named groups)
PATTERNS = [
    (r"Missing data for required field\.", N_("This field is required.")),
    (r"Unknown field\.", N_("This field is not allowed.")),
    (r"Field may not be null\.", N_("This field may not be empty.")),
    (r"Not a valid integer\.", N_("Enter a whole number.")),
    (r"Not a valid number\.", N_("Enter a number.")),
    (r"Not a valid string\.", N_("Enter text.")),
    (r"Not a valid boolean\.", N_("Enter yes or no.")),
    (r"Not a valid date\.", N_("Enter a valid date (YYYY-MM-DD).")),
    (r"Not a valid datetime\.", N_("Enter a valid date and time.")),
    (r"Not a valid aware datetime\.|Not a valid timezone-aware datetime\.",
     N_("Enter a date and time with a time zone.")),
    (r"Not a valid UUID\.", N_("Enter a valid UUID.")),
    (r"Not a valid list\.", N_("Enter a list.")),
    (r"Not a valid mapping type\.", N_("Enter an object.")),
    (r"Invalid input type\.", N_("Invalid input type.")),
    (r"Invalid value\.", N_("Invalid value.")),
    (r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
     N_("Must be between %(min)s and %(max)s.")),
    (r"Must be greater than or equal to (?P<min>\S+)\.", N_("Must be at least %(min)s.")),
    (r"Must be less than or equal to (?P<max>\S+)\.", N_("Must be at most %(max)s.")),
    (r"Must be greater than (?P<min>\S+)\.", N_("Must be more than %(min)s.")),
    (r"Must be less than (?P<max>\S+)\.", N_("Must be less than %(max)s.")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
     N_("Length must be between %(min)s and %(max)s.")),
    (r"Shorter than minimum length (?P<min>\d+)\.", N_("At least %(min)s characters.")),
    (r"Longer than maximum length (?P<max>\d+)\.", N_("At most %(max)s characters.")),
    (r"Must be one of: (?P<choices>.+)\.", N_("Must be one of: %(choices)s.")),
]
_COMPILED = [(re.compile(rf"^{pattern}$"), msgid) for pattern, msgid in PATTERNS]


def translate_message(message: str) -> str:
    for pattern, msgid in _COMPILED:
        match = pattern.match(message)
        if match:
            return gettext(msgid, **match.groupdict())
    return message
