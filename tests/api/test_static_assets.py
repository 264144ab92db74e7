"""Static files: hashed URLs cached for a year, pre-compressed br/gzip bodies, and the phone
app's generated page, service worker and manifest (fieldapp/assets, fieldapp/web/pwa.py).

Before issue 12 every file was `no-cache`, nothing was compressed, and the precache list
was written by hand in pwa/sw.js.
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest

from fieldapp.assets.jsgraph import build_graph
from fieldapp.assets.store import Encoder, digest_of

PWA = Path(__file__).resolve().parents[2] / "pwa"
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z]+$")


def served_build(client) -> dict:
    sw = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"const BUILD = (\{.*?\});\n", sw).group(1))


def page(client) -> str:
    return client.get("/").get_data(as_text=True)


def test_a_hashed_file_is_immutable_and_compressed_as_asked(client):
    url = served_build(client)["assets"]["/js/app.js"]
    source = (PWA / "js" / "app.js").read_bytes()
    for accept, encoding, decode in (("br, gzip", "br", brotli.decompress),
                                     ("gzip", "gzip", gzip.decompress),
                                     ("gzip;q=1, br;q=0.5", "gzip", gzip.decompress),
                                     ("identity", None, bytes)):
        answer = client.get(url, headers={"Accept-Encoding": accept})
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == IMMUTABLE
        assert answer.headers.get("Content-Encoding") == encoding
        assert answer.headers["Vary"] == "Accept-Encoding"
        assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert "ETag" not in answer.headers and "Set-Cookie" not in answer.headers
        assert decode(answer.data) == source
    assert len(client.get(url, headers={"Accept-Encoding": "br"}).data) < len(source) / 3


def test_a_plain_name_revalidates_and_an_old_hash_is_gone(client):
    answer = client.get("/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["Cache-Control"] == "no-cache"
    etag = answer.headers["ETag"]
    again = client.get("/css/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/css/app.css", headers={"If-None-Match": etag}).status_code == 200, \
        "the plain body is another representation with its own ETag"
    assert client.get("/js/app.000000000000.js").status_code == 404
    assert client.get("/icons/make_icons.py").status_code == 404
    assert client.get("/js/../sw.js").status_code in (404, 308)
    assert client.get("/icons/icon-192.png").headers.get("Content-Encoding") is None  # PNG


def test_only_the_page_the_manifest_and_sw_js_revalidate(client):
    html = page(client)
    build = served_build(client)
    urls = set(re.findall(r'(?:href|src)="(/[^"]+)"', html))
    urls |= set(json.loads(re.search(r'<script type="importmap">(.*?)</script>', html)
                           .group(1))["imports"].values())
    urls |= {icon["src"] for icon in client.get("/manifest.webmanifest").get_json()["icons"]}
    urls |= set(build["shell"]) - {"/"}
    assert "/manifest.webmanifest" in urls
    for url in urls - {"/manifest.webmanifest"}:
        assert HASHED.search(url), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["Cache-Control"] == IMMUTABLE, url
    for url in ("/", "/sw.js", "/manifest.webmanifest"):
        answer = client.get(url, headers={"Accept-Encoding": "br"})
        assert answer.headers["Cache-Control"] == "no-cache", url
        assert answer.headers["Content-Encoding"] == "br", url
        again = client.get(url, headers={"Accept-Encoding": "br",
                                         "If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304, url


def test_the_page_preloads_exactly_the_entrys_import_graph(client):
    html = page(client)
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html).group(1))
    plain_of = {hashed: plain for plain, hashed in imports["imports"].items()}
    preloaded = [plain_of[u] for u in re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)]
    sources = {f"/{p.relative_to(PWA).as_posix()}": p.read_text(encoding="utf-8")
               for p in (PWA / "js").rglob("*.js")}
    expected = set(build_graph(sources).closure(["/js/app.js"])) - {"/js/app.js"}
    assert set(preloaded) == expected and len(preloaded) == len(expected)
    assert set(imports["imports"]) == set(sources), "every module is in the import map"
    # The import map comes before any module script, and the entry is loaded by hash.
    assert html.index('type="importmap"') < html.index('rel="modulepreload"') \
        < html.index('<script type="module"')
    assert re.search(r'<script type="module" src="/js/app\.[0-9a-f]{12}\.js"></script>', html)


def test_the_import_map_is_the_pages_only_allowed_inline_script(client):
    answer = client.get("/")
    html = answer.get_data(as_text=True)
    import_map = re.search(r'<script type="importmap">(.*?)</script>', html).group(1)
    import base64
    import hashlib
    expected = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    csp = answer.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{expected}';" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    # Other pages allow no inline script at all.
    assert "script-src 'self';" in client.get("/login").headers["Content-Security-Policy"]


def test_the_precache_is_the_start_of_the_app_only(client):
    build = served_build(client)
    shell = set(build["shell"])
    assert "/" in shell and build["assets"]["/css/app.css"] in shell
    assert build["assets"]["/js/app.js"] in shell
    for left_out in ("/icons/icon-512.png", "/icons/maskable-512.png", "/icons/icon-192.png",
                     "/js/views/visit.js", "/js/views/checkin.js", "/js/views/tasks.js",
                     "/js/i18n/en.js", "/manifest.webmanifest"):
        assert build["assets"].get(left_out, left_out) not in shell, left_out
    assert build["imports"]["/js/views/visit.js"], "lazy modules come with their imports"


@pytest.fixture
def pwa_copy(app, tmp_path):
    original = app.config["PWA_DIR"]
    copy = tmp_path / "pwa"
    shutil.copytree(PWA, copy)
    app.config["PWA_DIR"] = str(copy)
    yield copy
    app.config["PWA_DIR"] = original


def test_any_change_to_an_app_file_makes_a_new_release(client, pwa_copy):
    """Replaces the hand-bumped SHELL_VERSION: a phone sees a new sw.js whenever any file
    of the app changes, lazily loaded ones included."""
    seen = {client.get("/sw.js").data}
    digests = {served_build(client)["digest"]}
    for path in ("js/views/visit.js", "js/i18n/en.js", "css/app.css", "icons/favicon-48.png",
                 "index.html", "manifest.webmanifest"):
        target = pwa_copy / path
        target.write_bytes(target.read_bytes() + (b"\n" if not path.endswith(".png") else b"\0"))
        sw = client.get("/sw.js").data
        assert sw not in seen, path
        seen.add(sw)
        digests.add(served_build(client)["digest"])
    assert len(digests) == 7
    # The page names the release the service worker checks its precache against.
    assert f'<meta name="fieldapp-build" content="{served_build(client)["digest"]}">' in page(client)


def test_a_changed_module_changes_only_its_own_url(client, pwa_copy):
    before = served_build(client)["assets"]
    (pwa_copy / "js" / "dom.js").write_text(
        (pwa_copy / "js" / "dom.js").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = served_build(client)["assets"]
    assert {p for p in before if before[p] != after[p]} == {"/js/dom.js"}
    assert client.get(before["/js/dom.js"]).status_code == 404
    assert client.get(after["/js/dom.js"]).status_code == 200


def test_staff_pages_use_hashed_static_urls(client, login_as):
    html = client.get("/login").get_data(as_text=True)
    [css] = re.findall(r'href="(/static/staff\.[0-9a-f]{12}\.css)"', html)
    answer = client.get(css, headers={"Accept-Encoding": "br"})
    assert answer.headers["Cache-Control"] == IMMUTABLE
    assert brotli.decompress(answer.data) == (PWA.parent / "fieldapp/static/staff.css").read_bytes()
    assert client.get("/static/staff.css").headers["Cache-Control"] == "no-cache"
    staff = login_as("staff_a")
    dashboard = staff.get("/staff/dashboard").get_data(as_text=True)
    [leaflet_css] = re.findall(r'href="(/vendor/leaflet/leaflet\.[0-9a-f]{12}\.css)"', dashboard)
    assert re.search(r'src="/vendor/leaflet/leaflet\.[0-9a-f]{12}\.js"', dashboard)
    # A stylesheet's images are hashed too (its url() references are rewritten).
    text = gzip.decompress(staff.get(leaflet_css, headers={"Accept-Encoding": "gzip"}).data).decode()
    [layers] = re.findall(r"url\((images/layers\.[0-9a-f]{12}\.png)\)", text)
    image = staff.get(f"/vendor/leaflet/{layers}")
    assert image.status_code == 200 and image.headers["Cache-Control"] == IMMUTABLE


def test_static_files_and_the_app_page_are_answered_without_the_session(login_as):
    """A page that varied on the cookie would be downloaded again by the service worker
    when the user logs in before it installs."""
    phone = login_as("evaluator_a")
    url = served_build(phone)["assets"]["/js/views/visit.js"]
    for path in (url, "/", "/sw.js", "/manifest.webmanifest"):
        answer = phone.get(path)
        assert answer.status_code == 200, path
        assert "Set-Cookie" not in answer.headers, path
        assert "Cookie" not in answer.headers.get("Vary", ""), path
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in phone.get(url).headers  # only documents need it
    assert "frame-ancestors 'none'" in phone.get("/").headers["Content-Security-Policy"]


def test_json_over_1_kb_is_compressed_and_small_json_is_not(client):
    big = client.get("/api/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    assert big.headers["Content-Encoding"] == "br"
    assert json.loads(brotli.decompress(big.data))["openapi"]
    assert "Accept-Encoding" in big.headers["Vary"]
    small = client.get("/api/auth/csrf", headers={"Accept-Encoding": "br, gzip"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers
    plain = client.get("/api/openapi.json")
    assert "Content-Encoding" not in plain.headers and plain.get_json()["openapi"]


def test_staff_html_pages_are_not_compressed(client):
    """They carry a CSRF token beside echoed input: no compression, no BREACH."""
    answer = client.get("/login", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in answer.headers


def test_compressed_bodies_are_made_once_and_kept_on_disk(tmp_path):
    data = b"console.log('village');\n" * 200
    digest = digest_of(data)
    first = Encoder(tmp_path).variants(data, digest)
    assert brotli.decompress(first["br"]) == data and gzip.decompress(first["gzip"]) == data
    assert (tmp_path / f"{digest}.br").read_bytes() == first["br"]
    # Another process (a new Encoder) reads the disk copy instead of compressing again.
    (tmp_path / f"{digest}.gzip").write_bytes(b"kept")
    assert Encoder(tmp_path).variants(data, digest)["gzip"] == b"kept"
    # A body that does not shrink is sent as it is.
    assert Encoder(None).variants(b"ab", digest_of(b"ab")) == {}


def test_install_compresses_every_static_file_once(runner, tmp_path):
    result = runner.invoke(args=["assets", "compress", "--into", str(tmp_path)])
    assert result.exit_code == 0, result.output
    made = {p.name for p in tmp_path.iterdir()}
    for source in (PWA / "js" / "views" / "visit.js", PWA.parent / "fieldapp/static/staff.js"):
        digest = digest_of(source.read_bytes())
        assert {f"{digest}.br", f"{digest}.gzip"} <= made, source
    assert not any(name.startswith(digest_of((PWA / "icons/icon-512.png").read_bytes()))
                   for name in made), "PNGs are not compressed"
    assert "KB as br" in result.output
