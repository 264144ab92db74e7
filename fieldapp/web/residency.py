"""Staff pages for residency (驻村): the county's monthly report, one secretary's calendar,
leave approval, spot checks, village posters with QR codes, and work discipline.

Pages call the same services as the API (fieldapp/services/checkins.py), which ask the
policy (fieldapp/policy.py) as these routes do first; forms post back here with the CSRF field and redirect (post/redirect/get).
"""
from __future__ import annotations

import calendar
import io
import re
from datetime import date

import qrcode
import qrcode.image.svg
from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..auth import Target, actor, requires
from ..domain.residency import shanghai_today
from ..errors import AppError
from ..extensions import db
from ..models import County, FirstSecretary, LeaveRequest, Town, Village
from ..loading import get_or_404
from ..services import checkins as svc

bp = Blueprint("residency", __name__, url_prefix="/staff/residency")

DAY_STATUS = {"present", "leave", "absent", "future", "outside_term"}


def _int_arg(name: str, lo: int, hi: int) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not lo <= value <= hi:
        abort(400)
    return value


def _year_month() -> tuple[int, int]:
    """?year=2026&month=3, or ?ym=2026-03 from an <input type=month>."""
    today = shanghai_today()
    ym = request.args.get("ym", "")
    if ym:
        match = re.fullmatch(r"(\d{4})-(\d{2})", ym)
        if not match or not 1 <= int(match.group(2)) <= 12:
            abort(400)
        return int(match.group(1)), int(match.group(2))
    return (_int_arg("year", 2000, 2100) or today.year, _int_arg("month", 1, 12) or today.month)


def _county_id() -> int | None:
    return _int_arg("county_id", 1, 2**31) or actor().county_id


def _counties() -> list[County]:
    return list(db.session.scalars(policy.scope(actor(), "read_residency_report", select(County))
                                   .order_by(County.code)))


def _flash_error(err: AppError) -> None:
    flash(err.message, "error")
    for field_messages in err.errors.values():
        for message in field_messages:
            flash(message, "error")


def _back(default: str) -> str:
    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


def _month_nav(year: int, month: int) -> dict[str, tuple[int, int]]:
    prev = (year - 1, 12) if month == 1 else (year, month - 1)
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return {"prev": prev, "next": nxt}


# --- the monthly report ----------------------------------------------------------------


@bp.route("/")
@requires("read_residency_report", Target(County, query="county_id"))
def report():
    year, month = _year_month()
    county_id = _county_id()
    if county_id is None:
        return render_template("residency/pick_county.html", counties=_counties(),
                               year=year, month=month)
    data = svc.county_report(actor(), county_id, year, month)
    return render_template("residency/report.html", report=data, year=year, month=month,
                           nav=_month_nav(year, month), counties=_counties())


@bp.route("/secretaries/<int:secretary_id>")
@requires("use_staff_pages", Target(FirstSecretary, path="secretary_id", verb="read_checkins"))
def secretary_calendar(secretary_id: int):
    year, month = _year_month()
    secretary = get_or_404(FirstSecretary, secretary_id)
    data = svc.secretary_month(actor(), secretary, year, month)
    by_day = {d.day: d for d in data["report"].days}
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    per_day: dict[date, list] = {}
    for c in data["checkins"]:
        per_day.setdefault(c.day, []).append(c)
    return render_template("residency/calendar.html", data=data, report=data["report"],
                           secretary=secretary, weeks=weeks, by_day=by_day, per_day=per_day,
                           year=year, month=month, nav=_month_nav(year, month),
                           flag_texts=svc.flag_texts)


# --- leave -----------------------------------------------------------------------------


@bp.route("/leave")
@requires("use_staff_pages")
def leave_list():
    status = request.args.get("status") or None
    if status not in (None, "pending", "approved", "rejected"):
        abort(400)
    stmt = svc.leave_query(actor(), status=status).limit(500)
    leaves = list(db.session.scalars(stmt))
    totals = svc.annual_leave_days(sorted({lv.secretary_id for lv in leaves}),
                                   {lv.start.year for lv in leaves})
    limit = {lv.id: svc.settings_for(lv.village.county_id, lv.start.year)
             .discipline.annual_leave_limit for lv in leaves}
    return render_template("residency/leave.html", leaves=leaves, totals=totals, limit=limit,
                           status=status)


@bp.route("/leave/<int:leave_id>/decision", methods=["POST"])
@requires("decide_leave", Target(LeaveRequest, path="leave_id"))
def leave_decision(leave_id: int):
    leave = get_or_404(LeaveRequest, leave_id)
    try:
        svc.decide_leave(actor(), leave, request.form.get("decision", ""),
                         request.form.get("note"))
        flash(_("Leave approved.") if leave.status == "approved" else _("Leave rejected."), "ok")
    except AppError as err:
        if err.status == 403 or err.code == "county_finalised":
            raise
        db.session.rollback()
        _flash_error(err)
    return redirect(_back(url_for(".leave_list")))


# --- spot checks -----------------------------------------------------------------------


def _county_secretaries() -> list[FirstSecretary]:
    stmt = policy.scope(actor(), "record_spot_checks",
                        select(FirstSecretary).join(Village, FirstSecretary.village_id == Village.id)
                        .join(Town, Village.town_id == Town.id))
    return list(db.session.scalars(stmt.order_by(Town.name, Village.code, FirstSecretary.name)))


@bp.route("/spot-checks", methods=["GET", "POST"])
@requires("read_spot_checks", Target(FirstSecretary, form="secretary_id",
                                     verb="record_spot_checks"))
