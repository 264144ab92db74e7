"""Quality flags for a sync batch's new visits, against a bounded window of neighbours.

`visits.refresh_flags` flags an evaluator's whole series in a cycle again (the reference,
and a repair tool). A sync batch needs only what its new visits change (issue 13):

- the new visits themselves, flagged with `domain.flags.visit_flag_series` against the
  evaluator's visits around them in time: those starting between the batch's earliest and
  latest start, plus the two located visits just before and the two just after (a speed
  flag compares a visit with its neighbours in time, among the visits with a position);
- those neighbours again: a new visit between two of them changes their speed flags
  (the outermost loaded one on each side is not rewritten: its own outer neighbour is
  not loaded, and a new visit cannot be next to it);
- every visit of the cycle (any evaluator) at a new visit's rounded position: its
  repeated-position flag, spliced into its stored flags where the series puts it.

All of it is read in two queries per cycle (the window, the positions) and written by
the caller in one insert and at most one executemany update, however long the history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, union_all

from ..domain import flags as flagdom
from ..domain.flags import Fence, FlagThresholds, VisitFacts, visit_time_flags
from ..extensions import db
from ..models import Cycle, Draw, SampleEntry, Village, VillageDraw, Visit

# The flags the series puts before `repeated_coordinates` for a visit with a position.
_BEFORE_REPEATED = ("outside_fence", "zero_accuracy", "low_accuracy")
_COORDS_PER_QUERY = 100


@dataclass
class NewVisit:
    """A visit of the batch, not inserted yet: `row` gets its `flags` here."""
    row: dict[str, Any]
    household_id: int
    fence: Fence | None
    seed_recorded_at: datetime | None
    cycle_year: int | None


@dataclass
class _Loaded:
    """One stored visit of the window, as the flags need it."""
    id: int
    facts: VisitFacts
    fence: Fence | None
    seed_recorded_at: datetime | None
    cycle_year: int | None
    flags: list


def _facts(row: dict[str, Any], household_id: int) -> VisitFacts:
    return VisitFacts(household=household_id, started_at=row["started_at"],
                      ended_at=row["ended_at"], lat=row["lat"], lon=row["lon"],
                      accuracy_m=row["accuracy_m"], geo_error=row["geo_error"],
                      device_sent_at=row["device_sent_at"], received_at=row["received_at"],
                      ref=row["client_uuid"])


_WINDOW_COLUMNS = (Visit.id, Visit.client_uuid, Visit.started_at, Visit.ended_at, Visit.lat,
                   Visit.lon, Visit.accuracy_m, Visit.geo_error, Visit.device_sent_at,
                   Visit.received_at, Visit.flags, SampleEntry.household_id,
                   Village.lat.label("village_lat"), Village.lon.label("village_lon"),
                   Village.radius_m, Draw.seed_recorded_at, Cycle.year)


def _window_statement():
    # Built once with bind parameters: SQLAlchemy compiles it once per process.
    lo = bindparam("lo", type_=Visit.started_at.type)
    hi = bindparam("hi", type_=Visit.started_at.type)
    base = (select(*_WINDOW_COLUMNS)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(Cycle, Visit.cycle_id == Cycle.id)
            .join(Village, Visit.village_id == Village.id)
            .where(Visit.cycle_id == bindparam("cycle_id"),
                   Visit.evaluator_id == bindparam("evaluator_id")))
    located = and_(Visit.lat.is_not(None), Visit.lon.is_not(None))
    before = (base.where(Visit.started_at < lo, located)
              .order_by(Visit.started_at.desc(), Visit.ended_at.desc(), Visit.id.desc()).limit(2))
    after = (base.where(Visit.started_at > hi, located)
             .order_by(Visit.started_at, Visit.ended_at, Visit.id).limit(2))
    return union_all(base.where(Visit.started_at.between(lo, hi)),
                     *(select(*part.subquery().c) for part in (before, after)))


_WINDOW = _window_statement()


def _window(cycle_id: int, evaluator_id: int, lo: datetime, hi: datetime
            ) -> tuple[list[_Loaded], set[int]]:
    """The evaluator's stored visits from `lo` to `hi` (by start) and the two located ones
    on each side, in the reference's order (by id); and the ids not to rewrite."""
    rows = db.session.execute(_WINDOW, {"cycle_id": cycle_id, "evaluator_id": evaluator_id,
                                        "lo": lo, "hi": hi}).all()
    loaded = sorted((_loaded(r) for r in rows), key=lambda v: v.id)
    order = (lambda v: (v.facts.started_at, v.facts.ended_at, v.id))
    edge: set[int] = set()
    earlier = [v for v in loaded if v.facts.started_at < lo]
    later = [v for v in loaded if v.facts.started_at > hi]
    if len(earlier) == 2:  # there may be more before: the outer one's neighbour is unknown
        edge.add(min(earlier, key=order).id)
    if len(later) == 2:
        edge.add(max(later, key=order).id)
    return loaded, edge


def _loaded(r: Any) -> _Loaded:
    facts = VisitFacts(household=r.household_id, started_at=r.started_at, ended_at=r.ended_at,
                       lat=r.lat, lon=r.lon, accuracy_m=r.accuracy_m, geo_error=r.geo_error,
                       device_sent_at=r.device_sent_at, received_at=r.received_at,
                       ref=r.client_uuid)
    fence = (((r.village_lat, r.village_lon), float(r.radius_m))
             if r.village_lat is not None and r.village_lon is not None else None)
    return _Loaded(r.id, facts, fence, r.seed_recorded_at, r.year, list(r.flags or []))


def _key(lat: float, lon: float, t: FlagThresholds) -> tuple[float, float]:
    return (round(lat, t.repeat_coord_decimals), round(lon, t.repeat_coord_decimals))


