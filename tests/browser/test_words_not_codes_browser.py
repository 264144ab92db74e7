"""The phone's screens show words, never internal codes (issue 9 §7): every evaluator and
secretary screen is rendered in Chromium and its visible text scanned for snake_case
codes, including a sync the server answered with `internal_error` and a village that is
not drawn yet."""
from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect
from fieldapp.extensions import db
from fieldapp.models import EvaluatorAssignment, Village

from ..personas import PASSWORD
from .test_visits_offline import (TIMEOUT, open_village, record_visit, sample_tokens,  # noqa: F401
                                  small_draw, wait_for_controller)

CODE = re.compile(r"(?<![\w./=:#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.=(-])")
INTERNAL_ERROR = json.dumps({"code": "internal_error", "status": 500,
                             "message": "Internal server error.", "errors": {}})


def shown_codes(page: Page) -> set[str]:
    text = page.evaluate("() => document.body.innerText")
    return set(CODE.findall(text))


def visit_screen(page: Page, hash_: str, ready: str) -> set[str]:
    page.goto(f"{page.url.split('#')[0]}{hash_}")
    expect(page.get_by_test_id(ready).first).to_be_visible(timeout=TIMEOUT)
    return shown_codes(page)


def test_evaluator_screens_show_no_codes(page: Page, context, live_server, small_draw):  # noqa: F811
    personas = small_draw
    a1 = personas.villages["a1"]
    late = Village(town_id=a1.town_id, county_id=a1.county_id, code="610323100009", name="新增村",
                   lat=a1.lat, lon=a1.lon)
    db.session.add(late)
    db.session.flush()
    db.session.add(EvaluatorAssignment(cycle_id=personas.cycle.id,
                                       user_id=personas.users["evaluator_a"].id, village_id=late.id))
    db.session.commit()
    token = sample_tokens(personas)[0]
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("login-phone").fill(personas.users["evaluator_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("download-tasks").click()
    expect(page.get_by_test_id("village-row")).to_have_count(2, timeout=TIMEOUT)
    wait_for_controller(page)
    found = {}
    found["tasks"] = shown_codes(page)
    expect(page.get_by_test_id("village-not-drawn")).to_have_count(1)
    found["not drawn"] = visit_screen(page, "#/village/610323100009", "village-not-drawn")
    open_village(page, personas)
    found["village"] = shown_codes(page)
    found["visit"] = visit_screen(page, f"#/visit/{token}", "visit-form")
    found["finder"] = visit_screen(page, f"#/find/{token}", "finder-card")
    found["settings"] = visit_screen(page, "#/settings", "settings-user")

    # A visit waiting, and the server failing with internal_error: the outbox says why in words.
    context.set_offline(True)
    open_village(page, personas)
    record_visit(page, context, personas, token, 0)
    page.route("**/api/sync", lambda route: route.fulfill(
        status=500, content_type="application/json", body=INTERNAL_ERROR))
    context.set_offline(False)
    page.goto(f"{page.url.split('#')[0]}#/outbox")
    page.get_by_test_id("sync-now").click()
    result = page.get_by_test_id("sync-result")
    expect(result).to_contain_text("服务器暂时出了问题", timeout=TIMEOUT)
    found["outbox after a server error"] = shown_codes(page)
    assert {k: v for k, v in found.items() if v} == {}


def test_secretary_screens_show_no_codes(page: Page, context, live_server, personas):
    village = db.session.get(Village, personas.villages["a1"].id)
    village.lat = village.lon = village.centre_source = None  # kept, judged later
    db.session.commit()
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("login-phone").fill(personas.users["secretary_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("checkin-button")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("checkin-month")).to_be_visible(timeout=TIMEOUT)
    page.get_by_test_id("checkin-button").click()
    # Stored in the outbox first (the fix may take a while), then synced: the count is
    # already 0 before the click, so it alone says nothing.
    expect(page.get_by_test_id("checkin-button")).not_to_have_attribute(
        "data-today", "none", timeout=TIMEOUT)
    expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)
    page.reload()
    line = page.get_by_test_id("checkin-geo")
    expect(line).to_contain_text("无需重打", timeout=TIMEOUT)
    expect(line).to_have_attribute("data-waiting", "true")
    found = {"checkin": shown_codes(page)}
    found["outbox"] = visit_screen(page, "#/outbox", "sync-now")
    assert {k: v for k, v in found.items() if v} == {}
