"""Staff page: household visits of the county with their quality flags."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth import actor, login_required_roles
from ..domain.flags import CODES
from ..services import visits as service
from ..api.common import paginate
from ..domain import N_
from ..errors import translate
from ..extensions import db
from ..models import User

bp = Blueprint("visits_web", __name__)

STAFF_ROLES = ("admin", "county_staff")
PER_PAGE = 100
# Why the phone had no position (the PWA's geo_error codes), for people, not developers.
GEO_ERRORS = {"denied": N_("location permission denied"),
              "unavailable": N_("position unavailable"),
              "timeout": N_("no fix in time"),
              "unsupported": N_("the phone or browser cannot locate")}


@bp.route("/staff/visits")
@login_required_roles(*STAFF_ROLES)
def visit_list():
    user = actor()
    args = {"village_id": request.args.get("village_id", type=int),
            "flag": request.args.get("flag") if request.args.get("flag") in CODES else None,
            "page": max(request.args.get("page", 1, type=int), 1), "per_page": PER_PAGE}
    visits, total = paginate(service.visits_query(user, args), args)
    return render_template(
        "visits/list.html", visits=visits, total=total, args=args,
        villages=service.village_choices(user), flag_labels=service.FLAG_LABELS,
        flag_view=service.flag_view, pages=(total + PER_PAGE - 1) // PER_PAGE)


@bp.route("/staff/visits/<int:visit_id>")
@login_required_roles(*STAFF_ROLES)
def visit_detail(visit_id: int):
    from ..services import instruments
    visit = service.get_visit(actor(), visit_id)
    instrument = instruments.find(visit.instrument_id, visit.instrument_version)
    geo_error = translate(GEO_ERRORS[visit.geo_error]) if visit.geo_error in GEO_ERRORS \
        else visit.geo_error
    return render_template("visits/detail.html", visit=visit, instrument=instrument,
                           flag_view=service.flag_view, geo_error=geo_error,
                           evaluator=db.session.get(User, visit.evaluator_id))
