"""Marshmallow fields shared by API and sync schemas."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import ValidationError, fields

# Anything a phone or a person can mean. Outside it, offsets near datetime's limits make
# the conversion to UTC (and later arithmetic) overflow: 0001-01-01T00:00+14:00.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset, converted to UTC, within EARLIEST..LATEST_YEAR."""

    # Worded like marshmallow's Range so that validation_messages.py translates it.
    default_error_messages = {
        "range": "Must be greater than or equal to {min} and less than or equal to {max}."}

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            utc = parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            utc = None
        if utc is None or not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
            raise self.make_error("range", min=f"{EARLIEST_YEAR}-01-01", max=f"{LATEST_YEAR}-12-31")
        return utc
