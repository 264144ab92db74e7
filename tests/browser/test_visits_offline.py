"""Offline household visits in a phone-sized Chromium, synced exactly once.

1. An evaluator logs in and downloads the tasks.
2. The context goes offline; the village's whole sample (3 households) is visited with
   emulated geolocation.
3. A reload while offline still shows the 3 pending visits.
4. Online again, sync runs: the server holds exactly 3 visits, with geotags and flags.
5. Sync again: still exactly 3.
6. A record the server rejects shows its error in the UI.
7. A server answering 500 mid-sync loses nothing, and the retry succeeds exactly once.
"""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import ClientRecord, SampleEntry, Visit

from ..personas import PASSWORD

TIMEOUT = 20_000


# The app's Content-Security-Policy forbids eval, which Playwright's wait_for_function
# needs when it has to poll; these waits are promises evaluated once instead.
WAIT_FOR_CONTROLLER = """() => navigator.serviceWorker.controller ? true : new Promise(
    (resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true),
                                                         {once: true}))"""
WAIT_FOR_ONE_CACHE_BUT = """async (old) => {
    for (let i = 0; i < 400; i += 1) {
        const keys = await caches.keys();
        if (keys.length === 1 && keys[0] !== old) return keys;
        await new Promise((r) => setTimeout(r, 50));
    }
    return await caches.keys();
}"""


def wait_for_controller(page: Page) -> None:
    assert page.evaluate(WAIT_FOR_CONTROLLER) is True


@pytest.fixture
def small_draw(personas):
    """A 3-household sample (+1 reserve) per village, so that a test completes a village."""
    from fieldapp.services.draws import run_draw

    personas.cycle.settings = {"sample_size": 3, "reserve_count": 1}
    db.session.commit()
    run_draw(SYSTEM, personas.cycle, personas.counties["a"], "browser test seed")
    return personas


def visits_on_server() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Visit))


def log_in_and_download(page: Page, live_server, personas) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("login-phone").fill(personas.users["evaluator_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("download-tasks").click()
    expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
    # The service worker must control the page before the network goes away.
    wait_for_controller(page)


def open_village(page: Page, personas) -> None:
    page.goto(f"{page.url.split('#')[0]}#/village/{personas.villages['a1'].code}")
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)


def record_visit(page: Page, context, personas, token: str, n: int) -> None:
    village = personas.villages["a1"]
    # About 40 m apart, inside the village: distinct positions, no speed or fence flags.
    context.set_geolocation({"latitude": village.lat + 0.0004 * n, "longitude": village.lon,
                             "accuracy": 10 + n})
    page.locator(f'[data-testid="household-row"][data-token="{token}"]').click()
    expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("geo-status")).to_have_attribute("data-state", "ok", timeout=TIMEOUT)
    for item in ("visited_home", "assistance_satisfaction", "policy_delivered", "income_improved",
                 "overall_satisfaction"):
        page.get_by_test_id(f"option-{item}-satisfied").check()
    page.get_by_test_id("answer-respondent_family_members").fill("2")
    page.get_by_test_id("visit-note").fill(f"第{n + 1}户：户主在家，反映第一书记常来走访。")
    page.get_by_test_id("visit-save").click()
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)


def sample_tokens(personas) -> list[str]:
    return list(db.session.scalars(select(SampleEntry.token).where(
        SampleEntry.village_id == personas.villages["a1"].id, SampleEntry.role == "sample")
        .order_by(SampleEntry.rank)))


def show_outbox(page: Page) -> None:
    """Render the outbox screen afresh (it shows the state at the time it was drawn)."""
    base = page.url.split("#")[0]
    page.goto(f"{base}#/tasks")
    expect(page.get_by_test_id("download-tasks")).to_be_visible(timeout=TIMEOUT)
    page.goto(f"{base}#/outbox")
    expect(page.get_by_test_id("sync-now")).to_be_visible(timeout=TIMEOUT)


