"""Every route, asked anonymously: only the public ones answer 200; none answers 5xx."""
from __future__ import annotations

import re

# Endpoints meant for anyone: the app shell, login, the public draw record and ballots.
PUBLIC = {
    "pwa.index", "pwa.service_worker", "pwa.manifest", "pwa.asset", "pwa.favicon", "static",
    "web.login", "web.set_language", "auth.Csrf", "roster.RosterTemplate",
    "api-docs.openapi_json", "meetings_web.ballot_page",
}


def _url(rule) -> str:
    def fill(match):
        converter = match.group(1) or ""
        return "1" if converter.startswith("int") else "x"
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def test_anonymous_requests(app, client, personas):
    opened = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = _url(rule)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code == 200:
            opened.append(rule.endpoint)
            assert rule.endpoint in PUBLIC, f"{url} ({rule.endpoint}) answers anonymous users"
        response.close()
    assert "web.login" in opened


def test_anonymous_writes_are_refused(app, client, personas):
    from .. import personas as P
    token = P.csrf_token(client)
    for rule in app.url_map.iter_rules():
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            url = _url(rule)
            response = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
            assert response.status_code < 500, (method, url, response.status_code)
            if response.status_code < 300:
                # Only logging in/out and casting a ballot (with a real slip) may succeed.
                assert rule.endpoint in {"auth.Login", "auth.Logout", "web.logout"}, (method, url)


def test_what_a_secretary_can_open(app, login_as, personas):
    """A secretary reaches their own residency, leave and final score, never household-level
    data (visits, samples, households, ballots) nor staff pages."""
    secretary = login_as("secretary_a")
    allowed = PUBLIC | {
        "auth.Me", "geography.Counties", "geography.Villages", "geography.VillageItem",
        "roster.Secretaries", "checkins.MyMonth", "checkins.CheckIns", "checkins.Leave",
        "checkins.LeaveList", "scores.MyScores", "scores.Mine", "instruments.Instruments",
        "checkins.SecretaryMonth",  # their own month (secretary a has id 1 here)
        "instruments.Instrument", "cycles.Cycles", "cycles.CycleItem",
        "web.change_password",  # their own password
    }
    opened = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = _url(rule).replace("/1", f"/{personas.villages['a1'].id}")
        response = secretary.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code == 200:
            opened.add(rule.endpoint)
        response.close()
    assert opened <= allowed, sorted(opened - allowed)
    assert "checkins.MyMonth" in opened


def test_what_an_evaluator_can_open(app, login_as, personas):
    """An evaluator reaches their tasks, instruments, own visits and assigned villages; no
    scores, residency, meetings, accounts or staff pages."""
    evaluator = login_as("evaluator_a")
    opened = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        response = evaluator.get(_url(rule).replace("/1", f"/{personas.villages['a1'].id}"))
        assert response.status_code < 500, (rule.rule, response.status_code)
        if response.status_code == 200:
            opened.add(rule.endpoint)
        response.close()
    forbidden_areas = ("scores", "residency", "meetings", "users", "dashboard", "checkins.", "audit",
                       "web.staff_home", "web.roster_import_page")
    leaked = sorted(e for e in opened if e.startswith(forbidden_areas) and e not in PUBLIC)
    assert not leaked, leaked
    assert "auth.Me" in opened
