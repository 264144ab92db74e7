"""Numbers for the staff home page, scoped to the acting user: the overview counts and the
county dashboard (progress, quality flags, satisfaction by town, the map)."""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, select

from .. import policy
from ..domain.residency import shanghai_today
from ..extensions import db
from ..models import (CheckIn, Cycle, Draw, FirstSecretary, Household, SampleEntry, User, Village,
                      VillageDraw, Visit)
from .checkins import county_report
from .meetings import meetings_for
from .scoring.mass import pooled_fields
from .scoring.results import results, with_answers
from .visits import FLAG_LABELS


def county_overview(user: User) -> dict[str, int]:
    def count(verb: str, model) -> int:
        stmt = policy.scope(user, verb, select(func.count()).select_from(model), model)
        return db.session.scalar(stmt) or 0

    return {"villages": count("read_places", Village),
            "households": count("read_households", Household),
            "secretaries": count("read_secretaries", FirstSecretary)}


SATISFACTION_ORDER = ("satisfied", "basically_satisfied", "dissatisfied", "unknown")
MAX_MAP_POINTS = 5000


def _compliance_month(cycle: Cycle, today: date) -> tuple[int, int] | None:
    """The last complete month of the cycle year (None before its first month ends)."""
    if today.year > cycle.year:
        return cycle.year, 12
    if today.year < cycle.year or today.month == 1:
        return None
    return cycle.year, today.month - 1


def _village_progress(cycle: Cycle, county_id: int, villages: list[Village]) -> list[dict[str, Any]]:
    """Per village: drawn or not, the visits wanted (sample size, or fewer eligible) and done."""
    drawn = {vd.village_id: (vd, size) for vd, size in db.session.execute(
        select(VillageDraw, Draw.sample_size).join(Draw, VillageDraw.draw_id == Draw.id)
        .where(Draw.cycle_id == cycle.id, Draw.county_id == county_id,
               Draw.status == "active", VillageDraw.status == "active"))}
    done = dict(db.session.execute(
        select(VillageDraw.village_id, func.count(func.distinct(Visit.sample_entry_id)))
        .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
        .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
        .join(Draw, VillageDraw.draw_id == Draw.id)
        .where(Visit.cycle_id == cycle.id, Draw.cycle_id == cycle.id, Draw.status == "active",
               VillageDraw.status == "active", Draw.county_id == county_id,
               SampleEntry.role.in_(("sample", "reserve")))
        .group_by(VillageDraw.village_id)).all())
    rows = []
    for v in villages:
        vd = drawn.get(v.id)
        target = min(vd[1], vd[0].eligible_count) if vd else None
        rows.append({"id": v.id, "code": v.code, "name": v.name, "town": v.town.name,
                     "drawn": vd is not None, "target": target, "done": done.get(v.id, 0)})
    return rows


def _compliance(user: User, cycle: Cycle, county_id: int) -> dict[str, int] | None:
    """Residency compliance of the last complete month (None before the first one ends)."""
    month = _compliance_month(cycle, shanghai_today())
    if month is None:
        return None
    report = county_report(user, county_id, *month)
    judged = [r for r in report["rows"] if r["compliant"] is not None]
    return {"year": month[0], "month": month[1], "judged": len(judged),
            "compliant": sum(1 for r in judged if r["compliant"])}


def _labelled(counts: Counter[str]) -> list[dict[str, Any]]:
    return [{"code": c, "label": str(FLAG_LABELS.get(c, c)), "count": n}
            for c, n in counts.most_common()]


