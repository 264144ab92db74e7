"""Server-rendered pages: login for everyone, the staff area (desktop-first)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import policy
from ..auth import actor, log_in, log_out, requires
from ..errors import AppError
from ..services import accounts
from .dashboard import dashboard

bp = Blueprint("web", __name__)


def _home_for(user) -> str:
    return url_for("web.staff_home") if policy.can(user, "use_staff_pages") else "/"


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no open redirects."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    phone = ""
    if request.method == "POST":
        phone = request.form.get("phone", "")
        try:
            user = accounts.authenticate(phone, request.form.get("password", ""),
                                         request.remote_addr)
        except AppError as err:
            error = err.message
            return render_template("login.html", error=error, phone=phone), err.status
        log_in(user)
        return redirect(_safe_next(request.args.get("next")) or _home_for(user))
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    return render_template("login.html", error=error, phone=phone)


@bp.route("/logout", methods=["POST"])
def logout():
    log_out()
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("change_own_password")
def change_password():
    """Everyone's own password (staff here; phone users reach it from the app's settings)."""
    errors: dict[str, list[str]] = {}
    done = False
    if request.method == "POST":
        try:
            accounts.change_password(actor(), request.form.get("current_password", ""),
                                     request.form.get("new_password", ""))
        except AppError as err:
            errors = err.errors or {"_": [err.message]}
        else:
            done = True
    return (render_template("account_password.html", errors=errors, done=done),
            422 if errors else 200)


@bp.route("/lang/<code>")
def set_language(code: str):
    response = make_response(redirect(_safe_next(request.args.get("next")) or "/login"))
    if code in ("en", "zh_Hans"):
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@bp.route("/staff/")
@requires("use_staff_pages")
def staff_home():
    return dashboard()


@bp.route("/staff/roster")
@requires("import_roster")
def roster_import_page():
    return render_template("staff/roster_import.html")
