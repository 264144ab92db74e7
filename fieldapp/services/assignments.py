"""Which evaluator visits which village in a cycle. County staff assign their own county's
evaluators to their own county's villages (policy `assign`: the evaluator and every village
must be within the actor's reach); admins anywhere (same-county pairs only).

A village may be assigned before it is drawn (teams are formed before the public draw
day, and a village added mid-year often already has its evaluator): the assignment is
stored with a warning, the staff pages mark it 尚未抽样, and the phone lists the village as
尚未抽样 until the draw exists. Nothing is silent."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..errors import AppError
from ..extensions import db
from ..models import Cycle, EvaluatorAssignment, User, Village
from .draws import drawn_village_ids


MAX_BULK = 500  # villages in one bulk assignment (a county has about 80)


def _check(actor: User, cycle: Cycle, evaluator: User, villages: list[Village],
           field: str) -> None:
    """Every check, before anything is stored: the policy (403: the cycle, the evaluator and
    every village within reach), then the pairs (422), then the cycle's lock (409). `field`
    names the villages' input field in the errors."""
    policy.authorize(actor, "read_cycles", cycle)
    policy.authorize(actor, "assign", evaluator)
    for village in villages:
        policy.authorize(actor, "assign", village)
    errors: dict[str, list[str]] = {}
    # Only an account that may record visits can be sent to visit (policy `record_visit`).
    if not policy.can(evaluator, "record_visit") or not evaluator.is_active:
        errors["user_id"] = [_("Choose an active evaluator account.")]
    else:
        foreign = [v for v in villages if v.county_id != evaluator.county_id]
        if foreign and len(villages) == 1:
            errors["user_id"] = [_("The evaluator belongs to another county.")]
        elif foreign:
            errors[field] = [_("Not in the evaluator's county: %(villages)s.",
                               villages=", ".join(f"{v.name} {v.code}" for v in foreign))]
    uncovered = [v for v in villages if not cycle.covers_county(v.county_id)]
    if uncovered and len(villages) == 1:
        errors[field] = [_("This cycle does not cover the village's county.")]
    elif uncovered:
        errors.setdefault(field, []).append(_(
            "This cycle does not cover these villages' county: %(villages)s.",
            villages=", ".join(f"{v.name} {v.code}" for v in uncovered)))
    if errors:
        raise AppError("validation_failed", errors=errors)
    if cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))


def _store(actor: User, cycle: Cycle, evaluator: User, village: Village) -> EvaluatorAssignment:
    assignment = EvaluatorAssignment(cycle_id=cycle.id, user_id=evaluator.id, village_id=village.id)
    db.session.add(assignment)
    db.session.flush()
    record_audit(actor, "assignment.create", assignment, county_id=village.county_id,
                 cycle_id=cycle.id, user_id=evaluator.id, village_code=village.code,
                 before=None, after={"evaluator": evaluator.phone, "village_code": village.code})
    return assignment


def assign(actor: User, cycle: Cycle, evaluator: User, village: Village) -> EvaluatorAssignment:
    """One village; an existing pair is a conflict (409)."""
    _check(actor, cycle, evaluator, [village], "village_id")
    if db.session.scalar(select(EvaluatorAssignment.id).where(
            EvaluatorAssignment.cycle_id == cycle.id, EvaluatorAssignment.user_id == evaluator.id,
            EvaluatorAssignment.village_id == village.id)) is not None:
        raise AppError("conflict", _("This evaluator is already assigned to this village."))
    assignment = _store(actor, cycle, evaluator, village)
    db.session.commit()
    return assignment


def load_villages(actor: User, ids: list[int]) -> list[Village]:
    """The villages of a bulk request, in the order given: another county's village is
    forbidden (403) and an unknown id invalid (422), before anything is stored."""
    ids = list(dict.fromkeys(ids))
    found = {v.id: v for v in db.session.scalars(select(Village).where(Village.id.in_(ids)))}
    for village in found.values():
        policy.authorize(actor, "assign", village)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise AppError("validation_failed", errors={"village_ids": [
            _("Unknown villages: %(ids)s.", ids=", ".join(missing))]})
    return [found[i] for i in ids]


def assign_many(actor: User, cycle: Cycle, evaluator: User, villages: list[Village]
                ) -> tuple[list[EvaluatorAssignment], list[Village]]:
    """One evaluator to several villages, all or nothing: every pair is checked first, then
    the new ones are stored in one transaction. Pairs that exist already are not errors: they
    come back as unchanged. Returns (created assignments, unchanged villages)."""
    villages = list({v.id: v for v in villages}.values())  # the same village twice: once
    if not villages:
        raise AppError("validation_failed", errors={"village_ids": [_("Choose at least one village.")]})
    if len(villages) > MAX_BULK:
        raise AppError("validation_failed", errors={"village_ids": [
            _("At most %(n)d villages at a time.", n=MAX_BULK)]})
    _check(actor, cycle, evaluator, villages, "village_ids")
    existing = set(db.session.scalars(select(EvaluatorAssignment.village_id).where(
        EvaluatorAssignment.cycle_id == cycle.id, EvaluatorAssignment.user_id == evaluator.id,
        EvaluatorAssignment.village_id.in_([v.id for v in villages]))))
    created = [_store(actor, cycle, evaluator, v) for v in villages if v.id not in existing]
    db.session.commit()
    return created, [v for v in villages if v.id in existing]


def not_drawn(cycle: Cycle, villages: list[Village]) -> list[Village]:
    """The villages that have no active draw in the cycle yet (assigned with a warning)."""
    drawn = drawn_village_ids(cycle.id, [v.id for v in villages])
    return [v for v in villages if v.id not in drawn]


def mark_drawn(items: list[EvaluatorAssignment]) -> list[EvaluatorAssignment]:
    """Set each assignment's `drawn` (its village has an active draw in its cycle): one
    query per cycle, for listings."""
    by_cycle: dict[int, set[int]] = {}
    for a in items:
        by_cycle.setdefault(a.cycle_id, set()).add(a.village_id)
    drawn = {cid: drawn_village_ids(cid, list(ids)) for cid, ids in by_cycle.items()}
    for a in items:
        a.drawn = a.village_id in drawn[a.cycle_id]  # type: ignore[attr-defined]
    return items


def unassign(actor: User, assignment: EvaluatorAssignment) -> None:
    village = assignment.village
    policy.authorize(actor, "assign", assignment)
    if assignment.cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))
    record_audit(actor, "assignment.delete", assignment, county_id=village.county_id,
                 cycle_id=assignment.cycle_id, user_id=assignment.user_id,
                 village_code=village.code, after=None,
                 before={"evaluator": assignment.user.phone, "village_code": village.code})
    db.session.delete(assignment)
    db.session.commit()
