"""The county dashboard: progress, flags, scores, charts, map data; scoped to the county."""
from __future__ import annotations

import json
import re

from fieldapp.services.dashboard import county_dashboard, county_overview

from .scores_helpers import ballot_answers, close, full_village, make_meeting, run_draw, vote_all


def test_overview_still_works(personas):
    assert county_overview(personas.users["staff_a"]) == {"villages": 2, "households": 42, "secretaries": 1}


def test_dashboard_numbers(personas):
    run_draw(personas)
    full_village(personas, "a1", n=10)
    m = make_meeting(personas, "a", {"cadre": 5})
    vote_all(m, [("cadre", ballot_answers())] * 5)
    close(m)
    data = county_dashboard(personas.users["staff_a"], personas.cycle, personas.counties["a"].id)
    p = data["progress"]
    assert (p["villages"], p["villages_drawn"]) == (2, 2)
    assert (p["visits_done"], p["visits_target"]) == (10, 32)  # 20 + 12 (a census)
    assert (p["meetings_held"], p["secretaries"]) == (1, 1)
    town = data["satisfaction"][0]
    assert town["share"] == 1.0 and town["parts"][0]["pct"] == 100.0
    assert len([pt for pt in data["map"]["points"] if pt["kind"] == "visit"]) == 10
    row = data["results"]["rows"][0]
    assert row["mass_evaluation"] is None and row["n_visits"] == 10


def test_dashboard_page(personas, login_as):
    run_draw(personas)
    full_village(personas, "a1", n=3)
    staff = login_as("staff_a")
    for url in ("/staff/", "/staff/dashboard"):
        response = staff.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'data-testid="stat-visits">3/32<' in html
        assert 'data-testid="satisfaction-chart"' in html and "<svg" in html
        assert re.search(r"/vendor/leaflet/leaflet\.[0-9a-f]{12}\.js", html)
        assert re.search(r"/static/dashboard\.[0-9a-f]{12}\.js", html)
        assert "MAP_TILE_URL" in html  # no tiles configured: plain background note
        data = json.loads(re.search(r'<script type="application/json" id="map-data">(.*?)</script>',
                                    html, re.S).group(1))
        assert len(data["points"]) == 3
        assert 'data-testid="score-row"' in html and "不完整" in html
    vendored = staff.get("/vendor/leaflet/leaflet.js")
    assert vendored.status_code == 200
    vendored.close()


def test_dashboard_scope(personas, login_as):
    a = personas.counties["a"].id
    assert login_as("staff_b").get(f"/staff/dashboard?county_id={a}").status_code == 403
    assert login_as("admin").get(f"/staff/dashboard?county_id={a}").status_code == 200
    assert login_as("evaluator_a").get("/staff/dashboard").status_code == 403
    assert login_as("secretary_a").get("/staff/dashboard").status_code == 403
    assert login_as("staff_a").get("/staff/scores").status_code == 200
    assert login_as("staff_b").get(f"/staff/scores?county_id={a}").status_code == 403


def test_admin_lands_on_the_cycle_county(app, db, personas, login_as):
    from fieldapp.models import Cycle
    # Make the only open cycle a county b cycle: the admin's dashboard opens on county b.
    cycle = db.session.get(Cycle, personas.cycle.id)
    cycle.county_id = personas.counties["b"].id
    db.session.commit()
    html = login_as("admin").get("/staff/").get_data(as_text=True)
    assert "工作台 · 眉县" in html
