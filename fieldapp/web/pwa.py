"""Serve the PWA from pwa/ at the site root, so the service worker's scope is '/'."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("pwa", __name__)

# Top-level folders and files of pwa/ that are public.
PWA_DIRS = ("js", "css", "icons", "vendor")


@bp.route("/")
def index():
    response = send_from_directory(current_app.config["PWA_DIR"], "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/sw.js")
def service_worker():
    response = send_from_directory(current_app.config["PWA_DIR"], "sw.js",
                                   mimetype="text/javascript")
    # The browser must always see a new worker version promptly.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    return send_from_directory(current_app.config["PWA_DIR"], "manifest.webmanifest",
                               mimetype="application/manifest+json")


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for it on every page; answer with the app icon, not a 404.
    return send_from_directory(f"{current_app.config['PWA_DIR']}/icons", "icon-192.png",
                               mimetype="image/png", max_age=86400)


@bp.route("/<any(js, css, icons, vendor):folder>/<path:filename>")
def asset(folder: str, filename: str):
    response = send_from_directory(f"{current_app.config['PWA_DIR']}/{folder}", filename)
    response.headers["Cache-Control"] = "no-cache"
    return response
