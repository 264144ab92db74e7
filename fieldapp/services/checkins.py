"""Residency (驻村) use cases: check-ins (a sync record type), leave, spot checks, the
monthly report, poster tokens and the work-discipline (工作纪律) suggestion.

The rules live in fieldapp/domain (residency.py, flags.py, geo.py) and are explained for
county staff in docs/residency-and-flags.md; this module loads facts, calls them and
stores the results. Every function takes the acting user and asks the policy itself
(fieldapp/policy.py), so the API and the staff pages share one set of rules.
"""
from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import contains_eager

from .. import policy
from ..audit import record_audit
from ..domain import flags as dflags
from ..domain import residency as dres
from ..domain.geo import geofence
from ..domain.points import NotPoints, in_range, to_points
from ..errors import AppError, translate
from ..extensions import db
from ..models import (CheckIn, County, Cycle, DisciplineDecision, FirstSecretary, LeaveRequest,
                      RetiredCheckinToken, SpotCheck, Town, User, Village, new_token, utcnow)
from ..schema_fields import UtcDateTime
from .checkin_flags import flag_new_checkin, recompute_flags  # noqa: F401  (re-exported)
from .freeze import ensure_days_not_finalised, ensure_not_finalised, ensure_term_not_finalised
from .sync import RecordRejected, RecordType, StoreResult, SyncContext, register

EARLIEST = datetime(2020, 1, 1, tzinfo=timezone.utc)
MAX_FUTURE = timedelta(hours=48)  # a check-in "made" later than this ahead is refused


# --- settings (per cycle, with documented defaults) -----------------------------------


def cycle_for(county_id: int, year: int) -> Cycle | None:
    """The cycle that governs a county's year: its own, else the city-wide one."""
    cycles = db.session.scalars(select(Cycle).where(
        Cycle.year == year, or_(Cycle.county_id == county_id, Cycle.county_id.is_(None)))).all()
    cycles = sorted(cycles, key=lambda c: c.county_id is None)
    return cycles[0] if cycles else None


@dataclass(frozen=True)
class ResidencySettings:
    required_days: int = 20
    leave_counts_toward_required: bool = False
    discipline: dres.DisciplineConfig = dres.DisciplineConfig()
    thresholds: dflags.FlagThresholds = dflags.DEFAULT_THRESHOLDS


def _config_error(err: dres.ConfigError, prefix: str) -> AppError:
    return AppError("validation_failed", _("The cycle's residency settings are invalid."),
                    errors={f"{prefix}.{k}": [translate(m) for m in v]
                            for k, v in err.errors.items()})


def settings_for(county_id: int, year: int) -> ResidencySettings:
    """Cycle settings: `required_days` (20), `leave_counts_toward_required` (false),
    `discipline` (DisciplineConfig fields) and `flag_thresholds` (FlagThresholds fields)."""
    cycle = cycle_for(county_id, year)
    if cycle is None:
        return ResidencySettings()
    raw = cycle.settings or {}
    try:
        discipline = dres.DisciplineConfig.from_dict(raw.get("discipline") or {})
    except dres.ConfigError as err:
        raise _config_error(err, "discipline") from err
    try:
        thresholds = dflags.FlagThresholds.from_dict(raw.get("flag_thresholds") or {})
    except dres.ConfigError as err:
        raise _config_error(err, "flag_thresholds") from err
    return ResidencySettings(
        required_days=int(cycle.setting("required_days") or 20),
        leave_counts_toward_required=bool(raw.get("leave_counts_toward_required", False)),
        discipline=discipline, thresholds=thresholds)


# --- the `checkin` sync record type ----------------------------------------------------


class GeoFixSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy = fields.Float(allow_none=True, load_default=None,
                            validate=validate.Range(min=0, max=1_000_000))
    at = UtcDateTime(allow_none=True, load_default=None)


class CheckinPayloadSchema(Schema):
    """`{at, geo: {lat, lon, accuracy, at} | null, geo_error, village_token}`."""
    at = UtcDateTime(required=True)
    geo = fields.Nested(GeoFixSchema, allow_none=True, load_default=None)
    geo_error = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(
        ["denied", "unavailable", "timeout", "unsupported"]))
    village_token = fields.String(allow_none=True, load_default=None,
                                  validate=validate.Length(max=64))


