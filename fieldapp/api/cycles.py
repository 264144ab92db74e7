"""Assessment cycles, their settings, and evaluator assignments."""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from .. import policy
from ..auth import Target, actor, raw_field, requires
from ..errors import AppError
from ..extensions import db
from ..loading import get_or_404
from ..models import County, Cycle, EvaluatorAssignment, User, Village
from ..services import assignments, cycles
from .common import PageArgs, paginate, page_of

blp = Blueprint("cycles", __name__, url_prefix="/api", description="Assessment cycles")


class SettingsSchema(Schema):
    """Cycle settings; any left out keep their defaults (DEFAULT_CYCLE_SETTINGS)."""

    sample_size = fields.Integer(strict=True, validate=validate.Range(min=1, max=200))
    reserve_count = fields.Integer(strict=True, validate=validate.Range(min=0, max=100))
    include_exited = fields.Boolean(metadata={"description": "count 已脱贫 households as eligible"})
    required_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=31))
    answer_values = fields.Dict(keys=fields.String(), values=fields.Dict(),
                                metadata={"description": "option value overrides (instruments)"})
    # Scoring (docs/meetings-and-scores.md): validated as a whole when saved.
    scoring = fields.Dict(metadata={"description": "w_h, w_m, max_points, min_visits, household_values, meeting_values"})
    grading = fields.Dict(metadata={"description": "excellent, competent, basically_competent, excellent_cap_ratio, tie_breakers"})
    assessment = fields.Dict(metadata={"description": "who is assessed: min_months (6), reference_date (null)"})
    review = fields.Dict(metadata={"description": "require_flagged_reviewed (true)"})
    census_requires_all = fields.Boolean()
    census_below = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    counties = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "per-county overrides of grading, assessment and review, by county code"})


class CycleCreateSchema(Schema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    county_id = fields.Integer(allow_none=True, load_default=None,
                               metadata={"description": "null: the whole city (admins)"})
    settings = fields.Nested(SettingsSchema, load_default=dict)


class CycleUpdateSchema(Schema):
    settings = fields.Nested(SettingsSchema, required=True)


class CycleSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    county_id = fields.Integer(allow_none=True)
    county = fields.Function(lambda c: c.county.name if c.county else None, allow_none=True)
    status = fields.String()
    settings = fields.Function(cycles.effective_settings)
    created_at = fields.DateTime()


class CycleArgs(Schema):
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(["open", "finalised"]))


class AssignmentCreateSchema(Schema):
    """One village (`village_id`) or several at once (`village_ids`), not both."""

    user_id = fields.Integer(required=True)
    village_id = fields.Integer()
    village_ids = fields.List(fields.Integer(), validate=validate.Length(
        min=1, max=assignments.MAX_BULK), metadata={"description": "bulk: all stored or none"})

    @validates_schema
    def one_of(self, data, **_kwargs):
        if ("village_id" in data) == ("village_ids" in data):
            raise ValidationError(_("Give either village_id or village_ids."), "village_id")


