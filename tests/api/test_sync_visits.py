"""The `visit` sync record type: idempotency, conflicts, all-or-nothing batches, validation
from the instrument, scoping, and the quality flags."""
from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldapp.extensions import db
from fieldapp.models import ClientRecord, EvaluatorAssignment, SampleEntry, Visit

from ..personas import make_user
from .visit_helpers import (BASE, a1, drawn, entries, ev, iso, record, sync,  # noqa: F401
                            tokens, visit_payload)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def flags_of(uuid: str) -> list[str]:
    db.session.expire_all()
    visit = db.session.scalar(select(Visit).where(Visit.client_uuid == uuid))
    return [f["code"] for f in visit.flags]


def test_visit_stored_with_geotag(ev, drawn):
    token = tokens(a1(drawn))[0]
    rec = record(visit_payload(token, a1(drawn)))
    response = sync(ev, rec, device_sent_at=iso(datetime.now(timezone.utc)))
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["results"][0]
    assert result["status"] == "stored" and result["uuid"] == rec["uuid"]
    assert result["data"]["flags"] == []
    visit = db.session.get(Visit, result["id"])
    assert visit.client_uuid == rec["uuid"]
    assert (visit.instrument_id, visit.instrument_version) == ("household_visit", 1)
    assert visit.answers["overall_satisfaction"] == "satisfied"
    assert visit.note == "户主在家，反映第一书记常来。"
    assert visit.lat == pytest.approx(a1(drawn).lat) and visit.accuracy_m == 12.0
    assert visit.geo_start["lat"] == pytest.approx(a1(drawn).lat)
    assert visit.geo_end["at"] == "2026-03-10T01:10:00+00:00"
    assert visit.started_at == BASE and visit.ended_at == BASE + timedelta(minutes=10)
    assert visit.evaluator_id == drawn.users["evaluator_a"].id
    assert visit.cycle_id == drawn.cycle.id and visit.village_id == a1(drawn).id
    assert visit.geo_error is None and visit.flags == []
    assert db.session.get(SampleEntry, visit.sample_entry_id).status == "visited"


def test_replay_is_duplicate_and_still_one_row(ev, drawn):
    rec = record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))
    first = sync(ev, rec).get_json()["results"][0]
    again = sync(ev, rec)
    assert again.status_code == 200
    assert again.get_json()["results"][0] == {"uuid": rec["uuid"], "status": "duplicate",
                                              "id": first["id"]}
    assert count(Visit) == 1 and count(ClientRecord) == 1


def test_same_uuid_other_content_is_a_conflict(ev, drawn):
    rec = record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))
    assert sync(ev, rec).status_code == 200
    changed = copy.deepcopy(rec)
    changed["payload"]["note"] = "改过的记录"
    response = sync(ev, changed)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "sync_batch_rejected"
    assert body["results"][0]["status"] == "conflict"
    assert count(Visit) == 1
    assert db.session.scalar(select(Visit.note)) == "户主在家，反映第一书记常来。"


def test_partial_invalid_batch_stores_nothing_then_valid_ones_go_through(ev, drawn):
    t = tokens(a1(drawn))
    good1 = record(visit_payload(t[0], a1(drawn), 0))
    bad_payload = visit_payload(t[1], a1(drawn), 1)
    del bad_payload["answers"]["overall_satisfaction"]
    bad = record(bad_payload)
    good2 = record(visit_payload(t[2], a1(drawn), 2))
    response = sync(ev, good1, bad, good2)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "sync_batch_rejected" and "server_time" in body
    statuses = [(r["uuid"], r["status"]) for r in body["results"]]
    assert statuses == [(good1["uuid"], "pending"), (bad["uuid"], "rejected"),
                        (good2["uuid"], "pending")]
    assert list(body["results"][1]["errors"]) == ["answers.overall_satisfaction"]
    assert "id" not in body["results"][0]
    assert count(Visit) == 0 and count(ClientRecord) == 0
    assert {e.status for e in entries(a1(drawn))} == {"pending"}

    again = sync(ev, good1, good2)
    assert again.status_code == 200, again.get_json()
    assert [r["status"] for r in again.get_json()["results"]] == ["stored", "stored"]
    assert count(Visit) == 2


