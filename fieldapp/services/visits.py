"""Household visits: the `visit` sync record type, quality flags, and the staff listing.

A visit arrives from a phone through POST /api/sync (services/sync.py). The handler
validates everything first (payload, instrument version, answers against the instrument,
the household's sample entry, the evaluator's assignment) and raises RecordRejected with
field errors, so a refused batch changes nothing. What a batch's visits need is loaded
once (`prepare_visits`: the sample entries, locked, and the policy for all of them); each
handler marks its entry `visited` and queues its row; at the batch's end the new visits
are flagged against a bounded window of neighbours (services/visit_flags.py: speed and
repeated-position flags depend on the neighbours in time and place, which may arrive out
of order) and inserted in one statement. `refresh_flags` flags a whole series again: the
reference the window is tested against. Flags never discard a visit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import Select, Text, and_, bindparam, cast, insert, or_, select, update
from sqlalchemy.orm import joinedload

from ..domain import flags as flagdom
from ..domain.flags import FlagThresholds, VisitFacts, visit_time_flags
from ..errors import AppError, translate
from ..extensions import db
from ..audit import record_audit
from .. import policy
from ..models import (Cycle, Draw, SampleEntry, User, Village, VillageDraw,
                      Visit, utcnow)
from ..schema_fields import UtcDateTime
from .freeze import ensure_not_finalised
from . import instruments
from .sync import BatchWork, RecordRejected, RecordType, StoreResult, SyncContext, register
from .visit_flags import NewVisit, flag_new_visits

GEO_ERRORS = ("denied", "unavailable", "timeout", "unsupported")
MAX_NOTE_LENGTH = 5000
# A sample entry a visit may be recorded for: a sampled household, or an activated reserve.
VISITABLE = {("sample", "pending"), ("reserve", "reserve_active")}

FLAG_LABELS = {
    "no_location": _l("No location"),
    "outside_fence": _l("Outside the village"),
    "low_accuracy": _l("Low accuracy"),
    "zero_accuracy": _l("Zero accuracy"),
    "constant_accuracy": _l("Constant accuracy"),
    "repeated_coordinates": _l("Repeated position"),
    "short_visit": _l("Short visit"),
    "impossible_speed": _l("Impossible speed"),
    "clock_skew": _l("Phone clock wrong"),
    "late_sync": _l("Late sync"),
    "before_seed": _l("Before the draw"),
    "outside_cycle_year": _l("Outside the cycle's year"),
    "future_time": _l("Dated in the future"),
}
REVIEW_STATUSES = ("pending", "approved", "rejected")
REVIEW_LABELS = {"pending": _l("Not reviewed"), "approved": _l("Approved"), "rejected": _l("Rejected")}
MAX_REVIEW_REASON = 1000


# --- the payload --------------------------------------------------------------------


class TranslatedSchema(Schema):
    """A schema whose error messages are English msgids translated when it is created
    (inside a request, so in the user's language); marshmallow fills {placeholders} after."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        tr = _translator()
        self.error_messages = {k: tr(v) for k, v in self.error_messages.items()}
        for f in self.fields.values():
            f.error_messages = {k: tr(v) if isinstance(v, str) else v
                                for k, v in f.error_messages.items()}
            for validator in getattr(f, "validators", []):
                if isinstance(getattr(validator, "error", None), str):
                    validator.error = tr(validator.error)


# locale -> {msgid: translation}: every record of a sync batch builds these schemas, and
# the same few dozen messages would otherwise be looked up in the catalogue each time.
_translations: dict[str, dict[str, str]] = {}


def _translator():
    table = _translations.setdefault(str(get_locale() or ""), {})

    def tr(msgid: str) -> str:
        found = table.get(msgid)
        if found is None:
            found = table[msgid] = _(msgid)
        return found
    return tr


def _req(**extra: str) -> dict[str, str]:
    return {"required": "Required.", "null": "Required.", **extra}


class GeoSchema(TranslatedSchema):
    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False, error_messages=_req(invalid="Not a number."),
                       validate=validate.Range(-90, 90, error="Must be between {min} and {max}."))
    lon = fields.Float(required=True, allow_nan=False, error_messages=_req(invalid="Not a number."),
                       validate=validate.Range(-180, 180, error="Must be between {min} and {max}."))
    accuracy = fields.Float(allow_none=True, load_default=None, allow_nan=False,
                            error_messages=_req(invalid="Not a number."),
                            validate=validate.Range(min=0, error="Must be at least {min}."))
    at = UtcDateTime(allow_none=True, load_default=None, error_messages=_req(
        invalid="Not a valid date and time.", invalid_awareness="Give a time zone."))


