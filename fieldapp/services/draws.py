"""Run, void and publish household draws (algorithm in fieldapp/domain/sampling.py).

A draw is run for one county of a cycle from one public seed; the city-wide form runs one
draw per county with the same seed (the village code in the HMAC message makes the
villages independent). Everything the draw used is stored: the seed exactly as entered,
the time it was entered, the sizes, and per village every eligible household with its key
and rank. A draw is locked: re-drawing is refused (also by a partial unique index, for two
racing requests); an admin may void it with a written reason, and the next draw of that
county needs a seed never used for it before.

A village added after its county's draw (or whose own draw an admin voided) is drawn
alone (`run_village_draw`): its own seed and time, the same algorithm, its own public
record; the county draw skips villages that already have one. An admin may void one
village's draw (`void_village_draw`) without touching any other village.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import policy
from ..audit import record_audit
from ..domain import sampling as ds
from ..errors import AppError, translate
from ..extensions import db
from ..models import (County, Cycle, Draw, Household, Replacement, SampleEntry, User, Village,
                      VillageDraw, Visit, new_token, utcnow)
from . import bulk
from .cycles import effective_settings
from .freeze import ensure_not_finalised

MAX_VOID_REASON = 2000


def _seed_time() -> datetime:
    # Whole seconds: the published `seed_recorded_at` is then exactly the stored value.
    return utcnow().replace(microsecond=0)


def iso_z(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- running a draw ------------------------------------------------------------------


def _check_seed(seed: str) -> None:
    errors = ds.validate_seed(seed)
    if errors:
        raise AppError("validation_failed", errors={"seed": [translate(m) for _f, m in errors]})


def _authorize_draw(actor: User, cycle: Cycle, county: County | None) -> None:
    """Policy `draw` on the county drawn (None: every county of the cycle at once)."""
    policy.authorize(actor, "read_cycles", cycle)
    if county is None and cycle.county_id is not None:
        county = cycle.county
    policy.authorize(actor, "draw", county or policy.CITY)


def _eligible_by_village(county_id: int, include_exited: bool, village_id: int | None = None
                         ) -> dict[int, list[tuple[int, str]]]:
    """Every village's eligible households (id, 户编号), the whole county (or one village)
    in one query."""
    stmt = (select(Household.village_id, Household.id, Household.household_no)
            .join(Village, Village.id == Household.village_id)
            .where(Village.county_id == county_id))
    if village_id is not None:
        stmt = stmt.where(Household.village_id == village_id)
    if not include_exited:
        stmt = stmt.where(Household.exit_status != "exited")
    out: dict[int, list[tuple[int, str]]] = {}
    for village_id, hid, no in db.session.execute(stmt):
        out.setdefault(village_id, []).append((hid, no))
    return out


def drawn_village_ids(cycle_id: int, village_ids: list[int] | None = None) -> set[int]:
    """Villages that have an active draw in the cycle (a county's or their own)."""
    stmt = select(VillageDraw.village_id).where(VillageDraw.cycle_id == cycle_id,
                                                VillageDraw.status == "active")
    if village_ids is not None:
        stmt = stmt.where(VillageDraw.village_id.in_(village_ids))
    return set(db.session.scalars(stmt))


def _new_draw(actor: User, cycle: Cycle, county: County, seed: str, recorded_at: datetime,
              settings: dict[str, Any], village: Village | None = None) -> Draw:
    draw = Draw(cycle_id=cycle.id, county_id=county.id, village_id=village.id if village else None,
                algorithm=ds.ALGORITHM, seed=seed, seed_recorded_at=recorded_at,
                sample_size=settings["sample_size"], reserve_count=settings["reserve_count"],
                include_exited=bool(settings["include_exited"]), status="active",
                created_by_id=actor.id, created_at=utcnow(),
                public_token=new_token())
    db.session.add(draw)
    db.session.flush()
    return draw


def _draw_villages(draw: Draw, villages: list[Village],
                   eligible_of: dict[int, list[tuple[int, str]]]) -> int:
    """Draw each village into `draw` (the same algorithm for county and single draws);
    returns the number of eligible households. Every village is ranked in memory first,
    then stored with bulk statements (village results, then every entry in multi-row
    VALUES statements): no flush per village, no ORM object per household."""
    results = []
    for village in villages:
        eligible = eligible_of.get(village.id, [])
        try:
            result = ds.draw_village(draw.seed, village.code, [no for _h, no in eligible],
                                     draw.sample_size, draw.reserve_count)
        except ValueError as exc:
            raise AppError("validation_failed", errors={"village": [
                _("Village %(code)s cannot be drawn: %(error)s", code=village.code,
                  error=str(exc))]}) from exc
        results.append((village, eligible, result))
    vd_ids = dict(db.session.execute(
        insert(VillageDraw).returning(VillageDraw.village_id, VillageDraw.id,
                                      sort_by_parameter_order=True),
        [{"draw_id": draw.id, "cycle_id": draw.cycle_id, "village_id": v.id,
          "village_code": v.code, "eligible_count": len(eligible),
          "complete_census": result.complete_census, "status": "active"}
         for v, eligible, result in results]).all())
    entries = []
    for village, eligible, result in results:
        ids = {no: hid for hid, no in eligible}
        entries += [{"village_draw_id": vd_ids[village.id], "village_id": village.id,
                     "household_id": ids[r.household_no], "household_no": r.household_no,
                     "hmac_key": r.key, "rank": r.rank, "role": r.role,
                     "status": {"sample": "pending", "reserve": "reserve_unused"}.get(r.role, "unused"),
                     "token": new_token() if r.role != "unused" else None}
                    for r in result.ranked]
    # COPY on PostgreSQL: an executemany would send one INSERT per household.
    bulk.insert_rows(SampleEntry.__table__, entries)
    return sum(len(eligible) for _v, eligible, _r in results)


def _draw_county(actor: User, cycle: Cycle, county: County, seed: str,
                 recorded_at: datetime, settings: dict[str, Any]) -> Draw:
    """Validate and build one county's draw in the session (no commit). Villages that
    already have their own draw in the cycle are skipped."""
    if db.session.scalar(select(Draw.id).where(
            Draw.cycle_id == cycle.id, Draw.county_id == county.id, Draw.village_id.is_(None),
            Draw.status == "active")) is not None:
        raise AppError("locked", _("%(county)s already has a draw in this cycle. Re-drawing is "
                                   "refused; an admin can void it with a reason.", county=county.name))
    _check_seed_unused(cycle, county, seed)
    villages = db.session.scalars(
        select(Village).where(Village.county_id == county.id).order_by(Village.code)).all()
    if not villages:
        raise AppError("validation_failed", errors={"county": [
            _("%(county)s has no villages: import the roster first.", county=county.name)]})
    already = drawn_village_ids(cycle.id, [v.id for v in villages])
    villages = [v for v in villages if v.id not in already]
    if not villages:
        raise AppError("validation_failed", errors={"county": [
            _("Every village of %(county)s already has a draw in this cycle.", county=county.name)]})
    draw = _new_draw(actor, cycle, county, seed, recorded_at, settings)
    total = _draw_villages(draw, villages, _eligible_by_village(county.id, draw.include_exited))
    record_audit(actor, "draw.run", draw, county_id=county.id, cycle_id=cycle.id, seed=seed,
                 seed_recorded_at=iso_z(recorded_at), algorithm=ds.ALGORITHM,
                 sample_size=draw.sample_size, reserve_count=draw.reserve_count,
                 include_exited=draw.include_exited, villages=len(villages), eligible=total,
                 skipped_already_drawn=len(already), before=None,
                 after={"status": draw.status, "seed": seed, "villages": len(villages),
                        "eligible": total})
    return draw


def _check_seed_unused(cycle: Cycle, county: County, seed: str) -> None:
    """A new draw needs a seed never used for this county in the cycle: a seed published
    before a village's list was frozen could have steered that village's draw."""
    if db.session.scalar(select(Draw.id).where(
            Draw.cycle_id == cycle.id, Draw.county_id == county.id, Draw.seed == seed)) is not None:
        raise AppError("validation_failed", errors={"seed": [
            _("This seed was already used for a draw of %(county)s in this cycle: a new draw "
              "needs a new seed.", county=county.name)]})


def _check_open(cycle: Cycle) -> None:
    if cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))


