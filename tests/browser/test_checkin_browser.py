"""A secretary checks in from the phone view while offline; the record survives a reload
(served by the service worker) and reaches the server exactly once, on the right
Asia/Shanghai day."""
from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from fieldapp.domain.residency import local_day, shanghai_today
from fieldapp.extensions import db
from fieldapp.models import CheckIn

from ..personas import PASSWORD

# `personas` (and so the database) comes first in every signature: fixtures are torn down
# in reverse order, so the page closes before the tables are emptied. The other way round,
# the app's background requests could hold locks while PostgreSQL truncates (a deadlock).


def log_in_secretary(page: Page, live_server, personas, path: str = "/") -> None:
    page.goto(f"{live_server.url}{path}")
    page.get_by_test_id("login-phone").fill(personas.users["secretary_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def _checkins() -> list[CheckIn]:
    db.session.rollback()  # see the live server's commits
    return list(db.session.scalars(select(CheckIn)))


def test_offline_checkin_reload_then_sync_exactly_once(personas, live_server, page: Page,
                                                       context: BrowserContext):
    village = personas.villages["a1"]
    context.set_geolocation({"latitude": village.lat + 0.001, "longitude": village.lon,
                             "accuracy": 12})
    log_in_secretary(page, live_server, personas)
    button = page.get_by_test_id("checkin-button")
    expect(button).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Let the worker take control so that the offline reload is served by it.
    page.reload()
    expect(page.get_by_test_id("checkin-button")).to_be_visible()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    expect(page.get_by_test_id("checkin-button")).to_have_attribute("data-done", "true")
    assert _checkins() == []

    response = page.reload()
    assert response is None or response.from_service_worker
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    expect(page.get_by_test_id("checkin-button")).to_have_attribute("data-done", "true")
    assert _checkins() == []

    # Back online. The first answer to the phone is lost (stored on the server, but the
    # connection drops), so the phone must send the same record again: still one row.
    calls = []

    def lose_first_answer(route):
        calls.append(route.request.post_data_json)
        if len(calls) == 1:
            route.fetch()  # the server stores the batch ...
            route.abort("connectionreset")  # ... and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/sync", lose_first_answer)
    context.set_offline(False)
    page.goto(f"{live_server.url}/#/outbox")
    for _ in range(50):
        if calls and len(_checkins()) == 1:
            break
        page.wait_for_timeout(200)
    assert len(_checkins()) == 1  # stored by the first request, whose answer was lost
    page.reload()  # opening the app flushes the outbox again (if no retry did already)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15000)
    assert len(calls) >= 2
    assert calls[0]["records"][0]["uuid"] == calls[-1]["records"][0]["uuid"]
    rows = _checkins()
    assert len(rows) == 1
    stored = rows[0]
    assert stored.day == local_day(stored.at) == shanghai_today()
    assert stored.inside_fence is True and stored.via_qr is False

    # The phone's month shows the day from the server.
    page.goto(f"{live_server.url}/#/checkin")
    expect(page.get_by_test_id("checkin-month")).to_have_attribute("data-days", "1")


def test_poster_link_opens_checkin_marked_as_scan(personas, live_server, page: Page,
                                                  context: BrowserContext):
    village = personas.villages["a1"]
    context.set_geolocation({"latitude": village.lat, "longitude": village.lon, "accuracy": 10})
    log_in_secretary(page, live_server, personas)
    expect(page.get_by_test_id("checkin-button")).to_be_visible()
    page.goto(f"{live_server.url}/#/checkin?v={village.checkin_token}")
    expect(page.get_by_test_id("checkin-scan")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/sync")) as sent:
        page.get_by_test_id("checkin-button").click()  # online: sent at once
    assert sent.value.status == 200
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15000)
    rows = _checkins()
    assert len(rows) == 1 and rows[0].via_qr and rows[0].token_valid


def test_outside_fence_checkin_does_not_count_and_can_be_retried(personas, live_server,
                                                                 page: Page,
                                                                 context: BrowserContext):
    """The month on the phone is the server's count: a check-in 5 km away is stored but
    makes no day and leaves the button usable; a second one in the village counts, also
    while offline (estimated on the phone, shown as waiting to sync)."""
    village = personas.villages["a1"]
    context.set_geolocation({"latitude": village.lat + 0.05, "longitude": village.lon,
                             "accuracy": 15})
    log_in_secretary(page, live_server, personas)
    button = page.get_by_test_id("checkin-button")
    expect(button).to_be_visible()
    expect(page.get_by_test_id("checkin-month")).to_have_attribute("data-server-days", "0")
    with page.expect_response(lambda r: r.url.endswith("/api/sync")) as sent:
        button.click()  # online: sent at once
    assert sent.value.status == 200
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15000)
    expect(button).to_have_attribute("data-today", "not_counted")
    expect(button).to_be_enabled()
    expect(page.get_by_test_id("checkin-geo")).to_contain_text("不在本村范围内")
    expect(page.get_by_test_id("checkin-month")).to_have_attribute("data-days", "0")
    rows = _checkins()
    assert len(rows) == 1 and rows[0].inside_fence is False

    context.set_geolocation({"latitude": village.lat + 0.002, "longitude": village.lon,
                             "accuracy": 20})
    context.set_offline(True)
    button.click()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    expect(button).to_have_attribute("data-today", "pending")
    expect(button).to_be_disabled()
    month = page.get_by_test_id("checkin-month")
    expect(month).to_have_attribute("data-days", "1")
    expect(month).to_have_attribute("data-pending-days", "1")
    expect(month).to_contain_text("本月在村 1 天")

    context.set_offline(False)
    page.reload()
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=15000)
    expect(page.get_by_test_id("checkin-month")).to_have_attribute("data-server-days", "1",
                                                                    timeout=15000)
    expect(page.get_by_test_id("checkin-month")).to_have_attribute("data-pending-days", "0")
    expect(page.get_by_test_id("checkin-button")).to_have_attribute("data-today", "counted")
    rows = _checkins()
    assert sorted(r.inside_fence for r in rows) == [False, True]
    assert {r.day for r in rows} == {shanghai_today()}


def test_leave_fields_are_marked_required_and_toasts_leave_no_text(personas, live_server,
                                                                   page: Page,
                                                                   context: BrowserContext):
    village = personas.villages["a1"]
    context.set_geolocation({"latitude": village.lat, "longitude": village.lon, "accuracy": 12})
    log_in_secretary(page, live_server, personas)
    form = page.get_by_test_id("leave-form")
    expect(form.locator(".req")).to_have_count(3)
    page.get_by_test_id("checkin-button").click()
    toast = page.locator("#toast")
    expect(toast).not_to_have_text("")
    # Once it fades, nothing is left for screen readers or page text.
    expect(toast).to_have_text("", timeout=8000)
