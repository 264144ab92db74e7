"""The phone app on a village network (issue 12), counted at the server in a real Chromium.

- A first visit fetches every file once (the service worker's precache reuses what the page
  downloaded), only the start of the app, and every module it needs was preloaded.
- The login form does not wait for the session check.
- Once installed, the app opens from the cache: no request for the page or its files.
- Each role downloads its own screens after login, never the other role's, and they open
  offline although never opened.
- A new release keeps the outbox and the role's screens; the records reach the server once.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import ClientRecord

from ..personas import PASSWORD
from .meter import Meter, MeteredServer
from .test_visits_offline import (TIMEOUT, WAIT_FOR_ONE_CACHE_BUT, idb_rows, log_in_and_download,
                                  open_village, pwa_copy, record_visit, sample_tokens,
                                  small_draw, sync_now, visits_on_server, wait_for_controller)

__all__ = ["pwa_copy", "small_draw"]  # fixtures shared with the offline tests

SHELL_BUDGET = 60 * 1024  # bytes of bodies on a first visit, page and service worker


@pytest.fixture(scope="module")
def metered(app):
    server = MeteredServer(app)
    server.meter.url = server.url
    yield server.meter
    server.stop()


@pytest.fixture
def meter(metered):
    metered.reset()
    yield metered
    metered.reset()


def build_of(meter: Meter) -> dict:
    """The release as served (asked in-process: the meter does not see it)."""
    sw = meter.app.test_client().get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"const BUILD = (\{.*?\});\n", sw).group(1))


def preloads(page: Page) -> list[str]:
    return page.evaluate("""[...document.querySelectorAll('link[rel=modulepreload]')]
                            .map((l) => new URL(l.href).pathname)""")


def cached_urls(page: Page) -> list[str]:
    return page.evaluate("""async () => {
        const out = [];
        for (const name of await caches.keys()) {
            for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
        }
        return out;
    }""")


WAIT_FOR_CACHED = """async (paths) => {
    for (let i = 0; i < 400; i += 1) {
        const have = new Set();
        for (const name of await caches.keys()) {
            for (const req of await (await caches.open(name)).keys()) have.add(new URL(req.url).pathname);
        }
        if (paths.every((p) => have.has(p))) return true;
        await new Promise((r) => setTimeout(r, 50));
    }
    return false;
}"""


def static_paths(meter: Meter) -> list[str]:
    return [p for p in meter.paths() if not p.startswith("/api/")]


def test_first_visit_fetches_each_file_once_and_only_the_start_of_the_app(page: Page, meter):
    build = build_of(meter)
    meter.reset()
    page.goto(f"{meter.url}/")
    expect(page.get_by_test_id("login-phone")).to_be_editable(timeout=TIMEOUT)
    wait_for_controller(page)  # the service worker has installed its precache
    assert page.evaluate(WAIT_FOR_CACHED, build["shell"]) is True
    page.wait_for_timeout(300)  # a late favicon

    fetched = Counter(static_paths(meter))
    assert {p: n for p, n in fetched.items() if n > 1} == {}, meter.hits
    assert set(build["shell"]) <= set(fetched), "the precache came from these downloads"
    # No waterfall: every module the page ran was preloaded (or is the entry itself).
    modules = {p for p in fetched if p.endswith(".js") and p != "/sw.js"}
    assert modules == set(preloads(page)) | {build["assets"]["/js/app.js"]}
    # Only the start of the app: no role's screens, no English, no large icons.
    for later in ("/js/views/visit.js", "/js/views/checkin.js", "/js/views/tasks.js",
                  "/js/i18n/en.js", "/icons/icon-512.png", "/icons/maskable-512.png"):
        assert build["assets"][later] not in fetched, later
    assert all(h.status in (200, 304) for h in meter.hits if not h.path.startswith("/api/"))
    sent = sum(h.bytes for h in meter.hits if not h.path.startswith("/api/"))
    assert sent <= SHELL_BUDGET, f"{sent} bytes"


def test_the_login_form_does_not_wait_for_the_session_check(page: Page, meter):
    meter.delay["/api/me"] = 5.0
    page.goto(f"{meter.url}/")
    expect(page.get_by_test_id("login-phone")).to_be_editable(timeout=TIMEOUT)
    for _ in range(100):  # the session check starts once the form is on screen
        if "/api/me" in meter.started:
            break
        page.wait_for_timeout(50)
    assert "/api/me" in meter.started, "the session check runs"
    assert "/api/me" not in meter.paths(), "…and the form did not wait for its answer"
    page.get_by_test_id("login-phone").fill("13800000000")


def test_an_installed_app_opens_without_asking_the_network(page: Page, meter):
    page.goto(f"{meter.url}/")
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=TIMEOUT)
    wait_for_controller(page)
    meter.reset()
    meter.delay["/"] = 30.0  # a page that would take forever over the network
    page.reload()
    expect(page.get_by_test_id("login-phone")).to_be_editable(timeout=TIMEOUT)
    assert page.evaluate("performance.getEntriesByType('navigation')[0].transferSize") == 0
    shell = [p for p in static_paths(meter) if p != "/sw.js"]
    assert "/" not in meter.started and shell == [], shell


def log_in(page: Page, meter: Meter, phone: str) -> None:
    page.goto(f"{meter.url}/")
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_each_role_downloads_its_own_screens_and_opens_them_offline(browser, meter, small_draw):
    personas = small_draw
    build = build_of(meter)
    meter.reset()
    mine = {"secretary_a": ["/js/views/checkin.js", "/js/views/outbox.js", "/js/views/settings.js"],
            "evaluator_a": ["/js/views/tasks.js", "/js/views/village.js", "/js/views/visit.js",
                            "/js/views/outbox.js", "/js/views/settings.js"]}
    theirs = {"secretary_a": ["/js/views/visit.js", "/js/views/tasks.js", "/js/views/village.js"],
              "evaluator_a": ["/js/views/checkin.js"]}
    for name in ("secretary_a", "evaluator_a"):
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                      geolocation={"latitude": 34.36, "longitude": 107.24},
                                      permissions=["geolocation"])
        try:
            page = context.new_page()
            meter.reset()
            log_in(page, meter, personas.users[name].phone)
            landing = "checkin-button" if name == "secretary_a" else "download-tasks"
            expect(page.get_by_test_id(landing)).to_be_visible(timeout=TIMEOUT)
            wait_for_controller(page)
            wanted = [build["assets"][p] for p in mine[name]]
            assert page.evaluate(WAIT_FOR_CACHED, wanted) is True, name
            fetched = static_paths(meter)
            for path in theirs[name]:
                assert build["assets"][path] not in fetched, (name, path)
                assert build["assets"][path] not in cached_urls(page), (name, path)
            assert Counter(fetched).most_common(1)[0][1] == 1, Counter(fetched)
            # Offline, a fresh page opens a screen never opened before.
            if name == "evaluator_a":
                page.get_by_test_id("download-tasks").click()
                expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
            context.set_offline(True)
            page.close()
            page = context.new_page()
            page.goto(f"{meter.url}/#/settings")
            expect(page.get_by_test_id("logout")).to_be_visible(timeout=TIMEOUT)
            if name == "evaluator_a":
                token = sample_tokens(personas)[0]
                page.goto(f"{meter.url}/#/visit/{token}")
                expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
            else:
                page.goto(f"{meter.url}/#/outbox")
                expect(page.get_by_test_id("sync-now")).to_be_visible(timeout=TIMEOUT)
        finally:
            context.close()


def test_english_is_fetched_only_when_chosen(page: Page, meter):
    build = build_of(meter)
    page.goto(f"{meter.url}/")
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=TIMEOUT)
    wait_for_controller(page)
    english = build["assets"]["/js/i18n/en.js"]
    assert english not in meter.paths()
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("login-submit")).to_have_text("Log in", timeout=TIMEOUT)
    assert meter.paths().count(english) == 1
    assert page.evaluate(WAIT_FOR_CACHED, [english]) is True
    # Chosen once, it opens offline in English.
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("login-submit")).to_have_text("Log in", timeout=TIMEOUT)


def test_english_offline_before_it_was_ever_fetched_keeps_chinese(page: Page, meter):
    page.goto(f"{meter.url}/")
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=TIMEOUT)
    wait_for_controller(page)
    page.context.set_offline(True)
    page.get_by_test_id("lang-en").click()
    expect(page.locator("#toast")).to_contain_text("英文界面需要联网", timeout=TIMEOUT)
    expect(page.get_by_test_id("login-submit")).to_have_text("登录")


def test_a_new_release_keeps_the_outbox_and_the_roles_screens(page: Page, context, meter,
                                                              small_draw, pwa_copy):
    personas = small_draw
    tokens = sample_tokens(personas)
    log_in_and_download(page, meter, personas)
    old_build = build_of(meter)
    [old_cache] = page.evaluate("caches.keys()")
    assert page.evaluate(WAIT_FOR_CACHED, [old_build["assets"]["/js/views/visit.js"]]) is True

    context.set_offline(True)
    open_village(page, personas)
    record_visit(page, context, personas, tokens[0], 0)
    record_visit(page, context, personas, tokens[1], 1)
    expect(page.get_by_test_id("pending-count")).to_have_text("2", timeout=TIMEOUT)
    before = sorted(r["uuid"] for r in idb_rows(page, "outbox"))
    assert len(before) == 2

    # A release changes the visit form; the phone comes back online, but its sync is held
    # back so that the records are still waiting when the update is applied.
    visit_js = pwa_copy / "js" / "views" / "visit.js"
    visit_js.write_text(visit_js.read_text(encoding="utf-8") + "\n// release 2\n", encoding="utf-8")
    new_build = build_of(meter)
    assert new_build["digest"] != old_build["digest"]
    page.route("**/api/sync", lambda route: route.abort())
    context.set_offline(False)
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.get_by_test_id("update-banner")
    expect(banner).to_be_visible(timeout=TIMEOUT)
    with page.expect_event("load", timeout=TIMEOUT):
        banner.click()
    [new_cache] = page.evaluate(WAIT_FOR_ONE_CACHE_BUT, old_cache)
    assert new_cache.endswith(new_build["digest"])

    # Nothing lost, nothing duplicated, nothing left behind in the old release.
    expect(page.get_by_test_id("pending-count")).to_have_text("2", timeout=TIMEOUT)
    # (`sending` is a record caught in the held-back request: it is sent again.)
    rows = idb_rows(page, "outbox")
    assert sorted(r["uuid"] for r in rows) == before
    assert {r["state"] for r in rows} <= {"pending", "sending"}
    # The new release has the evaluator's screens, the changed visit form included,
    # although it was never opened in it.
    cached = cached_urls(page)
    assert new_build["assets"]["/js/views/visit.js"] in cached
    assert old_build["assets"]["/js/views/visit.js"] not in cached
    context.set_offline(True)
    page.close()
    page = context.new_page()
    page.goto(f"{meter.url}/#/village/{personas.villages['a1'].code}")
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)
    record_visit(page, context, personas, tokens[2], 2)
    expect(page.get_by_test_id("pending-count")).to_have_text("3", timeout=TIMEOUT)

    context.set_offline(False)
    sync_now(page)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    assert visits_on_server() == 3
    # The phone gzipped its batch (3 visits are over 1 KB of JSON).
    stored = [h for h in meter.hits if h.path == "/api/sync" and h.status == 200]
    assert stored and {h.request_encoding for h in stored} == {"gzip"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ClientRecord)) == 3
    assert set(before) <= set(db.session.scalars(select(ClientRecord.uuid)))
