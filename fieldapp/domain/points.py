"""Points are money-like: exact decimals, rounded half up (四舍五入) to 2 places at entry.

Every entry point (the API, the staff form, the XLSX import, the discipline decision)
turns what it received into points with `to_points`, so 59.995 is 60.00 everywhere and
never 59.99 (the binary float nearest 59.995 is 59.99499999999999744...).

A number that arrives as a binary float (a JSON number, an XLSX numeric cell) is read
through its shortest decimal form (`repr`), which is what was typed: 59.995 -> "59.995".
Send strings ("59.995") where even that must not be relied on.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class NotPoints(ValueError):
    """The value is not a finite number."""


def exact(value: object) -> Decimal:
    """A Decimal equal to what was typed: ints, Decimals and decimal strings exactly,
    floats by their shortest decimal form. Raises NotPoints for anything else."""
    if isinstance(value, bool) or value is None:
        raise NotPoints(value)
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise NotPoints(value)
        d = Decimal(repr(value))
    elif isinstance(value, Fraction):
        d = Decimal(value.numerator) / Decimal(value.denominator)
    elif isinstance(value, str):
        text = value.strip().replace("，", ".").replace(",", ".")
        try:
            d = Decimal(text)
        except InvalidOperation as err:
            raise NotPoints(value) from err
    else:
        raise NotPoints(value)
    if not d.is_finite():
        raise NotPoints(value)
    return d


def half_up(value: object, places: int = 2) -> Decimal:
    """Round half up (away from zero at .5) to `places` decimals, exactly."""
    if isinstance(value, Fraction):
        scale = 10 ** places
        n = math.floor(abs(value) * scale + Fraction(1, 2))
        d = Decimal(n if value >= 0 else -n).scaleb(-places)
        return d.quantize(Decimal(1).scaleb(-places))
    try:
        return exact(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation as err:  # too many digits to hold (1e999): not points
        raise NotPoints(value) from err


def to_points(value: object) -> Decimal:
    """What an entry point stores: the value rounded half up to 2 decimals."""
    return half_up(value, 2)


def in_range(points: Decimal, top: int | Decimal) -> bool:
    return ZERO <= points <= Decimal(top)


def as_text(points: Decimal | None) -> str | None:
    """Points as the API sends them: a decimal string with 2 places, e.g. "60.00"."""
    return None if points is None else str(to_points(points))