def sync_now(page: Page) -> None:
    """Tap 立即同步 and wait until the screen is redrawn with the result."""
    show_outbox(page)
    button = page.get_by_test_id("sync-now")
    expect(button).to_be_enabled(timeout=TIMEOUT)
    button.click()
    expect(page.get_by_test_id("sync-now")).to_be_enabled(timeout=TIMEOUT)


def test_offline_visits_reach_the_server_exactly_once(page: Page, context, live_server, small_draw):
    personas = small_draw
    tokens = sample_tokens(personas)
    assert len(tokens) == 3
    log_in_and_download(page, live_server, personas)

    context.set_offline(True)
    open_village(page, personas)
    for n, token in enumerate(tokens):
        record_visit(page, context, personas, token, n)
    expect(page.get_by_test_id("pending-count")).to_have_text("3", timeout=TIMEOUT)
    assert visits_on_server() == 0

    page.reload()
    expect(page.get_by_test_id("pending-count")).to_have_text("3", timeout=TIMEOUT)
    show_outbox(page)
    expect(page.get_by_test_id("pending-record")).to_have_count(3, timeout=TIMEOUT)

    context.set_offline(False)  # the `online` event starts a sync by itself
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    assert visits_on_server() == 3

    sync_now(page)
    expect(page.get_by_test_id("outbox-empty")).to_be_visible(timeout=TIMEOUT)
    assert visits_on_server() == 3

    db.session.expire_all()
    visits = db.session.scalars(select(Visit).order_by(Visit.started_at)).all()
    village = personas.villages["a1"]
    for n, visit in enumerate(visits):
        assert visit.lat == pytest.approx(village.lat + 0.0004 * n, abs=1e-6)
        assert visit.geo_start is not None and visit.geo_end is not None
        assert visit.accuracy_m == pytest.approx(10 + n)
        assert visit.note.startswith(f"第{n + 1}户")
        assert visit.answers["overall_satisfaction"] == "satisfied"
        # Recorded in seconds by a robot: each is flagged short, nothing else.
        assert [f["code"] for f in visit.flags] == ["short_visit"]
    statuses = db.session.scalars(select(SampleEntry.status).where(
        SampleEntry.token.in_(tokens))).all()
    assert statuses == ["visited"] * 3
    # The village shows as complete on the phone.
    open_village(page, personas)
    expect(page.get_by_test_id("village-progress")).to_have_text("3/3", timeout=TIMEOUT)


def test_rejected_record_shows_its_error(page: Page, context, live_server, small_draw):
    personas = small_draw
    tokens = sample_tokens(personas)
    log_in_and_download(page, live_server, personas)
    context.set_offline(True)
    open_village(page, personas)
    record_visit(page, context, personas, tokens[0], 0)
    record_visit(page, context, personas, tokens[1], 1)
    # Meanwhile another phone had household 1 marked unreachable on the server.
    entry = db.session.scalar(select(SampleEntry).where(SampleEntry.token == tokens[0]))
    entry.status = "unreachable"
    db.session.commit()

    context.set_offline(False)  # syncs by itself
    expect(page.get_by_test_id("rejected-count")).to_have_text("1", timeout=TIMEOUT)
    show_outbox(page)
    record = page.get_by_test_id("rejected-record")
    expect(record).to_have_count(1, timeout=TIMEOUT)
    error = record.get_by_test_id("rejected-error")
    expect(error).to_contain_text("无法访问", timeout=TIMEOUT)
    expect(page.get_by_test_id("rejected-count")).to_have_text("1")
    # The valid record went through on its own; the rejected one was not stored.
    expect(page.get_by_test_id("outbox-pending")).to_have_text("0", timeout=TIMEOUT)
    assert visits_on_server() == 1
    db.session.expire_all()
    assert db.session.scalar(select(SampleEntry.token).join(
        Visit, Visit.sample_entry_id == SampleEntry.id)) == tokens[1]


