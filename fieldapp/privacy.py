"""Personal data leaving the system as files: ID numbers are masked in every download,
whoever asks. (Who sees what on screen is fieldapp/policy.py's: `visible_id_number`.)"""
from __future__ import annotations

from .domain.idcard import mask_id_number


def masked_for_export(id_number: str | None) -> str | None:
    """Downloads leave the system as files: ID numbers are masked in them for every role."""
    return mask_id_number(id_number) if id_number is not None else None
