"""Write to the audit log. The caller's transaction commits it with the change it records."""
from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditLog, User
from .policy import SystemActor, is_system


def record_audit(actor: User | SystemActor, action: str, obj: Any = None, *,
                 county_id: int | None = None, **detail: Any) -> AuditLog:
    """`actor` is a user, or policy.SYSTEM / policy.DEMO (no account: the entry names the
    system in `detail["system"]`); never None."""
    if actor is None:
        raise TypeError("record_audit needs an actor (policy.SYSTEM for the command line)")
    if is_system(actor):
        detail["system"] = actor.label
    entry = AuditLog(
        actor_id=actor.id,
        county_id=county_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        detail=detail,
    )
    db.session.add(entry)
    return entry
