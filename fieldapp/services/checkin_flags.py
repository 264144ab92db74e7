"""Quality flags of stored check-ins: the whole series (`recompute_flags`, e.g. after a
village centre or the thresholds change) or one new check-in against a bounded window of
its neighbours (`flag_new_checkin`, the sync path). Both give the same flags; the rules
are in fieldapp/domain/flags.py and fieldapp/domain/checkin_window.py.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, or_, select, union_all, update

from ..domain import checkin_window as window
from ..domain import flags as dflags
from ..extensions import db
from ..models import CheckIn, FirstSecretary, Village

_WINDOW_COLUMNS = (CheckIn.id, CheckIn.at, CheckIn.lat, CheckIn.lon, CheckIn.accuracy_m,
                   CheckIn.geo_error, CheckIn.device_sent_at, CheckIn.received_at,
                   CheckIn.client_uuid, CheckIn.flags)


def village_fence(village: Village) -> tuple[dflags.Coord | None, float | None]:
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


def flag_new_checkin(secretary_id: int, village: Village, new: dflags.CheckInFacts,
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


def _window_loader(secretary_id: int, new: dflags.CheckInFacts) -> window.WindowLoader:
    def load(k: int):
        # One round trip: the k latest at or before the new time, the k first after it.
        mine = CheckIn.secretary_id == secretary_id
        before = (select(*_WINDOW_COLUMNS).where(mine, CheckIn.at <= new.at)
                  .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(k).subquery())
        after = (select(*_WINDOW_COLUMNS).where(mine, CheckIn.at > new.at)
                 .order_by(CheckIn.at, CheckIn.id).limit(k).subquery())
        rows = db.session.execute(union_all(select(before), select(after))).all()
        rows.sort(key=lambda r: (r.at, r.id))
        split = sum(1 for r in rows if r.at <= new.at)
        return [_stored(r) for r in rows[:split]], [_stored(r) for r in rows[split:]]
    return load


def _spot_loader(secretary_id: int) -> window.SpotLoader:
    def load(keys: Sequence[dflags.Coord], margin: float):
        near = [and_(CheckIn.lat.between(lat - margin, lat + margin),
                     CheckIn.lon.between(lon - margin, lon + margin)) for lat, lon in keys]
        rows = db.session.execute(select(CheckIn.id, CheckIn.lat, CheckIn.lon, CheckIn.day,
                                         CheckIn.flags)
                                  .where(CheckIn.secretary_id == secretary_id, or_(*near)))
        return [window.SpotRow(r.id, r.lat, r.lon, r.day, r.flags or []) for r in rows]
    return load
