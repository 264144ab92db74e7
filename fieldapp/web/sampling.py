"""Pages for the household draw: staff (cycles, seed and draw, assignments, quality), the
public draw page (no login, no names) and the printable field sheet with QR codes."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import policy
from ..auth import Target, actor, requires
from ..domain.sampling import MAX_SEED_LENGTH, PUBLIC_REASON, REPLACEMENT_REASONS
from ..errors import AppError
from ..extensions import db
from ..models import (County, Cycle, Draw, EvaluatorAssignment, Replacement, User, Village,
                      VillageDraw)
from ..loading import get_or_404
from ..services import assignments, cycles, draws

bp = Blueprint("sampling", __name__)

REPLACEMENTS_PER_PAGE = 200  # the draw page lists replacements newest first, a page at a time

ROLE_LABELS = {"sample": _l("Sample"), "reserve": _l("Reserve"), "unused": _l("Not drawn")}
STATUS_LABELS = {"pending": _l("To visit"), "visited": _l("Visited"),
                 "unreachable": _l("Unreachable (replaced)"), "reserve_unused": _l("Reserve, not used"),
                 "reserve_active": _l("Reserve, activated"), "unused": _l("Not drawn")}
DRAW_STATUS_LABELS = {"active": _l("Active"), "voided": _l("Voided")}


@bp.app_context_processor
def _labels():
    return {"sampling_labels": {"role": ROLE_LABELS, "status": STATUS_LABELS,
                                "draw_status": DRAW_STATUS_LABELS,
                                "reason": {k: _l(v) for k, v in REPLACEMENT_REASONS.items()}
                                | {PUBLIC_REASON: _l("Unreachable")}}}


# --- form inputs (HTML forms send strings; marshmallow converts and validates) ---------


class CycleForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the submit button

    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    county_id = fields.Integer(allow_none=True, load_default=None)
    sample_size = fields.Integer(validate=validate.Range(min=1, max=200))
    reserve_count = fields.Integer(validate=validate.Range(min=0, max=100))
    include_exited = fields.Boolean(load_default=False)


class DrawForm(Schema):
    class Meta:
        unknown = EXCLUDE

    seed = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SEED_LENGTH))
    county_id = fields.Integer(allow_none=True, load_default=None)
    confirm = fields.Boolean(load_default=False)


class VoidForm(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(min=1, max=draws.MAX_VOID_REASON))
    confirm = fields.Boolean(load_default=False)


class VillageDrawForm(Schema):
    class Meta:
        unknown = EXCLUDE

    seed = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SEED_LENGTH))
    village_id = fields.Integer(required=True)
    confirm = fields.Boolean(load_default=False)


class AssignForm(Schema):
    """One evaluator and the ticked villages (`village_ids`, repeated)."""

    class Meta:
        unknown = EXCLUDE

    user_id = fields.Integer(required=True)
    village_ids = fields.List(fields.Integer(), required=True,
                              validate=validate.Length(min=1, max=assignments.MAX_BULK))


# Form field -> its label on the page (errors name the field the way the user sees it).
FIELD_LABELS = {
    "year": _l("Year"), "county_id": _l("County"), "county": _l("County"),
    "sample_size": _l("Households to visit per village"),
    "reserve_count": _l("Reserves per village"), "seed": _l("Public seed"),
    "confirm": _l("Confirmation"), "reason": _l("Reason"), "user_id": _l("Evaluator"),
    "village_id": _l("Village"), "village": _l("Village"), "village_ids": _l("Villages"),
}
# What a form field accepts, said when marshmallow rejects it (its own messages are English).
FIELD_RULES = {
    "year": _l("Enter a year from 2000 to 2100."),
    "sample_size": _l("Enter a whole number from 1 to 200."),
    "reserve_count": _l("Enter a whole number from 0 to 100."),
    "seed": _l("Enter the seed exactly as published, at most 500 characters."),
    "reason": _l("Write the reason, at most 2000 characters."),
    "user_id": _l("Choose an evaluator."),
    "village_id": _l("Choose a village."),
    "village_ids": _l("Tick at least one village."),
}


def _form(schema: type[Schema], lists: tuple[str, ...] = ()) -> dict:
    raw = {k: v for k, v in request.form.items() if v != ""}
    for name in lists:  # repeated fields (checkboxes)
        raw[name] = [v for v in request.form.getlist(name) if v != ""]
    try:
        return schema().load(raw)
    except ValidationError as err:
        raise AppError("validation_failed", errors={
            k: [str(FIELD_RULES.get(k, _l("Invalid value.")))] for k in err.messages}) from err


def _flash_error(err: AppError) -> None:
    flash(err.message, "error")
    for field, messages in err.errors.items():
        label = FIELD_LABELS.get(field, field)
        for message in messages:
            flash(f"{label}: {message}", "error")


# --- staff: cycles -------------------------------------------------------------------


def _counties(me, verb: str) -> list[County]:
    return list(db.session.scalars(policy.scope(me, verb, select(County)).order_by(County.code)))


@bp.route("/staff/sampling")
@requires("read_cycles")
def index():
    me = actor()
    items = db.session.scalars(policy.scope(me, "read_cycles", select(Cycle))
                               .order_by(Cycle.year.desc(), Cycle.id)).all()
    counties = _counties(me, "manage_cycles")
    return render_template("sampling/index.html", cycles=items, counties=counties,
                           settings_of=cycles.effective_settings)


def _form_place(_kwargs) -> policy.InCounty:
    """Where the posted form creates its cycle (county staff: their own county)."""
    return policy.InCounty(request.form.get("county_id", type=int) or actor().county_id)


@bp.route("/staff/sampling/cycles", methods=["POST"])
@requires("manage_cycles", Target(load=_form_place))
def create_cycle():
    me = actor()
    try:
        data = _form(CycleForm)
        county_id = data["county_id"] or me.county_id
        county = db.session.get(County, county_id) if county_id is not None else None
        settings = {k: data[k] for k in ("sample_size", "reserve_count") if k in data}
        settings["include_exited"] = data["include_exited"]
        cycle = cycles.create_cycle(me, year=data["year"], county=county, settings=settings)
    except AppError as err:
        if err.status == 403:  # out of reach: a refusal, not a form error
            raise
        _flash_error(err)
        return redirect(url_for(".index"))
    flash(_("Cycle created."), "ok")
    return redirect(url_for(".cycle_page", cycle_id=cycle.id))


@bp.route("/staff/sampling/cycles/<int:cycle_id>")
@requires("read_cycles", Target(Cycle, path="cycle_id"))
def cycle_page(cycle_id: int):
    me = actor()
    cycle = get_or_404(Cycle, cycle_id)
    cycle_draws = db.session.scalars(policy.scope(me, "read_draws", select(Draw))
                                     .where(Draw.cycle_id == cycle.id)
                                     .order_by(Draw.id.desc())).all()
    counties = [cycle.county] if cycle.county_id is not None else _counties(me, "draw")
    active = {d.county_id for d in cycle_draws if d.status == "active" and d.village_id is None}
    villages = db.session.scalars(policy.scope(me, "assign", select(Village))
                                  .where(Village.county_id.in_([c.id for c in counties]))
                                  .order_by(Village.code)).all()
    # Whom to assign: active accounts that may record visits, within reach.
    evaluators = db.session.scalars(policy.scope(me, "assign", select(User)).where(
        User.role.in_(policy.roles_with("record_visit")), User.is_active_account.is_(True),
        User.county_id.in_([c.id for c in counties])).order_by(User.name)).all()
    assigned = db.session.scalars(
        policy.scope(me, "read_assignments", select(EvaluatorAssignment))
        .where(EvaluatorAssignment.cycle_id == cycle.id)
        .options(selectinload(EvaluatorAssignment.user), selectinload(EvaluatorAssignment.village))
        .order_by(EvaluatorAssignment.village_id, EvaluatorAssignment.id)).all()
    by_village: dict[int, list[EvaluatorAssignment]] = {}
    for a in assigned:
        by_village.setdefault(a.village_id, []).append(a)
    drawn = draws.drawn_village_ids(cycle.id, [v.id for v in villages])
    return render_template("sampling/cycle.html", cycle=cycle, draws=cycle_draws,
                           counties=counties, undrawn=[c for c in counties if c.id not in active],
                           villages=villages, evaluators=evaluators, by_village=by_village,
                           drawn=drawn, late=[v for v in villages if v.id not in drawn
                                              and v.county_id in active],
                           settings=cycles.effective_settings(cycle))


def _form_county(_kwargs) -> County | None:
    county_id = request.form.get("county_id", type=int)
    return db.session.get(County, county_id) if county_id else None


@bp.route("/staff/sampling/cycles/<int:cycle_id>/draws", methods=["POST"])
@requires("draw", Target(Cycle, path="cycle_id", verb="read_cycles"), Target(load=_form_county))
def run_draw(cycle_id: int):
    me = actor()
    cycle = get_or_404(Cycle, cycle_id)
    try:
        data = _form(DrawForm)
        if not data["confirm"]:
            raise AppError("validation_failed", errors={"confirm": [
                _("Confirm that the eligible lists were frozen before the seed was fixed.")]})
        county = me.county  # county staff: their own county by default
        if data["county_id"] is not None:
            county = get_or_404(County, data["county_id"])
        made = draws.run_draw(me, cycle, county, data["seed"])
    except AppError as err:
        if err.status == 403:  # out of reach: a refusal, not a form error
            raise
        _flash_error(err)
        return redirect(url_for(".cycle_page", cycle_id=cycle.id))
    flash(_("Draw done: %(n)d county(ies).", n=len(made)), "ok")
    return redirect(url_for(".draw_page", draw_id=made[0].id))


@bp.route("/staff/sampling/cycles/<int:cycle_id>/village-draws", methods=["POST"])
@requires("draw", Target(Cycle, path="cycle_id", verb="read_cycles"),
          Target(Village, form="village_id"))
def run_village_draw(cycle_id: int):
    """One village with no active draw in the cycle: its own seed, time and public record."""
    me = actor()
    cycle = get_or_404(Cycle, cycle_id)
    try:
        data = _form(VillageDrawForm)
        village = get_or_404(Village, data["village_id"])
        if not data["confirm"]:
            raise AppError("validation_failed", errors={"confirm": [
                _("Confirm that the village's eligible list was frozen before the seed was fixed.")]})
        made = draws.run_village_draw(me, cycle, village, data["seed"])
    except AppError as err:
        if err.status == 403:
            raise
        _flash_error(err)
        return redirect(url_for(".cycle_page", cycle_id=cycle.id) + "#late-draw")
    flash(_("%(village)s drawn alone; its public record is its own.", village=village.name), "ok")
    return redirect(url_for(".draw_page", draw_id=made.id))


@bp.route("/staff/sampling/draws/<int:draw_id>")
@requires("read_draws", Target(Draw, path="draw_id"))
def draw_page(draw_id: int):
    draw = get_or_404(Draw, draw_id)
    conflicts = db.session.scalars(
        select(Replacement).join(VillageDraw).where(VillageDraw.draw_id == draw.id,
                                                    Replacement.is_conflict.is_(True))
        .options(selectinload(Replacement.replaced_entry), selectinload(Replacement.actor))
        .order_by(Replacement.id.desc())).all()
    total = db.session.scalar(select(func.count(Replacement.id)).join(VillageDraw)
                              .where(VillageDraw.draw_id == draw.id))
    per_page = REPLACEMENTS_PER_PAGE
    pages = max(1, -(-total // per_page))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    recent = db.session.scalars(
        select(Replacement).join(VillageDraw).where(VillageDraw.draw_id == draw.id)
        .options(selectinload(Replacement.replaced_entry), selectinload(Replacement.reserve_entry),
                 selectinload(Replacement.actor))
        .order_by(Replacement.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    listing = {"total": total, "page": page, "pages": pages,
               "first": (page - 1) * per_page + 1 if recent else 0,
               "last": (page - 1) * per_page + len(recent)}
    # The reserve the server chose for each conflicting household (by the first record).
    first_reserve = {rep.replaced_entry_id: rep.reserve_entry for rep in db.session.scalars(
        select(Replacement).where(Replacement.replaced_entry_id.in_(
            [c.replaced_entry_id for c in conflicts]), Replacement.is_conflict.is_(False))
        .options(selectinload(Replacement.reserve_entry)))} if conflicts else {}
    return render_template("sampling/draw.html", draw=draw, quality=draws.quality(draw),
                           conflicts=conflicts, replacements=recent, listing=listing,
                           first_reserve=first_reserve)


def _consequences(vds: list[VillageDraw]) -> dict[str, int]:
    found = [draws.void_consequences(vd) for vd in vds]
    return {"villages": len(vds), "visits": sum(c["visits"] for c in found),
            "replacements": sum(c["replacements"] for c in found)}


def _void_form() -> str:
    """The reason, once the admin ticked the confirmation on the confirm page."""
    data = _form(VoidForm)
    if not data["confirm"]:
        raise AppError("validation_failed", errors={"confirm": [
            _("Tick the confirmation: the visits listed stop counting.")]})
    return data["reason"]


@bp.route("/staff/sampling/draws/<int:draw_id>/void", methods=["GET", "POST"])
@requires("void_draw", Target(Draw, path="draw_id"))
def void_draw(draw_id: int):
    """GET: the confirm step (what stops counting); POST: void, with the reason."""
    draw = get_or_404(Draw, draw_id)
    draws.ensure_voidable(draw)  # finalised or voided: refused before the form
    active = [vd for vd in draw.villages if vd.status == "active"]
    if request.method == "GET":
        return render_template("sampling/void_confirm.html", draw=draw, vd=None,
                               consequences=_consequences(active),
                               action=url_for(".void_draw", draw_id=draw.id))
    try:
        draws.void_draw(actor(), draw, _void_form())
    except AppError as err:
        if err.code == "county_finalised":  # a refusal (409), not a form error
            raise
        _flash_error(err)
        return redirect(url_for(".void_draw", draw_id=draw.id))
    flash(_("The draw is voided. A new draw of this county needs a new seed."), "ok")
    return redirect(url_for(".cycle_page", cycle_id=draw.cycle_id))


@bp.route("/staff/sampling/village-draws/<int:village_draw_id>/void", methods=["GET", "POST"])
@requires("void_draw", Target(VillageDraw, path="village_draw_id"))
def void_village_draw(village_draw_id: int):
    """One village's draw only: the other villages keep their draws, records and visits."""
    vd = get_or_404(VillageDraw, village_draw_id)
    draws.ensure_voidable(vd.draw, vd)
    if request.method == "GET":
        return render_template("sampling/void_confirm.html", draw=vd.draw, vd=vd,
                               consequences=_consequences([vd]),
                               action=url_for(".void_village_draw", village_draw_id=vd.id))
    try:
        draws.void_village_draw(actor(), vd, _void_form())
    except AppError as err:
        _flash_error(err)
        return redirect(url_for(".void_village_draw", village_draw_id=vd.id))
    flash(_("The draw of %(village)s is voided. Draw it again alone, with a new seed.",
            village=vd.village.name), "ok")
    return redirect(url_for(".cycle_page", cycle_id=vd.cycle_id) + "#late-draw")


