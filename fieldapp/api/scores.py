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

from .. import policy
from ..auth import Target, actor, raw_field, requires
from ..domain.grading import GRADE_LABELS
from ..errors import AppError, translate
from ..extensions import db
from ..loading import get_or_404
from ..models import SEVEN_ONES, Cycle, FirstSecretary
from ..services import exports
from ..services.scoring import entries, results as svc
from ..services.scoring import exports as score_exports
from .common import points_in, points_out

blp = Blueprint("scores", __name__, url_prefix="/api",
                description="Mass evaluation, scorecard, grades, finalisation and downloads")



class ScoreScopeArgs(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()


class ScoreExportArgs(ScoreScopeArgs):
    kind = fields.String(load_default="scorecard", validate=validate.OneOf(score_exports.KINDS))
    level = fields.String(load_default="secretary", validate=validate.OneOf(score_exports.LEVELS))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class ScoreImportArgs(ScoreScopeArgs):
    dry_run = fields.Boolean(load_default=False)


class ScoreSevenOneSchema(Schema):
    done = fields.Boolean(required=True)
    evidence = fields.String(load_default="", validate=validate.Length(max=2000))


class ScoreEntryInSchema(Schema):
    """Points as numbers or decimal strings, rounded half up to 2 decimals, then checked
    against the component's maximum (60, 10, 10)."""
    cycle_id = fields.Integer(required=True)
    work_performance = points_in(allow_none=True)
    work_discipline = points_in(allow_none=True)
    work_evaluation = points_in(allow_none=True)
    seven_ones = fields.Dict(keys=fields.String(validate=validate.OneOf(SEVEN_ONES)),
                             values=fields.Nested(ScoreSevenOneSchema))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ScoreFinaliseSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()
    accept_incomplete = fields.Boolean(load_default=False)


class ScoreUnlockSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=entries.MAX_REASON))


class ScoreTieDecisionSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()
    chosen = fields.List(fields.Integer(), required=True, metadata={
        "description": "the tied secretaries who take the remaining Excellent places"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=entries.MAX_REASON))


class ScorePersonDecisionSchema(Schema):
    cycle_id = fields.Integer(required=True)
    county_id = fields.Integer()
    secretary_id = fields.Integer(required=True, metadata={
        "description": "the record (village) that is graded; the person's others are not assessed"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=entries.MAX_REASON))


class ScoreDecisionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["tie", "person"]})
    subject = fields.List(fields.Integer())
    chosen = fields.List(fields.Integer())
    reason = fields.String()
    decided_at = fields.DateTime()


class ScoreResultRowSchema(Schema):
    secretary_id = fields.Integer()
    secretary_name = fields.String()
    village_id = fields.Integer()
    village_code = fields.String()
    village_name = fields.String()
    town = fields.String()
    mass_status = fields.String(metadata={"enum": ["complete", "incomplete"]})
    mass_evaluation = points_out(allow_none=True)
    mass_reasons = fields.Function(lambda r: [translate(m) for m in r["mass_reasons"] or []])
    household_index = points_out(allow_none=True)
    meeting_index = points_out(allow_none=True)
    household_satisfied_share = points_out(allow_none=True)
    meeting_satisfied_share = points_out(allow_none=True)
    n_visits = fields.Integer()
    required_visits = fields.Integer()
    n_ballots = fields.Integer()
    work_performance = points_out(allow_none=True)
    work_discipline = points_out(allow_none=True)
    work_evaluation = points_out(allow_none=True)
    total = points_out(allow_none=True)
    status = fields.String(metadata={"enum": ["graded", "incomplete", "pending"]})
    pending = fields.String(allow_none=True, metadata={"enum": ["tie", "person", None],
                                                        "description": "待定: what staff must decide"})
    reasons = fields.Function(lambda r: [translate(m) for m in r["reasons"] or []])
    grade = fields.String(allow_none=True)
    grade_label = fields.Function(lambda r: _grade_label(r["grade"]))
    grade_before_caps = fields.String(allow_none=True)
    capped = fields.Boolean()
    residency_cap = fields.String(allow_none=True)
    spot_check_absences = fields.Integer()
    n_visits_unscored = fields.Integer(metadata={"description": "completed visits without a scored answer: not counted"})


def _grade_label(code):
    return translate(GRADE_LABELS[code]) if code else None


class ScoreCapSchema(Schema):
    ratio = fields.Float()
    base = fields.Integer(metadata={"description": "assessed people (one person in two villages once)"})
    places = fields.Integer()
    qualified = fields.Integer()
    excellent = fields.Integer()
    pending = fields.Integer()
    graded = fields.Integer()
    incomplete = fields.Integer()


class ScoreTieSchema(Schema):
    secretary_ids = fields.List(fields.Integer())
    places = fields.Integer()
    decided = fields.Boolean()


class ScoreDuplicateSchema(Schema):
    secretary_ids = fields.List(fields.Integer())
    chosen = fields.Integer(allow_none=True)


