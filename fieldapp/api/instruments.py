"""The survey instruments (schemas/*.json) the PWA renders its forms from."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..auth import requires
from ..services import instruments

blp = Blueprint("instruments", __name__, url_prefix="/api", description="Survey instruments")


class TextSchema(Schema):
    zh = fields.String()
    en = fields.String()


class OptionSchema(Schema):
    code = fields.String()
    label = fields.Nested(TextSchema)
    value = fields.Float(allow_none=True, metadata={"description": "score 0-100, null = not scored"})


class ItemSchema(Schema):
    id = fields.String()
    type = fields.String(metadata={"enum": ["choice", "integer", "text"]})
    label = fields.Nested(TextSchema)
    required = fields.Boolean()
    scored = fields.Boolean()
    options = fields.String(metadata={"description": "option-set name (choice items)"})
    min = fields.Integer()
    max = fields.Integer()
    max_length = fields.Integer()


class InstrumentSchema(Schema):
    id = fields.String()
    version = fields.Integer()
    title = fields.Nested(TextSchema)
    option_sets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(OptionSchema)))
    items = fields.List(fields.Nested(ItemSchema))


@blp.route("/instruments")
class Instruments(MethodView):
    @requires("read_instruments")
    @blp.response(200, InstrumentSchema(many=True))
    def get(self):
        """Every instrument and version the server accepts (old versions included)."""
        return [i.raw for i in instruments.all_instruments()]


@blp.route("/instruments/<string:instrument_id>/<int:version>")
class InstrumentItem(MethodView):
    @requires("read_instruments")
    @blp.response(200, InstrumentSchema)
    def get(self, instrument_id, version):
        return instruments.get_or_404(instrument_id, version).raw
