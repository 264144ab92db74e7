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

from fieldapp.extensions import db
from fieldapp.models import ClientRecord, SampleEntry, Visit

from ..personas import PASSWORD

TIMEOUT = 20_000


@pytest.fixture
def small_draw(personas):
    """A 3-household sample (+1 reserve) per village, so that a test completes a village."""
    from fieldapp.services.draws import run_draw

    personas.cycle.settings = {"sample_size": 3, "reserve_count": 1}
    db.session.commit()
    run_draw(None, personas.cycle, personas.counties["a"], "browser test seed")
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
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=TIMEOUT)


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