def run_draw(actor: User, cycle: Cycle, county: County | None, seed: str, *,
             recorded_at: datetime | None = None) -> list[Draw]:
    """Record `seed` now and draw `county` (or every county of a city-wide cycle).

    All or nothing: the city-wide form is refused when any county already has a draw.
    `recorded_at` is now, except when a tool replays history (the demo builder).
    """
    _authorize_draw(actor, cycle, county)
    _check_open(cycle)
    _check_seed(seed)
    if county is not None:
        if not cycle.covers_county(county.id):
            raise AppError("validation_failed", errors={"county": [
                _("This cycle does not cover %(county)s.", county=county.name)]})
        counties = [county]
    elif cycle.county_id is not None:
        counties = [cycle.county]
    else:
        has_villages = select(Village.county_id).distinct()
        counties = list(db.session.scalars(
            select(County).where(County.id.in_(has_villages)).order_by(County.code)))
        if not counties:
            raise AppError("validation_failed", errors={"county": [_("There are no villages yet.")]})
    settings = effective_settings(cycle)
    recorded_at = recorded_at.replace(microsecond=0) if recorded_at is not None else _seed_time()
    try:
        draws = [_draw_county(actor, cycle, c, seed, recorded_at, settings) for c in counties]
        db.session.commit()
    except IntegrityError as exc:  # another request drew the same county just now
        db.session.rollback()
        raise AppError("locked", _("This county already has a draw in this cycle.")) from exc
    except Exception:
        db.session.rollback()
        raise
    return draws