@bp.route("/staff/sampling/cycles/<int:cycle_id>/assignments", methods=["POST"])
@requires("assign", Target(Cycle, path="cycle_id", verb="read_cycles"),
          Target(User, form="user_id"), Target(Village, form="village_ids"))
def assign(cycle_id: int):
    me = actor()
    cycle = get_or_404(Cycle, cycle_id)
    try:
        data = _form(AssignForm, lists=("village_ids",))
        villages = assignments.load_villages(me, data["village_ids"])
        evaluator = get_or_404(User, data["user_id"])
        created, unchanged = assignments.assign_many(me, cycle, evaluator, villages)
        if created:
            flash(_("%(name)s assigned to %(n)d village(s).", name=evaluator.name,
                    n=len(created)), "ok")
        if unchanged:
            flash(_("%(n)d village(s) already assigned to %(name)s: unchanged.",
                    name=evaluator.name, n=len(unchanged)), "ok")
        waiting = assignments.not_drawn(cycle, villages)
        if waiting:
            flash(_("Not drawn yet: %(villages)s. The evaluator's phone shows them as not yet "
                    "drawn until they are drawn.",
                    villages="、".join(v.name for v in waiting)), "warn")
    except AppError as err:
        if err.status == 403 or err.code == "county_finalised":  # another county's village: a refusal, not a form error
            raise
        _flash_error(err)
    return redirect(url_for(".cycle_page", cycle_id=cycle.id) + "#assignments")