class VisitPayloadSchema(TranslatedSchema):
    """`visit` payload (docs/architecture.md, "Offline records")."""

    class Meta:
        unknown = RAISE

    sample_token = fields.String(required=True, validate=validate.Length(
        min=1, max=64, error="Invalid household code."), error_messages=_req(invalid="Must be text."))
    instrument_id = fields.String(required=True, validate=validate.Length(
        min=1, max=60, error="Unknown questionnaire."), error_messages=_req(invalid="Must be text."))
    instrument_version = fields.Integer(strict=True, required=True,
                                        error_messages=_req(invalid="Must be a whole number."))
    answers = fields.Dict(required=True, error_messages=_req(invalid="Expected an object of answers."))
    note = fields.String(allow_none=True, load_default=None, error_messages=_req(
        invalid="Must be text."), validate=validate.Length(
            max=MAX_NOTE_LENGTH, error="At most {max} characters."))
    started_at = UtcDateTime(required=True, error_messages=_req(
        invalid="Not a valid date and time.", invalid_awareness="Give a time zone."))
    ended_at = UtcDateTime(required=True, error_messages=_req(
        invalid="Not a valid date and time.", invalid_awareness="Give a time zone."))
    geo_start = fields.Nested(GeoSchema, allow_none=True, load_default=None,
                              error_messages=_req(type="Expected an object."))
    geo_end = fields.Nested(GeoSchema, allow_none=True, load_default=None,
                            error_messages=_req(type="Expected an object."))
    geo_error = fields.String(allow_none=True, load_default=None, error_messages=_req(
        invalid="Must be text."), validate=validate.OneOf(GEO_ERRORS, error="Choose one of: {choices}."))

    error_messages = {"unknown": "Unknown field.", "type": "Expected an object."}


# --- storing a visit ------------------------------------------------------------------


def thresholds() -> FlagThresholds:
    return FlagThresholds.from_dict(current_app.config.get("FLAG_THRESHOLDS") or {})