def test_server_error_mid_sync_loses_nothing(page: Page, context, live_server, small_draw):
    personas = small_draw
    tokens = sample_tokens(personas)
    log_in_and_download(page, live_server, personas)
    context.set_offline(True)
    open_village(page, personas)
    record_visit(page, context, personas, tokens[0], 0)
    record_visit(page, context, personas, tokens[1], 1)

    calls: list[str] = []
    phase = {"mode": "fail"}
    internal_error = json.dumps({"code": "internal_error", "status": 500,
                                 "message": "Internal server error.", "errors": {}})

    def handle(route):
        if phase["mode"] == "fail":
            # The server never saw the batch.
            calls.append("500-before")
            route.fulfill(status=500, content_type="application/json", body=internal_error)
        elif phase["mode"] == "lose-answer":
            # Worse: the server stored the batch, but its answer was lost on the way.
            calls.append("500-after")
            route.fetch()
            phase["mode"] = "pass"
            route.fulfill(status=500, content_type="application/json", body=internal_error)
        else:
            calls.append("pass")
            route.continue_()

    page.route("**/api/sync", handle)
    context.set_offline(False)  # syncs by itself: the server answers 500
    for _ in range(100):
        if calls:
            break
        page.wait_for_timeout(100)
    assert calls and calls[0] == "500-before"
    expect(page.get_by_test_id("pending-count")).to_have_text("2", timeout=TIMEOUT)
    assert visits_on_server() == 0
    page.reload()  # still there after a reload
    expect(page.get_by_test_id("pending-count")).to_have_text("2", timeout=TIMEOUT)
    show_outbox(page)
    expect(page.get_by_test_id("pending-record")).to_have_count(2, timeout=TIMEOUT)

    phase["mode"] = "lose-answer"
    sync_now(page)  # the server stores the batch, the phone gets a 500; the retry follows
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=30_000)
    assert "500-after" in calls and calls[-1] == "pass"
    assert visits_on_server() == 2
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ClientRecord)) == 2


# ---- the rest of the issue, each in a real browser -------------------------------

ANSWER_ITEMS = ("visited_home", "assistance_satisfaction", "policy_delivered", "income_improved",
                "overall_satisfaction")


def idb_rows(page: Page, store: str) -> list[dict]:
    """All rows of one IndexedDB object store of the app (read-only)."""
    return page.evaluate("""(store) => new Promise((resolve, reject) => {
        const req = indexedDB.open('fieldapp');
        req.onsuccess = () => {
            const all = req.result.transaction(store).objectStore(store).getAll();
            all.onsuccess = () => { resolve(all.result); req.result.close(); };
            all.onerror = () => reject(all.error);
        };
        req.onerror = () => reject(req.error);
    })""", store)


def test_manifest_is_linked_valid_and_installable(page: Page, live_server, personas):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=TIMEOUT)
    href = page.evaluate("document.querySelector('link[rel=manifest]').href")
    assert href == f"{live_server.url}/manifest.webmanifest"
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["display"] == "standalone"
    assert manifest["name"] == "驻村评议" and manifest["lang"] == "zh-Hans"
    assert manifest["theme_color"] == page.evaluate(
        "document.querySelector('meta[name=theme-color]').content")
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        png = page.request.get(f"{live_server.url}{icon['src']}")
        assert png.status == 200 and png.headers["content-type"] == "image/png", icon
        sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    # Installable also needs a service worker controlling the start URL.
    wait_for_controller(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server.url}/sw.js"


