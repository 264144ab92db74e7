"""POST /api/sync: one batch of offline records, stored exactly once, all or nothing."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..auth import actor, requires
from ..compression import body_error
from ..errors import AppError
from ..schema_fields import UtcDateTime
from ..services.sync import sync_batch

blp = Blueprint("sync", __name__, url_prefix="/api", description="Offline sync")


@blp.before_request
def _refused_body():
    """Phones may gzip a batch (Content-Encoding: gzip); fieldapp.compression inflates it
    within SYNC_MAX_BODY_KB and says here when it could not."""
    reason = body_error()
    if reason == "too_large":
        raise AppError("payload_too_large", gettext(
            "A sync batch may be at most %(kb)s KB once decompressed. Send fewer records.",
            kb=current_app.config["SYNC_MAX_BODY_KB"]))
    if reason == "not_gzip":
        raise AppError("bad_request", gettext("The body is not valid gzip."))
    if reason == "unsupported_encoding":
        raise AppError("unsupported_media_type",
                       gettext("Only gzip-compressed request bodies are accepted."))


class RecordSchema(Schema):
    uuid = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(max=20))
    payload = fields.Dict(required=True)


class BatchSchema(Schema):
    device_sent_at = UtcDateTime(allow_none=True, load_default=None)
    records = fields.List(fields.Nested(RecordSchema), required=True)

    @validates_schema
    def _size(self, data, **kwargs):
        limit = current_app.config["SYNC_MAX_BATCH"]
        if not 1 <= len(data["records"]) <= limit:
            raise ValidationError(f"1..{limit}", "records")


class ResultSchema(Schema):
    uuid = fields.String()
    status = fields.String(metadata={"enum": ["stored", "duplicate", "rejected", "conflict",
                                              "pending"]})
    id = fields.Integer()
    errors = fields.Dict()
    data = fields.Dict()


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(ResultSchema))
    server_time = fields.DateTime()


@blp.route("/sync")
class Sync(MethodView):
    @requires("sync")
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    @blp.alt_response(422, description="Nothing stored; per-record results say why")
    @blp.alt_response(413, description="The body (inflated, when sent with "
                      "Content-Encoding: gzip) is larger than SYNC_MAX_BODY_KB")
    def post(self, batch):
        for record in batch["records"]:
            record["uuid"] = str(record["uuid"])
        return sync_batch(actor(), batch)
