"""Residency: the secretary's month, leave, spot checks, the county report and its
downloads, poster tokens and the work-discipline suggestion.

Check-ins themselves arrive through POST /api/sync (record type `checkin`, registered by
fieldapp/services/checkins.py). Routes are thin: the policy (fieldapp/policy.py, before
the arguments are read) -> load (404) -> service (which asks the policy too) -> dump.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import Target, actor, requires
from ..domain.residency import shanghai_today
from ..errors import AppError
from ..loading import get_or_404
from ..models import County, FirstSecretary, LeaveRequest, Village
from ..services import checkins as svc
from ..services import residency_export as export
from ..services.exports import XLSX_MIMETYPE
from .common import PageArgs, page_of, paginate, points_in, points_out

blp = Blueprint("checkins", __name__, url_prefix="/api",
                description="Residency: check-ins, leave, spot checks, reports")

YEAR = validate.Range(min=2000, max=2100)
MONTH = validate.Range(min=1, max=12)


# --- schemas -------------------------------------------------------------------------


class MonthArgs(Schema):
    year = fields.Integer(validate=YEAR)
    month = fields.Integer(validate=MONTH)


class ReportArgs(MonthArgs):
    county_id = fields.Integer()


class FlagSchema(Schema):
    code = fields.String()
    text = fields.String()


class DaySchema(Schema):
    day = fields.Date()
    status = fields.String(metadata={"enum": ["present", "leave", "absent", "future",
                                              "outside_term"]})
    checkin_count = fields.Integer()
    outside_count = fields.Integer()


class LeaveSchema(Schema):
    id = fields.Integer()
    secretary_id = fields.Integer()
    secretary_name = fields.Function(lambda lv: lv.secretary.name)
    village_id = fields.Integer()
    village_name = fields.Function(lambda lv: lv.village.name)
    start = fields.Date()
    end = fields.Date()
    days = fields.Integer()
    reason = fields.String()
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected"]})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.Function(lambda lv: lv.decided_by.name if lv.decided_by else None)
    decision_note = fields.String(allow_none=True)


class VillageBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    radius_m = fields.Integer()


class MonthCoreSchema(Schema):
    year = fields.Integer()
    month = fields.Integer()
    days_in_month = fields.Integer()
    term_days = fields.Integer()
    considered_days = fields.Integer()
    days_present = fields.Integer()
    days_on_leave = fields.Integer()
    days_absent = fields.Integer()
    required_days = fields.Integer()
    in_progress = fields.Boolean()
    compliant = fields.Boolean(allow_none=True)
    checkin_count = fields.Integer()
    outside_fence_count = fields.Integer()
    uncounted_count = fields.Integer()
    spot_checks = fields.Integer()
    spot_checks_absent = fields.Integer()
    spot_checks_excused = fields.Integer()


class MyMonthSchema(MonthCoreSchema):
    user_id = fields.Integer(metadata={
        "description": "whose month this is: a shared phone caches it only for that user"})
    today = fields.Date()
    village = fields.Nested(VillageBriefSchema)
    checked_in_today = fields.Boolean()
    annual_leave_days = fields.Integer()
    days = fields.List(fields.Nested(DaySchema), metadata={
        "description": "every day of the month with its status (present, leave, ...)"})
    pending_leave = fields.List(fields.Nested(LeaveSchema))
    leave = fields.List(fields.Nested(LeaveSchema))


class CheckInSchema(Schema):
    id = fields.Integer()
    client_uuid = fields.String()
    secretary_id = fields.Integer()
    village_id = fields.Integer()
    at = fields.DateTime()
    day = fields.Date()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    geo_error = fields.String(allow_none=True)
    via_qr = fields.Boolean()
    token_valid = fields.Boolean()
    token_status = fields.String(allow_none=True)
    counted = fields.Boolean()
    inside_fence = fields.Boolean(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    device_sent_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime()
    sync_delay_hours = fields.Function(
        lambda c: round((c.received_at - c.at).total_seconds() / 3600, 1))
    flags = fields.Function(lambda c: svc.flag_texts(c.flags),
                            metadata={"type": "array", "items": {"type": "object"}})


CheckInPageSchema = page_of(CheckInSchema)


class CheckInArgs(PageArgs):
    secretary_id = fields.Integer()
    year = fields.Integer(validate=YEAR)
    month = fields.Integer(validate=MONTH)


class LeaveCreateSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=500))


class LeaveArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["pending", "approved", "rejected"]))
    secretary_id = fields.Integer()
    county_id = fields.Integer()
    year = fields.Integer(validate=YEAR)


LeavePageSchema = page_of(LeaveSchema)


class LeaveDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))


class SpotCheckCreateSchema(Schema):
    secretary_id = fields.Integer(required=True)
    day = fields.Date(required=True)
    present = fields.Boolean(required=True)
    note = fields.String(allow_none=True, load_default=None,
                         validate=validate.Length(max=svc.MAX_SPOT_CHECK_NOTE))


class SpotCheckSchema(Schema):
    id = fields.Integer()
    secretary_id = fields.Integer()
    secretary_name = fields.Function(lambda s: s.secretary.name)
    village_id = fields.Integer()
    day = fields.Date()
    present = fields.Boolean()
    note = fields.String(allow_none=True)
    recorded_by = fields.Function(lambda s: s.recorded_by.name if s.recorded_by else None)
    created_at = fields.DateTime()


class SpotCheckArgs(PageArgs):
    secretary_id = fields.Integer()
    county_id = fields.Integer()
    year = fields.Integer(validate=YEAR)


SpotCheckPageSchema = page_of(SpotCheckSchema)


class ReportRowSchema(MonthCoreSchema):
    secretary_id = fields.Integer()
    secretary_name = fields.String()
    secretary_status = fields.String()
    village_id = fields.Integer()
    village_code = fields.String()
    village_name = fields.String()
    town = fields.String()
    village_has_centre = fields.Boolean()
    flagged_count = fields.Integer()
    annual_leave_days = fields.Integer()
    leave_over_limit = fields.Boolean()
    pending_leave = fields.Integer()


class CountyBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ReportSchema(Schema):
    county = fields.Nested(CountyBriefSchema)
    year = fields.Integer()
    month = fields.Integer()
    today = fields.Date()
    required_days = fields.Integer()
    leave_counts_toward_required = fields.Boolean()
    annual_leave_limit = fields.Integer()
    generated_at = fields.DateTime()
    rows = fields.List(fields.Nested(ReportRowSchema))


class SecretaryBriefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    village_id = fields.Integer()
    term_start = fields.Date()
    term_end = fields.Date(allow_none=True)
    status = fields.String()


class SecretaryMonthSchema(MonthCoreSchema):
    secretary = fields.Nested(SecretaryBriefSchema)
    today = fields.Date()
    days = fields.List(fields.Nested(DaySchema))
    checkins = fields.List(fields.Nested(CheckInSchema))
    leaves = fields.List(fields.Nested(LeaveSchema))
    spot_checks_list = fields.List(fields.Nested(SpotCheckSchema))
    annual_leave_days = fields.Integer()
    leave_over_limit = fields.Boolean()


class TokenSchema(Schema):
    village_id = fields.Integer()
    village_name = fields.String()
    token = fields.String()
    url = fields.String()


class BreakdownLineSchema(Schema):
    text = fields.String()
    points = fields.Float()


class SuggestionSchema(Schema):
    score = fields.Float(allow_none=True, metadata={
        "description": "null when there is no check-in data in the year (no_data)"})
    no_data = fields.Boolean()
    breakdown = fields.List(fields.Nested(BreakdownLineSchema))
    grade_cap = fields.String(allow_none=True, metadata={
        "enum": ["competent", "basically_competent", "incompetent", None]})
    noncompliant_months = fields.List(fields.String())
    spot_check_absences = fields.Integer()
    annual_leave_days = fields.Integer()


class DecisionSchema(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    secretary_id = fields.Integer()
    suggested = points_out(allow_none=True)
    score = points_out()
    overridden = fields.Boolean()
    override_reason = fields.String(allow_none=True)
    decided_by = fields.Function(lambda d: d.decided_by.name if d.decided_by else None)
    decided_at = fields.DateTime()


class DisciplineSchema(Schema):
    secretary_id = fields.Integer()
    secretary_name = fields.String()
    village_name = fields.String()
    town = fields.String()
    cycle_id = fields.Integer()
    year = fields.Integer()
    suggestion = fields.Nested(SuggestionSchema)
    config = fields.Dict()
    decision = fields.Nested(DecisionSchema, allow_none=True)


class DisciplineRowSchema(Schema):
    secretary_id = fields.Integer()
    secretary_name = fields.String()
    village_name = fields.String()
    town = fields.String()
    suggestion = fields.Nested(SuggestionSchema)
    decision = fields.Nested(DecisionSchema, allow_none=True)


class DisciplineOverviewSchema(Schema):
    cycle_id = fields.Integer()
    year = fields.Integer()
    county_id = fields.Integer()
    config = fields.Dict()
    rows = fields.List(fields.Nested(DisciplineRowSchema))


class DisciplineArgs(Schema):
    year = fields.Integer(validate=YEAR)
    county_id = fields.Integer()


class DisciplineYearArgs(Schema):
    year = fields.Integer(validate=YEAR)


class DisciplineConfirmSchema(Schema):
    year = fields.Integer(required=True, validate=YEAR)
    score = points_in(allow_none=True, load_default=None)  # range checked after rounding
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))


# --- helpers ---------------------------------------------------------------------------


def _this_month(args: dict) -> tuple[int, int]:

    today = shanghai_today()
    return args.get("year") or today.year, args.get("month") or today.month


def _county_id(args: dict) -> int:
    """Staff default to their own county; an admin must name one."""
    county_id = args.get("county_id")
    if county_id is None:
        county_id = actor().county_id
    if county_id is None:
        from flask_babel import gettext as _
        raise AppError("validation_failed", errors={"county_id": [_("Choose a county.")]})
    return county_id


def _report(args: dict) -> dict:
    year, month = _this_month(args)
    return svc.county_report(actor(), _county_id(args), year, month)


def _token_info(village: Village) -> dict:
    return {"village_id": village.id, "village_name": village.name,
            "token": village.checkin_token, "url": svc.poster_url(village)}


# --- the secretary's own month ---------------------------------------------------------


@blp.route("/checkins/month")
class MyMonth(MethodView):
    @requires("read_own_month")
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, MyMonthSchema)
    def get(self, args):
        """The logged-in secretary's month so far: days present, required, the calendar."""
        return svc.my_month(actor(), args.get("year"), args.get("month"))


