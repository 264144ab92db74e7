"""Layout problems found in the county-official walkthrough, checked in a real browser:
the public draw page on a 390 px phone (a long seed ran off the screen), and the residency
report's "no village centre" flag (it spilled over the secretary column)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db

from .test_sampling_browser import SEED, staff_login

TIMEOUT = 20_000


def test_public_draw_page_fits_a_phone(page: Page, live_server, personas):
    from fieldapp.services.draws import run_draw

    (draw,) = run_draw(SYSTEM, personas.cycle, personas.counties["a"], SEED + " " + "福彩3D" * 8)
    token = draw.public_token
    page.set_viewport_size({"width": 390, "height": 844})
    # English labels are the long ones ("Households that exited poverty")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/draw/{token}")
    expect(page.get_by_test_id("seed")).to_be_visible(timeout=TIMEOUT)
    card = page.locator("section.card").first.bounding_box()
    for dd in page.locator(".facts dd").all():
        box = dd.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_no_centre_flag_stays_inside_the_village_cell(page: Page, live_server, personas):
    village = personas.villages["a1"]
    village.lat = village.lon = None
    db.session.commit()
    page.set_viewport_size({"width": 1366, "height": 768})
    staff_login(page, live_server.url, personas.users["staff_a"].phone)
    page.goto(f"{live_server.url}/staff/residency/?year=2026&month=3")
    flag = page.locator("table.report-table td .flag").first
    expect(flag).to_be_visible(timeout=TIMEOUT)
    cell = flag.locator("xpath=ancestor::td[1]").bounding_box()
    box = flag.bounding_box()
    assert box["x"] >= cell["x"] - 0.5 and box["x"] + box["width"] <= cell["x"] + cell["width"] + 0.5
