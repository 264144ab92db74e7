"""The phone app on a village network (issue 12): bytes and times, each with its goal.

Everything runs for real: the app on a real HTTP server (the same WSGI app `make run` and
gunicorn serve, compression included), Debian's chromium driven by Playwright, and in
front of the server a throttling TCP proxy (bench/throttle.py). Chromium's own network
emulation (CDP) slows the page but not its service worker, so reopening "on a weak link"
goes through the proxy, which slows both.

- first visit: bytes of the shell the server sent, page and service worker together
  (goal <= 60 KB); baseline: the same files uncompressed;
- cached online open: bytes of shell (goal 0);
- slow 3G (CDP: 400 kbps, 400 ms RTT), first visit: time until the login form takes
  typing (goal <= 3 s), with and without a 4x slower CPU; baseline: one small request
  under the same emulation;
- reopen of a logged-in evaluator's task list offline and on a weak link (proxy: 1200 ms
  RTT, 250 kbps) (goal <= 1 s); baseline: the same reopen on a fast link;
- bytes per synced visit (20 visits, request and answer as sent); baseline: uncompressed.

Run: make bench. The figures print at the end; record them in bench/RESULTS.md.
"""
from __future__ import annotations

import gzip
import statistics
import time
from types import SimpleNamespace

import brotli
import pytest
from playwright.sync_api import expect

from bench.report import META, figure
from bench.throttle import ThrottlingProxy
from tests.api.visit_helpers import a1, draw, tokens, visit_payload
from tests.browser.meter import MeteredServer
from tests.browser.test_fast_shell_browser import (WAIT_FOR_CACHED, build_of,
                                                   wait_for_controller)
from tests.personas import PASSWORD

TIMEOUT = 60_000
RUNS = 3
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8}
WEAK_LINK = {"rtt_ms": 1200, "down_kbps": 250, "up_kbps": 250}
SHELL_GOAL = 60 * 1024


@pytest.fixture(scope="module")
def site(app):
    server = MeteredServer(app)
    proxy = ThrottlingProxy(server.port)
    server.meter.url = proxy.url
    yield SimpleNamespace(meter=server.meter, proxy=proxy, url=proxy.url, app=app)
    proxy.close()
    server.stop()


def new_context(browser):
    return browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                               service_workers="allow", permissions=["geolocation"],
                               geolocation={"latitude": 34.36, "longitude": 107.24})


def static_hits(meter):
    return [h for h in meter.hits if not h.path.startswith("/api/")]


def uncompressed_size(app, path: str) -> int:
    return len(app.test_client().get(path).data)


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def test_first_visit_and_cached_open_bytes(browser, site, db):
    META["chromium"] = browser.version
    build = build_of(site.meter)
    context = new_context(browser)
    try:
        page = context.new_page()
        site.meter.reset()
        site.proxy.reset_counts()
        page.goto(f"{site.url}/")
        expect(page.get_by_test_id("login-phone")).to_be_editable(timeout=TIMEOUT)
        wait_for_controller(page)
        assert page.evaluate(WAIT_FOR_CACHED, build["shell"]) is True
        page.wait_for_timeout(500)
        hits = static_hits(site.meter)
        sent = sum(h.bytes for h in hits)
        raw = sum(uncompressed_size(site.app, h.path) for h in hits)
        wire = site.proxy.down.bytes
        paths = [h.path for h in hits]
        figure("First visit: shell sent, page + service worker (bodies)", kb(sent),
               "≤ 60 KB", sent <= SHELL_GOAL, f"{kb(raw)} uncompressed (x{sent / raw:.2f})")
        figure("First visit: everything on the wire (headers, session check included)",
               kb(wire), "≤ 60 KB", wire <= SHELL_GOAL,
               f"{len(paths)} files, {site.proxy.connections} connections")
        figure("First visit: files downloaded twice", str(len(paths) - len(set(paths))), "0",
               len(paths) == len(set(paths)), "")

        # The app again, online, installed: nothing of the shell from the network.
        page.close()
        page = context.new_page()
        site.meter.reset()
        site.proxy.reset_counts()
        page.goto(f"{site.url}/")
        expect(page.get_by_test_id("login-phone")).to_be_editable(timeout=TIMEOUT)
        for _ in range(100):  # the background update check
            if "/sw.js" in site.meter.paths():
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)
        shell = [h for h in static_hits(site.meter) if h.path != "/sw.js"]
        update = [h for h in site.meter.hits if h.path == "/sw.js"]
        figure("Cached online open: shell bytes", f"{sum(h.bytes for h in shell)} B", "0 B",
               not shell, f"first visit {kb(sent)}")
        figure("Cached online open: background update check", f"{len(update)} × sw.js, "
               f"{sum(h.bytes for h in update)} B of body ({', '.join(str(h.status) for h in update)})",
               "", None, f"on the wire, all: {site.proxy.down.bytes} B")
    finally:
        context.close()