def _secretary_of(user: User) -> FirstSecretary:
    secretary = db.session.get(FirstSecretary, user.secretary_id) if user.secretary_id else None
    if secretary is None:
        raise AppError("forbidden", _("Your account is not linked to a first secretary."))
    return secretary


def token_status(village: Village, token: str) -> str:
    """'valid' (the village's current poster), 'rotated' (an old poster of this village),
    'other_village' (another village's poster, old or current) or 'unknown'."""
    if token == village.checkin_token:
        return "valid"
    retired = db.session.scalar(select(RetiredCheckinToken.village_id).where(
        RetiredCheckinToken.token == token))
    if retired is not None:
        return "rotated" if retired == village.id else "other_village"
    if db.session.scalar(select(Village.id).where(Village.checkin_token == token)) is not None:
        return "other_village"
    return "unknown"


def _store_checkin(data: dict, ctx: SyncContext) -> StoreResult:
    # Lean on purpose (the daily burst): a fixed handful of statements, reads first and
    # the writes last, so SQLite's write lock is held for microseconds.
    # 1. Validate everything before changing anything (the batch may still be refused).
    village = _checkin_place(ctx)
    at: datetime = data["at"]
    if at < EARLIEST:
        raise RecordRejected({"at": [_("The check-in time is implausible; check the phone's "
                                       "date and time.")]})
    if at > ctx.received_at + MAX_FUTURE:
        raise RecordRejected({"at": [_("The check-in time is in the future; check the phone's "
                                       "date and time.")]})
    geo = data.get("geo")
    token = (data.get("village_token") or "").strip() or None

    # 2. Compute the facts and the flags (against the neighbours in time, not the series).
    status = token_status(village, token) if token else None
    inside = distance = None
    if geo is not None and village.lat is not None and village.lon is not None:
        fence = geofence((village.lat, village.lon), village.radius_m, (geo["lat"], geo["lon"]),
                         geo.get("accuracy"))
        inside, distance = fence.inside, round(fence.distance_m, 1)
    facts = dflags.CheckInFacts(
        at=at, lat=geo["lat"] if geo else None, lon=geo["lon"] if geo else None,
        accuracy_m=geo.get("accuracy") if geo else None,
        geo_error=None if geo else (data.get("geo_error") or None),
        device_sent_at=ctx.device_sent_at, received_at=ctx.received_at, ref=ctx.uuid)
    day = dres.local_day(at)
    thresholds = _batch_thresholds(ctx, village.county_id, day.year)
    flags = flag_new_checkin(village.secretary_id, village, facts, thresholds)

    # 3. Store (a Core insert: no ORM object is needed afterwards).
    valid = status in (None, "valid")
    checkin_id = db.session.execute(_INSERT_CHECKIN, {
        "client_uuid": ctx.uuid, "secretary_id": village.secretary_id, "village_id": village.id,
        "user_id": ctx.user.id, "at": at, "day": day, "lat": facts.lat, "lon": facts.lon,
        "accuracy_m": facts.accuracy_m, "geo_at": geo.get("at") if geo else None,
        "geo_error": facts.geo_error, "via_qr": token is not None, "token_status": status,
        "token_valid": valid, "inside_fence": inside, "distance_m": distance,
        "device_sent_at": ctx.device_sent_at, "received_at": ctx.received_at,
        "flags": [f.to_dict() for f in flags]}).scalar_one()
    return StoreResult(checkin_id, {
        "day": day.isoformat(), "inside_fence": inside, "distance_m": distance,
        "via_qr": token is not None, "token_valid": valid, "counted": valid})


_INSERT_CHECKIN = insert(CheckIn).returning(CheckIn.id)


@dataclass(frozen=True)
class CheckinPlace:
    """What storing a check-in needs of the secretary and the village (one Core row)."""
    secretary_id: int
    id: int  # the village's (token_status and the fence read it like a Village)
    county_id: int
    lat: float | None
    lon: float | None
    radius_m: int
    checkin_token: str


_PLACE = (select(FirstSecretary.id.label("secretary_id"), Village.id, Village.county_id,
                 Village.lat, Village.lon, Village.radius_m, Village.checkin_token)
          .join(Village, Village.id == FirstSecretary.village_id)
          .where(FirstSecretary.id == bindparam("secretary_id")))


