"""Shared column types and helpers for all models."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone

from decimal import Decimal

from sqlalchemy import DateTime, Numeric, TypeDecorator

from ..domain.points import half_up


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_token(nbytes: int = 16) -> str:
    """An unguessable URL-safe token (QR codes, ballots, posters)."""
    return secrets.token_urlsafe(nbytes)


def new_uuid() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every engine.

    SQLite has no time zones and would hand back naive values; PostgreSQL returns aware
    ones. Storing UTC and re-attaching tzinfo makes both behave the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Points(TypeDecorator):
    """Exact decimal points (NUMERIC(precision, scale)); Python sees `Decimal`.

    PostgreSQL stores and returns NUMERIC exactly. SQLite has no decimal type: its NUMERIC
    column keeps a REAL, which holds every value with 2 (or 4) decimals up to 100 to well
    within its 15 significant digits, so reading it back through its shortest decimal form
    and rounding to the column's scale gives exactly the Decimal that was written.
    """

    impl = Numeric(6, 2)
    cache_ok = True

    def __init__(self, precision: int = 6, scale: int = 2):
        super().__init__()
        self.impl = Numeric(precision, scale)
        self.scale = scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            # asdecimal=False: SQLAlchemy would otherwise warn that SQLite has no decimals;
            # the exact conversion happens in process_result_value.
            return dialect.type_descriptor(Numeric(self.impl.precision, self.scale, asdecimal=False))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return half_up(value, self.scale)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return half_up(value if isinstance(value, Decimal) else value, self.scale)
