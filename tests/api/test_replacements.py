"""Replacements through POST /api/sync: reserve order, validation, the two-phone conflict."""
from __future__ import annotations

import json

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldapp.domain.sampling import verify_record
from fieldapp.extensions import db
from fieldapp.models import EvaluatorAssignment, Replacement, SampleEntry, User

from .. import personas as P
from .sampling_support import draw_county, entries, replacement_record, sync, village_draw


@pytest.fixture
def drawn(login_as, personas):
    """County A drawn; returns (draw_id, sample entries of a1, reserve entries of a1)."""
    draw_id = draw_county(login_as, personas)
    a1 = personas.villages["a1"].id
    return draw_id, entries(draw_id, a1, "sample"), entries(draw_id, a1, "reserve")


def statuses(draw_id, village_id):
    return {e.household_no: e.status for e in entries(draw_id, village_id)}


def test_replacement_activates_the_next_reserve_in_order(login_as, personas, drawn):
    draw_id, sample, reserves = drawn
    phone = login_as("evaluator_a")
    response = sync(phone, replacement_record(sample[3].token, "moved_out"))
    assert response.status_code == 200, response.get_json()
    [result] = response.get_json()["results"]
    assert result["status"] == "stored"
    assert result["data"] == {"reserve_household_no": reserves[0].household_no,
                              "reserve_token": reserves[0].token, "conflict": False}
    # The second replacement takes the second reserve, whatever the phone wished.
    second = sync(phone, replacement_record(sample[0].token, "not_home", attempts=2)).get_json()
    assert second["results"][0]["data"]["reserve_household_no"] == reserves[1].household_no
    # An activated reserve can itself be replaced: by the third reserve.
    third = sync(phone, replacement_record(reserves[0].token, "refused")).get_json()
    assert third["results"][0]["data"]["reserve_household_no"] == reserves[2].household_no

    now = statuses(draw_id, personas.villages["a1"].id)
    assert now[sample[3].household_no] == now[sample[0].household_no] == "unreachable"
    assert now[reserves[0].household_no] == "unreachable"
    assert now[reserves[1].household_no] == now[reserves[2].household_no] == "reserve_active"
    assert now[reserves[3].household_no] == now[reserves[4].household_no] == "reserve_unused"
    rep = db.session.scalars(select(Replacement).order_by(Replacement.id)).first()
    assert rep.actor_id == personas.users["evaluator_a"].id and rep.reason == "moved_out"
    assert rep.reserve_entry_id == reserves[0].id and not rep.is_conflict

    # The public record lists them in order and re-derives.
    record = login_as("staff_a").get(
        f"/api/village-draws/{village_draw(draw_id, personas.villages['a1'].id).id}/record").get_json()
    assert [r["reserve_household_no"] for r in record["replacements"]] == [
        r.household_no for r in reserves[:3]]
    assert record["replacements"][1]["attempts"] == 2
    assert verify_record(record).ok, verify_record(record).problems


def test_reserves_run_out(login_as, personas, drawn, runner, tmp_path):
    draw_id, sample, reserves = drawn
    phone = login_as("evaluator_a")
    records = [replacement_record(e.token, "migrant_work") for e in sample[:6]]
    results = sync(phone, *records).get_json()["results"]
    assert [r["data"]["reserve_household_no"] for r in results] == [
        r.household_no for r in reserves] + [None]
    assert results[-1]["data"]["reserves_exhausted"] is True
    vd = village_draw(draw_id, personas.villages["a1"].id)
    record = login_as("staff_a").get(f"/api/village-draws/{vd.id}/record").get_json()
    # Every replacement is in the public record, the one that found no reserve left too.
    assert len(record["replacements"]) == 6
    assert record["replacements"][-1]["reserve_household_no"] is None
    assert verify_record(record).ok, verify_record(record).problems
    # A record that leaves it out no longer verifies against this database.
    short = {**record, "replacements": record["replacements"][:5]}
    assert verify_record(short).ok  # offline the omission cannot be seen...
    path = tmp_path / "short.json"
    path.write_text(json.dumps(short, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["sample", "verify", str(path)])
    assert result.exit_code == 1 and "记录遗漏了" in result.output
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["sample", "verify", str(path)])
    assert result.exit_code == 0, result.output
    # An exhausted replacement claimed while a reserve was still unused is refused.
    early = {**record, "replacements": [{**record["replacements"][0], "reserve_household_no": None}]}
    assert not verify_record(early).ok


