"""Household visits with their quality flags.

Staff see their county's visits, evaluators their own, secretaries none (answers and notes
are household-level data). Visits are created only through POST /api/sync.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import Target, actor, requires
from ..domain.flags import CODES, TIME_FLAGS
from ..models import Visit
from ..services import visits as service
from .common import PageArgs, paginate, page_of

blp = Blueprint("visits", __name__, url_prefix="/api", description="Household visits")


class FlagSchema(Schema):
    code = fields.String(metadata={"enum": list(CODES)})
    label = fields.String()
    message = fields.String()
    params = fields.Dict()


class GeoSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    accuracy = fields.Float(allow_none=True)
    at = fields.String(allow_none=True)


class VisitSchema(Schema):
    id = fields.Integer()
    uuid = fields.String(attribute="client_uuid")
    cycle_id = fields.Integer()
    village_id = fields.Integer()
    village_code = fields.Function(lambda v: v.sample_entry.village.code)
    village_name = fields.Function(lambda v: v.sample_entry.village.name)
    household_no = fields.Function(lambda v: v.sample_entry.household_no)
    rank = fields.Function(lambda v: v.sample_entry.rank)
    role = fields.Function(lambda v: v.sample_entry.role)
    evaluator_id = fields.Integer()
    instrument_id = fields.String()
    instrument_version = fields.Integer()
    started_at = fields.DateTime()
    ended_at = fields.DateTime()
    duration_min = fields.Function(
        lambda v: round((v.ended_at - v.started_at).total_seconds() / 60, 1))
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    geo_at = fields.DateTime(allow_none=True)
    geo_error = fields.String(allow_none=True)
    received_at = fields.DateTime()
    flags = fields.Function(lambda v: [service.flag_view(f) for f in v.flags or []],
                            metadata={"type": "array"})
    review = fields.String(attribute="review_status", metadata={"enum": list(service.REVIEW_STATUSES)})
    review_reason = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    held = fields.Function(lambda v: any(f.get("code") in TIME_FLAGS for f in v.flags or []),
                           metadata={"type": "boolean", "description":
                                     "held for its time: counts only once approved"})


class VisitDetailSchema(VisitSchema):
    head_name = fields.Function(lambda v: v.sample_entry.household.head_name)
    answers = fields.Dict()
    note = fields.String(allow_none=True)
    geo_start = fields.Nested(GeoSchema, allow_none=True)
    geo_end = fields.Nested(GeoSchema, allow_none=True)
    device_sent_at = fields.DateTime(allow_none=True)


VisitPageSchema = page_of(VisitSchema)


class VisitArgs(PageArgs):
    village_id = fields.Integer()
    cycle_id = fields.Integer()
    flag = fields.String(validate=validate.OneOf(CODES))
    flagged = fields.Boolean()
    review = fields.String(validate=validate.OneOf(service.REVIEW_STATUSES))


class VisitReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    reason = fields.String(allow_none=True, load_default=None,
                           validate=validate.Length(max=service.MAX_REVIEW_REASON),
                           metadata={"description": "required to reject: the evaluator sees it"})


class VisitBulkApproveSchema(Schema):
    visit_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=500))


class VisitBulkResultSchema(Schema):
    approved = fields.Integer()


@blp.route("/visits")
class Visits(MethodView):
    @requires("read_visits")
    @blp.arguments(VisitArgs, location="query")
    @blp.response(200, VisitPageSchema)
    def get(self, args):
        """Visits with their flags: staff their county's, evaluators their own."""
        items, total = paginate(service.visits_query(actor(), args), args)
        return {"items": items, "total": total}


@blp.route("/visits/<int:visit_id>")
class VisitItem(MethodView):
    @requires("read_visits", Target(Visit, path="visit_id"))
    @blp.response(200, VisitDetailSchema)
    def get(self, visit_id):
        """One visit: answers, note, both geotags and flags."""
        return service.get_visit(actor(), visit_id)


@blp.route("/visits/<int:visit_id>/review")
class VisitReview(MethodView):
    @requires("review_visits", Target(Visit, path="visit_id"))
    @blp.arguments(VisitReviewSchema)
    @blp.response(200, VisitSchema)
    def post(self, data, visit_id):
        """Approve a visit, or reject it with a reason: a rejected visit stops counting and
        its household is due again on the evaluator's phone, with the reason. Audited;
        refused (409 `county_finalised`) once the county is finalised."""
        visit = service.get_visit(actor(), visit_id)
        return service.review_visit(actor(), visit, data["decision"], data.get("reason"))


@blp.route("/visits/review")
class VisitBulkReview(MethodView):
    @requires("review_visits", Target(Visit, body="visit_ids"))
    @blp.arguments(VisitBulkApproveSchema)
    @blp.response(200, VisitBulkResultSchema)
    def post(self, data):
        """Approve unflagged visits in bulk (flagged ones are reviewed one by one)."""
        return {"approved": service.approve_unflagged(actor(), data["visit_ids"])}
