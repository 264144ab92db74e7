"""Roster: import (XLSX/CSV), the template, and scoped household/secretary listings."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from .. import policy
from ..auth import actor, requires
from ..domain.roster_template import build_template_xlsx
from ..errors import AppError
from ..models import FirstSecretary, Household, Village
from ..services.roster import import_roster
from ..services.roster_places import template_place
from .common import PageArgs, paginate, page_of

blp = Blueprint("roster", __name__, url_prefix="/api", description="Roster of households and secretaries")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CountsSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()


class RowErrorSchema(Schema):
    file = fields.String()
    sheet = fields.String(allow_none=True)
    row = fields.Integer(allow_none=True)
    column = fields.String(allow_none=True)
    message = fields.String()


class RosterImportReportSchema(Schema):
    dry_run = fields.Boolean()
    files = fields.List(fields.Dict())
    errors = fields.List(fields.Nested(RowErrorSchema))
    warnings = fields.List(fields.Nested(RowErrorSchema), metadata={
        "description": "imported anyway: households far from their village, villages without "
                       "a centre, estimated centres"})
    counts = fields.Dict(keys=fields.String(), values=fields.Nested(CountsSchema))


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False)


class HouseholdSchema(Schema):
    id = fields.Integer()
    village_id = fields.Integer()
    village_code = fields.Function(lambda h: h.village.code)
    household_no = fields.String()
    head_name = fields.String()
    # Masked for everyone but the city admin (policy.visible_id_number is the one rule).
    id_number = fields.Function(lambda h: policy.visible_id_number(actor(), h.id_number))
    family_size = fields.Integer()
    attribute = fields.Function(lambda h: policy.registry_detail(actor(), h.attribute),
                                allow_none=True)
    exit_status = fields.Function(lambda h: policy.registry_detail(actor(), h.exit_status),
                                  allow_none=True)
    exit_year = fields.Function(lambda h: policy.registry_detail(actor(), h.exit_year),
                                allow_none=True)
    phone = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


HouseholdPageSchema = page_of(HouseholdSchema)


class HouseholdArgs(PageArgs):
    village_id = fields.Integer()
    q = fields.String(validate=validate.Length(max=50))


class SecretarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    dispatch_level = fields.String()
    dispatch_unit = fields.String()
    village_id = fields.Integer()
    village_code = fields.Function(lambda s: s.village.code)
    village_name = fields.Function(lambda s: s.village.name)
    term_start = fields.Date()
    term_end = fields.Date(allow_none=True)
    status = fields.String()


SecretaryPageSchema = page_of(SecretarySchema)


@blp.route("/roster/import")
class RosterImport(MethodView):
    @requires("import_roster")
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, RosterImportReportSchema)
    @blp.alt_response(422, description="Rejected: every row error listed, nothing stored")
    def post(self, args):
        """Upload one or more XLSX/CSV files (multipart field `files`)."""
        uploads = request.files.getlist("files")
        if not uploads:
            raise AppError("validation_failed", errors={"files": [_("Choose at least one file.")]})
        files = [(f.filename or "upload", f.read()) for f in uploads]
        return import_roster(actor(), files, dry_run=args["dry_run"]).as_dict()


@blp.route("/roster/template.xlsx")
class RosterTemplate(MethodView):
    @blp.response(200, description="The roster template workbook")
    def get(self):
        """The blank roster template (public: it holds only example rows, marked 示例, set
        in the logged-in staff member's own county)."""
        from flask_login import current_user

        place = template_place(current_user)
        return Response(build_template_xlsx(place), mimetype=XLSX, headers={
            "Content-Disposition": "attachment; filename*=UTF-8''roster-template.xlsx"})


@blp.route("/households")
class Households(MethodView):
    @requires("read_households")
    @blp.arguments(HouseholdArgs, location="query")
    @blp.response(200, HouseholdPageSchema)
    def get(self, args):
        """Staff: the registry of their county. Evaluators: only the households they must
        find (their samples and activated reserves, open cycles), without registry details."""
        stmt = policy.scope(actor(), "read_households", select(Household).join(Village)).order_by(
            Village.code, Household.household_no).options(contains_eager(Household.village))
        if "village_id" in args:
            stmt = stmt.where(Household.village_id == args["village_id"])
        if args.get("q"):
            stmt = stmt.where(Household.head_name.contains(args["q"])
                              | Household.household_no.startswith(args["q"]))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}


@blp.route("/secretaries")
class Secretaries(MethodView):
    @requires("read_secretaries")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SecretaryPageSchema)
    def get(self, args):
        stmt = policy.scope(actor(), "read_secretaries", select(FirstSecretary)).order_by(
            FirstSecretary.id).options(joinedload(FirstSecretary.village))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}