def test_two_phones_replace_the_same_household(login_as, personas, drawn):
    """Both phones were offline and each activated 'the next reserve' locally."""
    draw_id, sample, reserves = drawn
    second = P.make_user("13800000009", "evaluator", "岐山评议员二", personas.counties["a"])
    db.session.flush()
    db.session.add(EvaluatorAssignment(cycle_id=personas.cycle.id, user_id=second.id,
                                       village_id=personas.villages["a1"].id))
    db.session.commit()
    phone1 = login_as("evaluator_a")
    phone2 = personas.app.test_client()
    token = P.login(phone2, "13800000009").get_json()["csrf_token"]
    target = sample[5].token

    first = sync(phone1, replacement_record(target, "deceased")).get_json()["results"][0]
    assert first["data"]["conflict"] is False
    late = phone2.post("/api/sync", json={"records": [replacement_record(target, "moved_out")]},
                       headers={"X-CSRFToken": token})
    assert late.status_code == 200, late.get_json()
    result = late.get_json()["results"][0]
    assert result["status"] == "stored"
    assert result["data"] == {"reserve_household_no": reserves[0].household_no,
                              "reserve_token": reserves[0].token, "conflict": True}

    # One reserve used, never two; the conflict is kept and shown to staff.
    now = statuses(draw_id, personas.villages["a1"].id)
    assert [now[r.household_no] for r in reserves] == ["reserve_active"] + ["reserve_unused"] * 4
    reps = db.session.scalars(select(Replacement).order_by(Replacement.id)).all()
    assert [(r.is_conflict, r.reserve_entry_id) for r in reps] == [(False, reserves[0].id), (True, None)]
    assert reps[1].actor_id == second.id
    staff = login_as("staff_a")
    conflicts = staff.get("/api/replacements?conflict=true").get_json()
    assert conflicts["total"] == 1 and conflicts["items"][0]["household_no"] == sample[5].household_no
    assert conflicts["items"][0]["actor_name"] == "岐山评议员二"
    detail = staff.get(f"/api/draws/{draw_id}").get_json()
    a1 = next(v for v in detail["villages"] if v["village_code"] == personas.villages["a1"].code)
    assert (a1["replacements"], a1["conflicts"], a1["replacement_rate"]) == (1, 1, 0.05)
    # The public chain ignores the conflict and still verifies.
    vd = village_draw(draw_id, personas.villages["a1"].id)
    record = staff.get(f"/api/village-draws/{vd.id}/record").get_json()
    assert len(record["replacements"]) == 1 and verify_record(record).ok


def test_same_evaluator_two_batches_different_uuids(login_as, personas, drawn):
    _draw_id, sample, reserves = drawn
    phone = login_as("evaluator_a")
    sync(phone, replacement_record(sample[0].token))
    again = sync(phone, replacement_record(sample[0].token, "refused")).get_json()["results"][0]
    assert again["data"]["conflict"] is True
    assert again["data"]["reserve_household_no"] == reserves[0].household_no
    # Both records in one batch: the second is the conflict.
    both = sync(phone, replacement_record(sample[1].token), replacement_record(sample[1].token))
    data = [r["data"] for r in both.get_json()["results"]]
    assert [d["conflict"] for d in data] == [False, True]
    assert data[0]["reserve_household_no"] == data[1]["reserve_household_no"] == reserves[1].household_no


def test_replaying_a_record_is_a_duplicate(login_as, personas, drawn):
    _draw_id, sample, reserves = drawn
    phone = login_as("evaluator_a")
    record = replacement_record(sample[0].token)
    sync(phone, record)
    replay = sync(phone, record).get_json()["results"][0]
    assert replay["status"] == "duplicate"
    assert db.session.scalar(select(Replacement.id).where(Replacement.is_conflict.is_(True))) is None


def test_database_guards_reserve_and_household_uniqueness(login_as, personas, drawn):
    _draw_id, sample, reserves = drawn
    sync(login_as("evaluator_a"), replacement_record(sample[0].token))
    first = db.session.scalar(select(Replacement))
    clone = {c: getattr(first, c) for c in ("village_draw_id", "village_id", "reason", "actor_id", "at")}
    # Another transaction that would take the same reserve for another household...
    db.session.add(Replacement(**clone, replaced_entry_id=sample[1].id,
                               reserve_entry_id=first.reserve_entry_id, is_conflict=False))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # ... or replace the same household a second time outside a conflict.
    db.session.add(Replacement(**clone, replaced_entry_id=sample[0].id,
                               reserve_entry_id=reserves[1].id, is_conflict=False))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("reason,extra,field", [
    ("not_home", {"attempts": 1}, "attempts"),
    ("not_home", {}, "attempts"),
    ("other", {}, "reason_text"),
    ("other", {"reason_text": "  "}, "reason_text"),
    ("lost_the_map", {}, "reason"),
])
def test_reason_rules(login_as, personas, drawn, reason, extra, field):
    _draw_id, sample, _reserves = drawn
    response = sync(login_as("evaluator_a"), replacement_record(sample[0].token, reason, **extra))
    assert response.status_code == 422
    result = response.get_json()["results"][0]
    assert result["status"] == "rejected" and field in result["errors"], result
    assert db.session.get(SampleEntry, sample[0].id).status == "pending"


def test_other_with_text_is_accepted_but_text_stays_internal(login_as, personas, drawn):
    draw_id, sample, _reserves = drawn
    response = sync(login_as("evaluator_a"),
                    replacement_record(sample[0].token, "other", reason_text="户主住院（张三）"))
    assert response.status_code == 200
    vd = village_draw(draw_id, personas.villages["a1"].id)
    record = login_as("staff_a").get(f"/api/village-draws/{vd.id}/record").get_json()
    assert "张三" not in str(record)
    listing = login_as("staff_a").get("/api/replacements").get_json()
    assert listing["items"][0]["reason_text"] == "户主住院（张三）"


