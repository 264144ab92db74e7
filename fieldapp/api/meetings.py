"""Democratic evaluation meetings (staff): create, change, close, paper tallies, slips.

Thin routes: the policy (fieldapp/policy.py, before the arguments are read) -> load (404)
-> service (which asks the policy too) -> dump. The public, no-login voting endpoints are
in api/ballots.py.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import policy
from ..auth import Target, actor, raw_field, requires
from ..extensions import db
from ..loading import get_or_404
from ..models import MEETING_CATEGORIES, Cycle, FirstSecretary, Meeting
from ..services import meetings as svc
from ..web.meetings import ballot_url

blp = Blueprint("meetings", __name__, url_prefix="/api",
                description="Democratic evaluation meetings and their ballot slips")

COUNT = validate.Range(min=0, max=svc.MAX_PER_CATEGORY)


class MeetingParticipantsSchema(Schema):
    party_member = fields.Integer(load_default=0, validate=COUNT)
    cadre = fields.Integer(load_default=0, validate=COUNT)
    villager_rep = fields.Integer(load_default=0, validate=COUNT)
    poor_household_rep = fields.Integer(load_default=0, validate=COUNT)


class MeetingCreateSchema(Schema):
    cycle_id = fields.Integer(required=True)
    secretary_id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    place = fields.String(required=True, validate=validate.Length(min=1, max=svc.MAX_PLACE))
    participants = fields.Nested(MeetingParticipantsSchema, required=True)


class MeetingUpdateSchema(Schema):
    held_on = fields.Date()
    place = fields.String(validate=validate.Length(min=1, max=svc.MAX_PLACE))
    participants = fields.Nested(MeetingParticipantsSchema)


class MeetingListArgs(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()


class MeetingCategoryCountSchema(Schema):
    participants = fields.Integer()
    ballots = fields.Integer()
    paper = fields.Integer()


class MeetingSummarySchema(Schema):
    tokens = fields.Integer()
    tokens_used = fields.Integer()
    ballots = fields.Integer()
    paper_ballots = fields.Integer()
    by_category = fields.Dict(keys=fields.String(), values=fields.Nested(MeetingCategoryCountSchema))
    tallies = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))


class MeetingSchema(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    secretary_id = fields.Integer()
    secretary_name = fields.Function(lambda m: m.secretary.name)
    village_id = fields.Integer()
    village_name = fields.Function(lambda m: m.village.name)
    held_on = fields.Date()
    place = fields.String()
    participants = fields.Dict(keys=fields.String(), values=fields.Integer())
    instrument_id = fields.String()
    instrument_version = fields.Integer()
    status = fields.String(metadata={"enum": ["open", "closed"]})
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    summary = fields.Function(lambda m: MeetingSummarySchema().dump(svc.meeting_summary(m)))


class MeetingListSchema(Schema):
    items = fields.List(fields.Nested(MeetingSchema))


class MeetingTalliesSchema(Schema):
    """{category: {option: count}} for the instrument's overall item."""
    tallies = fields.Dict(
        keys=fields.String(validate=validate.OneOf(MEETING_CATEGORIES)),
        values=fields.Dict(keys=fields.String(validate=validate.Length(max=40)),
                           values=fields.Integer(validate=validate.Range(min=0, max=10000))),
        required=True)


class MeetingSlipSchema(Schema):
    n = fields.Integer()
    token = fields.String()
    url = fields.String()


class MeetingSlipListSchema(Schema):
    meeting_id = fields.Integer()
    items = fields.List(fields.Nested(MeetingSlipSchema))


def _listed(_kwargs) -> policy.CountyCycle | None:
    """The county and cycle a GET /api/meetings lists (county staff: their own county)."""
    cycle_ids, county_ids = raw_field("cycle_id", "query"), raw_field("county_id", "query")
    cycle = _get(Cycle, cycle_ids[0]) if cycle_ids else None
    county_id = _int(county_ids[0]) if county_ids else actor().county_id
    return policy.CountyCycle(cycle, county_id) if cycle and county_id else None


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def _get(model, raw):
    ident = raw if type(raw) is int else _int(str(raw))
    return db.session.get(model, ident) if ident else None


def _created(_kwargs) -> policy.CountyCycle | None:
    """The county and cycle a POST /api/meetings would create a meeting in, as sent."""
    cycle = _get(Cycle, raw_field("cycle_id", "body"))
    secretary = _get(FirstSecretary, raw_field("secretary_id", "body"))
    if secretary is None:
        return None
    return policy.CountyCycle(cycle, secretary.village.county_id) if cycle else secretary


@blp.route("/meetings")
class Meetings(MethodView):
    @requires("read_meetings", Target(load=_listed))
    @blp.arguments(MeetingListArgs, location="query")
    @blp.response(200, MeetingListSchema)
    def get(self, args):
        """The meetings of a county in a cycle (staff: their county)."""
        user = actor()
        cycle = get_or_404(Cycle, args["cycle_id"])
        county_id = args.get("county_id") or user.county_id
        if county_id is None:
            return {"items": []}
        return {"items": svc.meetings_for(user, cycle, county_id)}

    @requires("manage_meetings", Target(load=_created))
    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingSchema)
    def post(self, data):
        """Create a meeting and one ballot slip per participant."""
        return svc.create_meeting(actor(), data)


@blp.route("/meetings/<int:meeting_id>")
class MeetingItem(MethodView):
    @requires("read_meetings", Target(Meeting, path="meeting_id"))
    @blp.response(200, MeetingSchema)
    def get(self, meeting_id):
        return get_or_404(Meeting, meeting_id)

    @requires("manage_meetings", Target(Meeting, path="meeting_id"))
    @blp.arguments(MeetingUpdateSchema)
    @blp.response(200, MeetingSchema)
    def patch(self, data, meeting_id):
        """Change date and place; participant numbers only before the first vote."""
        return svc.update_meeting(actor(), get_or_404(Meeting, meeting_id), data)


@blp.route("/meetings/<int:meeting_id>/close")
class MeetingClose(MethodView):
    @requires("manage_meetings", Target(Meeting, path="meeting_id"))
    @blp.response(200, MeetingSchema)
    def post(self, meeting_id):
        """Close the meeting: further votes are refused."""
        return svc.close_meeting(actor(), get_or_404(Meeting, meeting_id))


@blp.route("/meetings/<int:meeting_id>/tallies")
class MeetingTallies(MethodView):
    @requires("manage_meetings", Target(Meeting, path="meeting_id"))
    @blp.arguments(MeetingTalliesSchema)
    @blp.response(200, MeetingSchema)
    def put(self, data, meeting_id):
        """Replace the paper-ballot tallies (per category and option of the overall item)."""
        return svc.set_tallies(actor(), get_or_404(Meeting, meeting_id), data["tallies"])


@blp.route("/meetings/<int:meeting_id>/slips")
class MeetingSlips(MethodView):
    @requires("manage_meetings", Target(Meeting, path="meeting_id"))
    @blp.response(200, MeetingSlipListSchema)
    def get(self, meeting_id):
        """The slip tokens and their ballot URLs (open meetings only)."""
        meeting = get_or_404(Meeting, meeting_id)
        tokens = svc.slip_tokens(actor(), meeting)
        return {"meeting_id": meeting.id,
                "items": [{"n": i + 1, "token": t, "url": ballot_url(t)} for i, t in enumerate(tokens)]}