def _checkin_place(ctx: SyncContext) -> CheckinPlace:
    """The user's secretary and village, once per batch (one query)."""
    key = ("checkin_place", ctx.user.id)
    if key not in ctx.batch.state:
        row = db.session.execute(_PLACE, {"secretary_id": ctx.user.secretary_id}).first() \
            if ctx.user.secretary_id else None
        ctx.batch.state[key] = CheckinPlace(**row._mapping) if row is not None else None
    place = ctx.batch.state[key]
    if place is None:
        raise RecordRejected({"_schema": [_("Your account is not linked to a first secretary.")]})
    return place


def _batch_thresholds(ctx: SyncContext, county_id: int, year: int) -> dflags.FlagThresholds:
    key = ("flag_thresholds", county_id, year)
    if key not in ctx.batch.state:
        ctx.batch.state[key] = flag_thresholds_for(county_id, year)
    return ctx.batch.state[key]


_CYCLE_SETTINGS = (select(Cycle.county_id, Cycle.settings)
                   .where(Cycle.year == bindparam("year"),
                          or_(Cycle.county_id == bindparam("county_id"), Cycle.county_id.is_(None))))


def flag_thresholds_for(county_id: int, year: int) -> dflags.FlagThresholds:
    """`settings_for(...).thresholds` for the hot path: one small query, and the parse of
    the same settings remembered (a pure function of their text)."""
    rows = sorted(db.session.execute(_CYCLE_SETTINGS, {"year": year, "county_id": county_id}),
                  key=lambda r: r.county_id is None)
    if not rows:
        return dflags.DEFAULT_THRESHOLDS
    raw = (rows[0].settings or {}).get("flag_thresholds") or {}
    try:
        return _parse_thresholds(json.dumps(raw, sort_keys=True))
    except dres.ConfigError as err:
        raise _config_error(err, "flag_thresholds") from err


@lru_cache(maxsize=256)
def _parse_thresholds(raw: str) -> dflags.FlagThresholds:
    return dflags.FlagThresholds.from_dict(json.loads(raw))


register(RecordType(name="checkin", schema=CheckinPayloadSchema, handler=_store_checkin,
                    verb="check_in"))


def flag_texts(flags: Iterable[dict]) -> list[dict]:
    """Stored flags -> [{code, text}] in the request's language."""
    return [{"code": f["code"], "text": translate(f["msgid"], f.get("params") or {})}
            for f in flags or ()]


# --- month arithmetic ------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _checkin_facts(secretary_ids: list[int], lo: date, hi: date) -> dict[int, list]:
    out: dict[int, list[dres.CheckInFact]] = defaultdict(list)
    if not secretary_ids:
        return out
    rows = db.session.execute(select(
        CheckIn.secretary_id, CheckIn.at, CheckIn.inside_fence, CheckIn.token_valid,
        CheckIn.flags).where(CheckIn.secretary_id.in_(secretary_ids),
                             CheckIn.day.between(lo, hi))).all()
    for sid, at, inside, valid, _flags in rows:
        out[sid].append(dres.CheckInFact(at=at, inside_fence=bool(inside), counted=bool(valid)))
    return out


def _flagged_counts(secretary_ids: list[int], lo: date, hi: date) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    if not secretary_ids:
        return counts
    rows = db.session.execute(select(CheckIn.secretary_id, CheckIn.flags).where(
        CheckIn.secretary_id.in_(secretary_ids), CheckIn.day.between(lo, hi))).all()
    for sid, fl in rows:
        if fl:
            counts[sid] += 1
    return counts


def _leaves(secretary_ids: list[int], lo: date, hi: date,
            statuses: tuple[str, ...] = ("approved", "pending")) -> dict[int, list[LeaveRequest]]:
    out: dict[int, list[LeaveRequest]] = defaultdict(list)
    if not secretary_ids:
        return out
    for lv in db.session.scalars(select(LeaveRequest).where(
            LeaveRequest.secretary_id.in_(secretary_ids), LeaveRequest.status.in_(statuses),
            LeaveRequest.start <= hi, LeaveRequest.end >= lo).order_by(LeaveRequest.start)):
        out[lv.secretary_id].append(lv)
    return out


def _periods(leaves: Iterable[LeaveRequest]) -> list[dres.LeavePeriod]:
    return [dres.LeavePeriod(lv.start, lv.end, lv.status) for lv in leaves]  # type: ignore[arg-type]


