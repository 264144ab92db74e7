"""Who may do what: the one access policy. Nothing else decides.

Roles grant verbs; an object then limits a verb to the acting user's reach (in the spirit
of getodk/central-backend's `auth.canOrReject(verb, actee)`):

- `can(user, verb, obj=None) -> bool`: the user's role grants `verb` and, when an object
  is given, the object is within the user's reach for that verb;
- `authorize(user, verb, obj=None)`: the same, or AppError("forbidden") (403);
- `scope(user, verb, query)`: a SELECT limited to the rows the user may `verb` (no rows at
  all when the role lacks the verb).

There is no `None` actor. The command line and the demo act as `SYSTEM` (an admin's verbs,
the whole city; the audit log records such entries as the system's). `can(None, ...)` raises
TypeError: a missing actor is a bug, never "everything allowed".

Roles grant (S = scoped to the reach below; docs/architecture.md has the same table):

| verb                       | admin | county_staff | evaluator | secretary |
|----------------------------|-------|--------------|-----------|-----------|
| read_self                  | yes   | yes          | yes       | yes       |
| change_own_password        | yes   | yes          | yes       | yes       |
| read_places                | yes   | S            | S         | S         |
| read_instruments           | yes   | yes          | yes       | yes       |
| sync                       | yes   | yes          | yes       | yes       |
| use_staff_pages            | yes   | yes          |           |           |
| import_roster              | yes   | S            |           |           |
| read_households            | yes   | S            | S         |           |
| read_registry_details      | yes   | S            |           |           |
| read_full_id               | yes   |              |           |           |
| call_household             | yes   | S            | S         |           |
| read_secretaries           | yes   | S            |           | S         |
| manage_villages            | yes   | S            |           |           |
| manage_posters             | yes   | S            |           |           |
| read_accounts              | yes   | S            |           |           |
| create_account             | yes   | S            |           |           |
| manage_account             | yes   | S            |           |           |
| change_role                | yes   |              |           |           |
| read_cycles                | yes   | S            |           |           |
| manage_cycles              | yes   | S            |           |           |
| read_assignments           | yes   | S            |           |           |
| assign                     | yes   | S            |           |           |
| draw                       | yes   | S            |           |           |
| void_draw                  | yes   |              |           |           |
| read_draws                 | yes   | S            |           |           |
| read_sample                | yes   | S            | S         |           |
| read_eligible_lists        | yes   | S            |           |           |
| read_replacements          | yes   | S            |           |           |
| read_tasks                 |       |              | yes       |           |
| record_visit               |       |              | S         |           |
| record_replacement         |       |              | S         |           |
| read_visits                | yes   | S            | S         |           |
| review_visits              | yes   | S            |           |           |
| check_in                   |       |              |           | yes       |
| read_own_month             |       |              |           | yes       |
| read_checkins              | yes   | S            |           | S         |
| read_residency_report      | yes   | S            |           |           |
| read_leave                 | yes   | S            |           | S         |
| request_leave              |       |              |           | yes       |
| decide_leave               | yes   | S            |           |           |
| read_spot_checks           | yes   | S            |           |           |
| record_spot_checks         | yes   | S            |           |           |
| read_discipline            | yes   | S            |           |           |
| confirm_discipline         | yes   | S            |           |           |
| read_meetings              | yes   | S            |           |           |
| manage_meetings            | yes   | S            |           |           |
| read_scores                | yes   | S            |           |           |
| enter_scores               | yes   | S            |           |           |
| finalise_scores            | yes   | S            |           |           |
| unlock_scores              | yes   |              |           |           |
| export_scores              | yes   | S            |           |           |
| read_own_scores            |       |              |           | yes       |
| read_audit                 | yes   | S            |           |           |

Reach (S):
- admin and SYSTEM: the whole city (`CITY` stands for "every county at once").
- county_staff: what lies in their county. A city-wide cycle is read by every county and
  changed by admins. Accounts: the evaluators and secretaries of their county.
- evaluator: the villages assigned to them in an open cycle; a village's sample only in
  the draw's cycle, while it is open (one rule for reading the list, visiting and
  replacing); their own visits; of the households only those they must find (samples and
  activated reserves of active draws: `findable_entries`), whose phones they may call.
- secretary: their own FirstSecretary, its village and its rows; never household-level
  rows (visits, samples, ballots).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, false, select, tuple_

from .domain.idcard import mask_id_number
from .errors import AppError
from .extensions import db
from .models import (AuditLog, Cycle, Draw, EvaluatorAssignment, FirstSecretary, Household,
                     County, Replacement, SampleEntry, User, Village, VillageDraw, Visit)

# --- roles and verbs ---------------------------------------------------------------------

EVERYONE = frozenset({"read_self", "change_own_password", "read_places", "read_instruments",
                      "sync"})
STAFF = frozenset({
    "use_staff_pages", "import_roster", "read_households", "read_registry_details",
    "call_household", "read_secretaries", "manage_villages", "manage_posters",
    "read_accounts", "create_account", "manage_account", "read_cycles", "manage_cycles",
    "read_assignments", "assign", "draw", "read_draws", "read_sample", "read_eligible_lists",
    "read_replacements", "read_visits", "review_visits", "read_checkins",
    "read_residency_report", "read_leave", "decide_leave", "read_spot_checks",
    "record_spot_checks", "read_discipline", "confirm_discipline", "read_meetings",
    "manage_meetings", "read_scores", "enter_scores", "finalise_scores", "export_scores",
    "read_audit"})
ADMIN_ONLY = frozenset({"read_full_id", "change_role", "void_draw", "unlock_scores"})
EVALUATOR = frozenset({"read_tasks", "record_visit", "record_replacement", "read_households",
                       "call_household", "read_sample", "read_visits"})
SECRETARY = frozenset({"check_in", "read_own_month", "read_checkins", "read_leave",
                       "request_leave", "read_secretaries", "read_own_scores"})

ROLE_VERBS: dict[str, frozenset[str]] = {
    "admin": EVERYONE | STAFF | ADMIN_ONLY,
    "county_staff": EVERYONE | STAFF,
    "evaluator": EVERYONE | EVALUATOR,
    "secretary": EVERYONE | SECRETARY,
}
VERBS = frozenset().union(*ROLE_VERBS.values())

# Accounts a county's staff look after: the field roles of their own county.
COUNTY_MANAGED_ROLES = frozenset({"evaluator", "secretary"})
# Roles whose reach is the whole city.
CITY_WIDE_ROLES = frozenset({"admin", "system"})


class SystemActor:
    """The trusted operator: the command line and the demo builder. An admin's verbs over
    the whole city; it has no account, so audit entries carry no actor id and name it in
    their detail (`system`: "cli" or "demo")."""

    role = "system"
    id = None
    county_id = None
    secretary_id = None
    secretary = None
    county = None
    is_authenticated = True
    is_active = True

    def __init__(self, label: str):
        self.label = label
        self.name = f"system ({label})"

    def __repr__(self) -> str:
        return f"<SystemActor {self.label}>"


SYSTEM = SystemActor("cli")
DEMO = SystemActor("demo")


def is_system(user: Any) -> bool:
    return isinstance(user, SystemActor)


# --- objects that are not rows -----------------------------------------------------------


@dataclass(frozen=True)
class InCounty:
    """Something about to exist in a county (a new cycle, an import's row, a county draw);
    `county_id` None stands for the whole city at once."""
    county_id: int | None


CITY = InCounty(None)


@dataclass(frozen=True)
class AccountDraft:
    """An account about to be created: its role and county."""
    role: str
    county_id: int | None


@dataclass(frozen=True)
class CountyCycle:
    """One county's scores in a cycle."""
    cycle: Cycle
    county_id: int


# --- asking -------------------------------------------------------------------------------


def _verbs_of(user: Any) -> frozenset[str]:
    if user is None:
        raise TypeError("no actor: the command line and the demo act as policy.SYSTEM")
    if is_system(user):
        return ROLE_VERBS["admin"]
    if not getattr(user, "is_authenticated", False):
        return frozenset()  # anonymous
    if not getattr(user, "is_active", True):
        return frozenset()
    return ROLE_VERBS.get(getattr(user, "role", None), frozenset())


def can(user: Any, verb: str, obj: Any = None) -> bool:
    """Does `user`'s role grant `verb`, and (given `obj`) is `obj` within their reach?"""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    if verb not in _verbs_of(user):
        return False
    if obj is None:
        return True
    if user.role in CITY_WIDE_ROLES:
        return True
    rule = _VERB_REACH.get(verb)
    if rule is not None:
        return rule(user, obj)
    return _REACH[user.role](user, verb, obj)


def can_each(user: Any, verb: str, objs: list[Any]) -> list[bool]:
    """`can(user, verb, obj)` for each of `objs`, the same rule; an evaluator's sample
    entries (a sync batch of visits) are checked against their assignments in one query."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    if (getattr(user, "role", None) == "evaluator" and verb in _verbs_of(user)
            and verb not in _VERB_REACH and objs and all(isinstance(o, SampleEntry) for o in objs)):
        pairs = [(e.village_draw.village_id, e.village_draw.draw.cycle_id) for e in objs]
        found = {tuple(row) for row in db.session.execute(_assignment(user).where(tuple_(
            EvaluatorAssignment.village_id, EvaluatorAssignment.cycle_id).in_(set(pairs))))}
        return [pair in found for pair in pairs]
    return [can(user, verb, o) for o in objs]


def authorize(user: Any, verb: str, obj: Any = None) -> None:
    """`can`, or AppError("forbidden")."""
    if not can(user, verb, obj):
        raise AppError("forbidden")


def roles_with(verb: str) -> list[str]:
    """The roles that grant `verb` (e.g. the accounts an evaluator assignment may name)."""
    return sorted(role for role, verbs in ROLE_VERBS.items() if verb in verbs)


# --- reach per role -------------------------------------------------------------------------


def county_of(obj: Any) -> int | None:
    """The county an object lies in (None: city-wide, or not yet known)."""
    if isinstance(obj, County):
        return obj.id
    if isinstance(obj, (Village, InCounty, AccountDraft, CountyCycle)):
        return obj.county_id
    if isinstance(obj, FirstSecretary):
        return _village_county(obj.village_id)
    if hasattr(obj, "county_id"):  # Cycle, Draw, User, AuditLog, ScoreResult ...
        return obj.county_id
    if getattr(obj, "village_id", None) is not None:  # rows of a village
        return _village_county(obj.village_id)
    raise TypeError(f"no county for {obj!r}")


def _village_county(village_id: int) -> int | None:
    village = db.session.get(Village, village_id)
    return village.county_id if village is not None else None


def user_county_id(user: Any) -> int | None:
    """The county of an account (a secretary's through their village when not stored)."""
    if user.county_id is not None:
        return user.county_id
    if user.role == "secretary" and user.secretary is not None:
        return user.secretary.village.county_id
    return None


def _staff_reach(user: User, verb: str, obj: Any) -> bool:
    county = county_of(obj)
    return county is not None and county == user.county_id


def _evaluator_reach(user: User, verb: str, obj: Any) -> bool:
    if isinstance(obj, Village):
        return _assigned(user, obj.id)
    if isinstance(obj, VillageDraw):
        return _on_sample(user, obj)
    if isinstance(obj, SampleEntry):
        return _on_sample(user, obj.village_draw)
    if isinstance(obj, Household):
        return db.session.scalar(select(exists().where(
            SampleEntry.household_id == obj.id, SampleEntry.id.in_(findable_entries(user))))) \
            is True
    if isinstance(obj, Visit):
        return obj.evaluator_id == user.id
    if isinstance(obj, User):
        return obj.id == user.id
    if isinstance(obj, County):
        return obj.id == user.county_id
    return False


def _secretary_reach(user: User, verb: str, obj: Any) -> bool:
    if user.secretary_id is None:
        return False
    if isinstance(obj, FirstSecretary):
        return obj.id == user.secretary_id
    if isinstance(obj, Village):
        return obj.id == user.secretary.village_id
    if isinstance(obj, User):
        return obj.id == user.id
    if isinstance(obj, County):
        return obj.id == user_county_id(user)
    if type(obj) in HOUSEHOLD_LEVEL:
        return False
    if hasattr(obj, "secretary_id"):
        return obj.secretary_id == user.secretary_id
    return False


_REACH = {"county_staff": _staff_reach, "evaluator": _evaluator_reach,
          "secretary": _secretary_reach}


# Verbs whose reach is not simply "in my county" for county staff.


def _reads_cycle(user: User, obj: Any) -> bool:
    """Every county reads the city-wide cycles and its own."""
    cycle = obj.cycle if isinstance(obj, CountyCycle) else obj
    if isinstance(cycle, Cycle) and cycle.county_id not in (None, user.county_id):
        return False
    if isinstance(obj, Cycle):
        return True
    return _staff_reach(user, "", obj)


def _manages_account(user: User, obj: Any) -> bool:
    role = obj.role if isinstance(obj, (User, AccountDraft)) else None
    return role in COUNTY_MANAGED_ROLES and _staff_reach(user, "", obj)


def _calls_household(user: User, obj: Any) -> bool:
    if user.role == "evaluator" and isinstance(obj, SampleEntry):
        return db.session.scalar(select(exists().where(
            SampleEntry.id == obj.id, SampleEntry.id.in_(findable_entries(user))))) is True
    return _REACH[user.role](user, "call_household", obj)


_SCORES = ("read_scores", "enter_scores", "finalise_scores", "export_scores", "read_meetings",
           "manage_meetings", "read_discipline", "confirm_discipline")
_VERB_REACH = {
    "read_cycles": _reads_cycle,
    **{verb: _reads_cycle for verb in _SCORES},
    "create_account": _manages_account,
    "manage_account": _manages_account,
    "call_household": _calls_household,
}


# --- evaluators: one rule for "may act on this sample" ------------------------------------


def _assignment(user: User) -> Select:
    """The user's assignments in open cycles."""
    return (select(EvaluatorAssignment.village_id, EvaluatorAssignment.cycle_id)
            .join(Cycle, EvaluatorAssignment.cycle_id == Cycle.id)
            .where(EvaluatorAssignment.user_id == user.id, Cycle.status == "open"))


def assigned_village_ids(user: User) -> Select:
    """Villages assigned to `user` in an open cycle."""
    return _assignment(user).with_only_columns(EvaluatorAssignment.village_id)


def _assigned(user: User, village_id: int, cycle_id: int | None = None) -> bool:
    stmt = _assignment(user).where(EvaluatorAssignment.village_id == village_id)
    if cycle_id is not None:
        stmt = stmt.where(EvaluatorAssignment.cycle_id == cycle_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _on_sample(user: User, vd: VillageDraw) -> bool:
    """An evaluator acts on a village's sample (reads it, visits, replaces) when assigned
    to the village in the draw's cycle, and that cycle is open."""
    return _assigned(user, vd.village_id, vd.draw.cycle_id)


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


# --- what a reader sees of a row ---------------------------------------------------------


def visible_entries(user: Any, entries: list[SampleEntry]) -> list[SampleEntry]:
    """A village draw's households as `user` may see them: the whole eligible list for
    those who read eligible lists (staff: the published lists); else only the drawn ones
    (sample and reserves), never the households that were not drawn."""
    if can(user, "read_eligible_lists"):
        return entries
    return [e for e in entries if e.role in ("sample", "reserve")]


def visible_id_number(user: Any, id_number: str | None) -> str | None:
    """Full ID numbers for those who may read them (the city admin), masked for the other
    readers of registry details (county staff), not at all for evaluators."""
    if id_number is None or not can(user, "read_registry_details"):
        return None
    return id_number if can(user, "read_full_id") else mask_id_number(id_number)


def registry_detail(user: Any, value: Any) -> Any:
    """A household's registry classification (attribute, exit status and year): staff
    only; an evaluator gets what finding the house needs."""
    return value if can(user, "read_registry_details") else None


# --- scoping listings ---------------------------------------------------------------------

# Models holding household-level answers or personal data: secretaries never see them.
HOUSEHOLD_LEVEL: set[type] = {Household, SampleEntry, VillageDraw, Replacement, Visit}


def register_household_level(*models: Any) -> None:
    """Areas with household-level rows (ballots...) add their models here."""
    HOUSEHOLD_LEVEL.update(models)


def visible_village_ids(user: Any) -> Select | None:
    """A subquery of the village ids within `user`'s reach, or None for 'all'."""
    if user.role in CITY_WIDE_ROLES:
        return None
    if user.role == "county_staff":
        return select(Village.id).where(Village.county_id == user.county_id)
    if user.role == "evaluator":
        return assigned_village_ids(user)
    if user.role == "secretary" and user.secretary_id is not None:
        return select(FirstSecretary.village_id).where(FirstSecretary.id == user.secretary_id)
    return select(Village.id).where(false())


def _entity(query: Select) -> Any:
    entity = query.column_descriptions[0].get("entity") if query.column_descriptions else None
    if entity is None:
        raise TypeError("scope: give the model of this query (model=...)")
    return entity


def scope(user: Any, verb: str, query: Select, model: Any = None) -> Select:
    """`query` (over `model`, by default its first entity) limited to the rows `user` may
    `verb`: none when the role lacks the verb; fails closed (TypeError) for a model
    without a rule."""
    model = model or _entity(query)
    if not can(user, verb):
        return query.where(false())
    role = user.role
    if role in CITY_WIDE_ROLES:
        return query
    if role == "secretary":
        return _secretary_scope(user, query, model)
    if role == "evaluator":
        return _evaluator_scope(user, verb, query, model)
    return _county_scope(user, query, model)


def _county_scope(user: User, query: Select, model: Any) -> Select:
    if model is County:
        return query.where(County.id == user.county_id)
    if model is Village:
        return query.where(Village.county_id == user.county_id)
    if model is Cycle:
        return query.where(Cycle.county_id.is_(None) | (Cycle.county_id == user.county_id))
    if hasattr(model, "county_id"):  # Draw, User, AuditLog ...
        return query.where(model.county_id == user.county_id)
    if hasattr(model, "village_id"):
        return query.where(model.village_id.in_(
            select(Village.id).where(Village.county_id == user.county_id)))
    raise TypeError(f"no scoping rule for {model!r}")  # fail closed, loudly


def _evaluator_scope(user: User, verb: str, query: Select, model: Any) -> Select:
    if model is Household:
        return query.where(Household.id.in_(
            select(SampleEntry.household_id).where(SampleEntry.id.in_(findable_entries(user)))))
    if model is SampleEntry and verb == "call_household":
        return query.where(SampleEntry.id.in_(findable_entries(user)))
    if model is Visit:  # their own visits, not a colleague's in the same village
        return query.where(Visit.evaluator_id == user.id)
    if model is User:
        return query.where(User.id == user.id)
    if model is County:
        return query.where(County.id == user.county_id)
    if model is Village:
        return query.where(Village.id.in_(assigned_village_ids(user)))
    if hasattr(model, "village_id") and model not in (Draw,):
        return query.where(model.village_id.in_(assigned_village_ids(user)))
    if model in (Cycle, Draw, AuditLog) or hasattr(model, "county_id"):
        return query.where(false())
    raise TypeError(f"no scoping rule for {model!r}")


def _secretary_scope(user: User, query: Select, model: Any) -> Select:
    if model in HOUSEHOLD_LEVEL or user.secretary_id is None:
        return query.where(false())
    if model is FirstSecretary:
        return query.where(FirstSecretary.id == user.secretary_id)
    if model is User:
        return query.where(User.id == user.id)
    if model is County:
        return query.where(County.id == user_county_id(user))
    if model is Village:
        return query.where(Village.id.in_(visible_village_ids(user)))
    if hasattr(model, "secretary_id"):  # their own rows, not a predecessor's
        return query.where(model.secretary_id == user.secretary_id)
    if hasattr(model, "village_id") or hasattr(model, "county_id"):
        return query.where(false())
    raise TypeError(f"no scoping rule for {model!r}")