@blp.route("/checkins")
class CheckIns(MethodView):
    @requires("read_checkins")  # a listing: scoped to the reader, filters never refused
    @blp.arguments(CheckInArgs, location="query")
    @blp.response(200, CheckInPageSchema)
    def get(self, args):
        """Check-ins: a secretary's own; staff their county's."""
        stmt = svc.checkin_query(actor(), secretary_id=args.get("secretary_id"),
                                 year=args.get("year"), month=args.get("month"))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}


# --- leave -----------------------------------------------------------------------------


@blp.route("/leave")
class Leave(MethodView):
    @requires("read_leave")  # a listing: scoped to the reader, filters never refused
    @blp.arguments(LeaveArgs, location="query")
    @blp.response(200, LeavePageSchema)
    def get(self, args):
        """Leave requests: a secretary's own; staff their county's (pending first)."""
        stmt = svc.leave_query(actor(), status=args.get("status"),
                               secretary_id=args.get("secretary_id"),
                               county_id=args.get("county_id"), year=args.get("year"))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}

    @requires("request_leave")
    @blp.arguments(LeaveCreateSchema)
    @blp.response(201, LeaveSchema)
    def post(self, data):
        """Request leave (请假) for dates, both included, with a reason."""
        return svc.request_leave(actor(), data)


