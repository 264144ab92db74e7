"""Static files with content-hashed URLs and pre-compressed bodies.

`init_app(app)`:
- `url_for('static', filename='staff.css')` and `url_for('pwa.asset', folder=..., filename=...)`
  give hashed names (`/static/staff.3f2a9c01b4de.css`), so templates stay as written;
- `StaticFiles`, a WSGI middleware, answers GET/HEAD for files under /static/ (from
  fieldapp/static/) and /js/, /css/, /icons/, /vendor/ (from pwa/) before Flask runs: no
  session, no cookie, no `Vary: Cookie`, no per-request work beyond a stat. Immutable when
  asked for by hash, revalidated when asked for by plain name; unknown files fall through
  to Flask's 404.
The phone app's generated documents (/, /sw.js, /manifest.webmanifest) are in web/pwa.py.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, request
from werkzeug.wrappers import Request

from .css import hash_css_urls
from .http import body_response
from .pwa_build import PwaSite
from .store import AssetDir, Encoder

PWA_FOLDERS = ("js", "css", "icons", "vendor")
FAVICON = "icons/favicon-48.png"


class Assets:
    """The app's served folders and the shared compressed-body cache."""

    def __init__(self, app: Flask):
        self.config = app.config
        self.staff = AssetDir(app.static_folder, transforms={".css": hash_css_urls})
        self.encoder = Encoder(app.config.get("ASSET_CACHE_DIR"))
        self._sites: dict[str, PwaSite] = {}

    def pwa(self) -> PwaSite:
        """The site for the configured PWA_DIR (tests may point it at a copy)."""
        root = self.config["PWA_DIR"]
        site = self._sites.get(root)
        if site is None:
            site = self._sites[root] = PwaSite(root)
        return site

    def folder_for(self, path: str) -> tuple[AssetDir, str] | None:
        """The folder and relative name a URL path is served from, if any."""
        if path.startswith("/static/"):
            return self.staff, path[len("/static/"):]
        if path == "/favicon.ico":
            return self.pwa().files, FAVICON
        top = path[1:].split("/", 1)[0]
        if top in PWA_FOLDERS and path.count("/") >= 2:
            return self.pwa().files, path[1:]
        return None

    def respond(self, req: Request, path: str):
        """A response for a static file, or None when `path` names none."""
        found = self.folder_for(path)
        if found is None:
            return None
        files, rel = found
        hit = files.lookup(rel)
        if hit is None:
            return None
        asset, hashed = hit
        return body_response(req, self.encoder, asset.data, asset.mimetype, immutable=hashed,
                             digest=asset.digest, compress=asset.compressible)


class StaticFiles:
    """WSGI middleware serving the static folders ahead of the Flask app."""

    def __init__(self, app: Callable, assets: Assets):
        self.app = app
        self.assets = assets

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            req = Request(environ)
            response = self.assets.respond(req, req.path)
            if response is not None:
                return response(environ, start_response)
        return self.app(environ, start_response)


def assets() -> Assets:
    return current_app.extensions["fieldapp_assets"]


def pwa_site() -> PwaSite:
    return assets().pwa()


def send_body(data: bytes, mimetype: str, **kwargs):
    """`body_response` for a Flask view."""
    return body_response(request, assets().encoder, data, mimetype, **kwargs)


def _hash_filenames(endpoint: str, values: dict) -> None:
    """url_for(...) names the current content: `filename` gets its hashed form."""
    if "filename" not in values:
        return
    if endpoint == "static":
        asset = assets().staff.get(values["filename"])
        if asset is not None:
            values["filename"] = asset.hashed_path
    elif endpoint == "pwa.asset" and "folder" in values:
        asset = pwa_site().files.get(f"{values['folder']}/{values['filename']}")
        if asset is not None:
            values["filename"] = asset.hashed_path.split("/", 1)[1]


def init_app(app: Flask) -> None:
    registry = app.extensions["fieldapp_assets"] = Assets(app)
    app.url_defaults(_hash_filenames)
    app.wsgi_app = StaticFiles(app.wsgi_app, registry)
