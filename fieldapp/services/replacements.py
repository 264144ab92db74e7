"""Replacements: a sampled household marked 无法访问 and the next unused reserve activated.

They arrive as `replacement` sync records from phones (often days after the fact), so the
handler follows the sync rules (services/sync.py): validate everything, then change. The
server, never the evaluator, chooses the reserve: the unused reserve with the lowest rank
(`domain.sampling.next_reserve`).

Two phones replacing the same household offline: the first record to arrive wins; the
second is stored with `is_conflict=True`, activates nothing, and its result tells the phone
which reserve the server chose. Concurrency: the village draw's row is locked (SELECT ...
FOR UPDATE on PostgreSQL; SQLite has one writer at a time), and two unique indexes (a
reserve is used once; a household is replaced once outside conflicts) make a racing
transaction fail with IntegrityError, after which the sync service replays the batch.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..domain import sampling as ds
from ..errors import AppError, translate
from ..extensions import db
from ..models import Cycle, Draw, Replacement, SampleEntry, User, Visit, VillageDraw
from ..schema_fields import UtcDateTime
from .freeze import ensure_not_finalised
from .sync import RecordRejected, RecordType, StoreResult, SyncContext, register


class ReplacementPayload(Schema):
    """`{sample_token, reason, reason_text, attempts, at}` (docs/architecture.md)."""

    sample_token = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(max=20))
    reason_text = fields.String(allow_none=True, load_default=None,
                                validate=validate.Length(max=ds.MAX_REASON_TEXT))
    attempts = fields.Integer(allow_none=True, load_default=None, strict=True,
                              validate=validate.Range(min=0, max=100))
    at = UtcDateTime(required=True)


# domain field name -> payload field name
_FIELD = {"reason": "reason", "text": "reason_text", "attempts": "attempts"}

ERR_UNKNOWN = _l("Unknown household: download the tasks again.")


def _reject(field: str, message: str) -> RecordRejected:
    return RecordRejected({field: [str(message)]})


def _lock_village_draw(vd_id: int) -> VillageDraw:
    """Serialise replacements of one village (no-op FOR UPDATE on SQLite)."""
    return db.session.scalars(select(VillageDraw).where(VillageDraw.id == vd_id)
                              .with_for_update().execution_options(populate_existing=True)).one()


def apply_replacement(user: User, data: dict[str, Any], *, client_uuid: str | None,
                      now: datetime) -> StoreResult:
    entry, vd, draw, entries = _validated_target(user, data)
    common = dict(client_uuid=client_uuid, village_draw_id=vd.id, village_id=vd.village_id,
                  replaced_entry_id=entry.id, reason=data["reason"],
                  reason_text=(data.get("reason_text") or None), attempts=data.get("attempts"),
                  actor_id=user.id, at=data["at"], received_at=now)
    if entry.status == "unreachable":
        return _record_conflict(user, entry, draw, common)
    if entry.status not in ("pending", "reserve_active"):
        raise _reject("sample_token", _("Only a sampled household or an activated reserve can be replaced."))
    return _activate_next_reserve(user, entry, draw, entries, common)


def _validated_target(user: User, data: dict[str, Any]
                      ) -> tuple[SampleEntry, VillageDraw, Draw, list[SampleEntry]]:
    """1. Validate everything; change nothing. The village draw is locked from here on."""
    errors: dict[str, list[str]] = {}
    for field, msgid in ds.validate_replacement_reason(
            data["reason"], data.get("reason_text"), data.get("attempts") or 0):
        errors.setdefault(_FIELD[field], []).append(translate(msgid))
    entry = db.session.scalar(select(SampleEntry).where(SampleEntry.token == data["sample_token"]))
    if entry is None:
        errors.setdefault("sample_token", []).append(str(ERR_UNKNOWN))
        raise RecordRejected(errors)
    vd = _lock_village_draw(entry.village_draw_id)
    draw: Draw = vd.draw
    cycle: Cycle = draw.cycle
    # Policy `record_replacement`: assigned to the village in the draw's (open) cycle.
    if not policy.can(user, "record_replacement", entry):  # as unknown: no probing
        errors.setdefault("sample_token", []).append(str(ERR_UNKNOWN))
        raise RecordRejected(errors)
    if draw.status != "active" or vd.status != "active":
        raise _reject("sample_token", _("This draw was voided: download the tasks again."))
    try:
        ensure_not_finalised(cycle, draw.county_id, what="replacement")
    except AppError as err:
        raise _reject("sample_token", err.message) from err
    if errors:
        raise RecordRejected(errors)
    entries = db.session.scalars(select(SampleEntry).where(SampleEntry.village_draw_id == vd.id)
                                 .order_by(SampleEntry.rank)
                                 .execution_options(populate_existing=True)).all()
    entry = next(e for e in entries if e.id == entry.id)
    # A visit staff rejected does not count: the household may turn out unreachable.
    visited = entry.status == "visited" or db.session.scalar(
        select(Visit.id).where(Visit.sample_entry_id == entry.id,
                               Visit.review_status != "rejected").limit(1)) is not None
    if visited:
        raise _reject("sample_token", _("This household was already visited; it cannot be replaced."))
    return entry, vd, draw, list(entries)


def _record_conflict(user: User, entry: SampleEntry, draw: Draw, common: dict[str, Any]) -> StoreResult:
    """Already replaced (another phone, offline): keep it as evidence, activate nothing."""
    first = db.session.scalar(select(Replacement).where(
        Replacement.replaced_entry_id == entry.id, Replacement.is_conflict.is_(False)))
    rep = Replacement(**common, reserve_entry_id=None, is_conflict=True)
    db.session.add(rep)
    db.session.flush()
    chosen = first.reserve_entry if first is not None else None
    _audit(user, rep, draw, entry, before={"status": "unreachable"},
           after={"status": "unreachable", "conflict": True})
    return StoreResult(rep.id, data={
        "reserve_household_no": chosen.household_no if chosen else None,
        "reserve_token": chosen.token if chosen else None, "conflict": True})


def _activate_next_reserve(user: User, entry: SampleEntry, draw: Draw, entries: list[SampleEntry],
                           common: dict[str, Any]) -> StoreResult:
    """2. Change: the next unused reserve in rank order, never one the evaluator picks."""
    reserves = [e for e in entries if e.role == "reserve"]
    used = {e.household_no for e in reserves if e.status != "reserve_unused"}
    next_no = ds.next_reserve([e.household_no for e in reserves], used)
    reserve = next((e for e in reserves if e.household_no == next_no), None)
    before = {"status": entry.status, "reserve_household_no": None}
    entry.status = "unreachable"
    if reserve is not None:
        reserve.status = "reserve_active"
    rep = Replacement(**common, reserve_entry_id=reserve.id if reserve else None, is_conflict=False)
    db.session.add(rep)
    db.session.flush()
    _audit(user, rep, draw, entry, before=before, after={
        "status": entry.status, "reserve_household_no": reserve.household_no if reserve else None})
    return StoreResult(rep.id, data={
        "reserve_household_no": reserve.household_no if reserve else None,
        "reserve_token": reserve.token if reserve else None, "conflict": False,
        **({} if reserve else {"reserves_exhausted": True})})


def _audit(user: User, rep: Replacement, draw: Draw, entry: SampleEntry, *,
           before: dict[str, Any], after: dict[str, Any]) -> None:
    record_audit(user, "replacement.record", rep, county_id=draw.county_id, cycle_id=draw.cycle_id,
                 household_no=entry.household_no, reason=rep.reason, before=before, after=after)


def _handle(data: dict, ctx: SyncContext) -> StoreResult:
    return apply_replacement(ctx.user, data, client_uuid=ctx.uuid, now=ctx.received_at)


register(RecordType(name="replacement", schema=ReplacementPayload, handler=_handle,
                    verb="record_replacement"))
