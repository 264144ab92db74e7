"""Scorecard pages (staff): results and grades, entering components, XLSX import,
finalise / reopen, and the download links."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate

from ..auth import Target, actor, requires
from ..domain.grading import GRADE_LABELS
from ..errors import AppError, flatten_messages, translate
from ..extensions import db
from ..models import SEVEN_ONES, FirstSecretary
from ..loading import get_or_404
from ..services.scoring import entries, results as svc
from .dashboard import page_scope

bp = Blueprint("scores_web", __name__)


class EntryForm(Schema):
    """Points as typed ("59.995"): the service rounds half up and checks the range."""

    class Meta:
        unknown = "exclude"

    work_performance = fields.String(allow_none=True)
    work_discipline = fields.String(allow_none=True)
    work_evaluation = fields.String(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


def _grade(code):
    return translate(GRADE_LABELS[code]) if code else ""


def _act(user, scope, form) -> str | None:
    """One of the page's forms: finalise, reopen, decide a tie or a person, import. Returns
    the message to show on the page (an import), None to go back to the list."""
    action = form.get("action")
    cycle, county_id = scope.cycle, scope.county.id
    if action == "finalise":
        svc.finalise(user, cycle, county_id, accept_incomplete=form.get("accept_incomplete") == "1")
    elif action == "unlock":
        svc.unlock(user, cycle, county_id, form.get("reason", ""))
    elif action == "decide_tie":
        svc.decide_tie(user, cycle, county_id,
                       [int(x) for x in form.getlist("chosen") if x.isdigit()], form.get("reason", ""))
    elif action == "decide_person":
        svc.decide_person(user, cycle, county_id, int(form.get("secretary_id") or 0),
                          form.get("reason", ""))
    elif action == "import":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise AppError("validation_failed", errors={"file": [_("Choose a file.")]})
        report = entries.import_xlsx(user, cycle, county_id, upload.read())
        return _("%(n)d rows imported.", n=report["rows"])
    else:
        raise AppError("bad_request")
    return None


def _form_errors(err: AppError) -> dict:
    errors = err.errors or {"_": [err.message]}
    if err.message and "_" not in errors:
        errors["_"] = [err.message]
    return errors


@bp.route("/staff/scores", methods=["GET", "POST"])
@requires("read_scores")
def score_list():
    user = actor()
    scope = page_scope(user)
    errors: dict = {}
    status = 422
    message = None
    if request.method == "POST" and scope.cycle and scope.county:
        try:
            message = _act(user, scope, request.form)
            if message is None:
                return redirect(url_for("scores_web.score_list", **scope.args()))
        except AppError as err:
            if err.status == 403:  # out of reach: a refusal, not a form error
                raise
            db.session.rollback()
            errors = _form_errors(err)
            status = 409 if err.status == 409 else 422
    res = None
    if scope.cycle is not None and scope.county is not None:
        res = svc.results(user, scope.cycle, scope.county.id)
    return render_template("scores/list.html", scope=scope, res=res, errors=errors,
                           message=message, grade=_grade, translate=translate),\
        (status if errors else 200)


@bp.route("/staff/scores/<int:secretary_id>", methods=["GET", "POST"])
@requires("read_scores", Target(FirstSecretary, path="secretary_id"))
def score_entry(secretary_id: int):
    user = actor()
    scope = page_scope(user)
    secretary = get_or_404(FirstSecretary, secretary_id)
    if scope.cycle is None:
        raise AppError("not_found")
    errors: dict = {}
    status = 422
    if request.method == "POST":
        try:
            raw = {k: (v if v.strip() != "" else None) for k, v in request.form.items()
                   if k in ("work_performance", "work_discipline", "work_evaluation", "note")}
            data = EntryForm().load(raw)
            data["seven_ones"] = {code: {"done": request.form.get(f"seven.{code}.done") == "1",
                                         "evidence": (request.form.get(f"seven.{code}.evidence") or "")[:2000]}
                                  for code in SEVEN_ONES}
            entries.save_entry(user, scope.cycle, secretary, data)
            return redirect(url_for("scores_web.score_list", **scope.args()))
        except ValidationError as err:
            errors = flatten_messages(err.normalized_messages())  # in the page's language
        except AppError as err:
            if err.status == 403:  # out of reach: a refusal, not a form error
                raise
            db.session.rollback()
            errors = err.errors or {"_": [err.message]}
            status = err.status if err.status == 409 else 422
    view = entries.entry_view(user, scope.cycle, secretary)
    seven = [(code, translate(entries.SEVEN_ONES_LABELS[code]), (view["seven_ones"] or {}).get(code) or {})
             for code in SEVEN_ONES]
    return render_template("scores/entry.html", scope=scope, secretary=secretary, view=view,
                           seven=seven, errors=errors, form=request.form), (status if errors else 200)