def _flags_and_points(cycle: Cycle, county_id: int, villages: list[Village]) -> tuple[dict, dict]:
    """Flag counts of the year's visits and check-ins, and the map's points (bounded)."""
    visit_flags: Counter[str] = Counter()
    flagged_visits = 0
    points: list[dict[str, Any]] = []
    for lat, lon, flags, _village_id in db.session.execute(
            select(Visit.lat, Visit.lon, Visit.flags, Visit.village_id)
            .join(Village, Visit.village_id == Village.id)
            .where(Visit.cycle_id == cycle.id, Village.county_id == county_id)
            .execution_options(yield_per=2000)):
        codes = [f.get("code") for f in flags or []]
        visit_flags.update(codes)
        flagged_visits += bool(codes)
        if lat is not None and lon is not None and len(points) < MAX_MAP_POINTS:
            points.append({"kind": "visit", "lat": lat, "lon": lon, "flagged": bool(codes)})
    checkin_flags: Counter[str] = Counter()
    for lat, lon, flags, inside in db.session.execute(
            select(CheckIn.lat, CheckIn.lon, CheckIn.flags, CheckIn.inside_fence)
            .join(Village, CheckIn.village_id == Village.id)
            .where(Village.county_id == county_id, CheckIn.day >= date(cycle.year, 1, 1),
                   CheckIn.day <= date(cycle.year, 12, 31))
            .execution_options(yield_per=2000)):
        checkin_flags.update(f.get("code") for f in flags or [])
        if lat is not None and lon is not None and len(points) < 2 * MAX_MAP_POINTS:
            points.append({"kind": "checkin", "lat": lat, "lon": lon, "flagged": inside is False})
    centres = [{"kind": "village", "lat": v.lat, "lon": v.lon, "name": v.name}
               for v in villages if v.lat is not None and v.lon is not None]
    flags = {"visits": _labelled(visit_flags), "flagged_visits": flagged_visits,
             "checkins": _labelled(checkin_flags)}
    return flags, {"points": points, "centres": centres}


def _satisfaction_by_town(cycle: Cycle, county_id: int, res: dict[str, Any]) -> list[dict[str, Any]]:
    """Household answers pooled per town, from the same rows the scores page shows."""
    loaded, outcome = with_answers(cycle, county_id, res)
    by_id = {o.secretary_id: o for o in outcome.secretaries}
    towns: dict[str, list] = {}
    for r in res["rows"]:
        towns.setdefault(r["town"], []).append(r)
    satisfaction = []
    for town, group in sorted(towns.items()):
        p = pooled_fields(loaded.input, [by_id[r["secretary_id"]] for r in group
                                         if r["secretary_id"] in by_id], group)
        dist = p["distribution"]
        total = sum(dist.get(k, 0) for k in SATISFACTION_ORDER)
        satisfaction.append({"town": town, "total": total, "share": p["household_satisfied_share"],
                             "parts": [{"code": k, "count": dist.get(k, 0),
                                        "pct": (100.0 * dist.get(k, 0) / total) if total else 0.0}
                                       for k in SATISFACTION_ORDER]})
    return satisfaction


def county_dashboard(user: User, cycle: Cycle, county_id: int) -> dict[str, Any]:
    """Everything the county dashboard shows, for staff of the county and admins."""
    policy.authorize(user, "use_staff_pages")
    policy.authorize(user, "read_scores", policy.CountyCycle(cycle, county_id))
    villages = list(db.session.scalars(select(Village).where(Village.county_id == county_id)
                                       .order_by(Village.code)))
    village_rows = _village_progress(cycle, county_id, villages)
    meetings = meetings_for(user, cycle, county_id)
    # the rows the scores page and exports show, with the answers the town chart pools
    res = results(user, cycle, county_id, answers=True)
    flags, map_data = _flags_and_points(cycle, county_id, villages)
    targets = [r["target"] for r in village_rows if r["target"] is not None]
    return {
        "cycle": cycle, "county_id": county_id, "results": res,
        "progress": {
            "villages": len(villages), "villages_drawn": sum(r["drawn"] for r in village_rows),
            "visits_done": sum(min(r["done"], r["target"]) for r in village_rows if r["target"]),
            "visits_target": sum(targets),
            "meetings_held": sum(1 for m in meetings if m.status == "closed"),
            "meetings_open": sum(1 for m in meetings if m.status == "open"),
            "secretaries": len(res["rows"]), "compliance": _compliance(user, cycle, county_id),
        },
        "villages": village_rows,
        # Their check-ins are kept but not judged until staff set the centre.
        "no_centre": [{"id": v.id, "code": v.code, "name": v.name, "town": v.town.name}
                      for v in villages if v.lat is None],
        "flags": flags,
        "satisfaction": _satisfaction_by_town(cycle, county_id, res),
        "map": map_data,
    }