@bp.route("/staff/sampling/assignments/<int:assignment_id>/delete", methods=["POST"])
@requires("assign", Target(EvaluatorAssignment, path="assignment_id"))
def unassign(assignment_id: int):
    assignment = get_or_404(EvaluatorAssignment, assignment_id)
    cycle_id = assignment.cycle_id
    try:
        assignments.unassign(actor(), assignment)
        flash(_("Assignment removed."), "ok")
    except AppError as err:
        if err.status == 403:
            raise
        _flash_error(err)
    return redirect(url_for(".cycle_page", cycle_id=cycle_id) + "#assignments")


# --- the field sheet (staff and the assigned evaluators) ------------------------------


def visit_url(token: str) -> str:
    """What the QR code holds: the PWA's visit screen, by unguessable token only."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/#/visit/{token}"


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


@lru_cache(maxsize=4096)
def qr_svg(data: str) -> str:
    """An inline SVG QR code (no Pillow, no external request)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2,
                       image_factory=SvgPathImage)
    qr.add_data(data)
    qr.make(fit=True)
    svg = qr.make_image().to_string(encoding="unicode")
    return _XML_DECL.sub("", svg)


@bp.route("/sampling/sheet/<int:village_draw_id>")
@requires("read_sample", Target(VillageDraw, path="village_draw_id"))
def field_sheet(village_draw_id: int):
    vd = get_or_404(VillageDraw, village_draw_id)
    rows = []
    for e in draws.entries_of(vd):
        if e.role == "unused":
            continue
        url = visit_url(e.token)
        rows.append({"entry": e, "url": url, "svg": Markup(qr_svg(url))})
    return render_template("sampling/sheet.html", vd=vd, draw=vd.draw, rows=rows)


# --- public: the draw record, no login, no names --------------------------------------


def _public_draw(public_token: str) -> Draw:
    draw = db.session.scalar(select(Draw).where(Draw.public_token == public_token))
    if draw is None:
        raise AppError("not_found")
    return draw


@bp.route("/draw/<public_token>")
def public_draw(public_token: str):
    draw = _public_draw(public_token)
    code = request.args.get("village") or None
    villages = draws.public_villages(draw, code)
    if code and not villages:
        raise AppError("not_found")
    response = current_app.make_response(render_template(
        "sampling/public.html", draw=draw, villages=villages, single=bool(code),
        seed_recorded_at=draws.iso_z(draw.seed_recorded_at)))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/draw/<public_token>/<village_code>.json")
def public_record(public_token: str, village_code: str):
    draw = _public_draw(public_token)
    vd = db.session.scalar(select(VillageDraw).where(VillageDraw.draw_id == draw.id,
                                                     VillageDraw.village_code == village_code))
    if vd is None:
        raise AppError("not_found")
    response = jsonify(draws.village_record(vd, public=True))
    response.headers["Content-Disposition"] = (
        f'inline; filename="draw-{draw.id}-{vd.village_code}.json"')
    return response