class ScoreResultsSchema(Schema):
    cycle_id = fields.Integer()
    county_id = fields.Integer()
    finalised = fields.Boolean()
    rows = fields.List(fields.Nested(ScoreResultRowSchema))
    recall = fields.List(fields.Nested(ScoreResultRowSchema))
    not_assessed = fields.List(fields.Nested(ScoreResultRowSchema))
    cap = fields.Nested(ScoreCapSchema)
    tie = fields.Nested(ScoreTieSchema, allow_none=True)
    duplicates = fields.List(fields.Nested(ScoreDuplicateSchema))
    config = fields.Dict()


class ScoreEntryOutSchema(Schema):
    secretary_id = fields.Integer()
    cycle_id = fields.Integer()
    work_performance = points_out(allow_none=True)
    work_discipline = points_out(allow_none=True)
    work_evaluation = points_out(allow_none=True)
    seven_ones = fields.Dict()
    note = fields.String(allow_none=True)
    discipline_prefill = points_out(allow_none=True)
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
    mass_evaluation = points_out(allow_none=True)
    household_index = points_out(allow_none=True)
    household_satisfied_share = points_out(allow_none=True)
    meeting_index = points_out(allow_none=True)
    meeting_satisfied_share = points_out(allow_none=True)
    suppressed = fields.Boolean()
    work_performance = points_out(allow_none=True)
    work_discipline = points_out(allow_none=True)
    work_evaluation = points_out(allow_none=True)
    total = points_out(allow_none=True)
    status = fields.String()
    grade = fields.String(allow_none=True)
    grade_label = fields.Function(lambda r: _grade_label(r["grade"]))
    capped = fields.Boolean()
    residency_cap = fields.String(allow_none=True)


class MyScoreResultsSchema(Schema):
    items = fields.List(fields.Nested(MyScoreResultSchema))


class ScoreOkSchema(Schema):
    ok = fields.Boolean()


def _id(raw) -> int | None:
    if isinstance(raw, list):  # a query field
        raw = raw[0]
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    return raw if type(raw) is int and 0 < raw < 2**31 else None


def _scope_from(source: str):
    """The county's scores a request names (`cycle_id`, `county_id`; county staff: their
    own county by default), read as sent, for the policy before the arguments."""
    def load(_kwargs) -> policy.CountyCycle | None:
        cycle_id = _id(raw_field("cycle_id", source))
        cycle = db.session.get(Cycle, cycle_id) if cycle_id else None
        county_id = _id(raw_field("county_id", source)) or actor().county_id
        return policy.CountyCycle(cycle, county_id) if cycle and county_id else None
    return load


IN_QUERY, IN_BODY = Target(load=_scope_from("query")), Target(load=_scope_from("body"))


def _entry_cycle(kwargs) -> policy.CountyCycle | None:
    secretary = db.session.get(FirstSecretary, kwargs["secretary_id"])
    cycle_id = _id(raw_field("cycle_id", "body" if raw_field("cycle_id", "query") is None
                             else "query"))
    cycle = db.session.get(Cycle, cycle_id) if cycle_id else None
    if secretary is None or cycle is None:
        return None
    return policy.CountyCycle(cycle, secretary.village.county_id)


ENTRY = (Target(FirstSecretary, path="secretary_id"), Target(load=_entry_cycle))


def _county(args) -> int:
    user = actor()
    county_id = args.get("county_id") or user.county_id
    if county_id is None:
        raise AppError("validation_failed", errors={"county_id": [_("Choose a county.")]})
    return county_id


@blp.route("/scores")
class Scores(MethodView):
    @requires("read_scores", IN_QUERY)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, ScoreResultsSchema)
    def get(self, args):
        """Every secretary of a county: mass evaluation, components, total, grade, caps,
        and the recall list. Finalised counties: the stored results; else provisional."""
        cycle = get_or_404(Cycle, args["cycle_id"])
        return svc.results(actor(), cycle, _county(args))


@blp.route("/scores/entries/<int:secretary_id>")
class ScoreEntry(MethodView):
    @requires("read_scores", *ENTRY)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, ScoreEntryOutSchema)
    def get(self, args, secretary_id):
        """One secretary's entered components, with the work-discipline prefill."""
        cycle = get_or_404(Cycle, args["cycle_id"])
        return entries.entry_view(actor(), cycle, get_or_404(FirstSecretary, secretary_id))

    @requires("enter_scores", *ENTRY)
    @blp.arguments(ScoreEntryInSchema)
    @blp.response(200, ScoreEntryOutSchema)
    def put(self, data, secretary_id):
        """Save components (absent keys are kept). A finalised county refuses (409
        `county_finalised`) until an admin reopens it."""
        cycle = get_or_404(Cycle, data.pop("cycle_id"))
        secretary = get_or_404(FirstSecretary, secretary_id)
        entries.save_entry(actor(), cycle, secretary, data)
        return entries.entry_view(actor(), cycle, secretary)


