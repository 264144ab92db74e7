"""Serve the PWA from pwa/ at the site root, so the service worker's scope is '/'.

The page, sw.js and the manifest are generated per release (fieldapp/assets/pwa_build.py)
and revalidated on every load; every other file is asked for by its hashed name and cached
for a year. Bodies are pre-compressed (br, gzip) once per content.
"""
from __future__ import annotations

from flask import Blueprint, abort, g

from ..assets import pwa_site, send_body

bp = Blueprint("pwa", __name__)


@bp.route("/")
@bp.route("/index.html")
def index():
    build = pwa_site().build()
    # The page's one inline script, the import map, is allowed by its hash.
    g.csp_script_hashes = [build.import_map_csp_hash]
    return send_body(build.index_html.encode("utf-8"), "text/html", immutable=False)


@bp.route("/sw.js")
def service_worker():
    build = pwa_site().build()
    # The browser compares sw.js byte for byte on every navigation: a new release is a
    # new sw.js (it carries the release digest and precache list).
    return send_body(build.service_worker.encode("utf-8"), "text/javascript", immutable=False,
                     headers={"Service-Worker-Allowed": "/"})


@bp.route("/manifest.webmanifest")
def manifest():
    build = pwa_site().build()
    return send_body(build.manifest.encode("utf-8"), "application/manifest+json",
                     immutable=False)


@bp.route("/<any(js, css, icons, vendor):folder>/<path:filename>")
def asset(folder: str, filename: str):
    """For url_for('pwa.asset', ...) only: fieldapp.assets.StaticFiles answers these paths
    before Flask; a request that reaches this view names no file."""
    abort(404)
