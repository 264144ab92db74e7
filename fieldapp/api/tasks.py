"""GET /api/tasks: the evaluator's offline download (contract in docs/architecture.md)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..auth import actor, requires
from ..services.tasks import evaluator_tasks
from .instruments import InstrumentSchema

blp = Blueprint("tasks", __name__, url_prefix="/api", description="Evaluator tasks")


class CentreSchema(Schema):
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class TaskCycleSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()


class TaskDrawSchema(Schema):
    id = fields.Integer()
    seed = fields.String()
    seed_recorded_at = fields.DateTime()
    complete_census = fields.Boolean()


class HomeSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()


class TaskReturnedSchema(Schema):
    reason = fields.String(allow_none=True, metadata={"description": "why staff rejected the visit"})
    visit_uuid = fields.String(metadata={"description": "the rejected visit's client UUID"})
    rejected_at = fields.DateTime(allow_none=True)


class TaskHouseholdSchema(Schema):
    token = fields.String(metadata={"description": "the sample token (field sheet QR, sync payloads)"})
    household_no = fields.String()
    head_name = fields.String()
    family_size = fields.Integer()
    rank = fields.Integer()
    role = fields.String(metadata={"enum": ["sample", "reserve"]})
    status = fields.String(metadata={"enum": ["pending", "visited", "unreachable",
                                              "reserve_unused", "reserve_active"]})
    # Samples and activated reserves only (the house finder); absent for unused reserves.
    phone = fields.String(allow_none=True, metadata={
        "description": "to make an appointment; each download carrying phones is audited"})
    home = fields.Nested(HomeSchema, allow_none=True, metadata={
        "description": "the home's coordinates (WGS-84) when the roster has them"})
    returned = fields.Nested(TaskReturnedSchema, allow_none=True, metadata={
        "description": "set when staff rejected this household's visit: it is due again"})


class TaskVillageSchema(Schema):
    code = fields.String()
    name = fields.String()
    town = fields.String()
    county = fields.String()
    centre = fields.Nested(CentreSchema)
    radius_m = fields.Integer()
    cycle = fields.Nested(TaskCycleSchema)
    draw = fields.Nested(TaskDrawSchema, allow_none=True, metadata={
        "description": "null: assigned but not drawn yet (the phone shows 尚未抽样)"})
    households = fields.List(fields.Nested(TaskHouseholdSchema))


class TasksSchema(Schema):
    generated_at = fields.DateTime()
    villages = fields.List(fields.Nested(TaskVillageSchema))
    instruments = fields.List(fields.Nested(InstrumentSchema))


@blp.route("/tasks")
class Tasks(MethodView):
    @requires("read_tasks")
    @blp.response(200, TasksSchema)
    def get(self):
        """Villages assigned to you in open cycles: sample and reserves of their active
        draw (contacts and homes of the households to find), or `draw: null` when the
        village is not drawn yet."""
        return evaluator_tasks(actor())
