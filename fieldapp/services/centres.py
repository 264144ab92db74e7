"""Village centres: set them (村 sheet, map page, API, CLI), estimate them from the
households, and judge again the check-ins stored before a centre existed or moved.

Check-ins always keep their coordinates, so a village whose centre arrives late loses
nothing: `rejudge_checkins` decides each stored check-in against the new fence. Check-ins
in a year whose county is finalised are left as they were (their scores are stored).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..domain import geo
from ..domain.village_centre import CentreEstimate, estimate_centre
from ..errors import AppError
from ..extensions import db
from ..models import CheckIn, FirstSecretary, Household, User, Village
from .checkins import cycle_for, recompute_flags, settings_for
from .freeze import is_finalised

MIN_RADIUS_M, MAX_RADIUS_M = 100, 20000


@dataclass(frozen=True)
class CentreChange:
    village: Village
    before: dict[str, Any]
    after: dict[str, Any]
    rejudged: int  # check-ins whose judgement changed


def _state(village: Village) -> dict[str, Any]:
    return {"lat": village.lat, "lon": village.lon, "radius_m": village.radius_m,
            "centre_source": village.centre_source}


def check_point(lat: float | None, lon: float | None, system: str | None = geo.WGS84
                ) -> tuple[float | None, float | None]:
    """Validate a centre given in `system`; returns it in WGS-84 (7 decimals)."""
    if (lat is None) != (lon is None):
        raise AppError("validation_failed", errors={"lat" if lat is None else "lon": [
            _("Latitude and longitude must be given together.")]})
    if lat is None:
        return None, None
    try:
        wlat, wlon = geo.to_wgs84(lat, lon, system)
    except ValueError:
        raise AppError("validation_failed", errors={"coordinate_system": [
            _("Unknown coordinate system: use WGS84, GCJ02 or BD09.")]}) from None
    if not geo.in_china(wlat, wlon):
        raise AppError("validation_failed", errors={"lat": [
            _("The point %(lat)s, %(lon)s is outside China.", lat=lat, lon=lon)]})
    return round(wlat, 7), round(wlon, 7)


def set_centre(actor: User, village: Village, *, lat: float | None = None,
               lon: float | None = None, radius_m: int | None = None, source: str = "staff",
               system: str | None = geo.WGS84, commit: bool = True) -> CentreChange:
    """Move (or first set) a village's centre and/or its radius; audited; check-ins stored
    before are judged again. A roster import sets centres as the importing user."""
    policy.authorize(actor, "manage_villages", village)
    lat, lon = check_point(lat, lon, system)
    if radius_m is not None and not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        raise AppError("validation_failed", errors={"radius_m": [
            _("The check-in radius must be a whole number of metres from %(min)s to %(max)s.",
              min=MIN_RADIUS_M, max=MAX_RADIUS_M)]})
    before = _state(village)
    if lat is not None:
        village.lat, village.lon, village.centre_source = lat, lon, source
    if radius_m is not None:
        village.radius_m = radius_m
    after = _state(village)
    rejudged = 0
    if after != before:
        db.session.flush()
        rejudged = rejudge_checkins(village)
        record_audit(actor, "village.centre", village, county_id=village.county_id,
                     village_code=village.code, before=before, after=after, rejudged=rejudged)
    if commit:
        db.session.commit()
    return CentreChange(village, before, after, rejudged)


def rejudge_checkins(village: Village) -> int:
    """Judge every stored check-in at `village` against its current fence (none: not
    judged), outside finalised years; re-flag the secretaries concerned. Returns how many
    check-ins changed."""
    centre = (village.lat, village.lon) if village.lat is not None else None
    frozen: dict[int, bool] = {}
    changed = 0
    secretaries: set[int] = set()
    for checkin in db.session.scalars(select(CheckIn).where(CheckIn.village_id == village.id)):
        year = checkin.day.year
        if year not in frozen:
            cycle = cycle_for(village.county_id, year)
            frozen[year] = cycle is not None and is_finalised(cycle, village.county_id)
        if frozen[year]:
            continue
        inside = distance = None
        if centre is not None and checkin.lat is not None and checkin.lon is not None:
            fence = geo.geofence(centre, village.radius_m, (checkin.lat, checkin.lon),
                                 checkin.accuracy_m)
            inside, distance = fence.inside, round(fence.distance_m, 1)
        if (checkin.inside_fence, checkin.distance_m) != (inside, distance):
            checkin.inside_fence, checkin.distance_m = inside, distance
            changed += 1
            secretaries.add(checkin.secretary_id)
    if secretaries:  # flags such as "outside the village" depend on the fence too
        thresholds = settings_for(village.county_id, max(frozen)).thresholds
        for secretary in db.session.scalars(select(FirstSecretary).where(
                FirstSecretary.id.in_(secretaries))):
            recompute_flags(secretary, thresholds)
    return changed


def household_points(village_id: int) -> list[tuple[str, float, float]]:
    return [(no, lat, lon) for no, lat, lon in db.session.execute(
        select(Household.household_no, Household.lat, Household.lon).where(
            Household.village_id == village_id, Household.lat.is_not(None),
            Household.lon.is_not(None)))]


def estimate(village: Village) -> CentreEstimate | None:
    return estimate_centre(household_points(village.id))


def refresh_estimate(actor: User, village: Village) -> CentreEstimate | None:
    """Estimate the centre from the households unless the 村 sheet or staff gave one."""
    if village.centre_source not in (None, "estimated"):
        return None
    found = estimate(village)
    if found is not None and (village.lat, village.lon) != (found.lat, found.lon):
        set_centre(actor, village, lat=found.lat, lon=found.lon, source="estimated", commit=False)
    return found
