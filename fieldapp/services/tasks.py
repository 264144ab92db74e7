"""The evaluator's download (`GET /api/tasks`): what a phone needs to work offline.

Only the villages assigned to the evaluator in open cycles that have an active draw; per
village only the sample and the reserves (never the unused households), with the head's
name and family size for finding the house, and no ID or phone numbers.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Cycle, Draw, EvaluatorAssignment, SampleEntry, User, Village, VillageDraw, utcnow
from . import instruments


def evaluator_tasks(user: User) -> dict[str, Any]:
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
    villages = []
    for vd, draw, cycle in rows:
        village = vd.village
        villages.append({
            "code": village.code, "name": village.name, "town": village.town.name,
            "county": village.county.name,
            "centre": {"lat": village.lat, "lon": village.lon}, "radius_m": village.radius_m,
            "cycle": {"id": cycle.id, "year": cycle.year},
            "draw": {"id": draw.id, "seed": draw.seed, "seed_recorded_at": draw.seed_recorded_at,
                     "complete_census": vd.complete_census},
            "households": [{
                "token": e.token, "household_no": e.household_no,
                "head_name": e.household.head_name, "family_size": e.household.family_size,
                "rank": e.rank, "role": e.role, "status": e.status,
            } for e in entries.get(vd.id, [])],
        })
    return {"generated_at": utcnow(), "villages": villages,
            "instruments": [i.raw for i in instruments.all_instruments()]}