def _spot_checks(secretary_ids: list[int], lo: date, hi: date) -> dict[int, list[SpotCheck]]:
    out: dict[int, list[SpotCheck]] = defaultdict(list)
    if not secretary_ids:
        return out
    for sc in db.session.scalars(select(SpotCheck).where(
            SpotCheck.secretary_id.in_(secretary_ids), SpotCheck.day.between(lo, hi))
            .order_by(SpotCheck.day, SpotCheck.id)):
        out[sc.secretary_id].append(sc)
    return out


def _spot_facts(checks: Iterable[SpotCheck]) -> list[dres.SpotCheckFact]:
    return [dres.SpotCheckFact(sc.day, sc.present) for sc in checks]


def _month_report(secretary: FirstSecretary, year: int, month: int, checkins, leaves, spots,
                  settings: ResidencySettings, today: date) -> dres.MonthReport:
    return dres.monthly_residency(
        year, month, checkins, _periods(leaves), _spot_facts(spots),
        required_days=settings.required_days, today=today, term_start=secretary.term_start,
        term_end=secretary.term_end,
        leave_counts_toward_required=settings.leave_counts_toward_required)


def secretary_month(user: User, secretary: FirstSecretary, year: int, month: int, *,
                    today: date | None = None) -> dict[str, Any]:
    """One secretary's month: the domain report plus the rows behind it (for the calendar
    and for the phone)."""
    policy.authorize(user, "read_checkins", secretary)
    today = today or dres.shanghai_today()
    first, last = month_bounds(year, month)
    settings = settings_for(secretary.village.county_id, year)
    sid = [secretary.id]
    leaves = _leaves(sid, first, last)[secretary.id]
    spots = _spot_checks(sid, first, last)[secretary.id]
    report = _month_report(secretary, year, month, _checkin_facts(sid, first, last)[secretary.id],
                           leaves, spots, settings, today)
    year_leaves = _leaves(sid, date(year, 1, 1), date(year, 12, 31), ("approved",))[secretary.id]
    annual = dres.annual_leave_days(year, _periods(year_leaves))
    checkins = db.session.scalars(select(CheckIn).where(
        CheckIn.secretary_id == secretary.id, CheckIn.day.between(first, last))
        .order_by(CheckIn.at, CheckIn.id)).all()
    return {
        "secretary": secretary, "report": report, "today": today,
        "leaves": leaves, "spot_checks": spots, "checkins": checkins,
        "annual_leave_days": annual,
        "leave_over_limit": annual > settings.discipline.annual_leave_limit,
        "annual_leave_limit": settings.discipline.annual_leave_limit,
        "checked_in_today": any(c.day == today and c.token_valid for c in checkins),
    }


def my_month(user: User, year: int | None, month: int | None) -> dict[str, Any]:
    """The phone's home screen: this month's days so far and the leave requests."""
    policy.authorize(user, "read_own_month")
    secretary = _secretary_of(user)
    today = dres.shanghai_today()
    data = secretary_month(user, secretary, year or today.year, month or today.month,
                           today=today)
    report: dres.MonthReport = data["report"]
    pending = db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.secretary_id == secretary.id, LeaveRequest.status == "pending")
        .order_by(LeaveRequest.start)).all()
    return {**_report_dict(report), "user_id": user.id, "today": today, "village": secretary.village,
            "checked_in_today": data["checked_in_today"], "pending_leave": pending,
            "leave": data["leaves"], "annual_leave_days": data["annual_leave_days"]}


def _report_dict(r: dres.MonthReport) -> dict[str, Any]:
    return {
        "year": r.year, "month": r.month, "days_in_month": r.days_in_month,
        "term_days": r.term_days, "considered_days": r.considered_days,
        "days_present": r.days_present, "days_on_leave": r.days_on_leave,
        "days_absent": r.days_absent, "required_days": r.required_days,
        "in_progress": r.in_progress, "compliant": r.compliant,
        "checkin_count": r.checkin_count, "outside_fence_count": r.outside_fence_count,
        "uncounted_count": r.uncounted_count,
        "spot_checks": r.spot_checks.n, "spot_checks_absent": r.spot_checks.absent,
        "spot_checks_excused": r.spot_checks.excused,
        "days": [{"day": d.day, "status": d.status, "checkin_count": d.checkin_count,
                  "outside_count": d.outside_count} for d in r.days],
    }