def test_login_form_on_slow_3g(browser, site, db):
    def one(cpu: int, path: str = "/", ready=None) -> float:
        context = new_context(browser)
        try:
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            if cpu > 1:
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
            start = time.perf_counter()
            page.goto(f"{site.url}{path}", wait_until="commit", timeout=TIMEOUT)
            if ready is None:
                page.get_by_test_id("login-phone").fill("13800000003", timeout=TIMEOUT)
            else:
                page.wait_for_load_state("load", timeout=TIMEOUT)
            return time.perf_counter() - start
        finally:
            context.close()

    baseline = statistics.median(one(1, "/manifest.webmanifest", ready="load") for _ in range(RUNS))
    for cpu in (1, 4):
        took = statistics.median(one(cpu) for _ in range(RUNS))
        label = "" if cpu == 1 else f", CPU {cpu}x slower"
        figure(f"Slow 3G first visit (400 kbps, 400 ms RTT{label}): login form takes typing",
               f"{took:.2f} s", "≤ 3 s", took <= 3.0,
               f"one small request {baseline:.2f} s (x{took / baseline:.1f}); median of {RUNS}")


def test_reopen_and_sync_bytes(browser, site, personas):
    draw(personas, "a")
    village = a1(personas)
    build = build_of(site.meter)
    context = new_context(browser)
    try:
        page = context.new_page()
        site.meter.reset()
        page.goto(f"{site.url}/")
        page.get_by_test_id("login-phone").fill(personas.users["evaluator_a"].phone)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("download-tasks").click()
        expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
        wait_for_controller(page)
        screens = [build["assets"][f"/js/views/{v}.js"] for v in ("tasks", "village", "visit")]
        assert page.evaluate(WAIT_FOR_CACHED, screens) is True
        after_login = sum(h.bytes for h in static_hits(site.meter)
                          if h.path not in build["shell"] and h.path not in ("/sw.js",))
        figure("After login, an evaluator's screens fetched ahead (once)", kb(after_login), "",
               None, "never the check-in view")
        page.close()

        def reopen() -> float:
            p = context.new_page()
            try:
                start = time.perf_counter()
                p.goto(f"{site.url}/", wait_until="commit", timeout=TIMEOUT)
                expect(p.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)
                return time.perf_counter() - start
            finally:
                p.close()

        fast = statistics.median(reopen() for _ in range(RUNS))
        site.proxy.set_link(**WEAK_LINK)
        try:
            weak = statistics.median(reopen() for _ in range(RUNS))
        finally:
            site.proxy.set_link()
        context.set_offline(True)
        try:
            offline = statistics.median(reopen() for _ in range(RUNS))
        finally:
            context.set_offline(False)
        for name, took in (("offline", offline),
                           ("on a weak link (proxy: 1200 ms RTT, 250 kbps)", weak)):
            figure(f"Reopen {name}: task list usable", f"{took:.2f} s", "≤ 1 s", took <= 1.0,
                   f"fast link {fast:.2f} s (x{took / fast:.1f}); median of {RUNS}")

        sync_bytes(page=context.new_page(), site=site, payloads=[
            visit_payload(t, village, n) for n, t in enumerate(tokens(village))])
    finally:
        context.close()


INJECT = """async (payloads) => {
    const db = await import('/js/db.js');
    const { createOutbox } = await import('/js/outbox.js');
    const session = await db.getSession();
    const outbox = createOutbox({ store: db.outboxStore(session.user_id), userId: session.user_id });
    for (const payload of payloads) await outbox.enqueue('visit', payload);
}"""


def sync_bytes(page, site, payloads) -> None:
    """20 visits queued through the app's own outbox, sent by its 立即同步 button."""
    page.goto(f"{site.url}/#/outbox")
    expect(page.get_by_test_id("sync-now")).to_be_visible(timeout=TIMEOUT)
    site.meter.capture = {"/api/sync"}
    site.meter.reset()
    page.evaluate(INJECT, payloads)
    page.goto(f"{site.url}/#/tasks")
    page.goto(f"{site.url}/#/outbox")
    page.get_by_test_id("sync-now").click()
    for _ in range(600):
        syncs = [h for h in site.meter.hits if h.path == "/api/sync" and h.status == 200]
        if syncs:
            break
        page.wait_for_timeout(100)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    assert syncs, site.meter.hits
    sent = sum(h.request_bytes + h.bytes for h in syncs)
    raw = 0
    for h in syncs:
        body = h.request_body
        raw += len(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        encoding = h.response_headers.get("Content-Encoding")
        answer = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, bytes)(h.response_body)
        raw += len(answer)
    n = len(payloads)
    figure(f"Sync: bytes per visit ({n} visits, request + answer bodies)", f"{sent / n:.0f} B",
           "", None, f"{raw / n:.0f} B uncompressed (x{sent / raw:.2f}); "
           f"{len(syncs)} request(s), Content-Encoding: "
           f"{syncs[0].response_headers.get('Content-Encoding', 'none')} answer")
    site.meter.capture = set()
