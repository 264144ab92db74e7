"""Write to the audit log. The caller's transaction commits it with the change it records."""
from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditLog, User


def record_audit(actor: User | None, action: str, obj: Any = None, *,
                 county_id: int | None = None, **detail: Any) -> AuditLog:
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        county_id=county_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