# --- the county's monthly report -------------------------------------------------------


def county_secretaries(county_id: int, lo: date, hi: date) -> list[FirstSecretary]:
    """The county's first secretaries whose term overlaps [lo, hi], with their village and
    town loaded in the same query (the report reads both for every row)."""
    return list(db.session.scalars(
        select(FirstSecretary).join(Village, FirstSecretary.village_id == Village.id)
        .join(Town, Village.town_id == Town.id)
        .options(contains_eager(FirstSecretary.village).contains_eager(Village.town))
        .where(Village.county_id == county_id, FirstSecretary.term_start <= hi,
               or_(FirstSecretary.term_end.is_(None), FirstSecretary.term_end >= lo))
        .order_by(Town.name, Village.code, FirstSecretary.name)))


def county_report(user: User, county_id: int, year: int, month: int, *,
                  today: date | None = None) -> dict[str, Any]:
    """Every secretary of the county for one month; a handful of queries, not N."""
    county = db.session.get(County, county_id)
    policy.authorize(user, "read_residency_report", county or policy.InCounty(county_id))
    if county is None:
        raise AppError("not_found")
    today = today or dres.shanghai_today()
    first, last = month_bounds(year, month)
    settings = settings_for(county_id, year)
    secretaries = county_secretaries(county_id, first, last)
    ids = [s.id for s in secretaries]
    checkins = _checkin_facts(ids, first, last)
    flagged = _flagged_counts(ids, first, last)
    year_leaves = _leaves(ids, date(year, 1, 1), date(year, 12, 31))
    spots = _spot_checks(ids, first, last)
    rows = []
    for s in secretaries:
        leaves = year_leaves[s.id]
        report = _month_report(s, year, month, checkins[s.id], leaves, spots[s.id], settings,
                               today)
        approved = [lv for lv in leaves if lv.status == "approved"]
        annual = dres.annual_leave_days(year, _periods(approved))
        row = _report_dict(report)
        row.pop("days")
        row.update({
            "secretary_id": s.id, "secretary_name": s.name, "secretary_status": s.status,
            "village_id": s.village_id, "village_code": s.village.code,
            "village_name": s.village.name, "town": s.village.town.name,
            "village_has_centre": s.village.lat is not None and s.village.lon is not None,
            "flagged_count": flagged[s.id], "annual_leave_days": annual,
            "leave_over_limit": annual > settings.discipline.annual_leave_limit,
            "pending_leave": sum(1 for lv in leaves if lv.status == "pending"),
        })
        rows.append(row)
    return {"county": county, "year": year, "month": month, "today": today,
            "required_days": settings.required_days,
            "leave_counts_toward_required": settings.leave_counts_toward_required,
            "annual_leave_limit": settings.discipline.annual_leave_limit,
            "generated_at": utcnow(), "rows": rows}


# --- leave -----------------------------------------------------------------------------


def request_leave(user: User, data: dict[str, Any]) -> LeaveRequest:
    policy.authorize(user, "request_leave")
    secretary = _secretary_of(user)
    start, end = data["start"], data["end"]
    errors: dict[str, list[str]] = {}
    for name, msgid in dres.validate_leave(start, end):
        errors.setdefault(name, []).append(translate(msgid))
    reason = (data.get("reason") or "").strip()
    if not reason:
        errors.setdefault("reason", []).append(_("Give a reason."))
    if errors:
        raise AppError("validation_failed", errors=errors)
    leave = LeaveRequest(secretary_id=secretary.id, village_id=secretary.village_id,
                         start=start, end=end, reason=reason, status="pending",
                         requested_by_id=user.id)
    db.session.add(leave)
    db.session.flush()
    record_audit(user, "leave.request", leave, county_id=secretary.village.county_id,
                 start=start.isoformat(), end=end.isoformat())
    db.session.commit()
    return leave


