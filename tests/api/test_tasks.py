"""GET /api/tasks: the evaluator's offline download (contract in docs/architecture.md)."""
from __future__ import annotations

from fieldapp.extensions import db
from fieldapp.models import Cycle, Household

from .sampling_support import draw_county, entries, replacement_record, sync

HOUSEHOLD_KEYS = {"token", "household_no", "head_name", "family_size", "rank", "role", "status",
                  "returned"}
FINDER_KEYS = HOUSEHOLD_KEYS | {"phone", "home"}  # the households to find: samples, active reserves


def test_tasks_contract(login_as, personas):
    draw_id = draw_county(login_as, personas)
    a1 = personas.villages["a1"]
    hh = db.session.get(Household, entries(draw_id, a1.id)[0].household_id)
    hh.id_number, hh.phone = "610323199001011234", "13912345678"
    reserve = db.session.get(Household, entries(draw_id, a1.id, "reserve")[0].household_id)
    reserve.phone = "13987654321"
    db.session.commit()
    response = login_as("evaluator_a").get("/api/tasks")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"generated_at", "villages", "instruments"}
    [village] = body["villages"]
    assert village["code"] == a1.code and village["name"] == a1.name
    assert village["town"] and village["county"] == personas.counties["a"].name
    assert village["centre"] == {"lat": a1.lat, "lon": a1.lon} and village["radius_m"] == 1000
    assert village["cycle"] == {"id": personas.cycle.id, "year": 2026}
    assert village["draw"]["id"] == draw_id and village["draw"]["seed"]
    assert village["draw"]["complete_census"] is False and village["draw"]["seed_recorded_at"]
    households = village["households"]
    assert len(households) == 25  # sample + reserves, never the unused
    assert all(set(h) == (FINDER_KEYS if h["role"] == "sample" else HOUSEHOLD_KEYS)
               for h in households)
    assert [h["rank"] for h in households] == list(range(1, 26))
    assert [h["role"] for h in households] == ["sample"] * 20 + ["reserve"] * 5
    assert {h["status"] for h in households} == {"pending", "reserve_unused"}
    text = response.get_data(as_text=True)
    # The sampled household's phone (to make an appointment), never an unused reserve's,
    # never an ID number.
    assert households[0]["phone"] == "13912345678"
    assert "610323199001011234" not in text and "13987654321" not in text
    assert {(i["id"], i["version"]) for i in body["instruments"]} >= {("household_visit", 1)}


def test_tasks_only_assigned_villages_with_an_active_draw(login_as, personas):
    # Assigned before the draw: listed as not drawn yet (尚未抽样), with no households.
    [waiting] = login_as("evaluator_a").get("/api/tasks").get_json()["villages"]
    assert waiting["code"] == personas.villages["a1"].code
    assert waiting["draw"] is None and waiting["households"] == []
    draw_county(login_as, personas, "a")
    draw_county(login_as, personas, "b", seed="眉县")
    codes = [v["code"] for v in login_as("evaluator_a").get("/api/tasks").get_json()["villages"]]
    assert codes == [personas.villages["a1"].code]  # not a2 (unassigned), not county B
    codes_b = [v["code"] for v in login_as("evaluator_b").get("/api/tasks").get_json()["villages"]]
    assert codes_b == [personas.villages["b1"].code]


def test_tasks_follow_statuses_and_drop_voided_or_finalised(login_as, personas):
    draw_id = draw_county(login_as, personas)
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    sync(login_as("evaluator_a"), replacement_record(sample[0].token))
    households = login_as("evaluator_a").get("/api/tasks").get_json()["villages"][0]["households"]
    by_rank = {h["rank"]: h["status"] for h in households}
    assert by_rank[1] == "unreachable" and by_rank[21] == "reserve_active" and by_rank[22] == "reserve_unused"

    login_as("admin").post(f"/api/draws/{draw_id}/void", json={"reason": "test"})
    [voided] = login_as("evaluator_a").get("/api/tasks").get_json()["villages"]
    assert voided["draw"] is None and voided["households"] == []
    draw_county(login_as, personas, seed="new seed")
    assert len(login_as("evaluator_a").get("/api/tasks").get_json()["villages"]) == 1
    cycle = db.session.get(Cycle, personas.cycle.id)
    cycle.status = "finalised"
    db.session.commit()
    assert login_as("evaluator_a").get("/api/tasks").get_json()["villages"] == []


def test_tasks_are_for_evaluators_only(login_as, personas):
    for who in ("staff_a", "admin", "secretary_a"):
        assert login_as(who).get("/api/tasks").status_code == 403
    assert personas.anonymous().get("/api/tasks").status_code == 401