def test_errors_are_chinese_by_default_and_english_on_request(ev, drawn):
    payload = visit_payload(tokens(a1(drawn))[0], a1(drawn))
    payload["answers"]["overall_satisfaction"] = "great"
    zh = sync(ev, record(payload)).get_json()["results"][0]["errors"]
    assert zh["answers.overall_satisfaction"][0].startswith("请选择")
    en = ev.client.post("/api/sync?lang=en", json={"records": [record(payload)]},
                        headers={"X-CSRFToken": ev.csrf_token}).get_json()
    assert en["results"][0]["errors"]["answers.overall_satisfaction"] == [
        "Choose one of: satisfied, basically_satisfied, dissatisfied, unknown."]


def test_answers_validated_from_the_instrument(ev, drawn):
    payload = visit_payload(tokens(a1(drawn))[0], a1(drawn))
    payload["answers"].update(visited_home="great", respondent_family_members=0, bogus="x",
                              suggestions="字" * 501)
    result = sync(ev, record(payload)).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert set(result["errors"]) == {"answers.visited_home", "answers.respondent_family_members",
                                     "answers.bogus", "answers.suggestions"}


def test_payload_schema_errors(ev, drawn):
    payload = visit_payload(tokens(a1(drawn))[0], a1(drawn))
    payload.update(started_at="yesterday", geo_error="sleepy", extra=1)
    payload["geo_end"]["lat"] = 123
    result = sync(ev, record(payload)).get_json()["results"][0]
    assert set(result["errors"]) == {"started_at", "geo_error", "extra", "geo_end.lat"}


def test_unknown_instrument_or_version_is_rejected(ev, drawn):
    t = tokens(a1(drawn))
    v9 = sync(ev, record(visit_payload(t[0], a1(drawn), instrument_version=9)))
    assert v9.status_code == 422
    errors = v9.get_json()["results"][0]["errors"]
    assert list(errors) == ["instrument_version"] and "1" in errors["instrument_version"][0]
    other = sync(ev, record(visit_payload(t[0], a1(drawn), instrument_id="made_up")))
    assert list(other.get_json()["results"][0]["errors"]) == ["instrument_id"]
    assert count(Visit) == 0


def test_older_version_still_accepted(ev, drawn, app, tmp_path, monkeypatch):
    shutil.copy(SCHEMAS / "household_visit.v1.json", tmp_path)
    v2 = json.loads((SCHEMAS / "household_visit.v1.json").read_text(encoding="utf-8"))
    v2["version"] = 2
    v2["items"].append({"id": "housing_safe", "type": "choice", "options": "satisfaction",
                        "required": True, "scored": True,
                        "label": {"zh": "住房是否安全", "en": "Is the housing safe?"}})
    (tmp_path / "household_visit.v2.json").write_text(json.dumps(v2), encoding="utf-8")
    monkeypatch.setitem(app.config, "SCHEMAS_DIR", str(tmp_path))
    listed = ev.get("/api/instruments").get_json()
    assert [(i["id"], i["version"]) for i in listed] == [("household_visit", 1), ("household_visit", 2)]
    t = tokens(a1(drawn))
    old = record(visit_payload(t[0], a1(drawn), 0))
    new_payload = visit_payload(t[1], a1(drawn), 1, instrument_version=2)
    new_payload["answers"]["housing_safe"] = "satisfied"
    missing = visit_payload(t[2], a1(drawn), 2, instrument_version=2)
    assert sync(ev, old, record(new_payload)).status_code == 200
    result = sync(ev, record(missing)).get_json()["results"][0]
    assert result["errors"] == {"answers.housing_safe": ["必填。"]}
    assert sorted(db.session.scalars(select(Visit.instrument_version))) == [1, 2]


def test_location_denied_is_stored_and_flagged(ev, drawn):
    payload = visit_payload(tokens(a1(drawn))[0], a1(drawn), geo_error="denied")
    assert payload["geo_start"] is None and payload["geo_end"] is None
    response = sync(ev, record(payload))
    assert response.status_code == 200
    result = response.get_json()["results"][0]
    assert result["data"]["flags"] == ["no_location"]
    visit = db.session.get(Visit, result["id"])
    assert visit.lat is None and visit.geo_error == "denied"
    assert visit.flags[0]["params"] == {"reason": "denied"}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _far(village, km: float):
    return village.lat + km / 111.0, village.lon


@pytest.mark.parametrize("code", ["outside_fence", "low_accuracy", "zero_accuracy", "short_visit",
                                  "impossible_speed", "repeated_coordinates", "clock_skew",
                                  "no_location"])