def leave_query(user: User, *, status: str | None = None, secretary_id: int | None = None,
                county_id: int | None = None, year: int | None = None):
    stmt = policy.scope(user, "read_leave", select(LeaveRequest))
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    if secretary_id is not None:
        stmt = stmt.where(LeaveRequest.secretary_id == secretary_id)
    if county_id is not None:
        stmt = stmt.where(LeaveRequest.village_id.in_(
            select(Village.id).where(Village.county_id == county_id)))
    if year is not None:
        stmt = stmt.where(LeaveRequest.start <= date(year, 12, 31),
                          LeaveRequest.end >= date(year, 1, 1))
    return stmt.order_by(LeaveRequest.status != "pending", LeaveRequest.start.desc(),
                         LeaveRequest.id.desc())


def annual_leave_days(secretary_ids: list[int], years: Iterable[int]) -> dict[tuple[int, int], int]:
    """(secretary_id, year) -> approved leave days in that calendar year."""
    out: dict[tuple[int, int], int] = {}
    for y in sorted(set(years)):
        leaves = _leaves(secretary_ids, date(y, 1, 1), date(y, 12, 31), ("approved",))
        for sid in secretary_ids:
            out[(sid, y)] = dres.annual_leave_days(y, _periods(leaves[sid]))
    return out


def decide_leave(user: User, leave: LeaveRequest, decision: str,
                 note: str | None = None) -> LeaveRequest:
    """Approve or reject a pending request (staff of the secretary's county)."""
    policy.authorize(user, "decide_leave", leave)
    if decision not in ("approve", "reject"):
        raise AppError("validation_failed", errors={"decision": [_("Approve or reject.")]})
    if leave.status != "pending":
        raise AppError("conflict", _("This leave request has already been decided."))
    # Approved leave excuses spot-check absences: it is an input of the county's scores.
    ensure_term_not_finalised(leave.village.county_id, leave.start, leave.end, what="leave")
    leave.status = "approved" if decision == "approve" else "rejected"
    leave.decided_by_id = user.id
    leave.decided_at = utcnow()
    leave.decision_note = (note or "").strip() or None
    record_audit(user, f"leave.{leave.status}", leave, county_id=leave.village.county_id,
                 secretary_id=leave.secretary_id, start=leave.start.isoformat(),
                 end=leave.end.isoformat(), note=leave.decision_note)
    db.session.commit()
    return leave


# --- spot checks -----------------------------------------------------------------------


MAX_SPOT_CHECK_NOTE = 1000  # characters; the API schema and the staff page say the same


def record_spot_check(user: User, data: dict[str, Any]) -> SpotCheck:
    policy.authorize(user, "record_spot_checks")
    secretary = db.session.get(FirstSecretary, data["secretary_id"])
    if secretary is None:
        raise AppError("not_found")
    policy.authorize(user, "record_spot_checks", secretary)
    errors: dict[str, list[str]] = {}
    if data["day"] > dres.shanghai_today():
        errors["day"] = [_("The date is in the future.")]
    if len((data.get("note") or "").strip()) > MAX_SPOT_CHECK_NOTE:
        errors["note"] = [_("At most %(max)s characters.", max=MAX_SPOT_CHECK_NOTE)]
    if errors:  # refused, never cut: a shortened note would read as the whole one
        raise AppError("validation_failed", errors=errors)
    ensure_days_not_finalised(secretary.village.county_id, [data["day"]], what="spot_check")
    check = SpotCheck(secretary_id=secretary.id, village_id=secretary.village_id,
                      day=data["day"], present=data["present"],
                      note=(data.get("note") or "").strip() or None, recorded_by_id=user.id)
    db.session.add(check)
    db.session.flush()
    record_audit(user, "spot_check.record", check, county_id=secretary.village.county_id,
                 secretary_id=secretary.id, day=check.day.isoformat(), present=check.present)
    db.session.commit()
    return check


def spot_check_query(user: User, *, secretary_id: int | None = None,
                     county_id: int | None = None, year: int | None = None):
    stmt = policy.scope(user, "read_spot_checks", select(SpotCheck))
    if secretary_id is not None:
        stmt = stmt.where(SpotCheck.secretary_id == secretary_id)
    if county_id is not None:
        stmt = stmt.where(SpotCheck.village_id.in_(
            select(Village.id).where(Village.county_id == county_id)))
    if year is not None:
        stmt = stmt.where(SpotCheck.day.between(date(year, 1, 1), date(year, 12, 31)))
    return stmt.order_by(SpotCheck.day.desc(), SpotCheck.id.desc())


# --- check-in listing ------------------------------------------------------------------


