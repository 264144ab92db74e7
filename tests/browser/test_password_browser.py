"""The phone app's settings screen changes the password: this phone stays logged in, the
account's other sessions end at once, and the server's field messages reach the screen."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from ..personas import PASSWORD, login
from .test_checkin_browser import log_in_secretary


def test_password_change_from_the_phone_settings(personas, live_server, page: Page):
    other = personas.app.test_client()  # the same account on another device
    assert login(other, personas.users["secretary_a"].phone).status_code == 200
    assert other.get("/api/me").status_code == 200
    log_in_secretary(page, live_server, personas)
    expect(page.get_by_test_id("checkin-button")).to_be_visible()
    page.goto(f"{page.url.split('#')[0]}#/settings")
    form = page.get_by_test_id("password-form")
    expect(form).to_be_visible()

    # Checked on the phone first: the two new passwords must agree.
    page.get_by_test_id("password-current").fill(PASSWORD)
    page.get_by_test_id("password-new").fill("new-pass-2026")
    page.get_by_test_id("password-repeat").fill("new-pass-2027")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-result")).to_have_text("两次输入的新密码不一致")
    # Then by the server: a wrong current password, in Chinese, on its field.
    page.get_by_test_id("password-current").fill("wrong-password")
    page.get_by_test_id("password-repeat").fill("new-pass-2026")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-result")).to_contain_text("当前密码")
    assert other.get("/api/me").status_code == 200  # nothing changed yet

    page.get_by_test_id("password-current").fill(PASSWORD)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-result")).to_contain_text("密码已修改")
    expect(page.get_by_test_id("password-current")).to_have_value("")
    assert other.get("/api/me").status_code == 401  # the other device is logged out
    status = page.evaluate("fetch('/api/me', {credentials: 'same-origin'}).then(r => r.status)")
    assert status == 200  # this phone is not
    fresh = personas.app.test_client()
    assert login(fresh, personas.users["secretary_a"].phone, "new-pass-2026").status_code == 200