def spot_checks():
    if request.method == "POST":
        form = request.form
        try:
            day = date.fromisoformat(form.get("day", ""))
            secretary_id = int(form.get("secretary_id", ""))
        except ValueError:
            flash(_("Choose a first secretary and a date."), "error")
            return redirect(url_for(".spot_checks"))
        if form.get("present") not in ("yes", "no"):  # never default to "absent"
            flash(_("Choose present or absent."), "error")
            return redirect(url_for(".spot_checks"))
        try:
            svc.record_spot_check(actor(), {
                "secretary_id": secretary_id, "day": day,
                "present": form.get("present") == "yes", "note": form.get("note") or ""})
            flash(_("Spot check recorded."), "ok")
        except AppError as err:
            if err.status in (403, 404) or err.code == "county_finalised":
                raise
            db.session.rollback()
            if not err.errors:
                _flash_error(err)
                return redirect(url_for(".spot_checks"))
            # Field errors: show the form again with what was typed (a long note is not lost).
            return _spot_checks_page(errors=err.errors, form=form), 422
        return redirect(url_for(".spot_checks"))
    return _spot_checks_page()


def _spot_checks_page(errors: dict | None = None, form=None) -> str:
    checks = list(db.session.scalars(svc.spot_check_query(actor()).limit(200)))
    return render_template("residency/spot_checks.html", checks=checks,
                           secretaries=_county_secretaries(), today=shanghai_today(),
                           errors=errors or {}, form=form or {},
                           max_note=svc.MAX_SPOT_CHECK_NOTE)


# --- villages, tokens and posters ------------------------------------------------------


@bp.route("/villages")
@requires("manage_posters")
def villages():
    stmt = policy.scope(actor(), "manage_posters", select(Village).join(Town)).order_by(
        Town.name, Village.code)
    return render_template("residency/villages.html", villages=list(db.session.scalars(stmt)))


def _qr_svg(data: str) -> str:
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    svg = img.to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    # Let CSS size it: drop the fixed millimetre size, keep the viewBox.
    return re.sub(r'\swidth="[^"]*"\sheight="[^"]*"', ' class="qr" role="img"', svg, count=1)


def _poster_village(village_id: int) -> Village:
    return get_or_404(Village, village_id)  # the route asked the policy already


POSTER = Target(Village, path="village_id")


@bp.route("/villages/<int:village_id>/poster")
@requires("manage_posters", POSTER)
def poster(village_id: int):
    village = _poster_village(village_id)
    url = svc.poster_url(village)
    return render_template("residency/poster.html", village=village, url=url,
                           qr_svg=_qr_svg(url), printed=shanghai_today())


@bp.route("/villages/<int:village_id>/poster.svg")
@requires("manage_posters", POSTER)
def poster_svg(village_id: int):
    """A standalone A4-proportioned SVG poster: village name, QR code, one line of help."""
    village = _poster_village(village_id)
    url = svc.poster_url(village)
    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    path = re.search(r"<path[^>]*/>", img.to_string(encoding="unicode")).group(0)
    modules = img.width + 2 * img.border
    body = render_template("residency/poster.svg", village=village, qr_path=path,
                           modules=modules, printed=shanghai_today())
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'inline; filename="poster-{village.code}.svg"'
    return response


@bp.route("/villages/<int:village_id>/qr.png")
@requires("manage_posters", POSTER)
def poster_png(village_id: int):
    village = _poster_village(village_id)
    img = qrcode.make(svc.poster_url(village), box_size=16, border=4,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    img.save(out, format="PNG")
    out.seek(0)
    return send_file(out, mimetype="image/png", download_name=f"qr-{village.code}.png")


@bp.route("/villages/<int:village_id>/rotate", methods=["POST"])
@requires("manage_posters", POSTER)
def rotate(village_id: int):
    village = get_or_404(Village, village_id)
    svc.rotate_token(actor(), village)
    flash(_("A new code was made: print the new poster. The old poster no longer counts."),
          "ok")
    return redirect(url_for(".poster", village_id=village.id))


# --- work discipline -------------------------------------------------------------------


@bp.route("/discipline")
@requires("read_discipline", Target(County, query="county_id"))
def discipline():
    year = _int_arg("year", 2000, 2100) or shanghai_today().year
    county_id = _county_id()
    if county_id is None:
        return render_template("residency/pick_county.html", counties=_counties(), year=year,
                               month=None, target="residency.discipline")
    try:
        data = svc.discipline_overview(actor(), county_id, year)
    except AppError as err:
        if err.status != 404:
            raise
        return render_template("residency/discipline.html", data=None, year=year,
                               county_id=county_id, message=err.message)
    return render_template("residency/discipline.html", data=data, year=year,
                           county_id=county_id, message=None)


@bp.route("/discipline/<int:secretary_id>", methods=["POST"])
@requires("confirm_discipline", Target(FirstSecretary, path="secretary_id"))
def discipline_confirm(secretary_id: int):
    secretary = get_or_404(FirstSecretary, secretary_id)
    form = request.form
    try:
        year = int(form.get("year", ""))
        raw = (form.get("score") or "").strip()
        score = raw or None  # read as typed, rounded half up by the service
    except ValueError:
        flash(_("Enter a number."), "error")
        return redirect(url_for(".discipline"))
    try:
        svc.confirm_discipline(actor(), secretary, year, score, form.get("reason"))
        flash(_("Saved."), "ok")
    except AppError as err:
        if err.status == 403 or err.code == "county_finalised":
            raise
        db.session.rollback()
        _flash_error(err)
    return redirect(url_for(".discipline", year=year,
                            county_id=secretary.village.county_id))
