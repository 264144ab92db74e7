"""Which evaluator visits which village in a cycle. County staff assign their own county's
evaluators to their own county's villages; admins anywhere (same-county pairs only)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import record_audit
from ..errors import AppError
from ..extensions import db
from ..models import Cycle, EvaluatorAssignment, User, Village
from ..scoping import require_county


def assign(actor: User | None, cycle: Cycle, evaluator: User, village: Village) -> EvaluatorAssignment:
    if actor is not None:
        require_county(actor, village.county_id)
    errors: dict[str, list[str]] = {}
    if evaluator.role != "evaluator" or not evaluator.is_active:
        errors["user_id"] = [_("Choose an active evaluator account.")]
    elif evaluator.county_id != village.county_id:
        errors["user_id"] = [_("The evaluator belongs to another county.")]
    if not cycle.covers_county(village.county_id):
        errors["village_id"] = [_("This cycle does not cover the village's county.")]
    if errors:
        raise AppError("validation_failed", errors=errors)
    if cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))
    if db.session.scalar(select(EvaluatorAssignment.id).where(
            EvaluatorAssignment.cycle_id == cycle.id, EvaluatorAssignment.user_id == evaluator.id,
            EvaluatorAssignment.village_id == village.id)) is not None:
        raise AppError("conflict", _("This evaluator is already assigned to this village."))
    assignment = EvaluatorAssignment(cycle_id=cycle.id, user_id=evaluator.id, village_id=village.id)
    db.session.add(assignment)
    db.session.flush()
    record_audit(actor, "assignment.create", assignment, county_id=village.county_id,
                 cycle_id=cycle.id, user_id=evaluator.id, village_code=village.code)
    db.session.commit()
    return assignment


def unassign(actor: User | None, assignment: EvaluatorAssignment) -> None:
    village = assignment.village
    if actor is not None:
        require_county(actor, village.county_id)
    if assignment.cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))
    record_audit(actor, "assignment.delete", assignment, county_id=village.county_id,
                 cycle_id=assignment.cycle_id, user_id=assignment.user_id,
                 village_code=village.code)
    db.session.delete(assignment)
    db.session.commit()
