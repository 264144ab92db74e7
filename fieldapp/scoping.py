"""The one place that decides what a user may see.

Every listing query goes through `scoped(stmt, user, Model)`; every single-object access
through `require_*`. Routes never filter by role themselves.

Rules:
- admin: everything (the city).
- county_staff: rows of their own county.
- evaluator: rows of villages assigned to them in a cycle (EvaluatorAssignment); of the
  households, only those they must find: their samples and activated reserves, while
  the cycle is open (`findable_entries`).
- secretary: their own FirstSecretary's rows only, and never household-level rows.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select

from .errors import AppError
from .extensions import db
from .models import (Cycle, Draw, EvaluatorAssignment, FirstSecretary, Household, Replacement,
                     SampleEntry, User, Village, VillageDraw, Visit)


def assigned_village_ids(user: User, cycle_id: int | None = None) -> Select:
    stmt = select(EvaluatorAssignment.village_id).where(EvaluatorAssignment.user_id == user.id)
    if cycle_id is not None:
        stmt = stmt.where(EvaluatorAssignment.cycle_id == cycle_id)
    else:
        open_cycles = select(Cycle.id).where(Cycle.status == "open")
        stmt = stmt.where(EvaluatorAssignment.cycle_id.in_(open_cycles))
    return stmt


def visible_village_ids(user: User) -> Select | None:
    """A subquery of village ids the user may see, or None for 'all'."""
    if user.role == "admin":
        return None
    if user.role == "county_staff":
        return select(Village.id).where(Village.county_id == user.county_id)
    if user.role == "evaluator":
        return assigned_village_ids(user)
    if user.role == "secretary" and user.secretary_id is not None:
        return select(FirstSecretary.village_id).where(FirstSecretary.id == user.secretary_id)
    return select(Village.id).where(false())


# Models holding household-level answers or personal data: secretaries never see them.
HOUSEHOLD_LEVEL = {Household, SampleEntry, VillageDraw, Replacement, Visit}


def register_household_level(*models: Any) -> None:
    """Areas with household-level rows (visits, ballots...) add their models here."""
    HOUSEHOLD_LEVEL.update(models)


def findable_entries(user: User) -> Select:
    """Sample entries whose household `user` (an evaluator) must find: in their assigned
    villages' active draws, sampled or an activated reserve, in open cycles. The house
    finder (contacts, coordinates, directions) applies to these households only."""
    return (select(SampleEntry.id).join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(Cycle, Draw.cycle_id == Cycle.id)
            .join(EvaluatorAssignment, (EvaluatorAssignment.cycle_id == Cycle.id)
                  & (EvaluatorAssignment.village_id == VillageDraw.village_id))
            .where(EvaluatorAssignment.user_id == user.id, Cycle.status == "open",
                   Draw.status == "active", VillageDraw.status == "active",
                   (SampleEntry.role == "sample") | (SampleEntry.status == "reserve_active")))


def finds_households(entry: SampleEntry) -> bool:
    """May the house finder show this entry's contacts and coordinates (to its evaluator)?"""
    return entry.role == "sample" or entry.status == "reserve_active"


def scoped(stmt: Select, user: User, model: Any) -> Select:
    """Restrict a SELECT over `model` to the rows `user` may see."""
    if user.role == "admin":
        return stmt
    if model is Household and user.role == "evaluator":
        return stmt.where(Household.id.in_(
            select(SampleEntry.household_id).where(SampleEntry.id.in_(findable_entries(user)))))
    if user.role == "secretary" and model in HOUSEHOLD_LEVEL:
        return stmt.where(false())
    if model is Village:
        return stmt.where(Village.id.in_(visible_village_ids(user)))
    if model is FirstSecretary and user.role == "secretary":
        return stmt.where(FirstSecretary.id == user.secretary_id)
    if user.role == "secretary" and hasattr(model, "secretary_id"):
        # A secretary's own rows only, not a predecessor's in the same village.
        return stmt.where(model.secretary_id == user.secretary_id)
    if model is User:
        if user.role == "county_staff":
            return stmt.where(User.county_id == user.county_id)
        return stmt.where(User.id == user.id)
    if model is Cycle:
        county_id = _user_county_id(user)
        return stmt.where((Cycle.county_id.is_(None)) | (Cycle.county_id == county_id))
    if model is Visit and user.role == "evaluator":
        # An evaluator sees their own visits, not a colleague's in the same village.
        return stmt.where(Visit.evaluator_id == user.id)
    if model is Draw:  # a county's draws (its village_id marks a single-village draw)
        return stmt.where(Draw.county_id == _user_county_id(user))
    if hasattr(model, "village_id"):
        return stmt.where(model.village_id.in_(visible_village_ids(user)))
    if hasattr(model, "county_id"):
        return stmt.where(model.county_id == _user_county_id(user))
    raise TypeError(f"no scoping rule for {model!r}")  # fail closed, loudly


