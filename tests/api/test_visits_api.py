"""GET /api/visits and /api/visits/<id>, the staff page /staff/visits: scoping and flags."""
from __future__ import annotations

from .visit_helpers import a1, drawn, ev, record, sync, tokens, visit_payload  # noqa: F401


def _store(client, village, n=0, **kwargs):
    response = sync(client, record(visit_payload(tokens(village)[n], village, n, **kwargs)))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]["id"]


def test_staff_list_scoped_to_county(login_as, ev, drawn):
    _store(ev, a1(drawn), 0)
    _store(ev, a1(drawn), 1, accuracy=0)
    _store(login_as("evaluator_b"), drawn.villages["b1"], 0)
    staff_a = login_as("staff_a").get("/api/visits").get_json()
    assert staff_a["total"] == 2
    assert {v["village_code"] for v in staff_a["items"]} == {a1(drawn).code}
    staff_b = login_as("staff_b").get("/api/visits").get_json()
    assert staff_b["total"] == 1
    assert a1(drawn).code not in {v["village_code"] for v in staff_b["items"]}
    assert login_as("admin").get("/api/visits").get_json()["total"] == 3


def test_flags_shown_and_filtered(login_as, ev, drawn):
    plain = _store(ev, a1(drawn), 0)
    mocked = _store(ev, a1(drawn), 1, accuracy=0)
    staff = login_as("staff_a")
    flagged = staff.get("/api/visits?flag=zero_accuracy").get_json()
    assert [v["id"] for v in flagged["items"]] == [mocked]
    flag = flagged["items"][0]["flags"][0]
    assert flag["code"] == "zero_accuracy" and flag["label"] == "定位精度为 0"
    assert "模拟定位" in flag["message"]
    english = staff.get("/api/visits?flag=zero_accuracy&lang=en").get_json()["items"][0]["flags"][0]
    assert english["label"] == "Zero accuracy" and "mock location" in english["message"]
    assert [v["id"] for v in staff.get("/api/visits?flagged=false").get_json()["items"]] == [plain]
    assert [v["id"] for v in staff.get("/api/visits?flagged=true").get_json()["items"]] == [mocked]
    by_village = staff.get(f"/api/visits?village_id={drawn.villages['a2'].id}").get_json()
    assert by_village["total"] == 0
    assert staff.get("/api/visits?flag=nonsense").status_code == 422


def test_detail_has_answers_note_and_geotags(login_as, ev, drawn):
    visit_id = _store(ev, a1(drawn), 0)
    detail = login_as("staff_a").get(f"/api/visits/{visit_id}").get_json()
    assert detail["answers"]["overall_satisfaction"] == "satisfied"
    assert detail["note"] == "户主在家，反映第一书记常来。"
    assert detail["geo_start"]["lat"] == detail["geo_end"]["lat"] == a1(drawn).lat
    assert detail["duration_min"] == 10.0 and detail["flags"] == []
    assert detail["head_name"].startswith("户主")
    assert login_as("staff_b").get(f"/api/visits/{visit_id}").status_code == 403
    assert login_as("staff_a").get("/api/visits/999999").status_code == 404


def test_evaluators_see_only_their_own(login_as, ev, drawn):
    visit_id = _store(ev, a1(drawn), 0)
    assert ev.get("/api/visits").get_json()["total"] == 1
    assert ev.get(f"/api/visits/{visit_id}").status_code == 200
    other = login_as("evaluator_b")
    assert other.get("/api/visits").get_json()["total"] == 0
    assert other.get(f"/api/visits/{visit_id}").status_code == 403


def test_secretaries_never(login_as, ev, drawn):
    visit_id = _store(ev, a1(drawn), 0)
    sec = login_as("secretary_a")  # the secretary of this very village
    assert sec.get("/api/visits").status_code == 403
    assert sec.get(f"/api/visits/{visit_id}").status_code == 403
    assert sec.get("/staff/visits").status_code == 403


def test_anonymous(personas, client):
    assert client.get("/api/visits").status_code == 401


def test_staff_page_lists_visits_with_flags(login_as, ev, drawn):
    visit_id = _store(ev, a1(drawn), 1, accuracy=0)
    staff = login_as("staff_a")
    page = staff.get("/staff/visits")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "入户走访" in html and 'data-testid="flag-zero_accuracy"' in html
    assert "定位精度为 0" in html and a1(drawn).name in html
    filtered = staff.get("/staff/visits?flag=short_visit").get_data(as_text=True)
    assert 'data-testid="visit-empty"' in filtered
    detail = staff.get(f"/staff/visits/{visit_id}").get_data(as_text=True)
    assert "总体满意度" in detail and "满意" in detail and "模拟定位" in detail
    assert login_as("staff_b").get("/staff/visits").get_data(as_text=True).count('data-testid="visit-row"') == 0
    assert login_as("staff_b").get(f"/staff/visits/{visit_id}").status_code == 403
    home = staff.get("/staff/").get_data(as_text=True)
    assert "/staff/visits" in home