@blp.route("/leave/<int:leave_id>/decision")
class LeaveDecision(MethodView):
    @requires("decide_leave", Target(LeaveRequest, path="leave_id"))
    @blp.arguments(LeaveDecisionSchema)
    @blp.response(200, LeaveSchema)
    def post(self, data, leave_id):
        """Approve or reject a pending request (staff of the secretary's county)."""
        leave = get_or_404(LeaveRequest, leave_id)
        return svc.decide_leave(actor(), leave, data["decision"], data.get("note"))


# --- spot checks -----------------------------------------------------------------------


@blp.route("/spot-checks")
class SpotChecks(MethodView):
    @requires("read_spot_checks")  # a listing: scoped to the reader
    @blp.arguments(SpotCheckArgs, location="query")
    @blp.response(200, SpotCheckPageSchema)
    def get(self, args):
        stmt = svc.spot_check_query(actor(), secretary_id=args.get("secretary_id"),
                                    county_id=args.get("county_id"), year=args.get("year"))
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}

    @requires("record_spot_checks", Target(FirstSecretary, body="secretary_id"))
    @blp.arguments(SpotCheckCreateSchema)
    @blp.response(201, SpotCheckSchema)
    def post(self, data):
        """Record an unannounced check (暗访): date, present or absent, note."""
        return svc.record_spot_check(actor(), data)


