"""A real browser votes with a ballot slip's URL once; the second try is refused."""
from __future__ import annotations

from playwright.sync_api import expect

from fieldapp.policy import SYSTEM
from fieldapp.services import meetings as svc

from ..api.scores_helpers import make_meeting


def test_slip_votes_once(app, personas, live_server, page):
    meeting = make_meeting(personas, "a", {"cadre": 2})
    with app.test_request_context():
        token = svc.slip_token(meeting, 0)
    url = f"{live_server.url}/b/{token}"

    page.goto(url)
    form = page.get_by_test_id("ballot-form")
    expect(form).to_be_visible()
    expect(page.locator("#about")).to_contain_text("书记A")
    page.get_by_label("村组干部").check()
    for fieldset in page.locator("fieldset[data-item]").all():
        fieldset.get_by_label("满意", exact=True).check()
    page.get_by_test_id("ballot-submit").click()
    expect(page.get_by_test_id("ballot-status")).to_have_text("已提交，谢谢！")
    expect(form).to_be_hidden()

    # The same slip again (another phone, or a reload): refused, clearly.
    page.goto(url)
    expect(page.get_by_test_id("ballot-status")).to_have_text("此选票已使用。")
    expect(form).to_be_hidden()

    svc.close_meeting(SYSTEM, meeting)
    with app.test_request_context():
        other = svc.slip_token(meeting, 1)
    page.goto(f"{live_server.url}/b/{other}")
    expect(page.get_by_test_id("ballot-status")).to_have_text("会议已结束，不再接受投票。")


def test_retries_when_the_network_fails(app, personas, live_server, page, context):
    meeting = make_meeting(personas, "a", {"cadre": 1})
    with app.test_request_context():
        token = svc.slip_token(meeting, 0)
    page.goto(f"{live_server.url}/b/{token}")
    expect(page.get_by_test_id("ballot-form")).to_be_visible()
    page.get_by_label("党员").check()
    for fieldset in page.locator("fieldset[data-item]").all():
        fieldset.get_by_label("基本满意", exact=True).check()
    context.set_offline(True)
    page.get_by_test_id("ballot-submit").click()
    expect(page.get_by_test_id("ballot-status")).to_contain_text("秒后重试")
    context.set_offline(False)
    expect(page.get_by_test_id("ballot-status")).to_have_text("已提交，谢谢！", timeout=15000)
