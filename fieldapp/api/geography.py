"""Counties, towns and villages, scoped to what the user may see."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from .. import policy
from ..auth import Target, actor, requires
from ..extensions import db
from ..loading import get_or_404
from ..models import County, Town, Village
from ..services.roster import update_village
from .common import PageArgs, paginate, page_of

blp = Blueprint("geography", __name__, url_prefix="/api", description="Administrative areas")


class CountySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class VillageSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    town = fields.Function(lambda v: v.town.name)
    county = fields.Function(lambda v: v.county.name)
    county_id = fields.Integer()
    is_poor_village = fields.Boolean()
    is_weak_branch = fields.Boolean()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    centre_source = fields.String(allow_none=True, metadata={
        "enum": ["roster", "estimated", "staff", None],
        "description": "roster: the 村 sheet (村委会); estimated: from the households' "
                       "coordinates (shown as 估计); staff: set on the map, API or CLI; "
                       "null: no centre (check-ins are kept and judged once it is set)"})
    radius_m = fields.Integer()


VillagePageSchema = page_of(VillageSchema)


class VillageArgs(PageArgs):
    county_id = fields.Integer()
    q = fields.String(validate=validate.Length(max=50))
    has_centre = fields.Boolean(metadata={"description": "false: villages without a centre"})


class VillageUpdateSchema(Schema):
    """Flags, the check-in radius and the centre (the 村委会's location; audited; check-ins
    stored before are judged again)."""

    radius_m = fields.Integer(validate=validate.Range(min=100, max=20000))
    is_poor_village = fields.Boolean()
    is_weak_branch = fields.Boolean()
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    coordinate_system = fields.String(load_default="WGS84", validate=validate.OneOf(
        ["WGS84", "GCJ02", "BD09"]), metadata={"description": "of lat/lon; stored as WGS-84"})


@blp.route("/counties")
class Counties(MethodView):
    @requires("read_places")
    @blp.response(200, CountySchema(many=True))
    def get(self):
        """All counties of the city (public administrative information)."""
        return db.session.scalars(select(County).order_by(County.code)).all()


@blp.route("/villages")
class Villages(MethodView):
    @requires("read_places")
    @blp.arguments(VillageArgs, location="query")
    @blp.response(200, VillagePageSchema)
    def get(self, args):
        stmt = policy.scope(actor(), "read_places", select(Village).join(Town)).order_by(Village.code).options(
            contains_eager(Village.town), joinedload(Village.county))  # no N+1 when dumping
        if "county_id" in args:
            stmt = stmt.where(Village.county_id == args["county_id"])
        if args.get("q"):
            stmt = stmt.where(Village.name.contains(args["q"]) | Village.code.startswith(args["q"]))
        if "has_centre" in args:
            stmt = stmt.where(Village.lat.is_not(None) if args["has_centre"]
                              else Village.lat.is_(None))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}


@blp.route("/villages/<int:village_id>")
class VillageItem(MethodView):
    @requires("read_places", Target(Village, path="village_id"))
    @blp.response(200, VillageSchema)
    def get(self, village_id):
        return get_or_404(Village, village_id)

    @requires("manage_villages", Target(Village, path="village_id"))
    @blp.arguments(VillageUpdateSchema)
    @blp.response(200, VillageSchema)
    def patch(self, data, village_id):
        """Change a village's centre, geofence radius or flags (staff of its county)."""
        return update_village(actor(), get_or_404(Village, village_id), data)
