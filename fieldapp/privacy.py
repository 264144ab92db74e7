"""Personal data rules in one place: who sees an ID number unmasked."""
from __future__ import annotations

from .domain.idcard import mask_id_number


def visible_id_number(viewer_role: str | None, id_number: str | None) -> str | None:
    """Only the city admin sees full ID numbers; staff see them masked; evaluators (who
    only need to find the house) not at all."""
    if id_number is None or viewer_role == "evaluator":
        return None
    return id_number if viewer_role == "admin" else mask_id_number(id_number)


def sees_registry_details(viewer_role: str | None) -> bool:
    """The registry's classification of a household (attribute, exit status and year) is
    for staff; an evaluator gets what finding the house needs."""
    return viewer_role in ("admin", "county_staff")


def masked_for_export(id_number: str | None) -> str | None:
    """Downloads leave the system as files: ID numbers are masked in them for every role."""
    return mask_id_number(id_number) if id_number is not None else None
