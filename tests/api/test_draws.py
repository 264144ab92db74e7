"""Running, locking, voiding and reading household draws (api/samples.py, services/draws.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Draw, Household, SampleEntry
from fieldapp.models.base import utcnow

from .sampling_support import (SEED, active_draw, draw_county, entries, independent_draw, run_draw,
                               village_draw)


def test_staff_draws_every_village_of_their_county(login_as, personas):
    staff = login_as("staff_a")
    response = run_draw(staff, personas.cycle.id, personas.counties["a"].id)
    assert response.status_code == 201, response.get_json()
    [body] = response.get_json()
    assert body["algorithm"] == "hmac-sha256-rank-v1"
    assert body["seed"] == SEED and body["status"] == "active"
    assert (body["sample_size"], body["reserve_count"], body["include_exited"]) == (20, 5, True)

    a1, a2 = personas.villages["a1"], personas.villages["a2"]
    rows = entries(body["id"], a1.id)
    assert len(rows) == 30  # every household (exited included by default) is stored
    assert [e.role for e in rows] == ["sample"] * 20 + ["reserve"] * 5 + ["unused"] * 5
    assert {e.status for e in rows if e.role == "sample"} == {"pending"}
    assert {e.status for e in rows if e.role == "reserve"} == {"reserve_unused"}
    assert all(e.token for e in rows if e.role != "unused")
    assert all(e.token is None for e in rows if e.role == "unused")
    sample, reserves, keys = independent_draw(SEED, a1.code, [e.household_no for e in rows])
    assert [e.household_no for e in rows if e.role == "sample"] == sample
    assert [e.household_no for e in rows if e.role == "reserve"] == reserves
    assert all(e.hmac_key == keys[e.household_no] for e in rows)

    small = village_draw(body["id"], a2.id)
    assert small.complete_census and small.eligible_count == 12
    assert [e.role for e in entries(body["id"], a2.id)] == ["sample"] * 12
    # County B untouched.
    assert active_draw(personas.cycle.id, personas.counties["b"].id) is None


def test_draw_is_audited_with_its_inputs(login_as, personas):
    draw_id = draw_county(login_as, personas)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "draw.run"))
    assert entry.object_id == str(draw_id) and entry.actor_id == personas.users["staff_a"].id
    assert entry.detail["seed"] == SEED and entry.detail["villages"] == 2
    assert entry.detail["eligible"] == 42


def test_redraw_is_refused(login_as, personas):
    draw_county(login_as, personas)
    again = run_draw(login_as("staff_a"), personas.cycle.id, personas.counties["a"].id, "another seed")
    assert again.status_code == 409
    assert again.get_json()["code"] == "locked"
    admin = run_draw(login_as("admin"), personas.cycle.id, personas.counties["a"].id, "another seed")
    assert admin.status_code == 409


def test_database_refuses_two_active_draws_for_one_county(login_as, personas):
    """Two racing requests: the partial unique index stops the second one."""
    draw_id = draw_county(login_as, personas)
    first = db.session.get(Draw, draw_id)
    db.session.add(Draw(cycle_id=first.cycle_id, county_id=first.county_id, algorithm=first.algorithm,
                        seed="x", seed_recorded_at=utcnow(), sample_size=20, reserve_count=5,
                        include_exited=True, status="active"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_staff_cannot_draw_another_county(login_as, personas):
    response = run_draw(login_as("staff_b"), personas.cycle.id, personas.counties["a"].id)
    assert response.status_code == 403
    assert active_draw(personas.cycle.id, personas.counties["a"].id) is None


@pytest.mark.parametrize("who", ["evaluator_a", "secretary_a"])
def test_only_staff_draw(login_as, personas, who):
    response = run_draw(login_as(who), personas.cycle.id, personas.counties["a"].id)
    assert response.status_code == 403


def test_city_wide_draw_by_admin_covers_every_county(login_as, personas):
    response = run_draw(login_as("admin"), personas.cycle.id, None)
    assert response.status_code == 201, response.get_json()
    assert sorted(d["county"] for d in response.get_json()) == sorted(
        c.name for c in personas.counties.values())
    # Then any further draw is refused, city-wide or per county.
    assert run_draw(login_as("admin"), personas.cycle.id, None, "x").status_code == 409
    assert run_draw(login_as("staff_b"), personas.cycle.id, personas.counties["b"].id, "x").status_code == 409


def test_staff_without_county_id_draws_their_own_county(login_as, personas):
    response = run_draw(login_as("staff_b"), personas.cycle.id, None)
    assert response.status_code == 201
    assert [d["county_id"] for d in response.get_json()] == [personas.counties["b"].id]


@pytest.mark.parametrize("seed", ["", "   ", "x" * 501])
def test_bad_seed_is_refused(login_as, personas, seed):
    response = run_draw(login_as("staff_a"), personas.cycle.id, personas.counties["a"].id, seed)
    assert response.status_code == 422
    assert "seed" in response.get_json()["errors"]


def test_seed_is_stored_exactly_as_given(login_as, personas):
    seed = "  7391 福彩\t"
    draw_id = draw_county(login_as, personas, seed=seed)
    assert db.session.get(Draw, draw_id).seed == seed
    rows = entries(draw_id, personas.villages["a1"].id, "sample")
    sample, _r, _k = independent_draw(seed, personas.villages["a1"].code,
                                      [e.household_no for e in entries(draw_id, personas.villages["a1"].id)])
    assert [e.household_no for e in rows] == sample


def test_exited_households_excluded_when_the_cycle_says_so(login_as, personas):
    admin = login_as("admin")
    assert admin.patch(f"/api/cycles/{personas.cycle.id}",
                       json={"settings": {"include_exited": False}}).status_code == 200
    draw_id = draw_county(login_as, personas)
    rows = entries(draw_id, personas.villages["a1"].id)
    exited = set(db.session.scalars(select(Household.household_no).where(
        Household.village_id == personas.villages["a1"].id, Household.exit_status == "exited")))
    assert len(exited) == 7 and len(rows) == 23
    assert not exited & {e.household_no for e in rows}
    assert db.session.get(Draw, draw_id).include_exited is False


def test_roster_change_after_draw_does_not_change_the_draw(login_as, personas):
    draw_id = draw_county(login_as, personas)
    before = [(e.household_no, e.rank) for e in entries(draw_id, personas.villages["a1"].id)]
    db.session.add(Household(village_id=personas.villages["a1"].id, household_no="X9", head_name="新户",
                             family_size=2, attribute="general", exit_status="not_exited"))
    db.session.commit()
    assert [(e.household_no, e.rank) for e in entries(draw_id, personas.villages["a1"].id)] == before


# --- voiding ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff_a", "evaluator_a", "secretary_a"])
def test_only_admins_void(login_as, personas, who):
    draw_id = draw_county(login_as, personas)
    response = login_as(who).post(f"/api/draws/{draw_id}/void", json={"reason": "wrong list"})
    assert response.status_code == 403
    assert db.session.get(Draw, draw_id).status == "active"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   \n"}])
def test_void_needs_a_written_reason(login_as, personas, body):
    draw_id = draw_county(login_as, personas)
    response = login_as("admin").post(f"/api/draws/{draw_id}/void", json=body)
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]
    db.session.expire_all()
    assert db.session.get(Draw, draw_id).status == "active"


def test_void_then_redraw_needs_a_new_seed(login_as, personas):
    draw_id = draw_county(login_as, personas)
    admin = login_as("admin")
    response = admin.post(f"/api/draws/{draw_id}/void",
                          json={"reason": "The eligible list of 岐山一村 was incomplete."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "voided" and body["void_reason"].startswith("The eligible")
    assert admin.post(f"/api/draws/{draw_id}/void", json={"reason": "again"}).status_code == 409

    same_seed = run_draw(login_as("staff_a"), personas.cycle.id, personas.counties["a"].id, SEED)
    assert same_seed.status_code == 422 and "seed" in same_seed.get_json()["errors"]
    new = draw_county(login_as, personas, seed=SEED + " (重抽)")
    assert new != draw_id

    # The voided draw stays visible, next to the new one.
    listing = login_as("staff_a").get(f"/api/draws?cycle_id={personas.cycle.id}").get_json()
    assert {(d["id"], d["status"]) for d in listing["items"]} == {(draw_id, "voided"), (new, "active")}
    actions = [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions.count("draw.run") == 2 and actions.count("draw.void") == 1
    void_entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "draw.void"))
    assert void_entry.actor_id == personas.users["admin"].id
    assert void_entry.detail["reason"].startswith("The eligible")


# --- reading ---------------------------------------------------------------------------


def test_draw_list_is_scoped(login_as, personas):
    draw_county(login_as, personas, "a")
    draw_county(login_as, personas, "b", seed="眉县 seed")
    a = login_as("staff_a").get("/api/draws").get_json()
    assert {d["county_id"] for d in a["items"]} == {personas.counties["a"].id}
    assert login_as("admin").get("/api/draws").get_json()["total"] == 2
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).get("/api/draws").status_code == 403


def test_draw_detail_has_replacement_rate_per_village(login_as, personas):
    draw_id = draw_county(login_as, personas)
    body = login_as("staff_a").get(f"/api/draws/{draw_id}").get_json()
    rows = {v["village_code"]: v for v in body["villages"]}
    a1 = rows[personas.villages["a1"].code]
    assert (a1["sample_count"], a1["replacements"], a1["conflicts"], a1["reserves_left"]) == (20, 0, 0, 5)
    assert a1["replacement_rate"] == 0.0
    assert login_as("staff_b").get(f"/api/draws/{draw_id}").status_code == 403


def test_village_sample_scoping(login_as, personas):
    draw_id = draw_county(login_as, personas)
    vd_a1 = village_draw(draw_id, personas.villages["a1"].id)
    vd_a2 = village_draw(draw_id, personas.villages["a2"].id)
    ok = login_as("evaluator_a").get(f"/api/village-draws/{vd_a1.id}")
    assert ok.status_code == 200
    # The drawn households only (sample and reserves): never the 5 that were not drawn.
    assert len(ok.get_json()["entries"]) == 25 and ok.get_json()["entries"][0]["head_name"]
    assert {e["role"] for e in ok.get_json()["entries"]} == {"sample", "reserve"}
    assert login_as("staff_a").get(f"/api/village-draws/{vd_a2.id}").status_code == 200
    assert login_as("admin").get(f"/api/village-draws/{vd_a1.id}").status_code == 200
    # Evaluator A is not assigned to a2; B belongs to the other county; staff B too.
    assert login_as("evaluator_a").get(f"/api/village-draws/{vd_a2.id}").status_code == 403
    assert login_as("evaluator_b").get(f"/api/village-draws/{vd_a1.id}").status_code == 403
    assert login_as("staff_b").get(f"/api/village-draws/{vd_a1.id}").status_code == 403
    # Secretaries never see household-level samples, not even their own village's.
    assert login_as("secretary_a").get(f"/api/village-draws/{vd_a1.id}").status_code == 403
    assert login_as("secretary_a").get(
        f"/api/villages/{personas.villages['a1'].id}/sample").status_code == 403


def test_current_sample_of_a_village(login_as, personas):
    a1 = personas.villages["a1"]
    assert login_as("staff_a").get(f"/api/villages/{a1.id}/sample").status_code == 404
    draw_county(login_as, personas)
    body = login_as("evaluator_a").get(f"/api/villages/{a1.id}/sample").get_json()
    assert body["village_code"] == a1.code and body["draw_status"] == "active"
    assert login_as("evaluator_b").get(f"/api/villages/{a1.id}/sample").status_code == 403


def test_record_endpoint_verifies(login_as, personas):
    from fieldapp.domain.sampling import verify_record

    draw_id = draw_county(login_as, personas)
    vd = village_draw(draw_id, personas.villages["a1"].id)
    record = login_as("staff_a").get(f"/api/village-draws/{vd.id}/record").get_json()
    assert record["seed_recorded_at"].endswith("Z")
    assert verify_record(record).ok, verify_record(record).problems


def test_unknown_fields_are_rejected(login_as, personas):
    response = login_as("staff_a").post(f"/api/cycles/{personas.cycle.id}/draws",
                                        json={"seed": "x", "county_id": personas.counties["a"].id,
                                              "sample": ["steer me"]})
    assert response.status_code == 422
    assert db.session.scalar(select(SampleEntry.id).limit(1)) is None
