"""No internal code reaches a staff screen (issue 9 §7): every staff page of the demo's
岐山县, rendered as staff and as the admin, and scanned for snake_case codes in the text a
person reads (text nodes and the titles, labels and placeholders of controls). The phone's
screens are scanned the same way in tests/browser/test_words_not_codes_browser.py."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from fieldapp.models import (Draw, EvaluatorAssignment, FirstSecretary, Meeting, User, Village,
                             VillageDraw, Visit)
from fieldapp.services import demo

from ..personas import csrf_token
from .test_demo import SMALL

CODE = re.compile(r"(?<![\w./=:#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.=(-])")
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (
                    name == "value" and dict(attrs).get("type") in ("submit", "button"))):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def codes_in(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return set(CODE.findall(" ".join(parser.parts)))


def test_the_scanner_finds_codes_and_ignores_markup():
    assert codes_in("<p>Flags: outside_fence 72, no_location 46</p>") == {"outside_fence",
                                                                         "no_location"}
    assert codes_in('<button title="internal_error">x</button>') == {"internal_error"}
    assert codes_in('<div data-x="outside_fence" class="s-basically_satisfied">村外</div>'
                    '<script>const a_b = 1;</script>') == set()


def _login(app, phone: str):
    client = app.test_client()
    response = client.post("/api/auth/login", json={"phone": phone, "password": demo.DEMO_PASSWORD},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 200
    return client


def _ids(db) -> dict[str, int]:
    first = lambda model: db.session.scalar(select(model.id).order_by(model.id))  # noqa: E731
    county_draw = db.session.scalar(select(Draw.id).order_by(Draw.id))
    return {"village_id": first(Village), "draw_id": county_draw,
            "village_draw_id": first(VillageDraw), "cycle_id": db.session.scalar(
                select(Draw.cycle_id).where(Draw.id == county_draw)),
            "meeting_id": first(Meeting), "secretary_id": first(FirstSecretary),
            "visit_id": first(Visit), "assignment_id": first(EvaluatorAssignment),
            "user_id": first(User)}


def test_staff_pages_show_words_not_codes(app, db):
    demo.build_demo(**SMALL)
    # A village without a centre: the dashboard lists it, its map page says so.
    village = db.session.scalar(select(Village).join(VillageDraw).order_by(Village.code))
    village.lat = village.lon = village.centre_source = None
    db.session.commit()
    ids = _ids(db)
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith(("/staff", "/sampling", "/draw/")):
            continue
        if rule.rule.startswith("/draw/") or rule.rule.endswith((".csv", ".xlsx", ".json")):
            continue  # the public page (helper-owned) and downloads
        if set(rule.arguments) - set(ids):
            continue
        pages.append(rule.rule.replace("<int:", "<").format_map({}) if False else
                     re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule))
    assert len(pages) >= 25, pages
    found: dict[str, set[str]] = {}
    for phone in ("13800000001", "13800000000"):  # county staff, the admin
        client = _login(app, phone)
        for url in pages:
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            hits = codes_in(response.get_data(as_text=True))
            if hits:
                found[f"{phone} {url}"] = hits
    assert found == {}
