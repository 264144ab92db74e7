"""Household draws: run (seed), void, list; village samples; replacements and their rate."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth import Target, actor, raw_field, requires
from ..domain.sampling import MAX_SEED_LENGTH
from ..errors import AppError
from ..extensions import db
from ..loading import get_or_404
from ..models import County, Cycle, Draw, Replacement, SampleEntry, Village, VillageDraw
from ..services import draws
from ..services import replacements as _replacements  # noqa: F401  (registers the sync type)
from .common import PageArgs, paginate, page_of

blp = Blueprint("samples", __name__, url_prefix="/api", description="Household draws")


class DrawCreateSchema(Schema):
    # Not stripped or normalised: the seed is used exactly as published.
    seed = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SEED_LENGTH))
    county_id = fields.Integer(allow_none=True, load_default=None,
                               metadata={"description": "null: every county (city-wide cycle, admins)"})


class VillageDrawCreateSchema(Schema):
    # Not stripped or normalised: the seed is used exactly as published.
    seed = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SEED_LENGTH))
    village_id = fields.Integer(required=True)


class VoidSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=draws.MAX_VOID_REASON))


class VillageQualitySchema(Schema):
    village_draw_id = fields.Function(lambda q: q.village_draw.id)
    village_id = fields.Function(lambda q: q.village_draw.village_id)
    village_code = fields.Function(lambda q: q.village_draw.village_code)
    village_name = fields.Function(lambda q: q.village_draw.village.name)
    eligible_count = fields.Function(lambda q: q.village_draw.eligible_count)
    complete_census = fields.Function(lambda q: q.village_draw.complete_census)
    sample_count = fields.Integer()
    replacements = fields.Integer()
    conflicts = fields.Integer()
    reserves_left = fields.Integer()
    replacement_rate = fields.Float(attribute="rate")


class DrawSchema(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    county_id = fields.Integer()
    county = fields.Function(lambda d: d.county.name)
    village_id = fields.Integer(allow_none=True, metadata={
        "description": "set for a single-village draw (a village added after its county's draw)"})
    village_code = fields.Function(lambda d: d.village.code if d.village else None,
                                   allow_none=True)
    algorithm = fields.String()
    seed = fields.String()
    seed_recorded_at = fields.DateTime()
    sample_size = fields.Integer()
    reserve_count = fields.Integer()
    include_exited = fields.Boolean()
    status = fields.String(metadata={"enum": ["active", "voided"]})
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)
    public_token = fields.String()
    voided_at = fields.DateTime(allow_none=True)
    voided_by_id = fields.Integer(allow_none=True)
    void_reason = fields.String(allow_none=True)


class DrawDetailSchema(DrawSchema):
    villages = fields.Function(lambda d: VillageQualitySchema(many=True).dump(draws.quality(d)))


class DrawArgs(PageArgs):
    cycle_id = fields.Integer()
    county_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(["active", "voided"]))


DrawPageSchema = page_of(DrawSchema)


class EntrySchema(Schema):
    household_no = fields.String()
    head_name = fields.Function(lambda e: e.household.head_name)
    family_size = fields.Function(lambda e: e.household.family_size)
    rank = fields.Integer()
    role = fields.String(metadata={"enum": ["sample", "reserve", "unused"]})
    status = fields.String()
    hmac_key = fields.String()
    token = fields.String(allow_none=True)


class VillageSampleSchema(Schema):
    id = fields.Integer()
    draw_id = fields.Integer()
    draw_status = fields.Function(lambda vd: vd.draw.status)
    cycle_id = fields.Function(lambda vd: vd.draw.cycle_id)
    status = fields.String(metadata={"enum": ["active", "voided"],
                                     "description": "this village's draw (voided alone or with its draw)"})
    void_reason = fields.String(allow_none=True)
    village_id = fields.Integer()
    village_code = fields.String()
    village_name = fields.Function(lambda vd: vd.village.name)
    seed = fields.Function(lambda vd: vd.draw.seed)
    seed_recorded_at = fields.Function(lambda vd: vd.draw.seed_recorded_at.isoformat())
    eligible_count = fields.Integer()
    complete_census = fields.Boolean()
    # Evaluators see only the drawn households (sample and reserves), never the others.
    entries = fields.Function(lambda vd: EntrySchema(many=True).dump(
        policy.visible_entries(actor(), draws.entries_of(vd))))


class VillageSampleArgs(Schema):
    cycle_id = fields.Integer()


class ReplacementSchema(Schema):
    id = fields.Integer()
    village_draw_id = fields.Integer()
    village_id = fields.Integer()
    village_code = fields.Function(lambda r: r.replaced_entry.village_draw.village_code)
    household_no = fields.Function(lambda r: r.replaced_entry.household_no)
    reserve_household_no = fields.Function(
        lambda r: r.reserve_entry.household_no if r.reserve_entry else None)
    reason = fields.String()
    reason_text = fields.String(allow_none=True)
    attempts = fields.Integer(allow_none=True)
    actor_id = fields.Integer()
    actor_name = fields.Function(lambda r: r.actor.name)
    at = fields.DateTime()
    received_at = fields.DateTime()
    is_conflict = fields.Boolean()


class ReplacementArgs(PageArgs):
    draw_id = fields.Integer()
    village_id = fields.Integer()
    conflict = fields.Boolean(metadata={"description": "only conflicts (true) or only applied (false)"})


ReplacementPageSchema = page_of(ReplacementSchema)


class DrawRecordSchema(Schema):
    """The public draw record (docs/algorithms.md); verify it with `fieldapp sample verify`."""

    algorithm = fields.String()
    seed = fields.String()
    seed_recorded_at = fields.String()
    village_code = fields.String()
    sample_size = fields.Integer()
    reserve_count = fields.Integer()
    eligible = fields.List(fields.String())
    sample = fields.List(fields.String())
    reserves = fields.List(fields.String())
    replacements = fields.List(fields.Dict())
    keys = fields.Dict(keys=fields.String(), values=fields.String())


def _drawn_place(kwargs) -> County | policy.InCounty | None:
    """What a POST .../draws would draw, as sent: a county (county staff: their own by
    default), or every county of the cycle (the whole city)."""
    county_id = raw_field("county_id", "body")
    if county_id is None:
        county_id = actor().county_id
    if county_id is None:
        cycle = db.session.get(Cycle, kwargs["cycle_id"])
        return policy.InCounty(cycle.county_id if cycle is not None else None)
    return db.session.get(County, county_id) if type(county_id) is int and 0 < county_id < 2**31 \
        else None


@blp.route("/cycles/<int:cycle_id>/draws")
class CycleDraws(MethodView):
    @requires("draw", Target(Cycle, path="cycle_id", verb="read_cycles"),
              Target(load=_drawn_place))
    @blp.arguments(DrawCreateSchema)
    @blp.response(201, DrawSchema(many=True))
    def post(self, data, cycle_id):
        """Record the public seed now and draw a county (or, admins, every county).

        Refused when the county already has an active draw (409 `locked`).
        """
        cycle = get_or_404(Cycle, cycle_id)
        county = actor().county  # county staff: their own county by default
        if data["county_id"] is not None:
            county = db.session.get(County, data["county_id"])
            if county is None:
                raise AppError("validation_failed", errors={"county_id": [_("Unknown county.")]})
        return draws.run_draw(actor(), cycle, county, data["seed"])


@blp.route("/cycles/<int:cycle_id>/village-draws")
class CycleVillageDraws(MethodView):
    @requires("draw", Target(Cycle, path="cycle_id", verb="read_cycles"),
              Target(Village, body="village_id"))
    @blp.arguments(VillageDrawCreateSchema)
    @blp.response(201, DrawSchema)
    @blp.alt_response(409, description="The village already has an active draw in the cycle")
    def post(self, data, cycle_id):
        """Record a new public seed now and draw one village that has no active draw in the
        cycle (added after its county's draw, or its draw voided). Other villages' draws,
        records and visits do not change."""
        cycle = get_or_404(Cycle, cycle_id)
        village = db.session.get(Village, data["village_id"])
        if village is None:
            raise AppError("validation_failed", errors={"village_id": [_("Unknown village.")]})
        return draws.run_village_draw(actor(), cycle, village, data["seed"])


@blp.route("/draws")
class Draws(MethodView):
    @requires("read_draws")
    @blp.arguments(DrawArgs, location="query")
    @blp.response(200, DrawPageSchema)
    def get(self, args):
        """Draws of the counties you can see, voided ones included."""
        stmt = policy.scope(actor(), "read_draws", select(Draw)).order_by(Draw.id.desc())
        for key in ("cycle_id", "county_id", "status"):
            if key in args:
                stmt = stmt.where(getattr(Draw, key) == args[key])
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}


@blp.route("/draws/<int:draw_id>")
class DrawItem(MethodView):
    @requires("read_draws", Target(Draw, path="draw_id"))
    @blp.response(200, DrawDetailSchema)
    def get(self, draw_id):
        """A draw with, per village, the replacement rate and conflicts (quality signal)."""
        return get_or_404(Draw, draw_id)


@blp.route("/draws/<int:draw_id>/void")
class DrawVoid(MethodView):
    @requires("void_draw", Target(Draw, path="draw_id"))
    @blp.arguments(VoidSchema)
    @blp.response(200, DrawSchema)
    def post(self, data, draw_id):
        """Void a draw (admins, with a written reason). It stays visible; a new draw of the
        county needs a new seed."""
        draw = get_or_404(Draw, draw_id)
        return draws.void_draw(actor(), draw, data["reason"])


@blp.route("/village-draws/<int:village_draw_id>")
class VillageSample(MethodView):
    @requires("read_sample", Target(VillageDraw, path="village_draw_id"))
    @blp.response(200, VillageSampleSchema)
    def get(self, village_draw_id):
        """One village's draw: every eligible household with key, rank, role and status."""
        return get_or_404(VillageDraw, village_draw_id)


@blp.route("/village-draws/<int:village_draw_id>/void")
class VillageDrawVoid(MethodView):
    @requires("void_draw", Target(VillageDraw, path="village_draw_id"))
    @blp.arguments(VoidSchema)
    @blp.response(200, VillageSampleSchema)
    def post(self, data, village_draw_id):
        """Void one village's draw (admins, with a written reason). Its visits stop counting;
        the other villages of the draw keep theirs. Draw the village again alone."""
        vd = get_or_404(VillageDraw, village_draw_id)
        return draws.void_village_draw(actor(), vd, data["reason"])


@blp.route("/village-draws/<int:village_draw_id>/record")
class VillageRecord(MethodView):
    @requires("read_sample", Target(VillageDraw, path="village_draw_id"))
    @blp.response(200, DrawRecordSchema)
    def get(self, village_draw_id):
        """The public draw record of the village (same as `fieldapp sample export`)."""
        return draws.village_record(get_or_404(VillageDraw, village_draw_id))


@blp.route("/villages/<int:village_id>/sample")
class VillageCurrentSample(MethodView):
    @requires("read_sample", Target(Village, path="village_id", verb="read_places"))
    @blp.arguments(VillageSampleArgs, location="query")
    @blp.response(200, VillageSampleSchema)
    def get(self, args, village_id):
        """The village's active draw (in `cycle_id`, else in the newest open cycle)."""
        village = get_or_404(Village, village_id)
        stmt = (select(VillageDraw).join(Draw).join(Cycle, Draw.cycle_id == Cycle.id)
                .where(VillageDraw.village_id == village.id, Draw.status == "active",
                       VillageDraw.status == "active")
                .order_by(Cycle.year.desc()))
        if "cycle_id" in args:
            stmt = stmt.where(Draw.cycle_id == args["cycle_id"])
        else:
            stmt = stmt.where(Cycle.status == "open")
        vd = db.session.scalars(stmt.limit(1)).first()
        if vd is None:
            raise AppError("not_found")
        policy.authorize(actor(), "read_sample", vd)
        return vd


@blp.route("/replacements")
class Replacements(MethodView):
    @requires("read_replacements")
    @blp.arguments(ReplacementArgs, location="query")
    @blp.response(200, ReplacementPageSchema)
    def get(self, args):
        """Replacements in your villages, newest first; `conflict=true` lists the second
        phones' records that activated nothing."""
        stmt = (policy.scope(actor(), "read_replacements", select(Replacement))
                .options(selectinload(Replacement.replaced_entry)
                         .selectinload(SampleEntry.village_draw),
                         selectinload(Replacement.reserve_entry), selectinload(Replacement.actor))
                .order_by(Replacement.id.desc()))
        if "draw_id" in args:
            stmt = stmt.where(Replacement.village_draw_id.in_(
                select(VillageDraw.id).where(VillageDraw.draw_id == args["draw_id"])))
        if "village_id" in args:
            stmt = stmt.where(Replacement.village_id == args["village_id"])
        if "conflict" in args:
            stmt = stmt.where(Replacement.is_conflict.is_(args["conflict"]))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}
