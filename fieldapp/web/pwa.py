"""The PWA from pwa/ at the site root, so the service worker's scope is '/'.

fieldapp.assets.StaticFiles answers all of these before Flask runs (no session, no cookie):
the page, sw.js and the manifest generated per release (fieldapp/assets/pwa_build.py) and
revalidated on every load, and every other file by its hashed name, cached for a year.
These routes name the same URLs for url_for and answer them the same way.
"""
from __future__ import annotations

from flask import Blueprint, abort, request

from ..assets import assets

bp = Blueprint("pwa", __name__)


def _answer():
    response = assets().respond(request, request.path)
    if response is None:
        abort(404)
    return response


@bp.route("/")
@bp.route("/index.html")
def index():
    return _answer()


@bp.route("/sw.js")
def service_worker():
    return _answer()


@bp.route("/manifest.webmanifest")
def manifest():
    return _answer()


@bp.route("/favicon.ico")
def favicon():
    return _answer()


@bp.route("/<any(js, css, icons, vendor):folder>/<path:filename>")
def asset(folder: str, filename: str):
    return _answer()