def test_login_lasts_offline_and_logout_clears_only_this_user(page: Page, context, live_server,
                                                              small_draw):
    personas = small_draw
    tokens = sample_tokens(personas)
    log_in_and_download(page, live_server, personas)
    context.set_offline(True)
    # The browser is closed and opened again the next day, still without signal.
    page.close()
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_test_id("net-status")).to_have_attribute("data-online", "false")
    open_village(page, personas)
    record_visit(page, context, personas, tokens[0], 0)
    expect(page.get_by_test_id("pending-count")).to_have_text("1", timeout=TIMEOUT)

    # Another evaluator's data on the same phone (say, a colleague who lent it).
    page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('fieldapp');
        req.onsuccess = () => {
            const tx = req.result.transaction(['outbox', 'tasks', 'meta'], 'readwrite');
            tx.objectStore('outbox').put({uuid: 'other-user-record', user_id: 987654, type: 'visit',
                payload: {}, state: 'pending', created_ms: 1, created_at: '2026-01-01T00:00:00Z'});
            tx.objectStore('tasks').put({user_id: 987654, code: '999', name: 'x', households: []});
            tx.objectStore('meta').put({user_id: 987654, key: 'last_sync_at', value: 'x'});
            tx.oncomplete = () => { req.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    })""")

    page.goto(f"{page.url.split('#')[0]}#/settings")
    page.get_by_test_id("logout").click()
    warning = page.get_by_test_id("logout-warning")
    expect(warning).to_be_visible(timeout=TIMEOUT)
    expect(warning).to_contain_text("1")
    # Only a pending record: syncing is the way out, there is nothing returned to review.
    expect(page.get_by_test_id("logout-sync")).to_be_visible()
    expect(page.get_by_test_id("logout-outbox")).to_have_count(0)
    page.get_by_test_id("logout-cancel").click()
    expect(warning).to_be_hidden()
    assert len([r for r in idb_rows(page, "outbox") if r["user_id"] != 987654]) == 1

    # A returned record cannot be synced away: the warning points to the outbox.
    mine = next(r for r in idb_rows(page, "outbox") if r["user_id"] != 987654)
    page.evaluate("""(row) => new Promise((resolve, reject) => {
        const req = indexedDB.open('fieldapp');
        req.onsuccess = () => {
            const tx = req.result.transaction(['outbox'], 'readwrite');
            tx.objectStore('outbox').put({...row, state: 'rejected', errors: {x: ['y']}});
            tx.oncomplete = () => { req.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    })""", mine)
    page.reload()
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("logout-outbox")).to_have_attribute("href", "#/outbox")
    expect(page.get_by_test_id("logout-sync")).to_have_count(0)
    page.get_by_test_id("logout-cancel").click()

    page.get_by_test_id("logout").click()
    page.get_by_test_id("logout-confirm").click()
    expect(page.get_by_test_id("login-form")).to_be_visible(timeout=TIMEOUT)
    assert [r["uuid"] for r in idb_rows(page, "outbox")] == ["other-user-record"]
    assert [r["user_id"] for r in idb_rows(page, "tasks")] == [987654]
    assert [r["user_id"] for r in idb_rows(page, "meta")] == [987654]
    assert idb_rows(page, "session") == []
    assert idb_rows(page, "instruments"), "instruments are not personal and stay"
    assert visits_on_server() == 0


def test_location_denied_is_saved_flagged_and_unreachable_starts_replacement_offline(
        page: Page, context, live_server, small_draw):
    personas = small_draw
    tokens = sample_tokens(personas)
    context.clear_permissions()  # the evaluator refused the location prompt
    log_in_and_download(page, live_server, personas)
    context.set_offline(True)
    open_village(page, personas)

    page.locator(f'[data-testid="household-row"][data-token="{tokens[0]}"]').click()
    status = page.get_by_test_id("geo-status")
    expect(status).to_have_attribute("data-state", "error", timeout=TIMEOUT)
    expect(status).to_contain_text("定位权限")
    expect(page.get_by_test_id("geo-retry")).to_be_visible()
    page.get_by_test_id("geo-retry").click()  # retry: still refused, still savable
    expect(status).to_have_attribute("data-state", "error", timeout=TIMEOUT)
    for item in ANSWER_ITEMS:
        page.get_by_test_id(f"option-{item}-basically_satisfied").check()
    page.get_by_test_id("visit-save").click()
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)

    # 无法访问 on the second household, with no signal: the reserve takes its place.
    page.locator(f'[data-testid="household-row"][data-token="{tokens[1]}"]').click()
    page.get_by_test_id("visit-unreachable").click()
    expect(page.get_by_test_id("replace-panel")).to_be_visible()
    page.get_by_test_id("reason-moved_out").check()
    page.get_by_test_id("replace-confirm").click()
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(f'[data-testid="household-row"][data-token="{tokens[1]}"]')) \
        .to_have_attribute("data-status", "unreachable")
    expect(page.locator('[data-testid="household-row"][data-role="reserve"]')) \
        .to_have_attribute("data-status", "reserve_active")
    expect(page.get_by_test_id("pending-count")).to_have_text("2")

    context.set_offline(False)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    db.session.expire_all()
    [visit] = db.session.scalars(select(Visit)).all()
    assert visit.geo_error == "denied" and visit.lat is None
    assert "no_location" in [f["code"] for f in visit.flags]
    statuses = dict(db.session.execute(select(SampleEntry.token, SampleEntry.status).where(
        SampleEntry.village_id == personas.villages["a1"].id)).all())
    assert statuses[tokens[1]] == "unreachable"
    assert list(statuses.values()).count("reserve_active") == 1


def test_browser_without_service_worker(browser, live_server, small_draw):
    """WeChat on iOS has no service worker: say so plainly; the outbox still survives reloads."""
    personas = small_draw
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                  geolocation={"latitude": personas.villages["a1"].lat,
                                               "longitude": personas.villages["a1"].lon,
                                               "accuracy": 12},
                                  permissions=["geolocation"], service_workers="block")
    try:
        page = context.new_page()
        page.add_init_script("delete Object.getPrototypeOf(navigator).serviceWorker;")
        page.goto(f"{live_server.url}/")
        banner = page.get_by_test_id("no-sw-banner")
        expect(banner).to_be_visible(timeout=TIMEOUT)
        expect(banner).to_contain_text("不支持离线启动")
        page.get_by_test_id("login-phone").fill(personas.users["evaluator_a"].phone)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("download-tasks").click()
        expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
        # The server is unreachable while the visit is made (the app itself still loads).
        page.route("**/api/sync", lambda route: route.abort("internetdisconnected"))
        open_village(page, personas)
        record_visit(page, context, personas, sample_tokens(personas)[0], 0)
        expect(page.get_by_test_id("pending-count")).to_have_text("1", timeout=TIMEOUT)
        page.reload()
        expect(page.get_by_test_id("no-sw-banner")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_test_id("pending-count")).to_have_text("1", timeout=TIMEOUT)
        assert visits_on_server() == 0
        page.unroute("**/api/sync")
        sync_now(page)
        expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
        assert visits_on_server() == 1
        page.goto(f"{page.url.split('#')[0]}#/settings")
        expect(page.get_by_test_id("settings-sw")).to_contain_text("不支持离线启动")
    finally:
        context.close()


@pytest.fixture
def pwa_copy(app, tmp_path):
    """Serve the PWA from a copy, so that a test can publish a new version of it."""
    import shutil

    original = app.config["PWA_DIR"]
    copy = tmp_path / "pwa"
    shutil.copytree(original, copy)
    app.config["PWA_DIR"] = str(copy)
    yield copy
    app.config["PWA_DIR"] = original


def test_new_version_banner_never_reloads_an_open_form(page: Page, context, live_server,
                                                      small_draw, pwa_copy):
    personas = small_draw
    tokens = sample_tokens(personas)
    log_in_and_download(page, live_server, personas)
    old = page.evaluate("caches.keys()")
    assert len(old) == 1 and old[0].startswith("fieldapp-shell-v")
    open_village(page, personas)
    page.locator(f'[data-testid="household-row"][data-token="{tokens[0]}"]').click()
    expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
    page.get_by_test_id("option-visited_home-satisfied").check()
    page.get_by_test_id("visit-note").fill("写到一半")

    # A new version is published while the evaluator is filling the form.
    sw = pwa_copy / "sw.js"
    source = sw.read_text(encoding="utf-8")
    sw.write_text(source.replace("const SHELL_VERSION = ", "const SHELL_VERSION = 1000 + "),
                  encoding="utf-8")
    page.evaluate("window.__sameDocument = true")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.get_by_test_id("update-banner")
    expect(banner).to_be_visible(timeout=TIMEOUT)
    expect(banner).to_contain_text("新版本可用")
    banner.click()
    expect(page.locator("#toast")).to_contain_text("表单", timeout=TIMEOUT)
    # Nothing reloaded, nothing typed was lost, the new worker still waits.
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_test_id("visit-note")).to_have_value("写到一半")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")

    # Leaving the form: the tap reloads into the new version, and the old cache is gone.
    open_village(page, personas)
    with page.expect_event("load", timeout=TIMEOUT):
        page.get_by_test_id("update-banner").click()
    assert page.evaluate("window.__sameDocument") is None
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)
    [new] = page.evaluate(WAIT_FOR_ONE_CACHE_BUT, old[0])
    assert new.startswith("fieldapp-shell-v100")


def test_whole_village_sample_offline_on_a_phone(page: Page, context, live_server, personas):
    """The issue's "Done when": a 20-household sample with the network cut, exactly once."""
    from fieldapp.services.draws import run_draw

    run_draw(SYSTEM, personas.cycle, personas.counties["a"], "done-when seed")
    tokens = sample_tokens(personas)
    assert len(tokens) == 20
    assert page.viewport_size == {"width": 360, "height": 640}
    log_in_and_download(page, live_server, personas)
    context.set_offline(True)
    open_village(page, personas)
    for n, token in enumerate(tokens):
        record_visit(page, context, personas, token, n)
    expect(page.get_by_test_id("village-progress")).to_have_text("20/20", timeout=TIMEOUT)
    expect(page.get_by_test_id("pending-count")).to_have_text("20", timeout=TIMEOUT)
    assert visits_on_server() == 0

    context.set_offline(False)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    sync_now(page)
    assert visits_on_server() == 20
    db.session.expire_all()
    visits = db.session.scalars(select(Visit).order_by(Visit.started_at)).all()
    by_token = dict(db.session.execute(select(SampleEntry.id, SampleEntry.token)).all())
    assert [by_token[v.sample_entry_id] for v in visits] == tokens
    village = personas.villages["a1"]
    for n, visit in enumerate(visits):
        assert visit.lat == pytest.approx(village.lat + 0.0004 * n, abs=1e-6)
        assert visit.geo_start and visit.geo_end and visit.accuracy_m == pytest.approx(10 + n)
        assert [f["code"] for f in visit.flags] == ["short_visit"]
    assert db.session.scalar(select(func.count()).select_from(ClientRecord)) == 20

    # County staff see each visit with its flags.
    staff = context.browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    try:
        staff_page = staff.new_page()
        staff_page.goto(f"{live_server.url}/login")
        staff_page.get_by_test_id("login-phone").fill(personas.users["staff_a"].phone)
        staff_page.get_by_test_id("login-password").fill(PASSWORD)
        staff_page.get_by_test_id("login-submit").click()
        expect(staff_page).to_have_url(f"{live_server.url}/staff/", timeout=TIMEOUT)
        staff_page.goto(f"{live_server.url}/staff/visits")
        expect(staff_page.get_by_test_id("visit-row")).to_have_count(20, timeout=TIMEOUT)
        expect(staff_page.get_by_test_id("flag-short_visit")).to_have_count(20)
    finally:
        staff.close()