def run_village_draw(actor: User, cycle: Cycle, village: Village, seed: str) -> Draw:
    """Draw one village that has no active draw in the cycle (a village added after its
    county's draw, or one whose draw an admin voided): its own public seed and time, the
    same algorithm, its own public record. Nothing else changes."""
    policy.authorize(actor, "read_cycles", cycle)
    policy.authorize(actor, "draw", village)
    _check_open(cycle)
    _check_seed(seed)
    county = village.county
    if not cycle.covers_county(county.id):
        raise AppError("validation_failed", errors={"village": [
            _("This cycle does not cover %(county)s.", county=county.name)]})
    ensure_not_finalised(cycle, county.id, what="village_draw")  # its visits would move scores
    if drawn_village_ids(cycle.id, [village.id]):
        raise AppError("locked", _("%(village)s already has a draw in this cycle. An admin can "
                                   "void it with a reason.", village=village.name))
    _check_seed_unused(cycle, county, seed)
    settings = effective_settings(cycle)
    eligible_of = _eligible_by_village(county.id, bool(settings["include_exited"]), village.id)
    if not eligible_of.get(village.id):
        raise AppError("validation_failed", errors={"village": [
            _("%(village)s has no eligible registered households: import them first.",
              village=village.name)]})
    recorded_at = _seed_time()
    try:
        draw = _new_draw(actor, cycle, county, seed, recorded_at, settings, village=village)
        total = _draw_villages(draw, [village], eligible_of)
        record_audit(actor, "draw.run_village", draw, county_id=county.id, cycle_id=cycle.id,
                     village_code=village.code, seed=seed, seed_recorded_at=iso_z(recorded_at),
                     algorithm=ds.ALGORITHM, sample_size=draw.sample_size,
                     reserve_count=draw.reserve_count, include_exited=draw.include_exited,
                     eligible=total, before=None,
                     after={"status": draw.status, "seed": seed, "village_code": village.code,
                            "eligible": total})
        db.session.commit()
    except IntegrityError as exc:  # another request drew this village just now
        db.session.rollback()
        raise AppError("locked", _("%(village)s already has a draw in this cycle.",
                                   village=village.name)) from exc
    except Exception:
        db.session.rollback()
        raise
    return draw