def test_every_flag_kind(ev, drawn, code):
    v, t = a1(drawn), tokens(a1(drawn))
    sent = None
    first = visit_payload(t[0], v, 0)
    second = None
    if code == "outside_fence":
        first = visit_payload(t[0], v, 0, lat=_far(v, 5)[0], lon=v.lon)
    elif code == "low_accuracy":
        first = visit_payload(t[0], v, 0, accuracy=150)
    elif code == "zero_accuracy":
        first = visit_payload(t[0], v, 0, accuracy=0)
    elif code == "short_visit":
        first = visit_payload(t[0], v, 0, minutes=1.5)
    elif code == "impossible_speed":  # 55 km in 20 minutes
        second = visit_payload(t[1], v, 1, lat=_far(v, 55)[0], lon=v.lon)
    elif code == "repeated_coordinates":
        second = visit_payload(t[1], v, 1, lat=first["geo_end"]["lat"], lon=first["geo_end"]["lon"])
    elif code == "clock_skew":
        sent = iso(datetime.now(timezone.utc) - timedelta(days=3))
    elif code == "no_location":
        first = visit_payload(t[0], v, 0, geo_error="unavailable")
    records = [record(first)] + ([record(second)] if second else [])
    response = sync(ev, *records, device_sent_at=sent)
    assert response.status_code == 200, response.get_json()
    codes = flags_of(records[0]["uuid"])
    assert code in codes
    if second is not None:
        assert code in flags_of(records[1]["uuid"])
    # Shown to staff with a translated message.
    staff = drawn.client_for("staff_a").get(f"/api/visits?flag={code}").get_json()
    assert staff["total"] >= 1
    shown = [f for f in staff["items"][0]["flags"] if f["code"] == code][0]
    assert _chinese(shown["label"]) and _chinese(shown["message"])
    # A flagged visit is still a stored, counted visit.
    assert count(Visit) == len(records)


def test_speed_flag_right_when_visits_arrive_out_of_order(ev, drawn):
    v, t = a1(drawn), tokens(a1(drawn))
    later = record(visit_payload(t[1], v, 1, lat=_far(v, 55)[0], lon=v.lon))
    earlier = record(visit_payload(t[0], v, 0))
    assert sync(ev, later).status_code == 200
    assert "impossible_speed" not in flags_of(later["uuid"])
    assert sync(ev, earlier).status_code == 200
    assert "impossible_speed" in flags_of(earlier["uuid"])
    assert "impossible_speed" in flags_of(later["uuid"])  # recomputed


def test_repeated_position_across_evaluators(ev, drawn):
    other = make_user("13800000009", "evaluator", "岐山评议员二", drawn.counties["a"])
    db.session.flush()
    db.session.add(EvaluatorAssignment(cycle_id=drawn.cycle.id, user_id=other.id,
                                       village_id=drawn.villages["a2"].id))
    db.session.commit()
    spot = (34.5, 107.7)
    mine = record(visit_payload(tokens(a1(drawn))[0], a1(drawn), lat=spot[0], lon=spot[1]))
    assert sync(ev, mine).status_code == 200
    assert "repeated_coordinates" not in flags_of(mine["uuid"])
    a2 = drawn.villages["a2"]
    theirs = record(visit_payload(tokens(a2)[0], a2, lat=spot[0], lon=spot[1]))
    assert sync(_client_for(drawn, other), theirs).status_code == 200
    assert "repeated_coordinates" in flags_of(theirs["uuid"])
    assert "repeated_coordinates" in flags_of(mine["uuid"])  # the other evaluator's refreshed


def _client_for(personas, user):
    from ..personas import ApiClient, login
    client = personas.app.test_client()
    response = login(client, user.phone)
    assert response.status_code == 200
    return ApiClient(client, response.get_json()["csrf_token"], user)


def test_second_visit_of_a_visited_household_is_rejected(ev, drawn):
    token = tokens(a1(drawn))[0]
    assert sync(ev, record(visit_payload(token, a1(drawn), 0))).status_code == 200
    response = sync(ev, record(visit_payload(token, a1(drawn), 1)))
    assert response.status_code == 422
    errors = response.get_json()["results"][0]["errors"]
    assert list(errors) == ["sample_token"] and "已" in errors["sample_token"][0]
    assert count(Visit) == 1


def test_two_visits_of_one_household_in_one_batch(ev, drawn):
    token = tokens(a1(drawn))[0]
    response = sync(ev, record(visit_payload(token, a1(drawn), 0)),
                    record(visit_payload(token, a1(drawn), 1)))
    assert response.status_code == 422
    assert [r["status"] for r in response.get_json()["results"]] == ["pending", "rejected"]
    assert count(Visit) == 0


