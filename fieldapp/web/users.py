"""Staff page for accounts: county staff create evaluator accounts for their own county."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..auth import Target, actor, requires
from ..errors import AppError
from ..extensions import db
from ..loading import get_or_404
from ..models import SECRETARY_ROLE, County, User
from ..services import accounts

bp = Blueprint("users_web", __name__, url_prefix="/staff/users")


def _account_draft(_kwargs) -> policy.AccountDraft | None:
    """The account the form would create, as posted (checked before the form is read)."""
    if request.method != "POST":
        return None
    role = request.form.get("role", "evaluator")
    county_id = request.form.get("county_id", type=int) or actor().county_id
    return policy.AccountDraft(role, county_id)


@bp.route("/", methods=["GET", "POST"])
@requires("read_accounts", Target(load=_account_draft, verb="create_account"))
def user_list():
    me = actor()
    errors: dict[str, list[str]] = {}
    form = {"phone": "", "name": "", "role": "evaluator", "county_id": me.county_id}
    if request.method == "POST":
        form = {"phone": request.form.get("phone", "").strip(),
                "name": request.form.get("name", "").strip(),
                "role": request.form.get("role", "evaluator"),
                "county_id": request.form.get("county_id", type=int) or me.county_id}
        county = db.session.get(County, form["county_id"]) if form["county_id"] else None
        try:
            user = accounts.create_user(me, phone=form["phone"], name=form["name"],
                                        password=request.form.get("password", ""),
                                        role=form["role"], county=county)
        except AppError as err:
            if err.status == 403:  # out of scope: a refusal, not a form error
                raise
            errors = err.errors or {"_": [err.message]}
        else:
            flash(_("Account %(phone)s created.", phone=user.phone))
            return redirect(url_for("users_web.user_list"))
    return _page(me, form, errors), 422 if errors else 200


def _page(me, form: dict, errors: dict, new_passwords=None, reset=None) -> str:
    users = db.session.scalars(policy.scope(me, "read_accounts", select(User))
                               .order_by(User.role, User.phone)).all()
    # A county to choose only for those who create accounts in every county.
    counties = (db.session.scalars(select(County).order_by(County.code)).all()
                if policy.can(me, "create_account", policy.CITY) else [])
    manageable = {u.id for u in users if u.id != me.id and policy.can(me, "manage_account", u)}
    return render_template("staff/users.html", users=users, errors=errors, form=form,
                           counties=counties, new_passwords=new_passwords, reset=reset,
                           manageable=manageable)


def _blank_form(me: User) -> dict:
    return {"phone": "", "name": "", "role": "evaluator", "county_id": me.county_id}


@bp.route("/<int:user_id>/password-reset", methods=["POST"])
@requires("manage_account", Target(User, path="user_id"))
def reset_password(user_id: int):
    """A new password for someone who forgot theirs, shown once; their sessions end."""
    me = actor()
    user = get_or_404(User, user_id)
    password = accounts.reset_password(me, user)
    return (_page(me, _blank_form(me), {}, reset=(user, password)), 200,
            {"Cache-Control": "no-store"})


@bp.route("/<int:user_id>/active", methods=["POST"])
@requires("manage_account", Target(User, path="user_id"))
def set_active(user_id: int):
    """Deactivate (ends every session at once) or reactivate an account."""
    me = actor()
    user = get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    accounts.update_user(me, user, {"is_active": active})
    flash(_("Account %(phone)s reactivated.", phone=user.phone) if active
          else _("Account %(phone)s deactivated; its sessions have ended.", phone=user.phone))
    return redirect(url_for("users_web.user_list"))


def _secretaries_county(_kwargs) -> policy.AccountDraft | None:
    county_id = request.form.get("county_id", type=int) or actor().county_id
    return policy.AccountDraft(SECRETARY_ROLE, county_id) if county_id else None


@bp.route("/secretaries", methods=["POST"])
@requires("create_account", Target(load=_secretaries_county))
def create_secretaries():
    """One click: accounts for the county's secretaries, initial passwords shown once."""
    me = actor()
    county_id = request.form.get("county_id", type=int) or me.county_id
    county = db.session.get(County, county_id) if county_id else None
    if county is None:
        raise AppError("validation_failed", errors={"county": [_("Required for this role.")]})
    created = accounts.create_secretary_accounts(me, county)
    form = _blank_form(me)
    # The initial passwords are in this page: never cache it.
    return _page(me, form, {}, new_passwords=created), 200, {"Cache-Control": "no-store"}