def _void_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AppError("validation_failed", errors={"reason": [_("Write down why the draw is voided.")]})
    if len(reason) > MAX_VOID_REASON:
        raise AppError("validation_failed", errors={"reason": [
            _("At most %(n)d characters.", n=MAX_VOID_REASON)]})
    return reason


def ensure_voidable(draw: Draw, vd: VillageDraw | None = None) -> None:
    """Refuse before anyone types a reason: already voided (409 locked), or the county's
    scores finalised (409 county_finalised). The confirm steps ask this first."""
    if (vd or draw).status != "active":
        raise AppError("locked", _("This village's draw is already voided.") if vd is not None
                       else _("This draw is already voided."))
    ensure_not_finalised(draw.cycle, draw.county_id, what="draw_void")


def void_draw(actor: User, draw: Draw, reason: str) -> Draw:
    """Void a whole draw (every village still active in it). Admins only."""
    policy.authorize(actor, "void_draw", draw)
    reason = _void_reason(reason)
    if draw.status != "active":
        raise AppError("locked", _("This draw is already voided."))
    # The county's scores are computed from this draw's visits: frozen once finalised.
    ensure_not_finalised(draw.cycle, draw.county_id, what="draw_void")
    before = {"status": draw.status}
    now = utcnow()
    draw.status = "voided"
    draw.voided_at = now
    draw.voided_by_id = actor.id
    draw.void_reason = reason
    for vd in draw.villages:
        if vd.status == "active":
            _mark_voided(vd, actor, reason, now)
    record_audit(actor, "draw.void", draw, county_id=draw.county_id, cycle_id=draw.cycle_id,
                 reason=reason, seed=draw.seed, before=before,
                 after={"status": draw.status, "reason": reason})
    db.session.commit()
    return draw


def _mark_voided(vd: VillageDraw, actor: User, reason: str, at: datetime) -> None:
    vd.status = "voided"
    vd.voided_at = at
    vd.voided_by_id = actor.id
    vd.void_reason = reason


def void_consequences(vd: VillageDraw) -> dict[str, int]:
    """What voiding one village's draw sets aside: shown on the confirm step."""
    entry_ids = select(SampleEntry.id).where(SampleEntry.village_draw_id == vd.id)
    return {
        "visits": db.session.scalar(select(func.count(Visit.id)).where(
            Visit.sample_entry_id.in_(entry_ids))) or 0,
        "replacements": db.session.scalar(select(func.count(Replacement.id)).where(
            Replacement.village_draw_id == vd.id)) or 0,
    }


def void_village_draw(actor: User, vd: VillageDraw, reason: str) -> VillageDraw:
    """Void one village's draw (admins, with a reason): its visits stop counting, other
    villages' draws, records and visits are untouched. The village can then be drawn
    alone with a new seed. A single-village draw's Draw is voided with it."""
    policy.authorize(actor, "void_draw", vd)
    reason = _void_reason(reason)
    if vd.status != "active":
        raise AppError("locked", _("This village's draw is already voided."))
    ensure_not_finalised(vd.draw.cycle, vd.draw.county_id, what="draw_void")
    now = utcnow()
    consequences = void_consequences(vd)
    _mark_voided(vd, actor, reason, now)
    draw = vd.draw
    if draw.village_id is not None and draw.status == "active":
        draw.status, draw.voided_at, draw.void_reason = "voided", now, reason
        draw.voided_by_id = actor.id
    record_audit(actor, "draw.void_village", vd, county_id=draw.county_id,
                 cycle_id=draw.cycle_id, draw_id=draw.id, village_code=vd.village_code,
                 reason=reason, seed=draw.seed, **consequences,
                 before={"status": "active"}, after={"status": vd.status, "reason": reason})
    db.session.commit()
    return vd


# --- reading draws -------------------------------------------------------------------


def entries_of(vd: VillageDraw) -> list[SampleEntry]:
    return db.session.scalars(
        select(SampleEntry).where(SampleEntry.village_draw_id == vd.id)
        .options(selectinload(SampleEntry.household)).order_by(SampleEntry.rank)).all()