def test_reserves_only_once_activated(ev, drawn):
    reserve = entries(a1(drawn), "reserve")[0]
    response = sync(ev, record(visit_payload(reserve.token, a1(drawn))))
    assert response.status_code == 422
    assert list(response.get_json()["results"][0]["errors"]) == ["sample_token"]
    reserve.status = "reserve_active"
    db.session.commit()
    assert sync(ev, record(visit_payload(reserve.token, a1(drawn)))).status_code == 200


def test_end_before_start_is_rejected(ev, drawn):
    payload = visit_payload(tokens(a1(drawn))[0], a1(drawn), minutes=-5)
    result = sync(ev, record(payload)).get_json()["results"][0]
    assert list(result["errors"]) == ["ended_at"]


def test_unknown_token_is_rejected(ev, drawn):
    result = sync(ev, record(visit_payload("no-such-token", a1(drawn)))).get_json()["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["sample_token"]


def test_evaluator_b_cannot_visit_a1_households(login_as, drawn):
    response = sync(login_as("evaluator_b"), record(visit_payload(tokens(a1(drawn))[0], a1(drawn))))
    assert response.status_code == 422
    result = response.get_json()["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["sample_token"]
    assert count(Visit) == 0
    # ... nor a village of their own county that is not assigned to them.
    b2 = drawn.villages["b2"]
    response = sync(login_as("evaluator_b"), record(visit_payload(tokens(b2)[0], b2)))
    assert response.status_code == 422


def test_a_batch_mixing_an_assigned_and_a_foreign_village_stores_nothing(login_as, drawn):
    # The batch's sample entries are checked together (policy.can_each): the foreign one
    # is refused by name and the assigned one is not stored either.
    b1, a1v = drawn.villages["b1"], a1(drawn)
    own = record(visit_payload(tokens(b1)[0], b1, 0))
    foreign = record(visit_payload(tokens(a1v)[0], a1v, 1))
    response = sync(login_as("evaluator_b"), own, foreign)
    assert response.status_code == 422
    results = {r["uuid"]: r for r in response.get_json()["results"]}
    assert results[foreign["uuid"]]["status"] == "rejected"
    assert list(results[foreign["uuid"]]["errors"]) == ["sample_token"]
    assert results[own["uuid"]]["status"] == "pending"
    assert count(Visit) == 0 and count(ClientRecord) == 0


def test_closed_cycle_refuses_visits(ev, drawn):
    drawn.cycle.status = "finalised"
    db.session.commit()
    response = sync(ev, record(visit_payload(tokens(a1(drawn))[0], a1(drawn))))
    assert response.status_code == 422
    assert list(response.get_json()["results"][0]["errors"]) == ["sample_token"]


def test_finalised_county_refuses_visits_and_replacements(ev, drawn, login_as):
    """A city-wide cycle is finalised county by county: county a's lock stops its visits
    (the scores were computed from the stored answers), county b goes on."""
    from fieldapp.models import ScoreLock
    db.session.add(ScoreLock(cycle_id=drawn.cycle.id, county_id=drawn.counties["a"].id))
    db.session.commit()
    village = a1(drawn)
    response = sync(ev, record(visit_payload(tokens(village)[0], village)))
    assert response.status_code == 422
    assert "定稿" in response.get_json()["results"][0]["errors"]["sample_token"][0]
    replacement = record({"sample_token": tokens(village)[1], "reason": "moved_out",
                          "reason_text": None, "attempts": None, "at": "2026-03-10T02:00:00Z"},
                         type="replacement")
    assert sync(ev, replacement).status_code == 422
    b1 = drawn.villages["b1"]
    other = sync(login_as("evaluator_b"), record(visit_payload(tokens(b1)[0], b1)))
    assert other.status_code == 200


def test_secretary_cannot_submit_or_read_visits(login_as, drawn):
    sec = login_as("secretary_a")
    response = sync(sec, record(visit_payload(tokens(a1(drawn))[0], a1(drawn))))
    assert response.status_code == 422
    assert list(response.get_json()["results"][0]["errors"]) == ["type"]
    assert count(Visit) == 0
    assert sec.get("/api/visits").status_code == 403
    ev = login_as("evaluator_a")
    stored = sync(ev, record(visit_payload(tokens(a1(drawn))[0], a1(drawn)))).get_json()
    visit_id = stored["results"][0]["id"]
    assert sec.get(f"/api/visits/{visit_id}").status_code == 403


def test_staff_cannot_submit_visits(login_as, drawn):
    response = sync(login_as("staff_a"), record(visit_payload(tokens(a1(drawn))[0], a1(drawn))))
    assert response.status_code == 422
    assert list(response.get_json()["results"][0]["errors"]) == ["type"]