@blp.route("/scores/import")
class ScoreImport(MethodView):
    @requires("enter_scores", IN_QUERY)
    @blp.arguments(ScoreImportArgs, location="query")
    @blp.response(200, ScoreImportReportSchema)
    @blp.alt_response(422, description="Rejected: every row error listed, nothing stored")
    def post(self, args):
        """Import components from an XLSX (multipart field `file`): all rows or none."""
        upload = request.files.get("file")
        if upload is None:
            raise AppError("validation_failed", errors={"file": [_("Choose a file.")]})
        cycle = get_or_404(Cycle, args["cycle_id"])
        return entries.import_xlsx(actor(), cycle, _county(args), upload.read(),
                                   dry_run=args["dry_run"])


@blp.route("/scores/template.xlsx")
class ScoreTemplate(MethodView):
    @requires("enter_scores", IN_QUERY)
    @blp.arguments(ScoreScopeArgs, location="query")
    @blp.response(200, description="The import template, pre-filled with the county's secretaries")
    def get(self, args):
        cycle = get_or_404(Cycle, args["cycle_id"])
        rows = entries.template_rows(actor(), cycle, _county(args))
        columns = [exports.Column(translate(title), 16) for _key, title in entries.IMPORT_COLUMNS]
        return exports.xlsx_response(f"scorecard-template-{cycle.year}.xlsx",
                                     _("Scorecard"), columns, rows)


@blp.route("/scores/finalise")
class ScoreFinalise(MethodView):
    @requires("finalise_scores", IN_BODY)
    @blp.arguments(ScoreFinaliseSchema)
    @blp.response(200, ScoreResultsSchema)
    def post(self, data):
        """Store the county's results and lock it."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        return svc.finalise(actor(), cycle, _county(data), accept_incomplete=data["accept_incomplete"])


@blp.route("/scores/unlock")
class ScoreUnlock(MethodView):
    @requires("unlock_scores", IN_BODY)
    @blp.arguments(ScoreUnlockSchema)
    @blp.response(200, ScoreOkSchema)
    def post(self, data):
        """Admins: reopen a finalised county, with a reason (audited)."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        svc.unlock(actor(), cycle, data["county_id"], data["reason"])
        return {"ok": True}


@blp.route("/scores/ties")
class ScoreTies(MethodView):
    @requires("enter_scores", IN_BODY)
    @blp.arguments(ScoreTieDecisionSchema)
    @blp.response(200, ScoreDecisionSchema)
    def post(self, data):
        """Decide a tie at the last Excellent place(s), with the reason (集体研究). Finalising
        is refused (409 `decision_required`) until every tie is decided."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        return svc.decide_tie(actor(), cycle, _county(data), data["chosen"], data["reason"])


@blp.route("/scores/persons")
class ScorePersons(MethodView):
    @requires("enter_scores", IN_BODY)
    @blp.arguments(ScorePersonDecisionSchema)
    @blp.response(200, ScoreDecisionSchema)
    def post(self, data):
        """One person assessed in two villages: choose the record that is graded."""
        cycle = get_or_404(Cycle, data["cycle_id"])
        return svc.decide_person(actor(), cycle, _county(data), data["secretary_id"], data["reason"])


@blp.route("/scores/export")
class ScoreExport(MethodView):
    @requires("export_scores", IN_QUERY)
    @blp.arguments(ScoreExportArgs, location="query")
    @blp.response(200, description="CSV (UTF-8 with BOM) or XLSX, streamed")
    def get(self, args):
        """Download the scorecard, the aggregated satisfaction (by secretary, village,
        town or county), or the household-level answers (ID numbers masked)."""
        user = actor()
        cycle = get_or_404(Cycle, args["cycle_id"])
        county_ids = score_exports.export_scope(user, cycle, args.get("county_id"))
        kind, level = args["kind"], args["level"]
        if kind == "scorecard":
            columns, rows = score_exports.scorecard_table(user, cycle, county_ids)
            stem, sheet = f"scorecard-{cycle.year}", _("Scorecard")
        elif kind == "satisfaction":
            columns, rows = score_exports.satisfaction_table(user, cycle, county_ids, level)
            stem, sheet = f"satisfaction-{level}-{cycle.year}", _("Satisfaction")
        else:
            columns, rows = score_exports.households_table(user, cycle, county_ids)
            stem, sheet = f"household-answers-{cycle.year}", _("Household answers")
        if len(county_ids) == 1:
            stem += f"-county{county_ids[0]}"
        return exports.table_response(args["format"], stem, sheet, columns, rows)


@blp.route("/scores/mine")
class MyScores(MethodView):
    @requires("read_own_scores")
    @blp.response(200, MyScoreResultsSchema)
    def get(self):
        """A secretary's own final results (finalised cycles only)."""
        return {"items": svc.my_results(actor())}
