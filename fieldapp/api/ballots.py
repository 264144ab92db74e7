"""The public ballot (no login): read a slip's ballot, cast one anonymous vote.

CSRF: the vote needs the usual X-CSRFToken header; GET /api/auth/csrf gives one without
login (the ballot page also carries it in a meta tag). Refusals carry `state`:
`used` (409 conflict) or `closed` (409 locked); an unknown slip is 404.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..models import MEETING_CATEGORIES
from ..services import instruments
from ..services import meetings as svc

blp = Blueprint("ballots", __name__, url_prefix="/api",
                description="Public anonymous ballots of evaluation meetings (no login)")


class BallotCategorySchema(Schema):
    code = fields.String()
    label = fields.String()


class BallotMeetingSchema(Schema):
    held_on = fields.Date()
    village_name = fields.String()
    town = fields.String()
    secretary_name = fields.String()
    year = fields.Integer()


class BallotSchema(Schema):
    state = fields.String(metadata={"enum": ["valid", "used", "closed"]})
    meeting = fields.Nested(BallotMeetingSchema)
    categories = fields.List(fields.Nested(BallotCategorySchema))
    instrument = fields.Dict(allow_none=True)


class BallotVoteSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(MEETING_CATEGORIES))
    answers = fields.Dict(required=True)
    # A random string the page makes once per ballot: a retry after a lost response is
    # recognised as the same vote.
    receipt = fields.String(required=True, validate=validate.Length(min=16, max=64))


class BallotVoteResultSchema(Schema):
    status = fields.String(metadata={"enum": ["stored", "already_stored"]})


def ballot_payload(token: str) -> dict:
    meeting, state = svc.ballot_state(token)
    instrument = None
    if state == "valid":

        instrument = dict(instruments.get_or_404(meeting.instrument_id, meeting.instrument_version).raw)
    return {"state": state, "meeting": svc.public_meeting_info(meeting),
            "categories": [{"code": c, "label": svc.category_label(c)} for c in MEETING_CATEGORIES],
            "instrument": instrument}


@blp.route("/ballots/<string:token>")
class BallotItem(MethodView):
    @blp.response(200, BallotSchema)
    @blp.alt_response(404, description="Unknown slip")
    def get(self, token):
        """The ballot of a slip: its state and, while valid, the instrument to answer."""
        return ballot_payload(token)

    @blp.arguments(BallotVoteSchema)
    @blp.response(201, BallotVoteResultSchema)
    @blp.alt_response(409, description="Slip already used (state=used) or meeting closed (state=closed)")
    def post(self, data, token):
        """Cast the slip's one vote (anonymous: the stored ballot has no link to the slip)."""
        return {"status": svc.cast_vote(token, data["category"], data["answers"], data["receipt"])}
