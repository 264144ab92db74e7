"""Scores: the mass evaluation, the 100-point scorecard and grades, finalisation, downloads,
and a secretary's own final results.

Staff and admins only, except GET /api/scores/mine (secretaries, finalised results only,
small aggregates suppressed). Evaluators have no access to scores.
"""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import actor, login_required_roles
from ..errors import AppError, translate
from ..models import SEVEN_ONES, Cycle, FirstSecretary
from ..scoping import get_or_404
from ..services import exports
from ..services import scorecard as svc

blp = Blueprint("scores", __name__, url_prefix="/api",
                description="Mass evaluation, scorecard, grades, finalisation and downloads")

STAFF = ("admin", "county_staff")


class ScoreScopeArgs(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()


class ScoreExportArgs(ScoreScopeArgs):
    kind = fields.String(load_default="scorecard", validate=validate.OneOf(exports.KINDS))
    level = fields.String(load_default="secretary", validate=validate.OneOf(exports.LEVELS))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ScoreImportArgs(ScoreScopeArgs):
    dry_run = fields.Boolean(load_default=False)
    reason = fields.String(validate=validate.Length(max=svc.MAX_REASON))


class ScoreSevenOneSchema(Schema):
    done = fields.Boolean(required=True)
    evidence = fields.String(load_default="", validate=validate.Length(max=2000))


class ScoreEntryInSchema(Schema):
    cycle_id = fields.Integer(required=True)
    work_performance = fields.Float(allow_none=True, validate=validate.Range(min=0, max=60))
    work_discipline = fields.Float(allow_none=True, validate=validate.Range(min=0, max=10))
    work_evaluation = fields.Float(allow_none=True, validate=validate.Range(min=0, max=10))
    seven_ones = fields.Dict(keys=fields.String(validate=validate.OneOf(SEVEN_ONES)),
                             values=fields.Nested(ScoreSevenOneSchema))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    reason = fields.String(validate=validate.Length(max=svc.MAX_REASON))


class ScoreFinaliseSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()
    accept_incomplete = fields.Boolean(load_default=False)


class ScoreUnlockSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=svc.MAX_REASON))


class ScoreResultRowSchema(Schema):
    secretary_id = fields.Integer()
    secretary_name = fields.String()
    village_id = fields.Integer()
    village_code = fields.String()
    village_name = fields.String()
    town = fields.String()
    mass_status = fields.String(metadata={"enum": ["complete", "incomplete"]})
    mass_evaluation = fields.Float(allow_none=True)
    mass_reasons = fields.Function(lambda r: [translate(m) for m in r["mass_reasons"] or []])
    household_index = fields.Float(allow_none=True)
    meeting_index = fields.Float(allow_none=True)
    household_satisfied_share = fields.Float(allow_none=True)
    meeting_satisfied_share = fields.Float(allow_none=True)
    n_visits = fields.Integer()
    required_visits = fields.Integer()
    n_ballots = fields.Integer()
    work_performance = fields.Float(allow_none=True)
    work_discipline = fields.Float(allow_none=True)
    work_evaluation = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)
    status = fields.String(metadata={"enum": ["graded", "incomplete"]})
    reasons = fields.Function(lambda r: [translate(m) for m in r["reasons"] or []])
    grade = fields.String(allow_none=True)
    grade_label = fields.Function(lambda r: _grade_label(r["grade"]))
    grade_before_caps = fields.String(allow_none=True)
    capped = fields.Boolean()
    residency_cap = fields.String(allow_none=True)
    spot_check_absences = fields.Integer()


def _grade_label(code):
    from ..domain.grading import GRADE_LABELS

    return translate(GRADE_LABELS[code]) if code else None


class ScoreCapSchema(Schema):
    ratio = fields.Float()
    places = fields.Integer()
    qualified = fields.Integer()
    excellent = fields.Integer()


class ScoreResultsSchema(Schema):
    cycle_id = fields.Integer()
    county_id = fields.Integer()
    finalised = fields.Boolean()
    rows = fields.List(fields.Nested(ScoreResultRowSchema))
    recall = fields.List(fields.Nested(ScoreResultRowSchema))
    cap = fields.Nested(ScoreCapSchema)
    config = fields.Dict()


class ScoreEntryOutSchema(Schema):
    secretary_id = fields.Integer()
    cycle_id = fields.Integer()
    work_performance = fields.Float(allow_none=True)
    work_discipline = fields.Float(allow_none=True)
    work_evaluation = fields.Float(allow_none=True)
    seven_ones = fields.Dict()
    note = fields.String(allow_none=True)
    discipline_prefill = fields.Float(allow_none=True)
    discipline_source = fields.String()
    finalised = fields.Boolean()


class ScoreImportReportSchema(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer()
    errors = fields.List(fields.Dict())


class MyScoreResultSchema(Schema):
    cycle_id = fields.Integer()
    year = fields.Integer()
    finalised_at = fields.DateTime()
    mass_status = fields.String()
    mass_evaluation = fields.Float(allow_none=True)
    household_index = fields.Float(allow_none=True)
    household_satisfied_share = fields.Float(allow_none=True)
    meeting_index = fields.Float(allow_none=True)
    meeting_satisfied_share = fields.Float(allow_none=True)
    suppressed = fields.Boolean()
    work_performance = fields.Float(allow_none=True)
    work_discipline = fields.Float(allow_none=True)
    work_evaluation = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)
    status = fields.String()
    grade = fields.String(allow_none=True)
    grade_label = fields.Function(lambda r: _grade_label(r["grade"]))
    capped = fields.Boolean()
    residency_cap = fields.String(allow_none=True)