def _answers_errors(messages: Any) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"answers": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = "answers" if key == "_schema" else f"answers.{key}"
        out[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return out


# Keys of what a batch keeps in `BatchWork.state` (services/sync.py).
_PREPARED = "visits.prepared"
_NEW = "visits.new"
_FROZEN = "visits.finalised"
_LOADERS = "visits.instruments"


@dataclass
class _Prepared:
    """What a batch's visits need, loaded once: their sample entries (with the village
    draw, draw, cycle and village), locked, and whether the sender may visit each."""
    by_token: dict[str, SampleEntry]
    allowed: dict[int, bool]


def prepare_visits(user: User, payloads: list[dict], work: BatchWork) -> None:
    """Load the sample entries of all the batch's visits in one query (locked, so two
    phones visiting one household are serialised) and check the policy for all at once."""
    tokens = sorted({p["sample_token"] for p in payloads})
    entries = list(db.session.scalars(
        select(SampleEntry).where(SampleEntry.token.in_(tokens))
        .options(joinedload(SampleEntry.village_draw).joinedload(VillageDraw.draw)
                 .joinedload(Draw.cycle), joinedload(SampleEntry.village))
        .order_by(SampleEntry.id).with_for_update(of=SampleEntry)).unique())
    allowed = policy.can_each(user, "record_visit", entries)
    work.state[_PREPARED] = _Prepared({e.token: e for e in entries},
                                      {e.id: ok for e, ok in zip(entries, allowed)})


def _finalised_message(work: BatchWork, draw: Draw) -> str | None:
    """ensure_not_finalised, asked once per cycle and county in a batch."""
    frozen = work.state.setdefault(_FROZEN, {})
    key = (draw.cycle_id, draw.county_id)
    if key not in frozen:
        try:  # the county's scores are computed from the stored answers: they must not move
            ensure_not_finalised(draw.cycle, draw.county_id, what="visit")
            frozen[key] = None
        except AppError as err:
            frozen[key] = err.message
    return frozen[key]


def _entry_errors(entry: SampleEntry | None, prepared: _Prepared,
                  work: BatchWork) -> dict[str, list[str]]:
    """Errors about the household's sample entry (none: it may be visited)."""
    if entry is None:
        return {"sample_token": [_("Unknown household code.")]}
    draw = entry.village_draw.draw
    if draw.status != "active" or entry.village_draw.status != "active":
        return {"sample_token": [_("This household's draw was voided. Download your tasks again.")]}
    if not prepared.allowed[entry.id]:
        return {"sample_token": [_("This household is not in a village assigned to you in an open cycle.")]}
    finalised = _finalised_message(work, draw)
    if finalised is not None:
        return {"sample_token": [finalised]}
    if (entry.role, entry.status) not in VISITABLE:
        message = {
            "visited": _("This household has already been visited; a second visit is not accepted."),
            "unreachable": _("This household was marked unreachable and replaced by a reserve."),
            "reserve_unused": _("This reserve household has not been activated."),
        }.get(entry.status, _("This household is not to be visited."))
        return {"sample_token": [message]}
    return {}


def _answers_loader(work: BatchWork, instrument_id: str, version: int) -> tuple[Any, Schema | None]:
    """The instrument and an answers schema instance, looked up once per batch."""
    loaders = work.state.setdefault(_LOADERS, {})
    key = (instrument_id, version)
    if key not in loaders:
        instrument = instruments.find(instrument_id, version)
        loaders[key] = (instrument, instruments.answers_schema_for(instrument)()
                        if instrument is not None else None)
    return loaders[key]


def _instrument_errors(data: dict, work: BatchWork
                       ) -> tuple[dict[str, list[str]], Any, dict[str, Any]]:
    """Errors about the questionnaire and its answers; the instrument and loaded answers."""
    instrument, schema = _answers_loader(work, data["instrument_id"], data["instrument_version"])
    if instrument is None or schema is None:
        known = instruments.known_versions(data["instrument_id"])
        if not known:
            return {"instrument_id": [_("Unknown questionnaire.")]}, None, {}
        return {"instrument_version": [_(
            "Version %(version)s of this questionnaire is not known (known: %(known)s).",
            version=data["instrument_version"], known=", ".join(map(str, known)))]}, None, {}
    try:
        return {}, instrument, schema.load(data["answers"])
    except ValidationError as err:
        return _answers_errors(err.messages), instrument, {}


def store_visit(data: dict, ctx: SyncContext) -> StoreResult:
    """The `visit` sync handler: validate fully, then mark the entry visited and queue the
    row; the batch's visits are flagged and inserted together at its end."""
    prepared: _Prepared = ctx.batch.state[_PREPARED]
    errors, instrument, answers = _instrument_errors(data, ctx.batch)
    entry = prepared.by_token.get(data["sample_token"])
    errors.update(_entry_errors(entry, prepared, ctx.batch))
    if data["ended_at"] < data["started_at"]:
        errors["ended_at"] = [_("The end of the visit is before its start.")]
    if errors:
        raise RecordRejected(errors)
    assert entry is not None and instrument is not None

    draw, village = entry.village_draw.draw, entry.village
    fix = data["geo_end"] or data["geo_start"]
    row = dict(
        client_uuid=ctx.uuid, sample_entry_id=entry.id, village_id=entry.village_id,
        cycle_id=draw.cycle_id, evaluator_id=ctx.user.id, instrument_id=instrument.id,
        instrument_version=instrument.version, answers=answers,
        note=(data["note"] or "").strip() or None,
        started_at=data["started_at"], ended_at=data["ended_at"],
        lat=fix["lat"] if fix else None, lon=fix["lon"] if fix else None,
        accuracy_m=fix["accuracy"] if fix else None, geo_at=fix["at"] if fix else None,
        geo_start=_geo_json(data["geo_start"]), geo_end=_geo_json(data["geo_end"]),
        geo_error=data["geo_error"] if not fix or data["geo_error"] else None,
        device_sent_at=ctx.device_sent_at, received_at=ctx.received_at, flags=[])
    entry.status = "visited"  # a later record of the batch sees it (and the replacements)
    fence = (((village.lat, village.lon), float(village.radius_m))
             if village.lat is not None and village.lon is not None else None)
    new = ctx.batch.state.setdefault(_NEW, [])
    new.append(NewVisit(row, entry.household_id, fence, draw.seed_recorded_at, draw.cycle.year))
    ctx.batch.once(_NEW, lambda: _insert_new_visits(ctx.user.id, new))
    return StoreResult(object_id=lambda: row["id"],
                       data=lambda: {"flags": [f["code"] for f in row["flags"]]})


# Rows come back in any order (one multi-row INSERT ... RETURNING on both databases):
# matched by the client's UUID.
_INSERT_VISITS = insert(Visit.__table__).returning(Visit.__table__.c.client_uuid,
                                                   Visit.__table__.c.id)
_UPDATE_FLAGS = (update(Visit.__table__).where(Visit.__table__.c.id == bindparam("visit_id"))
                 .values(flags=bindparam("flags")))


def _insert_new_visits(evaluator_id: int, new: list[NewVisit]) -> None:
    """Flag the batch's visits (visit_flags.py: a bounded window, not the series), insert
    them in one statement and rewrite the neighbours' changed flags in one more."""
    t = thresholds()
    by_cycle: dict[int, list[NewVisit]] = {}
    for n in new:
        by_cycle.setdefault(n.row["cycle_id"], []).append(n)
    changed: list[dict[str, Any]] = []
    for cycle_id, visits in by_cycle.items():
        changed += flag_new_visits(cycle_id, evaluator_id, visits, t)
    ids = dict(db.session.execute(_INSERT_VISITS, [n.row for n in new]).all())
    for n in new:
        n.row["id"] = ids[n.row["client_uuid"]]
    if changed:
        db.session.execute(_UPDATE_FLAGS, changed)


def _geo_json(geo: dict | None) -> dict | None:
    if geo is None:
        return None
    at = geo.get("at")
    return {"lat": geo["lat"], "lon": geo["lon"], "accuracy": geo.get("accuracy"),
            "at": at.isoformat() if isinstance(at, datetime) else at}


register(RecordType(name="visit", schema=VisitPayloadSchema, handler=store_visit,
                    verb="record_visit", prepare=prepare_visits))


# --- flags ----------------------------------------------------------------------------


def _facts(visit: Visit, household_id: int) -> VisitFacts:
    return VisitFacts(household=household_id, started_at=visit.started_at, ended_at=visit.ended_at,
                      lat=visit.lat, lon=visit.lon, accuracy_m=visit.accuracy_m,
                      geo_error=visit.geo_error, device_sent_at=visit.device_sent_at,
                      received_at=visit.received_at, ref=visit.client_uuid)


def _near(coords: Iterable[tuple[float, float]], decimals: int) -> list[Any]:
    """SQL conditions selecting visits whose position rounds like one of `coords`."""
    half = 0.5 * 10 ** -decimals * 1.01  # a little wider: the index is computed in Python
    return [and_(Visit.lat.between(lat - half, lat + half), Visit.lon.between(lon - half, lon + half))
            for lat, lon in coords]


def _coordinate_index(cycle_id: int, coords: set[tuple[float, float]], t: FlagThresholds):
    """visit_coordinate_index restricted to the positions that matter, over the whole cycle."""
    candidates: list[VisitFacts] = []
    owners: dict[tuple[float, float], set[int]] = {}
    coords_list = sorted(coords)
    for i in range(0, len(coords_list), 100):
        rows = db.session.execute(
            select(Visit.lat, Visit.lon, Visit.started_at, Visit.evaluator_id, SampleEntry.household_id)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .where(Visit.cycle_id == cycle_id, or_(*_near(coords_list[i:i + 100], t.repeat_coord_decimals))))
        for lat, lon, started_at, evaluator_id, household_id in rows:
            candidates.append(VisitFacts(household=household_id, started_at=started_at, lat=lat, lon=lon))
            key = (round(lat, t.repeat_coord_decimals), round(lon, t.repeat_coord_decimals))
            owners.setdefault(key, set()).add(evaluator_id)
    return flagdom.visit_coordinate_index(candidates, t.repeat_coord_decimals), owners


def refresh_flags(cycle_id: int, evaluator_ids: Iterable[int],
                  new_visits: Iterable[Visit] = ()) -> None:
    """Flag again every visit of these evaluators in the cycle.

    Other evaluators' visits at the position of a visit just stored (`new_visits`) get
    their repeated-position flag refreshed too.
    """
    t = thresholds()
    todo = list(dict.fromkeys(evaluator_ids))
    done: set[int] = set()
    while todo:
        evaluator_id = todo.pop(0)
        if evaluator_id in done:
            continue
        done.add(evaluator_id)
        rows = db.session.execute(
            select(Visit, SampleEntry.household_id, Village.lat, Village.lon, Village.radius_m,
                   Draw.seed_recorded_at, Cycle.year)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(Cycle, Visit.cycle_id == Cycle.id)
            .join(Village, Visit.village_id == Village.id)
            .where(Visit.cycle_id == cycle_id, Visit.evaluator_id == evaluator_id)
            .order_by(Visit.id)).all()
        facts = [_facts(v, hh) for v, hh, *_rest in rows]
        fences = {v.client_uuid: ((vlat, vlon), float(radius)) if vlat is not None and vlon is not None
                  else None for v, _hh, vlat, vlon, radius, _s, _y in rows}
        coords = {(round(f.lat, t.repeat_coord_decimals), round(f.lon, t.repeat_coord_decimals))
                  for f in facts if f.lat is not None and f.lon is not None}
        index, owners = _coordinate_index(cycle_id, coords, t) if coords else ({}, {})
        series = flagdom.visit_flag_series(facts, index, lambda f: fences.get(f.ref), t)
        for (visit, _hh, _la, _lo, _r, seed_at, year), found in zip(rows, series):
            found = [*found, *visit_time_flags(visit.started_at, visit.ended_at, visit.received_at,
                                               seed_at, year)]
            new = [f.to_dict() for f in found]
            if visit.flags != new:
                visit.flags = new
        for new in new_visits:
            if new.evaluator_id == evaluator_id and new.lat is not None:
                key = (round(new.lat, t.repeat_coord_decimals),
                       round(new.lon, t.repeat_coord_decimals))
                todo.extend(sorted(owners.get(key, set()) - done))
    db.session.flush()


# --- reading --------------------------------------------------------------------------


def flag_view(flag: dict) -> dict:
    """A stored flag with its label and message in the current language."""
    params = flag.get("params") or {}
    try:
        message = translate(flag.get("msgid") or "", params)
    except (KeyError, TypeError, ValueError):
        message = flag.get("msgid") or ""
    return {"code": flag["code"], "label": str(FLAG_LABELS.get(flag["code"], flag["code"])),
            "message": message, "params": params}


def visits_query(user: User, args: dict) -> Select:
    """Visits the user may see (policy.py), newest first, filtered by village/flag."""
    stmt = policy.scope(user, "read_visits", select(Visit)).options(
        joinedload(Visit.sample_entry).joinedload(SampleEntry.household))
    if args.get("village_id"):
        stmt = stmt.where(Visit.village_id == args["village_id"])
    if args.get("cycle_id"):
        stmt = stmt.where(Visit.cycle_id == args["cycle_id"])
    if args.get("flag"):
        # Flags are a JSON list written by this module with json.dumps' default separators;
        # the code comes from a fixed list (flags.CODES), so a text match is exact and safe.
        stmt = stmt.where(cast(Visit.flags, Text).like(f'%"code": "{args["flag"]}"%'))
    if args.get("review"):
        stmt = stmt.where(Visit.review_status == args["review"])
    if args.get("flagged") is True:
        stmt = stmt.where(cast(Visit.flags, Text).like('%"code"%'))
    elif args.get("flagged") is False:
        stmt = stmt.where(~cast(Visit.flags, Text).like('%"code"%'))
    return stmt.order_by(Visit.started_at.desc(), Visit.id.desc())


def get_visit(user: User, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise AppError("not_found")
    policy.authorize(user, "read_visits", visit)
    return visit


def village_choices(user: User) -> list[Village]:
    """Villages with at least one visit the user may see (for the staff filter)."""
    ids = policy.scope(user, "read_visits", select(Visit.village_id)).distinct()
    return list(db.session.scalars(select(Village).where(Village.id.in_(ids)).order_by(Village.code)))


# --- review (staff) ---------------------------------------------------------------------
#
# Like Survey Solutions' supervisor review and ODK Central's review states: staff see each
# visit with its flags and approve it, or reject it with a reason. A rejected visit stops
# counting and its household is due again: the evaluator's phone shows it as pending with
# the reason (GET /api/tasks). Visits held for their time (domain/flags.TIME_FLAGS) count
# only once approved. Every decision is audited; a finalised county refuses them.


def _visitable_status(entry: SampleEntry) -> str:
    return "pending" if entry.role == "sample" else "reserve_active"


def review_visit(user: User, visit: Visit, decision: str, reason: str | None = None,
                 *, commit: bool = True) -> Visit:
    """Approve or reject one visit (staff of the village's county and admins)."""
    policy.authorize(user, "review_visits", visit)
    ensure_not_finalised(visit.cycle, visit.village.county_id, what="visit_review")
    reason = (reason or "").strip() or None
    errors: dict[str, list[str]] = {}
    if decision not in ("approved", "rejected"):
        errors["decision"] = [_("Approve or reject.")]
    elif decision == "rejected" and not reason:
        errors["reason"] = [_("Give the reason for rejecting: the evaluator sees it.")]
    if reason is not None and len(reason) > MAX_REVIEW_REASON:
        errors["reason"] = [_("At most %(n)d characters.", n=MAX_REVIEW_REASON)]
    if errors:
        raise AppError("validation_failed", errors=errors)
    entry = db.session.scalar(select(SampleEntry).where(SampleEntry.id == visit.sample_entry_id)
                              .with_for_update())
    before = {"review": visit.review_status, "reason": visit.review_reason}
    if decision == "approved" and entry.status == "unreachable":
        raise AppError("conflict", _("This household was replaced since: the visit cannot be approved."))
    visit.review_status, visit.review_reason = decision, reason
    visit.reviewed_by_id, visit.reviewed_at = user.id, utcnow()
    db.session.flush()
    counting = db.session.scalar(select(Visit.id).where(
        Visit.sample_entry_id == entry.id, Visit.review_status != "rejected").limit(1))
    if counting is not None:
        entry.status = "visited"
    elif entry.status == "visited":  # back to the evaluator's phone, for a revisit
        entry.status = _visitable_status(entry)
    record_audit(user, f"visit.{decision}", visit, county_id=visit.village.county_id,
                 cycle_id=visit.cycle_id, household_no=entry.household_no, reason=reason,
                 before=before, after={"review": decision, "reason": reason},
                 flags=[f.get("code") for f in visit.flags or []])
    if commit:
        db.session.commit()
    return visit


def approve_unflagged(user: User, visit_ids: Iterable[int]) -> int:
    """Bulk approval from the visits list: only unflagged visits not yet reviewed; all or
    nothing (a flagged one in the list refuses the whole request)."""
    ids = sorted(set(visit_ids))
    if not ids:
        raise AppError("validation_failed", errors={"visit_ids": [_("Choose at least one visit.")]})
    visits = db.session.scalars(select(Visit).where(Visit.id.in_(ids))).all()
    if len(visits) != len(ids):
        raise AppError("validation_failed", errors={"visit_ids": [_("Unknown visits.")]})
    for visit in visits:
        policy.authorize(user, "review_visits", visit)
    flagged = [v.id for v in visits if v.flags]
    if flagged:
        raise AppError("validation_failed", errors={"visit_ids": [_(
            "Flagged visits are reviewed one by one: %(ids)s.", ids=", ".join(map(str, flagged)))]})
    done = 0
    for v in visits:
        if v.review_status == "pending":
            review_visit(user, v, "approved", commit=False)
            done += 1
    db.session.commit()
    return done


def returned_households(entry_ids: Iterable[int]) -> dict[int, dict]:
    """Sample entries due again after their visit was rejected: {entry id: {reason, uuid,
    at}} (the latest rejected visit), for the evaluator's task download."""
    ids = list(entry_ids)
    if not ids:
        return {}
    out: dict[int, dict] = {}
    for entry_id, uuid, reason, at, status in db.session.execute(
            select(Visit.sample_entry_id, Visit.client_uuid, Visit.review_reason,
                   Visit.reviewed_at, SampleEntry.status)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .where(Visit.sample_entry_id.in_(ids), Visit.review_status == "rejected",
                   SampleEntry.status.in_(("pending", "reserve_active")))
            .order_by(Visit.id)):
        out[entry_id] = {"reason": reason, "visit_uuid": uuid, "rejected_at": at}
    return out