class AssignmentSchema(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    user_id = fields.Integer()
    user_name = fields.Function(lambda a: a.user.name)
    village_id = fields.Integer()
    village_code = fields.Function(lambda a: a.village.code)
    village_name = fields.Function(lambda a: a.village.name)
    created_at = fields.DateTime()
    drawn = fields.Boolean(metadata={
        "description": "false: the village has no draw in the cycle yet; the evaluator's "
                       "phone shows it as 尚未抽样 until it is drawn"})


class VillageRefSchema(Schema):
    village_id = fields.Integer(attribute="id")
    village_code = fields.String(attribute="code")
    village_name = fields.String(attribute="name")


class AssignmentBulkResultSchema(Schema):
    created = fields.List(fields.Nested(AssignmentSchema))
    unchanged = fields.List(fields.Nested(VillageRefSchema),
                            metadata={"description": "already assigned: left as they were"})
    not_drawn = fields.List(fields.Nested(VillageRefSchema), metadata={
        "description": "assigned, but without a draw in the cycle yet (尚未抽样 on the phone)"})


class AssignmentArgs(PageArgs):
    village_id = fields.Integer()
    user_id = fields.Integer()


AssignmentPageSchema = page_of(AssignmentSchema)


def _county_or_none(county_id: int | None) -> County | None:
    if county_id is None:
        return None
    county = db.session.get(County, county_id)
    if county is None:
        raise AppError("validation_failed", errors={"county_id": [_("Unknown county.")]})
    return county


def _new_cycle_place(_kwargs) -> policy.InCounty | None:
    """Where a POST /api/cycles would create its cycle, as sent: a county (county staff:
    their own by default), or the whole city."""
    county_id = raw_field("county_id", "body")
    if county_id is not None and type(county_id) is not int:
        return None  # the schema answers 422
    return policy.InCounty(county_id if county_id is not None else actor().county_id)


@blp.route("/cycles")
class Cycles(MethodView):
    @requires("read_cycles")
    @blp.arguments(CycleArgs, location="query")
    @blp.response(200, CycleSchema(many=True))
    def get(self, args):
        """Cycles visible to you: admins all; county staff the city-wide ones and their county's."""
        stmt = policy.scope(actor(), "read_cycles", select(Cycle)).order_by(Cycle.year.desc(), Cycle.id)
        if "year" in args:
            stmt = stmt.where(Cycle.year == args["year"])
        if "status" in args:
            stmt = stmt.where(Cycle.status == args["status"])
        return db.session.scalars(stmt).all()

    @requires("manage_cycles", Target(load=_new_cycle_place))
    @blp.arguments(CycleCreateSchema)
    @blp.response(201, CycleSchema)
    def post(self, data):
        """Create a cycle for a county (its staff or admins) or the whole city (admins)."""
        me = actor()
        county_id = data["county_id"]
        if county_id is None:  # county staff: their own county
            county_id = me.county_id
        return cycles.create_cycle(me, year=data["year"], county=_county_or_none(county_id),
                                   settings=data["settings"])


@blp.route("/cycles/<int:cycle_id>")
class CycleItem(MethodView):
    @requires("read_cycles", Target(Cycle, path="cycle_id"))
    @blp.response(200, CycleSchema)
    def get(self, cycle_id):
        return get_or_404(Cycle, cycle_id)

    @requires("manage_cycles", Target(Cycle, path="cycle_id"))
    @blp.arguments(CycleUpdateSchema)
    @blp.response(200, CycleSchema)
    def patch(self, data, cycle_id):
        """Change settings. Sampling settings are locked once the cycle has an active draw."""
        return cycles.update_settings(actor(), get_or_404(Cycle, cycle_id), data["settings"])


@blp.route("/cycles/<int:cycle_id>/assignments")
class Assignments(MethodView):
    @requires("read_assignments", Target(Cycle, path="cycle_id", verb="read_cycles"))
    @blp.arguments(AssignmentArgs, location="query")
    @blp.response(200, AssignmentPageSchema)
    def get(self, args, cycle_id):
        """Evaluator assignments of the cycle in the villages you can see."""
        cycle = get_or_404(Cycle, cycle_id)
        stmt = (policy.scope(actor(), "read_assignments", select(EvaluatorAssignment))
                .join(Village, EvaluatorAssignment.village_id == Village.id)
                .where(EvaluatorAssignment.cycle_id == cycle.id)
                .order_by(Village.code, EvaluatorAssignment.id))
        for key in ("village_id", "user_id"):
            if key in args:
                stmt = stmt.where(getattr(EvaluatorAssignment, key) == args[key])
        items, total = paginate(stmt, args)
        return {"items": assignments.mark_drawn(list(items)), "total": total}

    @requires("assign", Target(Cycle, path="cycle_id", verb="read_cycles"),
              Target(User, body="user_id"), Target(Village, body="village_id"),
              Target(Village, body="village_ids"))
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    @blp.alt_response(200, schema=AssignmentBulkResultSchema, success=True,
                      description="`village_ids`: what was created and what was already there")
    def post(self, data, cycle_id):
        """Assign an evaluator of the villages' county to one village or several.

        Several (`village_ids`): every village is checked first, then all are stored or none;
        pairs that exist already are reported as `unchanged`, not as errors."""
        cycle = get_or_404(Cycle, cycle_id)
        policy.authorize(actor(), "read_cycles", cycle)
        evaluator = db.session.get(User, data["user_id"])
        if "village_id" in data:
            village = get_or_404(Village, data["village_id"])
            policy.authorize(actor(), "assign", village)
            if evaluator is None:
                raise AppError("validation_failed", errors={"user_id": [_("Unknown user.")]})
            return assignments.mark_drawn([assignments.assign(actor(), cycle, evaluator,
                                                              village)])[0]
        villages = assignments.load_villages(actor(), data["village_ids"])
        if evaluator is None:
            raise AppError("validation_failed", errors={"user_id": [_("Unknown user.")]})
        created, unchanged = assignments.assign_many(actor(), cycle, evaluator, villages)
        return jsonify(AssignmentBulkResultSchema().dump(
            {"created": assignments.mark_drawn(created), "unchanged": unchanged,
             "not_drawn": assignments.not_drawn(cycle, villages)})), 200


@blp.route("/assignments/<int:assignment_id>")
class AssignmentItem(MethodView):
    @requires("assign", Target(EvaluatorAssignment, path="assignment_id"))
    @blp.response(204)
    def delete(self, assignment_id):
        assignments.unassign(actor(), get_or_404(EvaluatorAssignment, assignment_id))