def test_visited_household_cannot_be_replaced(login_as, personas, drawn):
    _draw_id, sample, _reserves = drawn
    entry = db.session.get(SampleEntry, sample[0].id)
    entry.status = "visited"
    db.session.commit()
    result = sync(login_as("evaluator_a"), replacement_record(sample[0].token)).get_json()["results"][0]
    assert result["status"] == "rejected" and "sample_token" in result["errors"]


def test_unused_reserve_cannot_be_replaced(login_as, personas, drawn):
    _draw_id, _sample, reserves = drawn
    result = sync(login_as("evaluator_a"), replacement_record(reserves[2].token)).get_json()["results"][0]
    assert result["status"] == "rejected"


def test_only_the_assigned_evaluator_can_replace(login_as, personas, drawn):
    _draw_id, sample, _reserves = drawn
    result = sync(login_as("evaluator_b"), replacement_record(sample[0].token)).get_json()["results"][0]
    assert result["status"] == "rejected" and "sample_token" in result["errors"]
    # Staff do not send replacements at all: the reserve is never a person's choice.
    staff = sync(login_as("staff_a"), replacement_record(sample[0].token)).get_json()["results"][0]
    assert staff["status"] == "rejected" and "type" in staff["errors"]
    assert db.session.get(SampleEntry, sample[0].id).status == "pending"


def test_unknown_token_and_voided_draw(login_as, personas, drawn):
    draw_id, sample, _reserves = drawn
    phone = login_as("evaluator_a")
    unknown = sync(phone, replacement_record("no-such-token")).get_json()["results"][0]
    assert unknown["status"] == "rejected" and "sample_token" in unknown["errors"]
    login_as("admin").post(f"/api/draws/{draw_id}/void", json={"reason": "test"})
    voided = sync(phone, replacement_record(sample[0].token)).get_json()["results"][0]
    assert voided["status"] == "rejected"


def test_batch_is_all_or_nothing(login_as, personas, drawn):
    _draw_id, sample, _reserves = drawn
    good = replacement_record(sample[0].token)
    bad = replacement_record(sample[1].token, "other")
    response = sync(login_as("evaluator_a"), good, bad)
    assert response.status_code == 422
    assert [r["status"] for r in response.get_json()["results"]] == ["pending", "rejected"]
    db.session.expire_all()
    assert db.session.get(SampleEntry, sample[0].id).status == "pending"
    assert db.session.scalar(select(Replacement.id)) is None


def test_payload_rejects_unknown_fields(login_as, personas, drawn):
    _draw_id, sample, reserves = drawn
    record = replacement_record(sample[0].token)
    record["payload"]["reserve_token"] = reserves[3].token  # "please use this one"
    result = sync(login_as("evaluator_a"), record).get_json()["results"][0]
    assert result["status"] == "rejected" and "reserve_token" in result["errors"]


def test_replacement_list_is_scoped(login_as, personas, drawn):
    _draw_id, sample, _reserves = drawn
    sync(login_as("evaluator_a"), replacement_record(sample[0].token))
    assert login_as("staff_a").get("/api/replacements").get_json()["total"] == 1
    assert login_as("staff_b").get("/api/replacements").get_json()["total"] == 0
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).get("/api/replacements").status_code == 403


def _sync_at_once(app, user_id: int, tokens: list[str]) -> list[dict]:
    """One replacement per token, each in its own thread and transaction, released together."""
    from fieldapp.services.sync import sync_batch

    barrier = threading.Barrier(len(tokens))
    results: list = []

    def worker(token: str) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                results.append(sync_batch(user, {"records": [replacement_record(token)]}))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(token,)) for token in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_replacements_take_one_reserve(app, login_as, personas, drawn, database_url):
    """Two transactions at the same moment (PostgreSQL: row lock + unique indexes)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("real concurrency needs PostgreSQL (SQLite has one writer)")
    _draw_id, sample, reserves = drawn
    results = _sync_at_once(app, personas.users["evaluator_a"].id,
                            [sample[0].token, sample[0].token])
    assert len(results) == 2
    conflicts = sorted(r["results"][0]["data"]["conflict"] for r in results)
    assert conflicts == [False, True]
    db.session.expire_all()
    active = db.session.scalars(select(SampleEntry.household_no).where(
        SampleEntry.id.in_([r.id for r in reserves]), SampleEntry.status == "reserve_active")).all()
    assert active == [reserves[0].household_no]


def test_concurrent_replacements_of_different_households(app, login_as, personas, drawn, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("real concurrency needs PostgreSQL (SQLite has one writer)")
    _draw_id, sample, reserves = drawn
    results = _sync_at_once(app, personas.users["evaluator_a"].id, [e.token for e in sample[:3]])
    chosen = sorted(r["results"][0]["data"]["reserve_household_no"] for r in results)
    assert chosen == sorted(r.household_no for r in reserves[:3])
