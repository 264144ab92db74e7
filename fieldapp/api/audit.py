"""The audit log for staff: who changed what, with before and after."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import actor, requires
from ..services import audit_log
from .common import PageArgs, page_of, paginate

blp = Blueprint("audit", __name__, url_prefix="/api", description="Audit log")

ID = validate.Range(min=1, max=2**31 - 1)


class AuditArgs(PageArgs):
    actor_id = fields.Integer(validate=ID, metadata={"description": "who"})
    action = fields.String(validate=validate.Length(min=1, max=60),
                           metadata={"description": "what: an action, or a family such as `user`"})
    county_id = fields.Integer(validate=ID)
    since = fields.Date(metadata={"description": "from this day (Beijing time)"})
    until = fields.Date(metadata={"description": "to this day, inclusive"})


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    county_id = fields.Integer(allow_none=True)
    action = fields.String()
    action_label = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    detail = fields.Dict()


@blp.route("/audit")
class AuditLog(MethodView):
    @requires("read_audit")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, page_of(AuditEntrySchema))
    def get(self, args):
        """Entries newest first; county staff see their county's only."""
        filters = {k: args.get(k) for k in ("actor_id", "action", "county_id", "since", "until")}
        items, total = paginate(audit_log.audit_query(actor(), **filters), args)
        return {"items": audit_log.entry_views(list(items)), "total": total}
