"""Staff pages for villages: the list with each centre's source, and the centre map page
(Leaflet, which draws without tiles) where staff place the 村委会. Every change goes through
services/centres.py: audited, and the check-ins stored before are judged again."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth import Target, actor, requires
from ..domain import divisions
from ..errors import AppError
from ..extensions import db
from ..models import CheckIn, County, Household, Village
from ..loading import get_or_404
from ..services import centres

bp = Blueprint("villages_web", __name__, url_prefix="/staff/villages")

SOURCE_LABELS = {"roster": _l("From the roster (village committee)"),
                 "estimated": _l("Estimated"), "staff": _l("Set by staff"),
                 None: _l("No centre")}
FIELD_LABELS = {"lat": _l("Latitude"), "lon": _l("Longitude"), "radius_m": _l("Check-in radius (m)"),
                "coordinate_system": _l("Coordinate system")}


@bp.app_context_processor
def _labels():
    return {"centre_source_labels": SOURCE_LABELS}


class CentreForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the submit button

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    coordinate_system = fields.String(load_default="WGS84",
                                      validate=validate.OneOf(["WGS84", "GCJ02", "BD09"]))
    radius_m = fields.Integer(required=True, validate=validate.Range(min=100, max=20000))


FORM_RULES = {"lat": _l("Enter the latitude in decimal degrees, e.g. 34.4501."),
              "lon": _l("Enter the longitude in decimal degrees, e.g. 107.6203."),
              "radius_m": _l("Enter a whole number of metres from 100 to 20000."),
              "coordinate_system": _l("Choose a coordinate system.")}


def _counties() -> list[County]:
    """The counties whose villages the user looks after."""
    return list(db.session.scalars(policy.scope(actor(), "manage_villages", select(County))
                                   .order_by(County.code)))


@bp.route("")
@requires("manage_villages", Target(County, query="county_id"))
def village_list():
    counties = _counties()
    county_id = request.args.get("county_id", type=int) or (counties[0].id if counties else None)
    which = request.args.get("centre", "")
    stmt = (policy.scope(actor(), "manage_villages", select(Village))
            .where(Village.county_id == county_id)
            .options(selectinload(Village.town)).order_by(Village.code))
    if which == "none":
        stmt = stmt.where(Village.lat.is_(None))
    elif which == "estimated":
        stmt = stmt.where(Village.centre_source == "estimated")
    villages = db.session.scalars(stmt).all()
    located = dict(db.session.execute(
        select(Household.village_id, func.count()).where(
            Household.village_id.in_([v.id for v in villages]), Household.lat.is_not(None))
        .group_by(Household.village_id)).all()) if villages else {}
    return render_template("villages/list.html", villages=villages, counties=counties,
                           county_id=county_id, which=which, located=located)


def _map_data(village: Village) -> dict:
    homes = [[lat, lon] for lat, lon in db.session.execute(
        select(Household.lat, Household.lon).where(
            Household.village_id == village.id, Household.lat.is_not(None)))]
    estimate = centres.estimate(village)
    county = village.county
    official = divisions.county(county.code)
    fallback = ([county.lat, county.lon] if county.lat is not None else
                [official.lat, official.lon] if official and official.lat else None)
    return {"centre": [village.lat, village.lon] if village.lat is not None else None,
            "radius": village.radius_m, "households": homes,
            "estimate": [estimate.lat, estimate.lon] if estimate else None,
            "fallback": fallback}


@bp.route("/<int:village_id>", methods=["GET", "POST"])
@requires("manage_villages", Target(Village, path="village_id"))
def centre_page(village_id: int):
    village = get_or_404(Village, village_id)
    if request.method == "POST":
        try:
            data = _form()
            change = centres.set_centre(actor(), village, lat=data["lat"], lon=data["lon"],
                                        radius_m=data["radius_m"],
                                        system=data["coordinate_system"])
        except AppError as err:
            flash(err.message, "error")
            for field, messages in err.errors.items():
                for message in messages:
                    flash(f"{FIELD_LABELS.get(field, '')}: {message}", "error")
            return redirect(url_for(".centre_page", village_id=village.id))
        if change.before == change.after:
            flash(_("Nothing changed."), "ok")
        else:
            flash(_("Centre saved. Check-ins judged again: %(n)d.", n=change.rejudged), "ok")
        return redirect(url_for(".centre_page", village_id=village.id))
    unjudged = db.session.scalar(select(func.count(CheckIn.id)).where(
        CheckIn.village_id == village.id, CheckIn.inside_fence.is_(None),
        CheckIn.lat.is_not(None)))
    return render_template("villages/centre.html", village=village, map_data=_map_data(village),
                           unjudged=unjudged,
                           tile_url=current_app.config.get("MAP_TILE_URL") or "")


def _form() -> dict:
    raw = {k: v.strip() for k, v in request.form.items() if v.strip() != ""}
    try:
        return CentreForm().load(raw)
    except ValidationError as err:
        raise AppError("validation_failed", errors={
            k: [str(FORM_RULES.get(k, _l("Invalid value.")))] for k in err.messages}) from err
