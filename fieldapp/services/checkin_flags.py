"""Quality flags of stored check-ins: the whole series (`recompute_flags`, e.g. after a
village centre or the thresholds change) or one new check-in against a bounded window of
its neighbours (`flag_new_checkin`, the sync path). Both give the same flags; the rules
are in fieldapp/domain/flags.py and fieldapp/domain/checkin_window.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import and_, bindparam, or_, select, union_all, update

from ..domain import checkin_window as window
from ..domain import flags as dflags
from ..extensions import db
from ..models import CheckIn, FirstSecretary

_WINDOW_COLUMNS = (CheckIn.id, CheckIn.at, CheckIn.lat, CheckIn.lon, CheckIn.accuracy_m,
                   CheckIn.geo_error, CheckIn.device_sent_at, CheckIn.received_at,
                   CheckIn.client_uuid, CheckIn.flags)


def village_fence(village) -> tuple[dflags.Coord | None, float | None]:
    """(centre, radius) of a Village (or anything with lat, lon and radius_m)."""
    if village.lat is None or village.lon is None:
        return None, village.radius_m
    return (village.lat, village.lon), village.radius_m


def recompute_flags(secretary: FirstSecretary,
                    thresholds: dflags.FlagThresholds = dflags.DEFAULT_THRESHOLDS) -> None:
    """Re-flag the secretary's whole series (repeats and speed depend on the neighbours):
    one sort plus one dictionary, O(N log N); only rows whose flags changed are written."""
    rows = db.session.scalars(select(CheckIn).where(CheckIn.secretary_id == secretary.id)
                              .order_by(CheckIn.at, CheckIn.id)).all()
    centre, radius = village_fence(secretary.village)
    facts = [dflags.CheckInFacts(at=c.at, lat=c.lat, lon=c.lon, accuracy_m=c.accuracy_m,
                                 geo_error=c.geo_error, device_sent_at=c.device_sent_at,
                                 received_at=c.received_at, ref=c.client_uuid) for c in rows]
    series = dflags.checkin_flag_series(facts, centre, radius, thresholds)
    for row, found in zip(rows, series):
        new = [f.to_dict() for f in found]
        if row.flags != new:
            row.flags = new


def flag_new_checkin(secretary_id: int, village, new: dflags.CheckInFacts,
                     thresholds: dflags.FlagThresholds = dflags.DEFAULT_THRESHOLDS
                     ) -> list[dflags.Flag]:
    """The flags of a check-in about to be stored; the stored check-ins whose flags it
    changes (its neighbours, the records at the same spot) are updated in one statement.
    Call it before adding the new row (it is placed last among equal times)."""
    centre, radius = village_fence(village)
    result = window.flag_new_checkin(new, _window_loader(secretary_id, new),
                                     _spot_loader(secretary_id), centre, radius, thresholds)
    if result.updates:
        db.session.execute(
            update(CheckIn.__table__).where(CheckIn.__table__.c.id == bindparam("row_id"))
            .values(flags=bindparam("new_flags")),
            [{"row_id": i, "new_flags": f} for i, f in result.updates.items()])
    return result.flags


def _stored(row) -> window.StoredCheckIn:
    return window.StoredCheckIn(row.id, dflags.CheckInFacts(
        at=row.at, lat=row.lat, lon=row.lon, accuracy_m=row.accuracy_m, geo_error=row.geo_error,
        device_sent_at=row.device_sent_at, received_at=row.received_at, ref=row.client_uuid),
        row.flags or [])


def _window_statement():
    # Built once with bind parameters: SQLAlchemy compiles it once per process.
    mine = CheckIn.secretary_id == bindparam("secretary_id")
    at = bindparam("at", type_=CheckIn.at.type)
    before = (select(*_WINDOW_COLUMNS).where(mine, CheckIn.at <= at)
              .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(bindparam("k")).subquery())
    after = (select(*_WINDOW_COLUMNS).where(mine, CheckIn.at > at)
             .order_by(CheckIn.at, CheckIn.id).limit(bindparam("k")).subquery())
    return union_all(select(before), select(after))


_WINDOW = _window_statement()
@lru_cache(maxsize=64)
def _spots_statement(n: int):
    """The check-ins within a small box around each of n positions (built once per n)."""
    boxes = [and_(CheckIn.lat.between(bindparam(f"lat_lo{i}"), bindparam(f"lat_hi{i}")),
                  CheckIn.lon.between(bindparam(f"lon_lo{i}"), bindparam(f"lon_hi{i}")))
             for i in range(n)]
    return (select(CheckIn.id, CheckIn.lat, CheckIn.lon, CheckIn.day, CheckIn.flags)
            .where(CheckIn.secretary_id == bindparam("secretary_id"), or_(*boxes)))


def _window_loader(secretary_id: int, new: dflags.CheckInFacts) -> window.WindowLoader:
    def load(k: int):
        # One round trip: the k latest at or before the new time, the k first after it.
        rows = db.session.execute(_WINDOW, {"secretary_id": secretary_id, "at": new.at,
                                            "k": k}).all()
        rows.sort(key=lambda r: (r.at, r.id))
        split = sum(1 for r in rows if r.at <= new.at)
        return [_stored(r) for r in rows[:split]], [_stored(r) for r in rows[split:]]
    return load


def _spot_loader(secretary_id: int) -> window.SpotLoader:
    def load(keys: Sequence[dflags.Coord], margin: float):
        # A box of `margin` around each key: a superset the domain filters by exact key.
        params: dict = {"secretary_id": secretary_id}
        for i, (lat, lon) in enumerate(keys):
            params.update({f"lat_lo{i}": lat - margin, f"lat_hi{i}": lat + margin,
                           f"lon_lo{i}": lon - margin, f"lon_hi{i}": lon + margin})
        rows = db.session.execute(_spots_statement(len(keys)), params)
        return [window.SpotRow(r.id, r.lat, r.lon, r.day, r.flags or []) for r in rows]
    return load
