"""The county dashboard in a real browser: it loads, the SVG charts and the Leaflet map
render offline (no tile server, no request leaves the app), the score table sorts, and
the console stays clean."""
from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from fieldapp.extensions import db
from fieldapp.models import FirstSecretary

from ..api.scores_helpers import (ballot_answers, close, enter, full_village, make_meeting, run_draw,
                                  vote_all)
from .test_staff_browser import login


def test_dashboard_renders_charts_map_and_sorts(page: Page, live_server, personas):
    run_draw(personas)
    full_village(personas, "a1")
    meeting = make_meeting(personas, "a", {"cadre": 5})
    vote_all(meeting, [("cadre", ballot_answers())] * 5)
    close(meeting)
    enter(personas, "a", 50, 9, 9)
    db.session.add(FirstSecretary(name="书记A2", phone="13900000017", dispatch_level="county",
                                  dispatch_unit="岐山县农业局", village_id=personas.villages["a2"].id,
                                  term_start=date(2025, 1, 1), status="active"))  # incomplete
    db.session.commit()

    problems: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda err: problems.append(f"pageerror: {err}"))
    page.on("console", lambda msg: msg.type == "error"
            and not (msg.location or {}).get("url", "").endswith("/favicon.ico")
            and problems.append(f"console: {msg.text} @ {(msg.location or {}).get('url')}"))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and problems.append(f"HTTP {r.status} {r.url}"))

    def only_the_app(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:  # offline: tiles or CDNs would be a bug (no MAP_TILE_URL in the tests)
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_app)
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server.url, personas.users["staff_a"].phone)
    expect(page).to_have_url(f"{live_server.url}/staff/")
    page.goto(f"{live_server.url}/staff/dashboard")

    expect(page.get_by_test_id("stat-visits")).to_have_text(re.compile(r"^20/\d+$"))
    expect(page.get_by_test_id("stat-meetings")).to_have_text("1/2")
    # The SVG charts, drawn on the server: a bar per village, stacked parts per town.
    expect(page.get_by_test_id("progress-chart").locator("rect").first).to_be_visible()
    expect(page.get_by_test_id("satisfaction-chart").locator("rect.s-satisfied")).to_have_count(1)
    expect(page.get_by_test_id("satisfaction-chart")).to_contain_text("100.0%")
    # Leaflet (vendored) draws the points on its canvas, without tiles.
    map_el = page.get_by_test_id("map")
    expect(map_el).to_have_class("leaflet-container leaflet-touch leaflet-fade-anim leaflet-grab "
                                 "leaflet-touch-drag leaflet-touch-zoom")
    expect(map_el.locator("canvas")).to_have_count(1)
    expect(map_el.locator(".leaflet-tile")).to_have_count(0)
    expect(map_el.locator(".leaflet-control-zoom-in")).to_be_visible()

    # The per-secretary table sorts by a column when its header is clicked.
    table = page.get_by_test_id("score-table")
    total = table.locator("th", has_text="总分")
    rows = table.get_by_test_id("score-row")
    assert rows.count() >= 2  # one graded secretary, the others incomplete
    total.click()
    expect(total).to_have_attribute("aria-sort", "ascending")
    expect(rows.last).to_contain_text("88.00")
    total.click()
    expect(total).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_contain_text("88.00")

    assert outside == []
    assert problems == []