# --- the county's monthly report -------------------------------------------------------


@blp.route("/residency/report")
class Report(MethodView):
    @requires("read_residency_report", Target(County, query="county_id"))
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, ReportSchema)
    def get(self, args):
        """Monthly residency per secretary of a county (default: your county, this month)."""
        return _report(args)


@blp.route("/residency/report.csv")
class ReportCsv(MethodView):
    @requires("read_residency_report", Target(County, query="county_id"))
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, content_type="text/csv", description="UTF-8 with BOM")
    def get(self, args):
        """The monthly report as CSV (UTF-8 with BOM)."""
        return export.report_response(_report(args), "csv")


@blp.route("/residency/report.xlsx")
class ReportXlsx(MethodView):
    @requires("read_residency_report", Target(County, query="county_id"))
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, content_type=XLSX_MIMETYPE, description="An Excel workbook")
    def get(self, args):
        """The monthly report as an Excel workbook."""
        return export.report_response(_report(args), "xlsx")


@blp.route("/residency/secretaries/<int:secretary_id>/month")
class SecretaryMonth(MethodView):
    @requires("read_checkins", Target(FirstSecretary, path="secretary_id"))
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, SecretaryMonthSchema)
    def get(self, args, secretary_id):
        """One secretary's month: the calendar days, check-ins, leave and spot checks."""
        secretary = get_or_404(FirstSecretary, secretary_id)
        year, month = _this_month(args)
        data = svc.secretary_month(actor(), secretary, year, month)
        report = svc._report_dict(data["report"])
        return {**report, **data, "spot_checks": report["spot_checks"],
                "spot_checks_list": data["spot_checks"]}


# --- poster tokens ---------------------------------------------------------------------


@blp.route("/villages/<int:village_id>/checkin-token")
class CheckinToken(MethodView):
    @requires("manage_posters", Target(Village, path="village_id"))
    @blp.response(200, TokenSchema)
    def get(self, village_id):
        """The village's current poster token and URL (staff of its county)."""
        return _token_info(get_or_404(Village, village_id))


@blp.route("/villages/<int:village_id>/checkin-token/rotate")
class RotateToken(MethodView):
    @requires("manage_posters", Target(Village, path="village_id"))
    @blp.response(200, TokenSchema)
    def post(self, village_id):
        """Reprint the poster: a new token; the old one stops counting."""
        village = get_or_404(Village, village_id)
        return _token_info(svc.rotate_token(actor(), village))


# --- work discipline -------------------------------------------------------------------


@blp.route("/residency/discipline")
class DisciplineOverview(MethodView):
    @requires("read_discipline", Target(County, query="county_id"))
    @blp.arguments(DisciplineArgs, location="query")
    @blp.response(200, DisciplineOverviewSchema)
    def get(self, args):
        """Suggested 工作纪律 scores and decisions for a county's secretaries in a year."""
        year = args.get("year") or _this_month({})[0]
        return svc.discipline_overview(actor(), _county_id(args), year)


@blp.route("/residency/discipline/<int:secretary_id>")
class Discipline(MethodView):
    @requires("read_discipline", Target(FirstSecretary, path="secretary_id"))
    @blp.arguments(DisciplineYearArgs, location="query")
    @blp.response(200, DisciplineSchema)
    def get(self, args, secretary_id):
        secretary = get_or_404(FirstSecretary, secretary_id)
        return svc.discipline_for(actor(), secretary, args.get("year") or _this_month({})[0])

    @requires("confirm_discipline", Target(FirstSecretary, path="secretary_id"))
    @blp.arguments(DisciplineConfirmSchema)
    @blp.response(200, DecisionSchema)
    def post(self, data, secretary_id):
        """Confirm the suggested score, or override it (`score`) with a `reason`."""
        secretary = get_or_404(FirstSecretary, secretary_id)
        return svc.confirm_discipline(actor(), secretary, data["year"], data.get("score"),
                                      data.get("reason"))
