"""Staff pages after the county-official walkthrough (UAT): Chinese field errors on the
meetings/scores/spot-check forms, the page language on the meeting page, navigation between
a secretary's score, meeting and residency calendar, empty states without a cycle, and the
visit detail naming its evaluator and why it has no position."""
from __future__ import annotations

from sqlalchemy import delete

from fieldapp.extensions import db
from fieldapp.models import Cycle, EvaluatorAssignment

from .scores_helpers import (add_visits, ballot_answers, household_answers, make_meeting, run_draw,
                             vote_all)


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": client.csrf_token, **data})


def test_meeting_form_marshmallow_errors_are_chinese(login_as, personas):
    staff = login_as("staff_a")
    # No place field at all: marshmallow's own "Missing data for required field."
    page = _post(staff, "/staff/meetings", secretary_id=personas.secretaries["a"].id,
                 held_on="2026-11-21", cadre="2")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "<li>地点：此项必填。</li>" in html and "Missing data" not in html


def test_meeting_form_errors_sit_beside_the_form(login_as, personas):
    staff = login_as("staff_a")
    html = _post(staff, "/staff/meetings", secretary_id=personas.secretaries["a"].id,
                 held_on="2026-11-21", cadre="2").get_data(as_text=True)
    assert html.index('data-testid="meeting-form"') > html.index('data-testid="form-errors"') \
        > html.index("新建评议会")


def test_score_entry_range_error_is_chinese(login_as, personas):
    staff = login_as("staff_a")
    sec = personas.secretaries["a"]
    page = _post(staff, f"/staff/scores/{sec.id}?cycle_id={personas.cycle.id}",
                 work_performance="75")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "工作实绩（0-60）：应在 0 到 60 之间。" in html and "Between" not in html


def test_meeting_page_follows_the_language_switch_not_the_browser(login_as, personas):
    staff = login_as("staff_a")
    meeting = make_meeting(personas)
    db.session.commit()
    staff.client.set_cookie("lang", "en")
    html = staff.get(f"/staff/meetings/{meeting.id}",
                     headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert ">Satisfied<" in html and ">满意<" not in html
    staff.client.set_cookie("lang", "zh_Hans")
    html = staff.get(f"/staff/meetings/{meeting.id}",
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">满意<" in html


def test_meeting_list_marks_secretaries_who_already_have_a_meeting(login_as, personas):
    staff = login_as("staff_a")
    make_meeting(personas, "a")
    db.session.commit()
    html = staff.get(f"/staff/meetings?cycle_id={personas.cycle.id}").get_data(as_text=True)
    sec = personas.secretaries["a"]
    assert f'<option value="{sec.id}"  disabled>' in html and "（已有评议会）" not in html
    assert "(已有评议会)" in html


def test_meeting_detail_warns_of_more_votes_than_participants_and_links_the_scorecard(
        login_as, personas):
    staff = login_as("staff_a")
    meeting = make_meeting(personas, participants={"cadre": 1, "party_member": 1})
    db.session.commit()
    vote_all(meeting, [("cadre", ballot_answers())])
    url = f"/staff/meetings/{meeting.id}"
    assert 'data-testid="over-count"' not in staff.get(url).get_data(as_text=True)
    # Paper tallies are bounded, but a voter may pick another category on the QR ballot.
    assert _post(staff, url, action="tallies", **{"tally.cadre.satisfied": "1"}).status_code == 422
    from flask import current_app
    import uuid
    from fieldapp.services import meetings as msvc

    with current_app.test_request_context():
        assert msvc.cast_vote(msvc.slip_token(meeting, 1), "cadre", ballot_answers(),
                              uuid.uuid4().hex) == "stored"
    html = staff.get(url).get_data(as_text=True)
    assert 'data-testid="over-count">票数超过参会人数<' in html
    assert f'href="/staff/scores/{meeting.secretary_id}?cycle_id={meeting.cycle_id}' in html


def test_score_row_and_entry_link_to_the_residency_calendar(login_as, personas):
    staff = login_as("staff_a")
    sec = personas.secretaries["a"]
    calendar = f'href="/staff/residency/secretaries/{sec.id}"'
    html = staff.get(f"/staff/scores?cycle_id={personas.cycle.id}").get_data(as_text=True)
    assert f'{calendar} data-testid="calendar-link"' in html
    html = staff.get(f"/staff/scores/{sec.id}?cycle_id={personas.cycle.id}").get_data(as_text=True)
    assert f'{calendar} data-testid="entry-calendar-link">驻村日历<' in html
    assert f'href="/staff/visits?village_id={sec.village_id}"' in html


def test_spot_check_errors_name_the_field_and_rows_link_the_calendar(login_as, personas):
    staff = login_as("staff_a")
    sec = personas.secretaries["a"]
    page = _post(staff, "/staff/residency/spot-checks", secretary_id=sec.id, day="2099-01-01",
                 present="no")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "日期：" in html and "<li>day：" not in html
    assert _post(staff, "/staff/residency/spot-checks", secretary_id=sec.id, day="2026-03-13",
                 present="no").status_code == 302
    html = staff.get("/staff/residency/spot-checks").get_data(as_text=True)
    assert f'href="/staff/residency/secretaries/{sec.id}?year=2026&amp;month=3"' in html


def test_discipline_says_not_confirmed_not_not_arrived(login_as, personas):
    html = login_as("staff_a").get("/staff/residency/discipline?year=2026").get_data(as_text=True)
    assert 'data-testid="not-confirmed">未确认<' in html and "未到" not in html


def test_visit_detail_names_the_evaluator_and_why_there_is_no_position(login_as, personas):
    run_draw(personas)
    (visit,) = add_visits(personas, "a1", [household_answers()])
    visit.lat = visit.lon = visit.accuracy_m = None
    visit.geo_error = "denied"
    db.session.commit()
    html = login_as("staff_a").get(f"/staff/visits/{visit.id}").get_data(as_text=True)
    evaluator = personas.users["evaluator_a"]
    assert f"评议员: {evaluator.name}" in html
    assert 'data-testid="geo-error">未获定位权限<' in html and "(denied)" not in html
    assert f'href="/staff/visits?village_id={visit.village_id}"' in html


def test_without_a_cycle_pages_say_where_to_create_one(login_as, personas):
    db.session.execute(delete(EvaluatorAssignment))
    db.session.execute(delete(Cycle))
    db.session.commit()
    staff = login_as("staff_a")
    for url in ("/staff/", "/staff/meetings", "/staff/scores"):
        html = staff.get(url).get_data(as_text=True)
        assert 'data-testid="no-cycle-link"' in html and 'href="/staff/sampling"' in html, url
        assert 'data-testid="scope-picker"' not in html, url  # no empty <select>