class MyScoreResultsSchema(Schema):
    items = fields.List(fields.Nested(MyScoreResultSchema))


class ScoreOkSchema(Schema):
    ok = fields.Boolean()


def _county(args) -> int:
    user = actor()
    county_id = args.get("county_id") or user.county_id
    if county_id is None:
        raise AppError("validation_failed", errors={"county_id": [_("Choose a county.")]})
    return county_id


@blp.route("/scores")
class Scores(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, ScoreResultsSchema)
    def get(self, args):
        """Every secretary of a county: mass evaluation, components, total, grade, caps,
        and the recall list. Finalised counties: the stored results; else provisional."""
        cycle = get_or_404(Cycle, args["cycle_id"])
        return svc.results(actor(), cycle, _county(args))


@blp.route("/scores/entries/<int:secretary_id>")
class ScoreEntry(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, ScoreEntryOutSchema)
    def get(self, args, secretary_id):
        """One secretary's entered components, with the work-discipline prefill."""
        cycle = get_or_404(Cycle, args["cycle_id"])
        return svc.entry_view(actor(), cycle, get_or_404(FirstSecretary, secretary_id))

    @login_required_roles(*STAFF)
    @blp.arguments(ScoreEntryInSchema)
    @blp.response(200, ScoreEntryOutSchema)
    def put(self, data, secretary_id):
        """Save components (absent keys are kept). A finalised county: admins with a reason."""
        cycle = get_or_404(Cycle, data.pop("cycle_id"))
        secretary = get_or_404(FirstSecretary, secretary_id)
        reason = data.pop("reason", None)
        svc.save_entry(actor(), cycle, secretary, data, reason=reason)
        return svc.entry_view(actor(), cycle, secretary)


@blp.route("/scores/import")
class ScoreImport(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreImportArgs, location="query")
    @blp.response(200, ScoreImportReportSchema)
    @blp.alt_response(422, description="Rejected: every row error listed, nothing stored")
    def post(self, args):
        """Import components from an XLSX (multipart field `file`): all rows or none."""
        upload = request.files.get("file")
        if upload is None:
            raise AppError("validation_failed", errors={"file": [_("Choose a file.")]})
        cycle = get_or_404(Cycle, args["cycle_id"])
        return svc.import_xlsx(actor(), cycle, _county(args), upload.read(),
                               dry_run=args["dry_run"], reason=args.get("reason"))


@blp.route("/scores/template.xlsx")
class ScoreTemplate(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, description="The import template, pre-filled with the county's secretaries")
    def get(self, args):
        cycle = get_or_404(Cycle, args["cycle_id"])
        rows = svc.template_rows(actor(), cycle, _county(args))
        columns = [exports.Column(translate(title), 16) for _key, title in svc.IMPORT_COLUMNS]
        return exports.xlsx_response(f"scorecard-template-{cycle.year}.xlsx",
                                     _("Scorecard"), columns, rows)


@blp.route("/scores/finalise")
class ScoreFinalise(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreFinaliseSchema)
    @blp.response(200, ScoreResultsSchema)
    def post(self, data):
        """Store the county's results and lock it."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        return svc.finalise(actor(), cycle, _county(data), accept_incomplete=data["accept_incomplete"])


@blp.route("/scores/unlock")
class ScoreUnlock(MethodView):
    @login_required_roles("admin")
    @blp.arguments(ScoreUnlockSchema)
    @blp.response(200, ScoreOkSchema)
    def post(self, data):
        """Admins: reopen a finalised county, with a reason (audited)."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        svc.unlock(actor(), cycle, data["county_id"], data["reason"])
        return {"ok": True}


@blp.route("/scores/export")
class ScoreExport(MethodView):
    @login_required_roles(*STAFF)
    @blp.arguments(ScoreExportArgs, location="query")
    @blp.response(200, description="CSV (UTF-8 with BOM) or XLSX, streamed")
    def get(self, args):
        """Download the scorecard, the aggregated satisfaction (by secretary, village,
        town or county), or the household-level answers (ID numbers masked)."""
        user = actor()
        cycle = get_or_404(Cycle, args["cycle_id"])
        county_ids = exports.export_scope(user, cycle, args.get("county_id"))
        kind, level = args["kind"], args["level"]
        if kind == "scorecard":
            columns, rows = exports.scorecard_table(user, cycle, county_ids)
            stem, sheet = f"scorecard-{cycle.year}", _("Scorecard")
        elif kind == "satisfaction":
            columns, rows = exports.satisfaction_table(user, cycle, county_ids, level)
            stem, sheet = f"satisfaction-{level}-{cycle.year}", _("Satisfaction")
        else:
            columns, rows = exports.households_table(user, cycle, county_ids)
            stem, sheet = f"household-answers-{cycle.year}", _("Household answers")
        if len(county_ids) == 1:
            stem += f"-county{county_ids[0]}"
        return exports.table_response(args["format"], stem, sheet, columns, rows)


@blp.route("/scores/mine")
class MyScores(MethodView):
    @login_required_roles("secretary")
    @blp.response(200, MyScoreResultsSchema)
    def get(self):
        """A secretary's own final results (finalised cycles only)."""
        return {"items": svc.my_results(actor())}
