"""Staff page: household visits of the county with their quality flags."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..api.common import paginate
from ..auth import Target, actor, requires
from ..domain import N_
from ..domain.flags import CODES
from ..errors import AppError, translate
from ..extensions import db
from ..models import User, Visit
from ..services import instruments
from ..services import visits as service

bp = Blueprint("visits_web", __name__)

PER_PAGE = 100
# Why the phone had no position (the PWA's geo_error codes), for people, not developers.
GEO_ERRORS = {"denied": N_("location permission denied"),
              "unavailable": N_("position unavailable"),
              "timeout": N_("no fix in time"),
              "unsupported": N_("the phone or browser cannot locate")}


@bp.route("/staff/visits")
@requires("use_staff_pages")
def visit_list():
    user = actor()
    review = request.args.get("review")
    args = {"village_id": request.args.get("village_id", type=int),
            "flag": request.args.get("flag") if request.args.get("flag") in CODES else None,
            "review": review if review in service.REVIEW_STATUSES else None,
            "page": max(request.args.get("page", 1, type=int), 1), "per_page": PER_PAGE}
    visits, total = paginate(service.visits_query(user, args), args)
    return render_template(
        "visits/list.html", visits=visits, total=total, args=args,
        villages=service.village_choices(user), flag_labels=service.FLAG_LABELS,
        review_labels=service.REVIEW_LABELS,
        flag_view=service.flag_view, pages=(total + PER_PAGE - 1) // PER_PAGE)


@bp.route("/staff/visits/review", methods=["POST"])
@requires("review_visits", Target(Visit, form="visit_id"))
def bulk_review():
    """Approve the unflagged visits ticked in the list (flagged ones one by one)."""
    ids = [int(x) for x in request.form.getlist("visit_id") if x.isdigit()]
    try:
        n = service.approve_unflagged(actor(), ids)
        flash(_("%(n)d visits approved.", n=n), "ok")
    except AppError as err:
        if err.status in (403, 409):
            raise
        db.session.rollback()
        flash("; ".join(m for ms in err.errors.values() for m in ms) or err.message, "error")
    return redirect(request.form.get("next") or url_for("visits_web.visit_list"))


@bp.route("/staff/visits/<int:visit_id>/review", methods=["POST"])
@requires("review_visits", Target(Visit, path="visit_id"))
def review(visit_id: int):
    visit = service.get_visit(actor(), visit_id)
    try:
        service.review_visit(actor(), visit, request.form.get("decision", ""),
                             request.form.get("reason"))
        flash(_("Review saved."), "ok")
    except AppError as err:
        if err.status in (403, 409):
            raise
        db.session.rollback()
        flash("; ".join(m for ms in err.errors.values() for m in ms) or err.message, "error")
    return redirect(url_for("visits_web.visit_detail", visit_id=visit_id))


@bp.route("/staff/visits/<int:visit_id>")
@requires("use_staff_pages", Target(Visit, path="visit_id", verb="read_visits"))
def visit_detail(visit_id: int):
    visit = service.get_visit(actor(), visit_id)
    instrument = instruments.find(visit.instrument_id, visit.instrument_version)
    geo_error = translate(GEO_ERRORS[visit.geo_error]) if visit.geo_error in GEO_ERRORS \
        else visit.geo_error
    return render_template("visits/detail.html", visit=visit, instrument=instrument,
                           flag_view=service.flag_view, geo_error=geo_error,
                           review_labels=service.REVIEW_LABELS,
                           evaluator=db.session.get(User, visit.evaluator_id))
