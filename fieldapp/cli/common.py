"""Helpers shared by command modules."""
from __future__ import annotations

import functools

import click
from sqlalchemy import or_, select

from ..errors import AppError
from ..extensions import db
from ..models import County
from ..services.roster_places import ensure_county


def find_county(ref: str, create: bool = False) -> County:
    """A county by name or 6-digit code; with `create`, a code of the install's city that
    has no county yet is created from the shipped official codes."""
    county = db.session.scalar(select(County).where(or_(County.code == ref, County.name == ref)))
    if county is None and create and ref.isdigit() and len(ref) == 6:

        county = ensure_county(ref)
        if county is not None:
            db.session.commit()
    if county is None:
        raise click.ClickException(f"unknown county: {ref} (give its 6-digit code to add it)")
    return county


def fail_on_app_error(fn):
    """Show an AppError as a clean message and exit status 1, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AppError as err:
            db.session.rollback()
            lines = [f"{err.code}: {err.message}"]
            for field, messages in err.errors.items():
                lines.extend(f"  {field}: {m}" for m in messages)
            raise click.ClickException("\n".join(lines)) from err
    return wrapper
