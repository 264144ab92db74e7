"""The county dashboard (desktop-first, usable on a phone): progress, quality flags, the
per-secretary score table, SVG charts drawn on the server and a Leaflet map.

Also the page-scope helper the meetings and scores pages share: which cycle and county a
staff page shows (`page_scope`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from .. import policy
from ..auth import actor, requires
from ..domain import N_
from ..domain.grading import GRADE_LABELS
from ..errors import AppError, translate
from ..extensions import db
from ..models import MEETING_CATEGORIES, SEVEN_ONES, County, Cycle, User
from ..services.dashboard import county_dashboard, county_overview
from ..services.meetings import category_label
from ..services.scoring.entries import SEVEN_ONES_LABELS

bp = Blueprint("dashboard", __name__)


@bp.app_template_filter("translate_msgid")
def translate_msgid(msgid: str) -> str:
    """A stored English msgid (domain reasons) in the page's language."""
    return translate(msgid)


# Form fields of the meetings and scores pages, for field-level error messages.
FIELD_LABELS = {
    "secretary_id": N_("First secretary"), "held_on": N_("Date"), "place": N_("Place"),
    "participants": N_("Participants"), "tallies": N_("Paper ballots"),
    "work_performance": N_("Work performance (0-60)"),
    "work_discipline": N_("Work discipline (0-10)"),
    "work_evaluation": N_("Work evaluation (0-10)"), "note": N_("Note"), "reason": N_("Reason"),
    "file": N_("File"), "cycle_id": N_("Cycle"), "county_id": N_("County"),
    "accept_incomplete": N_("Finalise"), "seven_ones": N_("Seven ones (evidence for work performance)"),
    # the spot-check form (residency pages)
    "day": N_("Date"), "present": N_("Result"),
}
NO_LABEL = {"_", "rows"}  # the messages say everything (row errors name row and column)


@bp.app_template_global()
def field_label(key: str) -> str:
    """A form error's field key (`participants.cadre`, `tally.cadre.satisfied`,
    `work_performance`) as the page's language names it; "" for no label."""
    if key in NO_LABEL:
        return ""
    parts = key.split(".")
    names = []
    for part in parts:
        if part in FIELD_LABELS:
            names.append(translate(FIELD_LABELS[part]))
        elif part in MEETING_CATEGORIES:
            names.append(category_label(part))
        elif part in SEVEN_ONES:
            names.append(translate(SEVEN_ONES_LABELS[part]))
        elif part == "tally":
            names.append(translate(FIELD_LABELS["tallies"]))
    return " · ".join(names) or key


def grade_label(code: str | None) -> str:
    return translate(GRADE_LABELS[code]) if code else ""


@dataclass
class PageScope:
    cycle: Cycle | None
    county: County | None
    cycles: list[Cycle]
    counties: list[County]

    def args(self, **extra) -> dict:
        out = {"cycle_id": self.cycle.id if self.cycle else None,
               "county_id": self.county.id if self.county else None}
        out.update(extra)
        return {k: v for k, v in out.items() if v is not None}


def _int_arg(name: str) -> int | None:
    raw = request.values.get(name, "")
    try:
        return int(raw) if raw.strip() else None
    except ValueError:
        raise AppError("bad_request") from None


def page_scope(user: User) -> PageScope:
    """The cycle (query `cycle_id`, else the newest open one the user sees) and the county
    (staff: their own; admins: query `county_id`, else the cycle's county, else the first)."""
    cycles = list(db.session.scalars(policy.scope(user, "read_cycles", select(Cycle))
                                     .order_by(Cycle.year.desc(), Cycle.id.desc())))
    cycle_id = _int_arg("cycle_id")
    cycle = None
    if cycle_id is not None:
        cycle = db.session.get(Cycle, cycle_id)
        if cycle is None:
            raise AppError("not_found")
        policy.authorize(user, "read_cycles", cycle)
    elif cycles:
        cycle = next((c for c in cycles if c.status == "open"), cycles[0])
    counties = list(db.session.scalars(policy.scope(user, "read_scores", select(County))
                                       .order_by(County.code)))
    county_id = _int_arg("county_id")
    county = None
    if county_id is not None:
        county = db.session.get(County, county_id)
        if county is None:
            raise AppError("not_found")
        policy.authorize(user, "read_scores", county)
    elif counties:
        # An admin lands on the chosen cycle's own county when it has one.
        county = next((c for c in counties if cycle is not None and cycle.county_id == c.id),
                      counties[0])
    if cycle is not None and county is not None and not cycle.covers_county(county.id):
        cycle = next((c for c in cycles if c.covers_county(county.id)), None)
    return PageScope(cycle, county, cycles, counties)


@bp.route("/staff/dashboard")
@requires("use_staff_pages")
def dashboard():

    user = actor()
    scope = page_scope(user)
    data = None
    if scope.cycle is not None and scope.county is not None:
        data = county_dashboard(user, scope.cycle, scope.county.id)
    return render_template("dashboard/index.html", scope=scope, data=data,
                           overview=county_overview(user), grade_label=grade_label,
                           tile_url=current_app.config.get("MAP_TILE_URL") or "")
