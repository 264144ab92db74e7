"""The evaluator's download (`GET /api/tasks`): what a phone needs to work offline.

The villages assigned to the evaluator in open cycles; per village only the sample and
the reserves (never the unused households), with the head's name and family size. For the
households the evaluator must find (samples and activated reserves, `policy.
findable_entries`, policy `call_household`) also the phone number (to make appointments) and the home's
coordinates (distance, direction and a small map on the phone); never ID numbers. Every
download that carries phone numbers is audited, naming the households.

An assigned village without a draw yet comes with `draw: null` and no households: the phone
shows it as 尚未抽样 instead of leaving it out.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import record_audit
from ..extensions import db
from ..models import Cycle, Draw, EvaluatorAssignment, SampleEntry, User, Village, VillageDraw, utcnow
from .. import policy
from . import instruments
from .visits import returned_households


def evaluator_tasks(user: User) -> dict[str, Any]:
    policy.authorize(user, "read_tasks")
    rows = db.session.execute(
        select(VillageDraw, Draw, Cycle)
        .join(Draw, VillageDraw.draw_id == Draw.id)
        .join(Cycle, Draw.cycle_id == Cycle.id)
        .join(EvaluatorAssignment, (EvaluatorAssignment.cycle_id == Cycle.id)
              & (EvaluatorAssignment.village_id == VillageDraw.village_id))
        .where(EvaluatorAssignment.user_id == user.id, Cycle.status == "open",
               Draw.status == "active", VillageDraw.status == "active")
        .options(selectinload(VillageDraw.village).selectinload(Village.town),
                 selectinload(VillageDraw.village).selectinload(Village.county))
        .order_by(Cycle.year, VillageDraw.village_code)).all()
    entries: dict[int, list[SampleEntry]] = {}
    if rows:
        for e in db.session.scalars(
                select(SampleEntry)
                .where(SampleEntry.village_draw_id.in_([vd.id for vd, _d, _c in rows]),
                       SampleEntry.role.in_(("sample", "reserve")))
                .options(selectinload(SampleEntry.household)).order_by(SampleEntry.rank)):
            entries.setdefault(e.village_draw_id, []).append(e)
    # Households whose visit staff rejected are due again: the phone shows why.
    returned = returned_households(e.id for es in entries.values() for e in es)
    # Whose phone and home may be sent: the households to find (one query for all).
    callable_ids = set(db.session.scalars(policy.scope(
        user, "call_household", select(SampleEntry.id).where(SampleEntry.village_draw_id.in_(
            [vd.id for vd, _d, _c in rows]))))) if rows else set()
    villages = []
    contacts: dict[int, list[int]] = {}  # county id -> households whose phone was sent
    for vd, draw, cycle in rows:
        village = vd.village
        households = []
        for e in entries.get(vd.id, []):
            item = {"token": e.token, "household_no": e.household_no,
                    "head_name": e.household.head_name, "family_size": e.household.family_size,
                    "rank": e.rank, "role": e.role, "status": e.status,
                    "returned": returned.get(e.id)}
            if e.id in callable_ids:
                item["phone"] = e.household.phone
                item["home"] = ({"lat": e.household.lat, "lon": e.household.lon}
                                if e.household.lat is not None else None)
                if e.household.phone:
                    contacts.setdefault(village.county_id, []).append(e.household_id)
            households.append(item)
        villages.append(_village(village, cycle) | {
            "draw": {"id": draw.id, "seed": draw.seed, "seed_recorded_at": draw.seed_recorded_at,
                     "complete_census": vd.complete_census},
            "households": households})
    drawn = {(cycle.id, vd.village_id) for vd, _d, cycle in rows}
    for village, cycle in _assigned(user):
        if (cycle.id, village.id) not in drawn:
            villages.append(_village(village, cycle) | {"draw": None, "households": []})
    for county_id, ids in contacts.items():
        record_audit(user, "household.contacts_sent", None, county_id=county_id,
                     households=sorted(ids), before=None,
                     after={"phones_sent": len(ids), "households": sorted(ids)})
    if contacts:
        db.session.commit()
    return {"generated_at": utcnow(), "villages": villages,
            "instruments": [i.raw for i in instruments.all_instruments()]}


def _village(village: Village, cycle: Cycle) -> dict[str, Any]:
    return {"code": village.code, "name": village.name, "town": village.town.name,
            "county": village.county.name,
            "centre": {"lat": village.lat, "lon": village.lon}, "radius_m": village.radius_m,
            "cycle": {"id": cycle.id, "year": cycle.year}}


def _assigned(user: User) -> list[tuple[Village, Cycle]]:
    return list(db.session.execute(
        select(Village, Cycle).join(EvaluatorAssignment, EvaluatorAssignment.village_id == Village.id)
        .join(Cycle, EvaluatorAssignment.cycle_id == Cycle.id)
        .where(EvaluatorAssignment.user_id == user.id, Cycle.status == "open")
        .options(selectinload(Village.town), selectinload(Village.county))
        .order_by(Cycle.year, Village.code)).all())
