"""The evaluator's screens on the narrowest phones (320x568): nothing overlaps, no
number breaks in the middle, every tap target is at least 44 px, a vague position is a
warning, and a refused save puts the focus on the first answer to correct."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from fieldapp.policy import SYSTEM

from ..personas import PASSWORD
from .test_visits_offline import TIMEOUT, open_village, sample_tokens

LONG_VILLAGE = "东风南坡第二村民小组联合行政村"
LONG_HEAD = "欧阳司马慕容Abdurahmanovich"


@pytest.fixture
def small_draw(personas):
    from fieldapp.extensions import db
    from fieldapp.services.draws import run_draw

    personas.cycle.settings = {"sample_size": 3, "reserve_count": 2}
    db.session.commit()
    run_draw(SYSTEM, personas.cycle, personas.counties["a"], "layout test seed")
    return personas


def lengthen_names(route):
    """The phone as it would be with a long village name and long household heads."""
    response = route.fetch()
    data = response.json()
    for village in data["villages"]:
        village["name"] = LONG_VILLAGE + village["name"]
        for h in village["households"]:
            h["head_name"] = LONG_HEAD + h["head_name"]
    route.fulfill(response=response, json=data)


def log_in(page: Page, live_server, personas, *, long_names=False) -> None:
    page.set_viewport_size({"width": 320, "height": 568})
    if long_names:
        page.route("**/api/tasks", lengthen_names)
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("login-phone").fill(personas.users["evaluator_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("download-tasks").click()
    expect(page.get_by_test_id("village-row")).to_have_count(1, timeout=TIMEOUT)


ROW_GEOMETRY = """() => [...document.querySelectorAll('[data-testid=household-row]')].map((row) => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const no = row.querySelector('[data-testid=household-no]');
  return {
    title: box(row.querySelector('.row-title')),
    badges: [...row.querySelectorAll('.badge')].map(box),
    noLines: no.getClientRects().length,
    noHeight: no.getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(no).lineHeight),
    overflow: row.scrollWidth - row.clientWidth,
  };
})"""


def overlaps(a, b) -> bool:
    return a["l"] < b["r"] - 0.5 and b["l"] < a["r"] - 0.5 and a["t"] < b["b"] - 0.5 and b["t"] < a["b"] - 0.5


def test_household_rows_at_320px_keep_numbers_whole_and_badges_clear(page: Page, live_server,
                                                                      small_draw):
    log_in(page, live_server, small_draw, long_names=True)
    open_village(page, small_draw)
    rows = page.evaluate(ROW_GEOMETRY)
    assert len(rows) == 5
    for row in rows:
        assert row["overflow"] <= 0, row
        # 户编号 6103…: one line, never split inside the 16-digit number.
        assert row["noLines"] == 1 and row["noHeight"] < 1.5 * row["lineHeight"], row
        for badge in row["badges"]:
            assert not overlaps(row["title"], badge), row
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0

    page.locator('[data-testid="household-row"]').first.click()
    expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
    card = page.get_by_test_id("household-card")
    no = card.get_by_test_id("household-no")
    assert no.evaluate("(el) => el.getClientRects().length") == 1
    assert card.evaluate("(el) => el.scrollWidth - el.clientWidth") <= 0
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


SMALL_TARGETS = """() => [...document.querySelectorAll('a, button, label.choice')]
  .filter((el) => el.offsetParent !== null && !el.closest('[hidden]'))
  .map((el) => { const r = el.getBoundingClientRect();
                 return {text: el.textContent.trim().slice(0, 20), w: Math.round(r.width), h: Math.round(r.height)}; })
  .filter((x) => x.w < 44 || x.h < 44)"""


def test_every_tap_target_is_at_least_44px(page: Page, live_server, small_draw):
    log_in(page, live_server, small_draw)
    base = page.url.split("#")[0]
    for hash_, ready in (("#/tasks", "village-list"), (f"#/village/{small_draw.villages['a1'].code}", "sample-list"),
                         ("#/outbox", "sync-now"), ("#/settings", "logout")):
        page.goto(f"{base}{hash_}")
        expect(page.get_by_test_id(ready)).to_be_visible(timeout=TIMEOUT)
        assert page.evaluate(SMALL_TARGETS) == [], hash_
    token = sample_tokens(small_draw)[0]
    page.goto(f"{base}#/visit/{token}")
    expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
    assert page.evaluate(SMALL_TARGETS) == []


def test_a_vague_position_is_a_warning_with_retry(page: Page, context, live_server, small_draw):
    village = small_draw.villages["a1"]
    context.set_geolocation({"latitude": village.lat, "longitude": village.lon, "accuracy": 180})
    log_in(page, live_server, small_draw)
    token = sample_tokens(small_draw)[0]
    page.goto(f"{page.url.split('#')[0]}#/visit/{token}")
    status = page.get_by_test_id("geo-status")
    expect(status).to_have_attribute("data-state", "poor", timeout=TIMEOUT)
    expect(page.get_by_test_id("geo-box")).to_have_class("geo card geo-warn")
    expect(page.get_by_test_id("geo-retry")).to_be_visible()
    context.set_geolocation({"latitude": village.lat, "longitude": village.lon, "accuracy": 12})
    page.get_by_test_id("geo-retry").click()
    expect(status).to_have_attribute("data-state", "ok", timeout=TIMEOUT)
    expect(page.get_by_test_id("geo-box")).to_have_class("geo card")


def test_refused_save_focuses_the_first_answer_to_correct(page: Page, live_server, small_draw):
    log_in(page, live_server, small_draw)
    token = sample_tokens(small_draw)[0]
    page.goto(f"{page.url.split('#')[0]}#/visit/{token}")
    expect(page.get_by_test_id("geo-status")).to_have_attribute("data-state", "ok", timeout=TIMEOUT)
    page.get_by_test_id("visit-save").click()
    expect(page.get_by_test_id("error-visited_home")).to_be_visible()
    assert page.evaluate("document.activeElement.name") == "visited_home"
    # Answer it; the next refusal lands on the next one left open.
    page.get_by_test_id("option-visited_home-satisfied").check()
    page.get_by_test_id("visit-save").click()
    assert page.evaluate("document.activeElement.name") == "assistance_satisfaction"