def _user_county_id(user: User) -> int | None:
    if user.county_id is not None:
        return user.county_id
    if user.role == "secretary" and user.secretary is not None:
        return user.secretary.village.county_id
    return None


def can_see_village(user: User, village_id: int) -> bool:
    ids = visible_village_ids(user)
    if ids is None:
        return True
    found = db.session.scalar(
        select(Village.id).where(Village.id == village_id, Village.id.in_(ids)))
    return found is not None


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise AppError("forbidden")


def require_county(user: User, county_id: int) -> None:
    """Staff act only in their own county; admins anywhere."""
    if user.role == "admin":
        return
    if user.role == "county_staff" and user.county_id == county_id:
        return
    raise AppError("forbidden")


# Accounts a county's staff look after: the field roles of their own county.
COUNTY_MANAGED_ROLES = ("evaluator", "secretary")


def require_account_creation(user: User, role: str, county_id: int | None) -> None:
    """Create an account of `role` in `county_id`: admins any; county staff the field
    roles of their own county."""
    if user.role == "admin":
        return
    if (user.role == "county_staff" and role in COUNTY_MANAGED_ROLES
            and county_id is not None and county_id == user.county_id):
        return
    raise AppError("forbidden")


def require_account_manager(user: User, target: User) -> None:
    """Reset, deactivate or edit another account: admins any; county staff the evaluators
    and secretaries of their own county; nobody else."""
    if user.role == "admin":
        return
    if (user.role == "county_staff" and target.role in COUNTY_MANAGED_ROLES
            and target.county_id is not None and target.county_id == user.county_id):
        return
    raise AppError("forbidden")


def require_village(user: User, village: Village) -> None:
    if not can_see_village(user, village.id):
        raise AppError("forbidden")


def get_or_404(model: Any, ident: Any) -> Any:
    obj = db.session.get(model, ident)
    if obj is None:
        raise AppError("not_found")
    return obj


def require_cycle(user: User, cycle: Cycle) -> None:
    """Read access to a cycle: admins all; others the city-wide cycles and their county's."""
    if user.role == "admin":
        return
    if cycle.county_id is None or cycle.county_id == _user_county_id(user):
        return
    raise AppError("forbidden")


def visible_entries(user: User, entries: list[SampleEntry]) -> list[SampleEntry]:
    """A village draw's households as `user` may see them: evaluators only the drawn ones
    (sample and reserves); staff every eligible household (the published lists)."""
    if user.role == "evaluator":
        return [e for e in entries if e.role in ("sample", "reserve")]
    return entries


def require_village_draw(user: User, village_draw: VillageDraw) -> None:
    """A village's sample (household level): admins; staff of the village's county; an
    evaluator assigned to that village in the draw's cycle; never secretaries."""
    if user.role == "admin":
        return
    if user.role == "county_staff" and village_draw.village.county_id == user.county_id:
        return
    if user.role == "evaluator":
        found = db.session.scalar(select(EvaluatorAssignment.id).where(
            EvaluatorAssignment.user_id == user.id,
            EvaluatorAssignment.village_id == village_draw.village_id,
            EvaluatorAssignment.cycle_id == village_draw.draw.cycle_id))
        if found is not None:
            return
    raise AppError("forbidden")