def replacements_of(vd: VillageDraw) -> list[Replacement]:
    return db.session.scalars(
        select(Replacement).where(Replacement.village_draw_id == vd.id)
        .options(selectinload(Replacement.replaced_entry), selectinload(Replacement.reserve_entry))
        .order_by(Replacement.id)).all()


def public_replacements(vd: VillageDraw) -> list[dict[str, Any]]:
    """Every replacement that took effect, in the order the server applied them: those
    that activated a reserve and those that found none left (备选已用完,
    `reserve_household_no` null). Conflicts (a second phone replacing the same household)
    changed nothing and are shown to staff in the lists only.
    """
    return _public_items(replacements_of(vd))


def public_villages(draw: Draw, village_code: str | None = None) -> list[dict[str, Any]]:
    """Every village of a draw (or one) for the public page: `{vd, entries, replacements}`.

    A fixed number of queries whatever the number of villages (no household rows: the
    public page shows no names)."""
    stmt = (select(VillageDraw).where(VillageDraw.draw_id == draw.id)
            .options(selectinload(VillageDraw.village)).order_by(VillageDraw.village_code))
    if village_code is not None:
        stmt = stmt.where(VillageDraw.village_code == village_code)
    vds = db.session.scalars(stmt).all()
    ids = [vd.id for vd in vds]
    entries: dict[int, list[SampleEntry]] = {i: [] for i in ids}
    reps: dict[int, list[Replacement]] = {i: [] for i in ids}
    if ids:
        for e in db.session.scalars(select(SampleEntry).where(SampleEntry.village_draw_id.in_(ids))
                                    .order_by(SampleEntry.village_draw_id, SampleEntry.rank)):
            entries[e.village_draw_id].append(e)
        for rep in db.session.scalars(
                select(Replacement).where(Replacement.village_draw_id.in_(ids))
                .options(selectinload(Replacement.replaced_entry),
                         selectinload(Replacement.reserve_entry))
                .order_by(Replacement.id)):
            reps[rep.village_draw_id].append(rep)
    return [{"vd": vd, "entries": entries[vd.id],
             "replacements": [ds.public_replacement(r) for r in _public_items(reps[vd.id])]}
            for vd in vds]


def _public_items(replacements: list[Replacement]) -> list[dict[str, Any]]:
    out = []
    for rep in replacements:
        if rep.is_conflict:
            continue
        item: dict[str, Any] = {"household_no": rep.replaced_entry.household_no,
                                "reserve_household_no": (rep.reserve_entry.household_no
                                                         if rep.reserve_entry is not None else None),
                                "reason": rep.reason}
        if rep.attempts is not None:
            item["attempts"] = rep.attempts
        item["recorded_at"] = iso_z(rep.at)
        out.append(item)
    return out


def domain_draw(vd: VillageDraw, entries: list[SampleEntry] | None = None) -> ds.VillageDraw:
    """The stored result as the domain's VillageDraw: from the stored keys and ranks, never
    recomputed, so that verifying the export really checks what was stored."""
    entries = entries if entries is not None else entries_of(vd)
    draw = vd.draw
    ranked = [ds.RankedHousehold(household_no=e.household_no, key=e.hmac_key, rank=e.rank,
                                 role=e.role) for e in entries]  # type: ignore[arg-type]
    return ds.VillageDraw(
        algorithm=draw.algorithm, seed=draw.seed, village_code=vd.village_code,
        eligible=sorted(e.household_no for e in entries), ranked=ranked,
        sample=[e.household_no for e in entries if e.role == "sample"],
        reserves=[e.household_no for e in entries if e.role == "reserve"],
        complete_census=vd.complete_census, sample_size=draw.sample_size,
        reserve_count=draw.reserve_count)


def village_record(vd: VillageDraw, include_keys: bool = True, *,
                   public: bool = False) -> dict[str, Any]:
    """The JSON record of one village's draw (docs/algorithms.md). `public`: for anyone
    (the public page's link), replacement reasons reduced to `unreachable`; staff and the
    command line get the reasons."""
    replacements = public_replacements(vd)
    if public:
        replacements = [ds.public_replacement(r) for r in replacements]
    return ds.to_record(domain_draw(vd), iso_z(vd.draw.seed_recorded_at), replacements,
                        include_keys=include_keys)


