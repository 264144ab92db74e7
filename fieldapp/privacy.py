"""Personal data rules in one place: who sees an ID number unmasked."""
from __future__ import annotations

from .domain.idcard import mask_id_number


def visible_id_number(viewer_role: str | None, id_number: str | None) -> str | None:
    """Only the city admin sees full ID numbers; everyone else sees them masked."""
    if id_number is None:
        return None
    return id_number if viewer_role == "admin" else mask_id_number(id_number)


def masked_for_export(id_number: str | None) -> str | None:
    """Downloads leave the system as files: ID numbers are masked in them for every role."""
    return mask_id_number(id_number) if id_number is not None else None
