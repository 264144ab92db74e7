"""Reading the audit log: staff see their county's entries, admins everything.

Filters: who (the acting account), what (an action or a family such as `user`), county and
a date range in Beijing time. Every consequential change writes an entry with `before`
and `after` (record_audit in audit.py); this module only reads them.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from .. import policy
from ..extensions import db
from ..models import AuditLog, County, User

LOCAL = ZoneInfo("Asia/Shanghai")
# Entries of the system actor (policy.SYSTEM, policy.DEMO): no account, named by `system`.
SYSTEM_LABELS: dict[str, Any] = {"cli": _l("System (command line)"),
                                 "demo": _l("System (demo data)")}

# action -> label (actions not listed show their family's label, e.g. "leave.*").
ACTION_LABELS: dict[str, Any] = {
    "user.create": _l("Account created"), "user.create_secretaries": _l("Secretaries' accounts created"),
    "user.update": _l("Account changed"), "user.password_change": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "assignment.create": _l("Village assigned"), "assignment.delete": _l("Assignment removed"),
    "cycle.create": _l("Cycle created"), "cycle.settings": _l("Cycle settings changed"),
    "draw.run": _l("Households drawn"), "draw.void": _l("Draw voided"),
    "draw.run_village": _l("One village drawn"), "draw.void_village": _l("Village draw voided"),
    "village.centre": _l("Village centre changed"), "household.contacts_sent": _l("Contacts sent"),
    "replacement.record": _l("Household replaced"),
    "scorecard.save": _l("Scores saved"), "scorecard.change_after_final": _l("Scores changed after finalisation"),
    "scorecard.import": _l("Scores imported"), "scores.finalise": _l("Scores finalised"),
    "scores.restate": _l("Results restated"), "scores.unlock": _l("Finalisation reopened"),
    "roster.import": _l("Roster imported"), "village.update": _l("Village changed"),
    "village.checkin_token.rotate": _l("Check-in code renewed"),
    "meeting.create": _l("Meeting created"), "meeting.update": _l("Meeting changed"),
    "meeting.close": _l("Meeting closed"), "meeting.tallies": _l("Paper tallies entered"),
    "leave.request": _l("Leave requested"), "leave.approved": _l("Leave approved"),
    "leave.rejected": _l("Leave rejected"), "leave.cancelled": _l("Leave cancelled"),
    "spot_check.record": _l("Spot check recorded"),
    "discipline.confirm": _l("Work discipline confirmed"),
    "discipline.override": _l("Work discipline overridden"),
}
FAMILY_LABELS: dict[str, Any] = {
    "user": _l("Accounts"), "assignment": _l("Assignments"), "cycle": _l("Cycles"),
    "draw": _l("Draws"), "replacement": _l("Replacements"), "scorecard": _l("Scores"),
    "scores": _l("Finalisation"), "roster": _l("Roster"), "village": _l("Villages"),
    "meeting": _l("Meetings"), "leave": _l("Leave"), "spot_check": _l("Spot checks"),
    "discipline": _l("Work discipline"), "visit": _l("Visit review"),
    "household": _l("Households"),
}


# Field and value labels for the page (the API gives the raw before/after).
FIELD_LABELS: dict[str, Any] = {
    "status": _l("Status"), "reason": _l("Reason"), "seed": _l("Public seed"),
    "villages": _l("Villages"), "eligible": _l("Eligible households"),
    "village_code": _l("Village code"), "reserve_household_no": _l("Reserve activated"),
    "conflict": _l("Second report"), "name": _l("Name"), "role": _l("Role"),
    "county_id": _l("County or district"), "secretary_id": _l("First secretary"),
    "is_active": _l("Active"), "phone": _l("Mobile number"), "password": _l("Password"),
    "sessions": _l("Logins ended"), "other_sessions": _l("Other logins"),
    "finalised": _l("Finalised"), "graded": _l("Graded"), "incomplete": _l("Not graded"),
    "evaluator": _l("Evaluator"), "work_performance": _l("Work performance"),
    "work_discipline": _l("Work discipline"), "work_evaluation": _l("Work evaluation"),
    "seven_ones": _l("Seven ones"), "note": _l("Note"), "accounts": _l("Accounts"),
}
VALUE_LABELS: dict[str, Any] = {
    "active": _l("Active"), "voided": _l("Voided"), "unreachable": _l("Unreachable"),
    "pending": _l("To visit"), "reserve_active": _l("Reserve, activated"),
    "reserve_unused": _l("Reserve, not used"), "visited": _l("Visited"),
    "admin": _l("City administrator"), "county_staff": _l("County staff"),
    "evaluator": _l("Evaluator"), "secretary": _l("First secretary"),
    "old": _l("Old"), "new": _l("New"), "reset": _l("Reset"),
}


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that changed, in words for people."""
    if not isinstance(before, dict) and not isinstance(after, dict):
        return [] if before == after else [("", _value(before), _value(after))]
    before, after = before or {}, after or {}
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        if before.get(key) != after.get(key):
            rows.append((_field(key), _value(before.get(key)), _value(after.get(key))))
    return rows


