"""The village centre map page (Leaflet without tiles) and the phone's house finder
offline, in a real Chromium (issue 9)."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Household, SampleEntry, Village

from .test_sampling_browser import staff_login
from .test_visits_offline import TIMEOUT, log_in_and_download, open_village, small_draw  # noqa: F401

METRES_PER_DEG_LAT = 111195


def test_centre_map_page_places_and_saves_the_centre(page: Page, live_server, personas):
    village = db.session.get(Village, personas.villages["a1"].id)
    village.lat = village.lon = village.centre_source = None
    for i, household in enumerate(db.session.scalars(select(Household).where(
            Household.village_id == village.id))):
        household.lat, household.lon = 34.46 + i / 20000, 107.63 + (i % 3) / 20000
    db.session.commit()
    foreign = []
    page.on("request", lambda r: foreign.append(r.url)
            if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)
    staff_login(page, live_server.url, personas.users["staff_a"].phone)

    page.goto(f"{live_server.url}/staff/villages?centre=none")
    row = page.locator(f'[data-testid="village-row"][data-village="{village.code}"]')
    expect(row).to_contain_text("未设置")
    row.get_by_role("link").click()
    expect(page.get_by_test_id("centre-missing")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#centre-map.leaflet-container")).to_be_visible(timeout=TIMEOUT)
    # The households are drawn (as vector markers: no tiles needed) and the marker can move.
    expect(page.locator("#centre-map .leaflet-overlay-pane path")).not_to_have_count(0)
    page.get_by_test_id("use-estimate").click()
    assert abs(float(page.get_by_test_id("centre-lat").input_value()) - 34.4607) < 0.001
    page.wait_for_timeout(600)  # the pan to the estimate ends
    page.locator("#centre-map").scroll_into_view_if_needed()
    box = page.locator("#centre-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)
    clicked = float(page.get_by_test_id("centre-lat").input_value())
    assert clicked > 34.4607  # north-east of the middle: a larger latitude
    marker = page.locator("#centre-map .leaflet-marker-icon")
    mbox = marker.bounding_box()
    x, y = mbox["x"] + mbox["width"] / 2, mbox["y"] + mbox["height"] / 2
    marker.hover()
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x, y + 6 * step)
    page.mouse.up()
    dragged = float(page.get_by_test_id("centre-lat").input_value())
    assert dragged < clicked  # dragged south
    page.get_by_test_id("centre-lat").fill("34.4612")
    page.get_by_test_id("centre-lon").fill("107.6305")
    page.get_by_test_id("centre-radius").fill("800")
    page.get_by_test_id("centre-save").click()
    expect(page.get_by_test_id("centre-value")).to_have_text("34.461200, 107.630500",
                                                             timeout=TIMEOUT)
    expect(page.get_by_test_id("centre-source")).to_have_text("人工设定")
    db.session.expire_all()
    saved = db.session.get(Village, village.id)
    assert (saved.lat, saved.lon, saved.radius_m, saved.centre_source) == (
        34.4612, 107.6305, 800, "staff")
    assert db.session.scalar(select(AuditLog.actor_id).where(
        AuditLog.action == "village.centre")) == personas.users["staff_a"].id
    assert foreign == []  # no tile server, no CDN: everything from this server


def test_house_finder_works_offline(page: Page, context, live_server, small_draw):  # noqa: F811
    personas = small_draw
    village = personas.villages["a1"]
    entries = db.session.scalars(select(SampleEntry).where(
        SampleEntry.village_id == village.id).order_by(SampleEntry.rank)).all()
    homes = {}
    for e in entries:
        household = db.session.get(Household, e.household_id)
        household.lat, household.lon = 34.47 + e.rank / 10000, 107.64
        household.phone = f"1391234{e.rank:04d}"
        homes[e.token] = (household.lat, household.lon)
    db.session.commit()
    first = next(e for e in entries if e.role == "sample")
    reserve = next(e for e in entries if e.role == "reserve")
    log_in_and_download(page, live_server, personas)

    context.set_offline(True)
    lat, lon = homes[first.token]
    context.set_geolocation({"latitude": lat - 320 / METRES_PER_DEG_LAT, "longitude": lon,
                             "accuracy": 12})
    open_village(page, personas)
    page.locator(f'[data-testid="household-row"][data-token="{first.token}"]').click()
    card = page.get_by_test_id("household-card")
    expect(card.get_by_test_id("call-link")).to_have_attribute("href", f"tel:{13912340000 + first.rank}")
    card.get_by_test_id("finder-link").click()
    expect(page.get_by_test_id("finder-distance")).to_have_text("约 320 米", timeout=TIMEOUT)
    expect(page.get_by_test_id("finder-direction")).to_have_text("在你的北方")
    expect(page.get_by_test_id("finder-map").get_by_test_id("finder-me")).to_be_visible()
    expect(page.get_by_test_id("finder-map").get_by_test_id("finder-target")).to_be_visible()
    expect(page.get_by_test_id("call-link")).to_have_attribute(
        "href", re.compile(r"^tel:1391234\d{4}$"))
    # Walking east of the house: the direction turns west, the distance follows.
    context.set_geolocation({"latitude": lat, "longitude": lon + 0.012, "accuracy": 10})
    expect(page.get_by_test_id("finder-direction")).to_have_text("在你的西方", timeout=TIMEOUT)
    expect(page.get_by_test_id("finder-distance")).to_have_text("约 1.1 公里")
    context.set_geolocation({"latitude": lat, "longitude": lon + 0.0001, "accuracy": 5})
    expect(page.get_by_test_id("finder-distance")).to_contain_text("就在附近", timeout=TIMEOUT)
    # Starting the visit from the finder opens the form.
    page.get_by_test_id("finder-start-visit").click()
    expect(page.get_by_test_id("visit-form")).to_be_visible(timeout=TIMEOUT)
    # An unused reserve carries no phone and no home: no call or finder link.
    open_village(page, personas)
    reserve_row = page.locator(f'[data-testid="household-row"][data-token="{reserve.token}"]')
    expect(reserve_row).to_have_attribute("data-status", "reserve_unused")
    page.goto(f"{page.url.split('#')[0]}#/find/{reserve.token}")
    expect(page.get_by_test_id("no-phone")).to_be_visible(timeout=TIMEOUT)
