"""The phone app as served, generated from pwa/ on the fly (nothing to build, nothing
committed): the page with an import map, a modulepreload for every module the entry loads,
hashed asset URLs; the service worker with its precache list; the web manifest.

- Every JS module keeps its plain imports (`import ... from './dom.js'`). The import map in
  index.html sends '/js/dom.js' to '/js/dom.<hash>.js', so a changed module changes only
  its own URL, and an unchanged one stays cached across releases.
- `preload` is the static import closure of js/app.js (read by jsgraph), so the browser
  fetches the whole start-up graph at once instead of one level per round trip.
- `lazy` modules are the ones loaded with import() (views per role, the English
  catalogue). They are not precached: the service worker caches them when first used, and
  a new release precaches again those that an older cache held (see pwa/sw.js).
- `digest` names the release: any change to any file of the app changes it, which changes
  sw.js, which makes every phone install the new release (no version number to bump).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass

from .css import hash_css_urls
from .jsgraph import ModuleGraph, build_graph
from .store import AssetDir

ENTRY = "/js/app.js"
# Folders whose files the service worker knows (and may cache); vendor/ serves staff pages.
APP_FOLDERS = ("js", "css", "icons")
MODULES_MARKER = "<!-- fieldapp:modules -->"
BUILD_TOKEN = "__FIELDAPP_BUILD__"
_ATTR_URL = re.compile(r'(?P<attr>\b(?:href|src))="(?P<url>/[^"#?]+)"')
_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>/[^"]+)"')


@dataclass(frozen=True)
class PwaBuild:
    digest: str
    urls: dict[str, str]          # '/js/app.js' -> '/js/app.<hash>.js' (js, css, icons)
    graph: ModuleGraph
    preload: tuple[str, ...]      # hashed URLs of the entry's static imports, entry excluded
    shell: tuple[str, ...]        # what the service worker precaches at install
    lazy: tuple[str, ...]         # modules loaded with import() (site paths)
    index_html: str
    import_map: str
    service_worker: str
    manifest: str

    @property
    def import_map_csp_hash(self) -> str:
        digest = hashlib.sha256(self.import_map.encode("utf-8")).digest()
        return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


class PwaSite:
    """pwa/ as served; rebuilt when a file under it changes."""

    def __init__(self, root):
        self.files = AssetDir(root, transforms={".css": hash_css_urls})
        self._build: tuple[tuple, PwaBuild] | None = None
        self._lock = threading.Lock()

    def build(self) -> PwaBuild:
        signature = self.files.signature()
        cached = self._build
        if cached and cached[0] == signature:
            return cached[1]
        with self._lock:
            build = _make_build(self.files)
            self._build = (signature, build)
        return build


def _text(files: AssetDir, path: str) -> str:
    asset = files.get(path)
    if asset is None:
        raise FileNotFoundError(f"{files.root / path} is missing")
    return asset.data.decode("utf-8")


def _make_build(files: AssetDir) -> PwaBuild:
    urls, modules = _app_files(files)
    graph = build_graph(modules)
    closure = graph.closure([ENTRY])
    index_src, sw_src, manifest_src = (_text(files, p) for p in
                                       ("index.html", "sw.js", "manifest.webmanifest"))
    digest = _release_digest(urls, (index_src, sw_src, manifest_src))
    import_map = json.dumps({"imports": {p: urls[p] for p in sorted(modules)}},
                            separators=(",", ":"))
    preload = tuple(urls[p] for p in closure if p != ENTRY)
    stylesheets = [m["url"] for m in _STYLESHEET.finditer(index_src) if m["url"] in urls]
    shell = ("/", *(urls[s] for s in stylesheets), *(urls[p] for p in closure))
    return PwaBuild(digest=digest, urls=urls, graph=graph, preload=preload, shell=shell,
                    lazy=tuple(graph.lazy_entries()),
                    index_html=_render_index(index_src, urls, digest, import_map, preload),
                    import_map=import_map,
                    service_worker=_render_service_worker(sw_src, digest, shell, urls, graph),
                    manifest=_render_manifest(manifest_src, urls))


def _app_files(files: AssetDir) -> tuple[dict[str, str], dict[str, str]]:
    """Hashed URLs of every app file, and the source of every module, by site path."""
    urls: dict[str, str] = {}
    modules: dict[str, str] = {}
    for path in (p for folder in APP_FOLDERS for p in files.files(folder)):
        asset = files.get(path)
        if asset is None:
            continue
        urls[f"/{path}"] = f"/{asset.hashed_path}"
        if path.endswith(".js"):
            modules[f"/{path}"] = asset.data.decode("utf-8")
    return urls, modules


def _release_digest(urls: dict[str, str], texts: tuple[str, ...]) -> str:
    release = hashlib.sha256()
    for path in sorted(urls):
        release.update(f"{urls[path]}\0".encode())
    for text in texts:
        release.update(hashlib.sha256(text.encode("utf-8")).digest())
    return release.hexdigest()[:16]


def _render_service_worker(source: str, digest: str, shell: tuple[str, ...],
                           urls: dict[str, str], graph: ModuleGraph) -> str:
    if source.count(BUILD_TOKEN) != 1:
        raise ValueError(f"pwa/sw.js must contain {BUILD_TOKEN} exactly once")
    build = {"digest": digest, "shell": list(shell), "assets": urls,
             "imports": {p: deps for p, deps in sorted(graph.static.items()) if deps}}
    return source.replace(BUILD_TOKEN, json.dumps(build, separators=(",", ":")))


def _render_index(source: str, urls: dict[str, str], digest: str, import_map: str,
                  preload: tuple[str, ...]) -> str:
    if source.count(MODULES_MARKER) != 1:
        raise ValueError(f"pwa/index.html must contain {MODULES_MARKER} exactly once, "
                         "before the module script")
    html = _ATTR_URL.sub(lambda m: f'{m["attr"]}="{urls.get(m["url"], m["url"])}"', source)
    block = "\n  ".join([
        f'<meta name="fieldapp-build" content="{digest}">',
        f'<script type="importmap">{import_map}</script>',
        *(f'<link rel="modulepreload" href="{url}">' for url in preload),
    ])
    return html.replace(MODULES_MARKER, block)


def _render_manifest(source: str, urls: dict[str, str]) -> str:
    manifest = json.loads(source)
    for icon in manifest.get("icons", []):
        icon["src"] = urls.get(icon["src"], icon["src"])
    return json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
