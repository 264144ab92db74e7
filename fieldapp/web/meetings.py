"""Evaluation meetings (staff pages), printable ballot slips, and the public ballot page.

- /staff/meetings: the county's meetings in a cycle, and a form to create one;
- /staff/meetings/<id>: counts, paper tallies, close (the write forms are hidden once the
  county's scores are finalised: the services refuse those writes then);
- /staff/meetings/<id>/slips: 8 slips per A4 page, each with an inline SVG QR code;
- /b/<token>: the ballot (no login), a light mobile page driven by static/ballot.js.
"""
from __future__ import annotations

import io
import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from markupsafe import Markup

from .. import policy
from ..auth import Target, actor, requires
from ..errors import AppError, flatten_messages
from ..extensions import db
from ..models import MEETING_CATEGORIES, FirstSecretary, Meeting
from ..loading import get_or_404
from ..services import meetings as svc
from ..services.freeze import is_finalised
from ..services.scoring.inputs import county_secretaries
from .dashboard import page_scope

bp = Blueprint("meetings_web", __name__)


def ballot_url(token: str) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return f"{base}/b/{token}"


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code (qrcode's SvgPathImage: one path, no Pillow). The size comes
    from CSS; the data is a URL we built, and the SVG holds only path coordinates."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode("utf-8")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r'\s(width|height)="[^"]*"', "", svg, count=2)
    return Markup(svg.replace("<svg ", '<svg class="qr" role="img" aria-hidden="true" ', 1))


class _Form(Schema):
    """Forms post strings; marshmallow converts and validates them like the API does."""

    class Meta:
        unknown = "exclude"


class MeetingForm(_Form):
    secretary_id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    place = fields.String(required=True, validate=validate.Length(min=1, max=svc.MAX_PLACE))
    party_member = fields.Integer(load_default=0, validate=validate.Range(0, svc.MAX_PER_CATEGORY))
    cadre = fields.Integer(load_default=0, validate=validate.Range(0, svc.MAX_PER_CATEGORY))
    villager_rep = fields.Integer(load_default=0, validate=validate.Range(0, svc.MAX_PER_CATEGORY))
    poor_household_rep = fields.Integer(load_default=0, validate=validate.Range(0, svc.MAX_PER_CATEGORY))


def _form_data() -> dict:
    return {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}


@bp.route("/staff/meetings", methods=["GET", "POST"])
@requires("read_meetings", Target(FirstSecretary, form="secretary_id", verb="manage_meetings"))
def meeting_list():
    user = actor()
    scope = page_scope(user)
    errors: dict = {}
    status = 422
    if request.method == "POST" and scope.cycle is not None:
        try:
            data = MeetingForm().load(_form_data())
            meeting = svc.create_meeting(user, {
                "cycle_id": scope.cycle.id, "secretary_id": data["secretary_id"],
                "held_on": data["held_on"], "place": data["place"],
                "participants": {c: data[c] for c in MEETING_CATEGORIES}})
            return redirect(url_for("meetings_web.meeting_detail", meeting_id=meeting.id))
        except ValidationError as err:
            errors = flatten_messages(err.normalized_messages())  # in the page's language
        except AppError as err:
            if err.status == 403:  # out of reach: a refusal, not a form error
                raise
            db.session.rollback()
            errors = err.errors or {"_": [err.message]}
            status = err.status if err.code == "county_finalised" else 422
    meetings, secretaries, finalised = [], [], False
    if scope.cycle is not None and scope.county is not None:
        meetings = svc.meetings_for(user, scope.cycle, scope.county.id)
        secretaries = county_secretaries(scope.cycle, scope.county.id)
        finalised = is_finalised(scope.cycle, scope.county.id)
    return render_template("meetings/list.html", scope=scope, meetings=meetings,
                           secretaries=secretaries, errors=errors, form=request.form,
                           finalised=finalised, has_meeting={m.secretary_id for m in meetings},
                           categories=[(c, svc.category_label(c)) for c in MEETING_CATEGORIES],
                           today=svc.today_default(), summary=svc.meeting_summary),\
        (status if errors else 200)


@bp.route("/staff/meetings/<int:meeting_id>", methods=["GET", "POST"])
@requires("read_meetings", Target(Meeting, path="meeting_id"))
def meeting_detail(meeting_id: int):
    user = actor()
    meeting = get_or_404(Meeting, meeting_id)
    if request.method == "POST":
        policy.authorize(user, "manage_meetings", meeting)
    errors: dict = {}
    status = 422
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "close":
                svc.close_meeting(user, meeting)
            elif action == "tallies":
                tallies: dict[str, dict[str, int]] = {}
                for key, value in request.form.items():
                    if key.startswith("tally.") and value.strip():
                        _prefix, category, option = key.split(".", 2)
                        try:
                            tallies.setdefault(category, {})[option] = int(value)
                        except ValueError:
                            raise AppError("validation_failed", errors={key: [_("Must be a whole number.")]})
                svc.set_tallies(user, meeting, tallies)
            else:
                raise AppError("bad_request")
            return redirect(url_for("meetings_web.meeting_detail", meeting_id=meeting.id))
        except AppError as err:
            if err.status == 403:  # out of reach: a refusal, not a form error
                raise
            db.session.rollback()
            errors = err.errors or {"_": [err.message]}
            status = err.status if err.code == "county_finalised" else 422
    instrument = svc.instruments.get_or_404(meeting.instrument_id, meeting.instrument_version)
    item = svc.overall_item(instrument)
    lang = "en" if str(get_locale()) == "en" else "zh"  # the page's language (cookie), not the header
    options = [(o.code, o.label.get(lang) or o.code) for o in instrument.options_of(item)]
    return render_template("meetings/detail.html", meeting=meeting, summary=svc.meeting_summary(meeting),
                           categories=[(c, svc.category_label(c)) for c in MEETING_CATEGORIES],
                           options=options, item_label=item.label.get(lang), errors=errors,
                           finalised=is_finalised(meeting.cycle, meeting.village.county_id)),\
        (status if errors else 200)


@bp.route("/staff/meetings/<int:meeting_id>/slips")
@requires("manage_meetings", Target(Meeting, path="meeting_id"))
def meeting_slips(meeting_id: int):
    meeting = get_or_404(Meeting, meeting_id)
    tokens = svc.slip_tokens(actor(), meeting)
    slips = [{"n": i + 1, "url": ballot_url(t), "qr": qr_svg(ballot_url(t))}
             for i, t in enumerate(tokens)]
    pages = [slips[i:i + 8] for i in range(0, len(slips), 8)]
    return render_template("meetings/slips.html", meeting=meeting, pages=pages)


@bp.route("/b/<token>")
def ballot_page(token: str):
    """The public ballot page: rendered without any data; ballot.js asks the API."""
    response = current_app.make_response(render_template("meetings/ballot.html", token=token))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL is the slip's secret
    return response

