"""Late villages: a village added after its county's draw is drawn alone (own seed, time
and public record; nothing else changes), the county draw skips villages already drawn,
and an admin voids one village's draw without touching the others (issue 9)."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import AuditLog, Draw, Village, VillageDraw, Visit
from fieldapp.services.draws import find_village_draw, village_record

from .roster_helpers import HOUSEHOLD_HEADERS, household, upload, xlsx
from .sampling_support import SEED, assign, draw_county
from .visit_helpers import record, sync, tokens, visit_payload

LATE_SEED = "2026-07-01 新增村 福彩3D 第2026175期 开奖号 281"
LATE_CODE = "610323100003"


def add_late_village(login_as, n: int = 24) -> Village:
    rows = [household("岐山县", "岐山镇", "新增村", LATE_CODE, k, 34.44 + k / 20000, 107.61)
            for k in range(1, n + 1)]
    response = upload(login_as("staff_a"), ("新增村.xlsx", xlsx(户=(HOUSEHOLD_HEADERS, rows))))
    assert response.status_code == 200, response.get_json()
    return db.session.scalar(select(Village).where(Village.code == LATE_CODE))


def records_bytes(personas, codes) -> dict[str, bytes]:
    db.session.expire_all()
    return {code: json.dumps(village_record(find_village_draw(personas.cycle.id, code)),
                             ensure_ascii=False, sort_keys=True).encode("utf-8") for code in codes}


def visit_a1(login_as, personas, n: int = 3) -> None:
    ev = login_as("evaluator_a")
    village = personas.villages["a1"]
    batch = [record(visit_payload(t, village, i)) for i, t in enumerate(tokens(village)[:n])]
    assert sync(ev, *batch).status_code == 200


def test_a_late_village_is_drawn_alone_and_nothing_else_changes(login_as, personas):
    draw_id = draw_county(login_as, personas)
    visit_a1(login_as, personas)
    codes = [personas.villages["a1"].code, personas.villages["a2"].code]
    before = records_bytes(personas, codes)
    visits_before = db.session.scalar(select(func.count()).select_from(Visit))
    late = add_late_village(login_as)
    staff = login_as("staff_a")
    # The county cannot simply draw again.
    again = staff.post(f"/api/cycles/{personas.cycle.id}/draws",
                       json={"seed": "another", "county_id": personas.counties["a"].id})
    assert again.status_code == 409
    # A seed already used for the county is refused: it was public before the list froze.
    reused = staff.post(f"/api/cycles/{personas.cycle.id}/village-draws",
                        json={"seed": SEED, "village_id": late.id})
    assert reused.status_code == 422 and "seed" in reused.get_json()["errors"]
    made = staff.post(f"/api/cycles/{personas.cycle.id}/village-draws",
                      json={"seed": LATE_SEED, "village_id": late.id})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["village_code"] == LATE_CODE and body["seed"] == LATE_SEED
    assert body["id"] != draw_id and body["public_token"]
    # Its own public record, verifiable like any other.
    late_record = village_record(find_village_draw(personas.cycle.id, LATE_CODE))
    assert late_record["seed"] == LATE_SEED and len(late_record["sample"]) == 20
    from fieldapp.domain.sampling import verify_record
    assert verify_record(late_record).ok
    public = login_as("admin").client.get(f"/draw/{body['public_token']}").get_data(as_text=True)
    assert "新增村" in public and LATE_SEED in public
    # The other villages' records are byte-identical and their visits untouched.
    assert records_bytes(personas, codes) == before
    assert db.session.scalar(select(func.count()).select_from(Visit)) == visits_before
    assert db.session.get(Draw, draw_id).status == "active"
    # Drawn once only.
    twice = staff.post(f"/api/cycles/{personas.cycle.id}/village-draws",
                       json={"seed": LATE_SEED + " 2", "village_id": late.id})
    assert twice.status_code == 409
    assert db.session.scalar(select(AuditLog.detail).where(
        AuditLog.action == "draw.run_village"))["village_code"] == LATE_CODE


def test_the_county_draw_skips_villages_that_already_have_one(login_as, personas):
    staff = login_as("staff_a")
    a2 = personas.villages["a2"]
    alone = staff.post(f"/api/cycles/{personas.cycle.id}/village-draws",
                       json={"seed": LATE_SEED, "village_id": a2.id})
    assert alone.status_code == 201
    draw_id = draw_county(login_as, personas)
    vds = db.session.scalars(select(VillageDraw).where(VillageDraw.draw_id == draw_id)).all()
    assert [vd.village_id for vd in vds] == [personas.villages["a1"].id]
    assert find_village_draw(personas.cycle.id, a2.code).draw_id == alone.get_json()["id"]


def test_village_draws_are_scoped(login_as, personas):
    a2 = personas.villages["a2"]
    response = login_as("staff_b").post(f"/api/cycles/{personas.cycle.id}/village-draws",
                                        json={"seed": LATE_SEED, "village_id": a2.id})
    assert response.status_code == 403
    assert login_as("evaluator_a").post(f"/api/cycles/{personas.cycle.id}/village-draws",
                                        json={"seed": LATE_SEED, "village_id": a2.id}
                                        ).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Draw)) == 0


def test_an_admin_voids_one_village_and_the_others_keep_their_visits(login_as, personas):
    draw_id = draw_county(login_as, personas)
    assign(personas, "evaluator_a", "a2")
    visit_a1(login_as, personas, n=4)
    ev = login_as("evaluator_a")
    a2 = personas.villages["a2"]
    assert sync(ev, *[record(visit_payload(t, a2, i)) for i, t in enumerate(tokens(a2)[:2])]
                ).status_code == 200
    a2_before = records_bytes(personas, [a2.code])
    vd_a1 = find_village_draw(personas.cycle.id, personas.villages["a1"].code)
    old_token = next(e.token for e in vd_a1.entries if e.role == "sample" and e.status == "pending")
    url = f"/api/village-draws/{vd_a1.id}/void"
    assert login_as("staff_a").post(url, json={"reason": "名单有误"}).status_code == 403
    assert login_as("admin").post(url, json={"reason": " "}).status_code == 422
    done = login_as("admin").post(url, json={"reason": "该村名单漏报两户"})
    assert done.status_code == 200 and done.get_json()["status"] == "voided"
    db.session.expire_all()
    assert db.session.get(Draw, draw_id).status == "active"
    assert records_bytes(personas, [a2.code]) == a2_before
    # The dashboard counts a2's visits, not a1's; a1 can be drawn again alone.
    page = login_as("staff_a").get("/staff/dashboard").get_data(as_text=True)
    assert 'data-testid="stat-visits">2/' in page
    redraw = login_as("staff_a").post(f"/api/cycles/{personas.cycle.id}/village-draws",
                                      json={"seed": LATE_SEED, "village_id": personas.villages["a1"].id})
    assert redraw.status_code == 201
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "draw.void_village"))
    assert entry.detail["visits"] == 4 and entry.detail["reason"] == "该村名单漏报两户"
    # The old visits are refused from phones that still hold the voided tokens.
    stale = sync(ev, record(visit_payload(old_token, personas.villages["a1"], 5)))
    assert stale.status_code == 422


def test_village_void_page_has_a_confirm_step(login_as, personas):
    draw_county(login_as, personas)
    visit_a1(login_as, personas, n=2)
    vd = find_village_draw(personas.cycle.id, personas.villages["a1"].code)
    admin = login_as("admin")
    page = admin.get(f"/staff/sampling/village-draws/{vd.id}/void").get_data(as_text=True)
    assert 'data-testid="void-consequences"' in page and ">2<" not in page
    assert "2" in page.split('data-testid="void-consequences"')[1].split("</ul>")[0]
    token = admin.csrf_token
    admin.post(f"/staff/sampling/village-draws/{vd.id}/void", data={
        "csrf_token": token, "reason": "重抽"}, headers={})
    db.session.expire_all()
    assert db.session.get(VillageDraw, vd.id).status == "active"  # no tick, no void
    admin.post(f"/staff/sampling/village-draws/{vd.id}/void", data={
        "csrf_token": token, "reason": "重抽", "confirm": "true"})
    db.session.expire_all()
    assert db.session.get(VillageDraw, vd.id).status == "voided"
    assert login_as("staff_a").get(f"/staff/sampling/village-draws/{vd.id}/void").status_code == 403


def test_cycle_page_offers_the_late_village_and_draws_it(login_as, personas):
    draw_county(login_as, personas)
    late = add_late_village(login_as)
    staff = login_as("staff_a")
    page = f"/staff/sampling/cycles/{personas.cycle.id}"
    html = staff.get(page).get_data(as_text=True)
    assert 'data-testid="village-draw-form"' in html and f'value="{late.id}"' in html
    drawn = staff.post(f"{page}/village-draws", data={
        "csrf_token": staff.csrf_token, "seed": LATE_SEED, "village_id": str(late.id),
        "confirm": "true"})
    assert drawn.status_code == 302
    assert find_village_draw(personas.cycle.id, LATE_CODE).draw.seed == LATE_SEED
    assert 'data-testid="village-draw-form"' not in staff.get(page).get_data(as_text=True)


def test_cli_draws_and_voids_one_village(login_as, runner, personas):
    draw_id = draw_county(login_as, personas)
    late = add_late_village(login_as)
    result = runner.invoke(args=["sample", "draw", "--cycle", str(personas.cycle.id),
                                 "--village", LATE_CODE, "--seed", LATE_SEED])
    assert result.exit_code == 0, result.output
    late_draw = find_village_draw(personas.cycle.id, LATE_CODE).draw
    assert late_draw.village_id == late.id
    refused = runner.invoke(args=["sample", "void", "--draw", str(draw_id), "--village",
                                  personas.villages["a1"].code, "--reason", "x"], input="n\n")
    assert refused.exit_code != 0
    ok = runner.invoke(args=["sample", "void", "--draw", str(draw_id), "--village",
                             personas.villages["a1"].code, "--reason", "名单有误", "--yes"])
    assert ok.exit_code == 0, ok.output
    db.session.expire_all()
    statuses = {vd.village_code: vd.status for vd in db.session.scalars(
        select(VillageDraw).where(VillageDraw.draw_id == draw_id))}
    assert statuses == {personas.villages["a1"].code: "voided",
                        personas.villages["a2"].code: "active"}


def test_evaluators_never_see_households_that_were_not_drawn(login_as, personas):
    draw_id = draw_county(login_as, personas)
    vd = find_village_draw(personas.cycle.id, personas.villages["a1"].code)
    staff_view = login_as("staff_a").get(f"/api/village-draws/{vd.id}").get_json()
    assert {e["role"] for e in staff_view["entries"]} == {"sample", "reserve", "unused"}
    mine = login_as("evaluator_a").get(f"/api/village-draws/{vd.id}").get_json()
    assert {e["role"] for e in mine["entries"]} == {"sample", "reserve"}
    assert len(mine["entries"]) == 25
    also = login_as("evaluator_a").get(
        f"/api/villages/{personas.villages['a1'].id}/sample").get_json()
    assert {e["role"] for e in also["entries"]} == {"sample", "reserve"}
    assert draw_id


def test_a_finalised_county_freezes_single_village_voids(login_as, runner, personas):
    from fieldapp.services.scoring.results import finalise

    draw_id = draw_county(login_as, personas)
    finalise(SYSTEM, personas.cycle, personas.counties["a"].id, accept_incomplete=True)
    vd = find_village_draw(personas.cycle.id, personas.villages["a1"].code)
    refused = login_as("admin").post(f"/api/village-draws/{vd.id}/void", json={"reason": "x"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "county_finalised"
    assert login_as("admin").get(f"/staff/sampling/village-draws/{vd.id}/void").status_code == 409
    result = runner.invoke(args=["sample", "void", "--draw", str(draw_id), "--village",
                                 personas.villages["a1"].code, "--reason", "x", "--yes"])
    assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.get(VillageDraw, vd.id).status == "active"
    late = add_late_village(login_as)
    drawn = login_as("staff_a").post(f"/api/cycles/{personas.cycle.id}/village-draws",
                                     json={"seed": LATE_SEED, "village_id": late.id})
    assert drawn.status_code == 409 and drawn.get_json()["code"] == "county_finalised"