def _field(key: str) -> str:
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    if key.isdigit():  # results keyed by secretary id
        return f"#{key}"
    return str(_l("Other field"))


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, (dict, list)):
        return str(_l("%(n)d items", n=len(value)))
    text = str(value)
    if text in VALUE_LABELS:
        return str(VALUE_LABELS[text])
    return text if "_" not in text or " " in text else str(_l("(code)"))


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action) or FAMILY_LABELS.get(action.split(".", 1)[0])
    return str(label) if label is not None else str(_l("Other change"))


def audit_query(actor: User, *, actor_id: int | None = None, action: str | None = None,
                county_id: int | None = None, since: date | None = None,
                until: date | None = None) -> Select:
    """Entries newest first, within what `actor` may see (county staff: their county)."""
    policy.authorize(actor, "read_audit")
    stmt = policy.scope(actor, "read_audit", select(AuditLog)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if actor_id is not None:
        stmt = stmt.where(AuditLog.actor_id == actor_id)
    if action:
        stmt = stmt.where(or_(AuditLog.action == action, AuditLog.action.startswith(f"{action}.")))
    if county_id is not None:
        stmt = stmt.where(AuditLog.county_id == county_id)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= _local_midnight(since))
    if until is not None:
        stmt = stmt.where(AuditLog.at < _local_midnight(until + timedelta(days=1)))
    return stmt


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def actor_choices(actor: User) -> list[User]:
    """The accounts whose entries `actor` may filter by."""
    return list(db.session.scalars(policy.scope(actor, "read_accounts", select(User))
                                   .order_by(User.role, User.name)))


def county_choices(actor: User) -> list[County]:
    """Counties to filter by: only for those who read every county's entries."""
    if not policy.can(actor, "read_audit", policy.CITY):
        return []
    return list(db.session.scalars(select(County).order_by(County.code)))


def entry_view(entry: AuditLog, actors: dict[int, User]) -> dict[str, Any]:
    who = actors.get(entry.actor_id) if entry.actor_id is not None else None
    detail = dict(entry.detail or {})
    system = detail.pop("system", None)
    name = who.name if who else (str(SYSTEM_LABELS.get(system, SYSTEM_LABELS["cli"]))
                                 if entry.actor_id is None else None)
    return {"id": entry.id, "at": entry.at, "actor_id": entry.actor_id,
            "actor_name": name, "actor_phone": who.phone if who else None,
            "county_id": entry.county_id, "action": entry.action,
            "action_label": action_label(entry.action), "object_type": entry.object_type,
            "object_id": entry.object_id, "before": detail.pop("before", None),
            "after": detail.pop("after", None), "detail": detail,
            "changes": changes(entry.detail.get("before"), entry.detail.get("after"))}


def entry_views(entries: list[AuditLog]) -> list[dict[str, Any]]:
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [entry_view(e, actors) for e in entries]