@lru_cache(maxsize=128)
def _positions_statement(n: int):
    """The cycle's visits within a small box around each of n positions (built once per n)."""
    boxes = [and_(Visit.lat.between(bindparam(f"lat_lo{i}"), bindparam(f"lat_hi{i}")),
                  Visit.lon.between(bindparam(f"lon_lo{i}"), bindparam(f"lon_hi{i}")))
             for i in range(n)]
    return (select(Visit.id, Visit.lat, Visit.lon, Visit.started_at, Visit.flags,
                   SampleEntry.household_id)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .where(Visit.cycle_id == bindparam("cycle_id"), or_(*boxes)))


def _at_positions(cycle_id: int, coords: set[tuple[float, float]], t: FlagThresholds) -> list[Any]:
    """The cycle's stored visits (every evaluator) at these rounded positions: a box a
    little wider than the rounding (which is Python's), the rows are rounded again after."""
    half = 0.5 * 10 ** -t.repeat_coord_decimals * 1.01
    ordered = sorted(coords)
    rows: list[Any] = []
    for i in range(0, len(ordered), _COORDS_PER_QUERY):
        chunk = ordered[i:i + _COORDS_PER_QUERY]
        params: dict[str, Any] = {"cycle_id": cycle_id}
        for k, (lat, lon) in enumerate(chunk):
            params.update({f"lat_lo{k}": lat - half, f"lat_hi{k}": lat + half,
                           f"lon_lo{k}": lon - half, f"lon_hi{k}": lon + half})
        rows += db.session.execute(_positions_statement(len(chunk)), params).all()
    return rows


def _full_flags(facts: VisitFacts, found: list, seed_at: datetime | None,
                year: int | None) -> list[dict]:
    return [f.to_dict() for f in [*found, *visit_time_flags(
        facts.started_at, facts.ended_at, facts.received_at, seed_at, year)]]


def _splice_repeated(flags: list[dict], repeated: dict | None) -> list[dict]:
    """`flags` with its repeated-position flag replaced by `repeated` (None: removed), at
    the place the series gives it: after the fence and accuracy flags."""
    rest = [f for f in flags if f.get("code") != "repeated_coordinates"]
    if repeated is None:
        return rest
    at = 0
    while at < len(rest) and rest[at].get("code") in _BEFORE_REPEATED:
        at += 1
    return [*rest[:at], repeated, *rest[at:]]


def _keys(facts: list[VisitFacts], t: FlagThresholds) -> set[tuple[float, float]]:
    return {_key(f.lat, f.lon, t) for f in facts if f.lat is not None and f.lon is not None}


def _position_index(cycle_id: int, facts: list[VisitFacts], new_facts: list[VisitFacts],
                    t: FlagThresholds) -> tuple[list[Any], dict]:
    """The cycle's stored visits at these visits' positions, and the coordinate index over
    them and the new visits (not stored yet)."""
    coords = _keys(facts, t)
    stored = _at_positions(cycle_id, coords, t) if coords else []
    index_input = [VisitFacts(household=r.household_id, started_at=r.started_at, lat=r.lat,
                              lon=r.lon) for r in stored] + new_facts
    return stored, flagdom.visit_coordinate_index(index_input, t.repeat_coord_decimals)


def _respliced(stored: list[Any], skip: set[int], new_keys: set[tuple[float, float]],
               index: dict, t: FlagThresholds, updates: dict[int, list[dict]]) -> None:
    """Stored visits at a new visit's position, not flagged again in the window: their
    repeated-position flag (the only one a new visit elsewhere in time can change)."""
    for r in stored:
        if r.id in skip or _key(r.lat, r.lon, t) not in new_keys:
            continue
        one = VisitFacts(household=r.household_id, started_at=r.started_at, lat=r.lat, lon=r.lon)
        repeated = next((f.to_dict() for f in flagdom.visit_flag_series([one], index, None, t)[0]
                         if f.code == "repeated_coordinates"), None)
        spliced = _splice_repeated(list(r.flags or []), repeated)
        if spliced != list(r.flags or []):
            updates[r.id] = spliced


def flag_new_visits(cycle_id: int, evaluator_id: int, new: list[NewVisit],
                    t: FlagThresholds) -> list[dict[str, Any]]:
    """Set each new visit's `row["flags"]`; return the stored visits whose flags change,
    as `{"visit_id": id, "flags": [...]}` for one executemany update."""
    starts = [n.row["started_at"] for n in new]
    loaded, edge = _window(cycle_id, evaluator_id, min(starts), max(starts))
    new_facts = [_facts(n.row, n.household_id) for n in new]
    series_facts = [v.facts for v in loaded] + new_facts
    stored, index = _position_index(cycle_id, series_facts, new_facts, t)
    fences = {id(f): fence for f, fence in zip(
        series_facts, [v.fence for v in loaded] + [n.fence for n in new])}
    series = flagdom.visit_flag_series(series_facts, index, lambda f: fences[id(f)], t)
    updates: dict[int, list[dict]] = {}
    for v, found in zip(loaded, series):
        flags = _full_flags(v.facts, found, v.seed_recorded_at, v.cycle_year)
        if v.id not in edge and flags != v.flags:
            updates[v.id] = flags
    for n, facts, found in zip(new, new_facts, series[len(loaded):]):
        n.row["flags"] = _full_flags(facts, found, n.seed_recorded_at, n.cycle_year)
    _respliced(stored, {v.id for v in loaded if v.id not in edge}, _keys(new_facts, t), index,
               t, updates)
    return [{"visit_id": k, "flags": v} for k, v in updates.items()]