def find_village_draw(cycle_id: int, village_code: str, draw_id: int | None = None) -> VillageDraw:
    """The village's draw in a cycle: the active one, or a given (possibly voided) draw."""
    stmt = (select(VillageDraw).join(Draw).join(Village, VillageDraw.village_id == Village.id)
            .where(Draw.cycle_id == cycle_id, Village.code == village_code))
    stmt = (stmt.where(Draw.id == draw_id) if draw_id is not None
            else stmt.where(VillageDraw.status == "active"))
    vd = db.session.scalar(stmt)
    if vd is None:
        raise AppError("not_found")
    return vd


@dataclass
class VillageQuality:
    village_draw: VillageDraw
    sample_count: int
    replacements: int  # replacements that took effect (conflicts excluded)
    conflicts: int
    reserves_left: int

    @property
    def rate(self) -> float:
        """Replacements per sampled household: a quality signal for county staff."""
        return round(self.replacements / self.sample_count, 4) if self.sample_count else 0.0


def quality(draw: Draw) -> list[VillageQuality]:
    """Per village: sample size, replacements, conflicts and the replacement rate."""
    vds = db.session.scalars(select(VillageDraw).where(VillageDraw.draw_id == draw.id)
                             .options(selectinload(VillageDraw.village))
                             .order_by(VillageDraw.village_code)).all()
    counts = {(vd_id, role, status): n for vd_id, role, status, n in db.session.execute(
        select(SampleEntry.village_draw_id, SampleEntry.role, SampleEntry.status, func.count())
        .join(VillageDraw).where(VillageDraw.draw_id == draw.id)
        .group_by(SampleEntry.village_draw_id, SampleEntry.role, SampleEntry.status))}
    reps = {(vd_id, conflict): n for vd_id, conflict, n in db.session.execute(
        select(Replacement.village_draw_id, Replacement.is_conflict, func.count())
        .join(VillageDraw).where(VillageDraw.draw_id == draw.id)
        .group_by(Replacement.village_draw_id, Replacement.is_conflict))}
    out = []
    for vd in vds:
        sample = sum(n for (v, role, _s), n in counts.items() if v == vd.id and role == "sample")
        left = counts.get((vd.id, "reserve", "reserve_unused"), 0)
        out.append(VillageQuality(vd, sample, reps.get((vd.id, False), 0),
                                  reps.get((vd.id, True), 0), left))
    return out


def stored_record_problems(record: dict[str, Any]) -> list[str] | None:
    """Check a published record against this database: None when its draw is not stored
    here (checked offline only), else the problems found, e.g. a replacement the record
    leaves out (the record must hold every replacement, 备选已用完 included)."""
    try:
        recorded_at = datetime.fromisoformat(str(record.get("seed_recorded_at", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    vd = db.session.scalar(
        select(VillageDraw).join(Draw, VillageDraw.draw_id == Draw.id)
        .where(Draw.seed == record.get("seed"), VillageDraw.village_code == record.get("village_code"),
               Draw.seed_recorded_at == recorded_at))
    if vd is None:
        return None
    stored = [{k: v for k, v in item.items() if k in ds.REPLACEMENT_RECORD_FIELDS}
              for item in public_replacements(vd)]
    given = [{k: v for k, v in item.items() if k in ds.REPLACEMENT_RECORD_FIELDS}
             for item in record.get("replacements") or [] if isinstance(item, dict)]
    problems = []
    missing = [item for item in stored if item not in given]
    extra = [item for item in given if item not in stored]
    for item in missing:
        problems.append(translate(ds.N_("The record leaves out the replacement of %(household)s "
                                        "recorded at %(at)s."),
                                  {"household": item["household_no"], "at": item.get("recorded_at")}))
    for item in extra:
        problems.append(translate(ds.N_("The replacement of %(household)s is not in the stored draw."),
                                  {"household": item["household_no"]}))
    if not problems and given != stored:
        problems.append(translate(ds.N_("The replacements are not in the order they were applied.")))
    return problems
