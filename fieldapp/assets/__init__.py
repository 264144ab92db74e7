"""Static files with content-hashed URLs and pre-compressed bodies.

`init_app(app)`:
- `url_for('static', filename='staff.css')` and `url_for('pwa.asset', folder=..., filename=...)`
  give hashed names (`/static/staff.3f2a9c01b4de.css`), so templates stay as written;
- `StaticFiles`, a WSGI middleware, answers GET/HEAD before Flask runs, for
  - the phone app's generated documents: /, /index.html, /sw.js, /manifest.webmanifest
    (revalidated on every load; see pwa_build.py),
  - files under /static/ (from fieldapp/static/) and /js/, /css/, /icons/, /vendor/ (from
    pwa/): immutable when asked for by hash, revalidated when asked for by plain name.
  No session, no cookie, no `Vary: Cookie` (which would make the service worker's
  precache miss the page the browser has just cached), no work beyond a stat per file.
  Unknown files fall through to Flask's 404. web/pwa.py declares the same routes for
  url_for and answers them the same way.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app
from werkzeug.wrappers import Request

from .css import hash_css_urls
from .http import body_response, security_headers
from .pwa_build import PwaSite
from .store import AssetDir, Encoder, digest_of

PWA_FOLDERS = ("js", "css", "icons", "vendor")
DOCUMENTS = {"/": "index", "/index.html": "index", "/sw.js": "sw",
             "/manifest.webmanifest": "manifest"}
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
        """A response for a document or a static file, or None when `path` names none."""
        if path in DOCUMENTS:
            return self.document(req, DOCUMENTS[path])
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


    def document(self, req: Request, name: str):
        build = self.pwa().build()
        if name == "index":
            # The page's one inline script, the import map, is allowed by its hash.
            return body_response(req, self.encoder, build.index_html.encode("utf-8"),
                                 "text/html", immutable=False,
                                 headers=security_headers([build.import_map_csp_hash]))
        if name == "sw":
            # The browser compares sw.js byte for byte after each navigation: a release is
            # a new sw.js (it carries the release digest and precache list).
            return body_response(req, self.encoder, build.service_worker.encode("utf-8"),
                                 "text/javascript", immutable=False,
                                 headers={**security_headers(), "Service-Worker-Allowed": "/"})
        return body_response(req, self.encoder, build.manifest.encode("utf-8"),
                             "application/manifest+json", immutable=False)


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


def compress_all(registry: Assets, encoder: Encoder | None = None) -> tuple[int, int, int, str]:
    """Make the br/gzip copies of every static file and generated document now (at install
    or server start) rather than at a visitor's first request. Returns (files, raw bytes,
    br bytes, release digest)."""
    encoder = encoder or registry.encoder
    site = registry.pwa()
    build = site.build()
    bodies = [(a.data, a.digest) for folder in (site.files, registry.staff)
              for a in map(folder.get, folder.files()) if a is not None and a.compressible]
    bodies += [(text.encode("utf-8"), None) for text in
               (build.index_html, build.service_worker, build.manifest)]
    raw = packed = 0
    for data, digest in bodies:
        variants = encoder.variants(data, digest or digest_of(data))
        raw += len(data)
        packed += len(variants.get("br", data))
    return len(bodies), raw, packed, build.digest


def assets() -> Assets:
    return current_app.extensions["fieldapp_assets"]


def pwa_site() -> PwaSite:
    return assets().pwa()


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
