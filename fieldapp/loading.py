"""Load a row by id for a request: 404 when there is none (access is policy.py's)."""
from __future__ import annotations

from typing import Any

from .errors import AppError
from .extensions import db


def get_or_404(model: Any, ident: Any) -> Any:
    obj = db.session.get(model, ident)
    if obj is None:
        raise AppError("not_found")
    return obj
