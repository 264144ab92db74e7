"""GET /api/instruments: the questionnaires, for logged-in users."""
from __future__ import annotations


def test_list_and_one(login_as):
    ev = login_as("evaluator_a")
    listed = ev.get("/api/instruments")
    assert listed.status_code == 200
    keys = [(i["id"], i["version"]) for i in listed.get_json()]
    assert ("household_visit", 1) in keys and ("democratic_ballot", 1) in keys
    one = ev.get("/api/instruments/household_visit/1").get_json()
    assert one["title"]["zh"] == "贫困户入户走访问卷"
    assert one["option_sets"]["satisfaction"][3] == {
        "code": "unknown", "label": {"zh": "不了解", "en": "Don't know"}, "value": None}
    assert [i["id"] for i in one["items"]][-1] == "suggestions"
    assert one["items"][-1]["max_length"] == 500 and "min" not in one["items"][-1]


def test_unknown_version_is_404(login_as):
    response = login_as("staff_a").get("/api/instruments/household_visit/99")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_login_required(personas, client):
    assert client.get("/api/instruments").status_code == 401