def checkin_query(user: User, *, secretary_id: int | None = None, year: int | None = None,
                  month: int | None = None):
    stmt = policy.scope(user, "read_checkins", select(CheckIn))
    if secretary_id is not None:
        stmt = stmt.where(CheckIn.secretary_id == secretary_id)
    if year is not None:
        lo, hi = month_bounds(year, month) if month else (date(year, 1, 1), date(year, 12, 31))
        stmt = stmt.where(CheckIn.day.between(lo, hi))
    return stmt.order_by(CheckIn.at.desc(), CheckIn.id.desc())


# --- poster tokens ---------------------------------------------------------------------


def poster_url(village: Village) -> str:
    """What the poster's QR code holds: the PWA's check-in route with the token."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/#/checkin?v={village.checkin_token}"


def rotate_token(user: User, village: Village) -> Village:
    """Reprint: a new token; check-ins with the old one are kept but stop counting."""
    policy.authorize(user, "manage_posters", village)
    db.session.add(RetiredCheckinToken(village_id=village.id, token=village.checkin_token,
                                       retired_by_id=user.id))
    village.checkin_token = new_token()
    record_audit(user, "village.checkin_token.rotate", village, county_id=village.county_id)
    db.session.commit()
    return village


# --- work discipline (工作纪律) ---------------------------------------------------------


def discipline_cycle(county_id: int, year: int) -> Cycle:
    cycle = cycle_for(county_id, year)
    if cycle is None:
        raise AppError("not_found", _("There is no assessment cycle for this county and year."))
    return cycle


def discipline_suggestions(secretaries: list[FirstSecretary], cycle: Cycle, county_id: int,
                           today: date) -> dict[int, tuple[dres.DisciplineSuggestion, int]]:
    """secretary id -> (the suggested 工作纪律 score, approved leave days in the year).
    No access check: callers (and the scorecard) check access first."""
    settings = settings_for(county_id, cycle.year)
    y = cycle.year
    lo, hi = date(y, 1, 1), date(y, 12, 31)
    ids = [s.id for s in secretaries]
    checkins = _checkin_facts(ids, lo, hi)
    leaves = _leaves(ids, lo, hi, ("approved",))
    spots = _spot_checks(ids, lo, hi)
    out = {}
    for s in secretaries:
        periods = _periods(leaves[s.id])
        months = dres.months_in_use([dres.monthly_residency(
            y, m, checkins[s.id], periods, (), required_days=settings.required_days,
            today=today, term_start=s.term_start, term_end=s.term_end,
            leave_counts_toward_required=settings.leave_counts_toward_required)
            for m in range(1, 13)], checkins[s.id])
        in_term = [sc for sc in spots[s.id]
                   if sc.day >= s.term_start and (s.term_end is None or sc.day <= s.term_end)]
        annual = dres.annual_leave_days(y, periods)
        over = annual > settings.discipline.annual_leave_limit
        # No check-in at all in the cycle year: "no data", not twelve absent months.
        out[s.id] = (dres.suggest_discipline_score(months, _spot_facts(in_term), over,
                                                   settings.discipline, leaves=periods,
                                                   has_checkins=bool(checkins[s.id])), annual)
    return out


def _suggestion_dict(sug: dres.DisciplineSuggestion, annual: int) -> dict[str, Any]:
    return {
        "score": sug.score, "no_data": sug.no_data,
        "breakdown": [{"text": translate(msgid, params), "points": points}
                      for msgid, params, points in sug.breakdown],
        "grade_cap": sug.grade_cap, "noncompliant_months": list(sug.noncompliant_months),
        "spot_check_absences": sug.spot_check_absences, "annual_leave_days": annual,
    }


def discipline_overview(user: User, county_id: int, year: int, *,
                        today: date | None = None) -> dict[str, Any]:
    """Suggested scores and decisions for every secretary of a county in a cycle year."""
    policy.authorize(user, "read_discipline", policy.InCounty(county_id))
    cycle = discipline_cycle(county_id, year)
    today = today or dres.shanghai_today()
    secretaries = county_secretaries(county_id, date(year, 1, 1), date(year, 12, 31))
    suggestions = discipline_suggestions(secretaries, cycle, county_id, today)
    decisions = {d.secretary_id: d for d in db.session.scalars(select(DisciplineDecision).where(
        DisciplineDecision.cycle_id == cycle.id,
        DisciplineDecision.secretary_id.in_([s.id for s in secretaries])))}
    settings = settings_for(county_id, year)
    rows = []
    for s in secretaries:
        sug, annual = suggestions[s.id]
        rows.append({"secretary_id": s.id, "secretary_name": s.name,
                     "village_name": s.village.name, "town": s.village.town.name,
                     "suggestion": _suggestion_dict(sug, annual),
                     "decision": decisions.get(s.id)})
    return {"cycle_id": cycle.id, "year": year, "county_id": county_id,
            "config": settings.discipline.to_dict(), "rows": rows}


def discipline_for(user: User, secretary: FirstSecretary, year: int, *,
                   today: date | None = None) -> dict[str, Any]:
    policy.authorize(user, "read_discipline", secretary)
    county_id = secretary.village.county_id
    cycle = discipline_cycle(county_id, year)
    sug, annual = discipline_suggestions([secretary], cycle, county_id,
                               today or dres.shanghai_today())[secretary.id]
    decision = db.session.scalar(select(DisciplineDecision).where(
        DisciplineDecision.cycle_id == cycle.id, DisciplineDecision.secretary_id == secretary.id))
    return {"secretary_id": secretary.id, "secretary_name": secretary.name,
            "village_name": secretary.village.name, "town": secretary.village.town.name,
            "cycle_id": cycle.id, "year": year, "suggestion": _suggestion_dict(sug, annual),
            "config": settings_for(county_id, year).discipline.to_dict(), "decision": decision}


def confirm_discipline(user: User, secretary: FirstSecretary, year: int, score: float | None,
                       reason: str | None, *, today: date | None = None) -> DisciplineDecision:
    """Confirm the suggestion (`score` None or equal to it) or override it with a reason."""
    policy.authorize(user, "confirm_discipline", secretary)
    current = discipline_for(user, secretary, year, today=today)
    cycle = db.session.get(Cycle, current["cycle_id"])
    ensure_not_finalised(cycle, secretary.village.county_id, what="discipline")
    raw_suggested = current["suggestion"]["score"]  # None: no check-in data, nothing to confirm
    suggested = None if raw_suggested is None else to_points(raw_suggested)
    max_points = current["config"]["max_points"]
    if suggested is None and score is None:
        raise AppError("validation_failed", errors={"score": [
            _("There is no check-in data for this year: enter the score.")]})
    try:  # half up to 2 decimals, as every entry point does (59.995 -> 60.00)
        final = suggested if score is None else to_points(score)
    except NotPoints:
        raise AppError("validation_failed", errors={"score": [_("Must be a number.")]}) from None
    reason = (reason or "").strip() or None
    errors: dict[str, list[str]] = {}
    if not in_range(final, to_points(max_points)):
        errors["score"] = [_("Between 0 and %(max)s.", max=max_points)]
    # Without check-in data there is no suggestion: the entered score overrides nothing.
    overridden = suggested is not None and final != suggested
    if overridden and not reason:
        errors["reason"] = [_("Give a reason for changing the suggested score.")]
    if errors:
        raise AppError("validation_failed", errors=errors)
    decision = current["decision"] or DisciplineDecision(
        cycle_id=cycle.id, secretary_id=secretary.id, village_id=secretary.village_id)
    decision.suggested = suggested
    decision.suggestion = {**current["suggestion"], "config": current["config"]}
    decision.score = final
    decision.overridden = overridden
    decision.override_reason = reason
    decision.decided_by_id = user.id
    decision.decided_at = utcnow()
    db.session.add(decision)
    db.session.flush()
    record_audit(user, "discipline.override" if overridden else "discipline.confirm", decision,
                 county_id=secretary.village.county_id, secretary_id=secretary.id,
                 cycle_id=cycle.id, suggested=None if suggested is None else str(suggested),
                 score=str(final), reason=reason)
    db.session.commit()
    return decision


def confirmed_discipline_score(cycle_id: int, secretary_id: int) -> Decimal | None:
    """For the scorecard: the 工作纪律 points staff confirmed, or None if not decided yet."""
    return db.session.scalar(select(DisciplineDecision.score).where(
        DisciplineDecision.cycle_id == cycle_id, DisciplineDecision.secretary_id == secretary_id))
