"""A county staff member logs in with a real browser and imports a roster with progress."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from ..api.test_roster_import import household_rows, workbook
from ..personas import PASSWORD


def login(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_staff_login_and_roster_upload(page: Page, live_server, personas, tmp_path):
    login(page, live_server.url, personas.users["staff_a"].phone)
    expect(page).to_have_url(f"{live_server.url}/staff/")
    expect(page.get_by_test_id("stat-villages")).to_have_text("2")
    page.goto(f"{live_server.url}/staff/roster")
    good = tmp_path / "roster.xlsx"
    good.write_bytes(workbook(household_rows(), [["李书记", "13912340000", "市", "宝鸡市财政局",
                                                  "610323200001", "2025-01-01", None]]))
    page.get_by_test_id("roster-files").set_input_files(str(good))
    page.get_by_test_id("roster-submit").click()
    expect(page.get_by_test_id("roster-ok")).to_be_visible()
    counts = page.get_by_test_id("roster-counts")
    expect(counts).to_contain_text("3")
    # Places first, then people; and the next step for the new secretary.
    labels = counts.locator("tbody th").all_inner_texts()
    assert labels == ["镇办", "村", "户", "第一书记"]
    expect(page.get_by_test_id("roster-next-accounts")).to_have_attribute("href", "/staff/users/")

    bad_rows = household_rows()
    bad_rows[1][7] = "两"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(bad_rows))
    page.get_by_test_id("roster-files").set_input_files(str(bad))
    page.get_by_test_id("roster-submit").click()
    errors = page.get_by_test_id("roster-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("家庭人口")
    expect(page.get_by_test_id("roster-error")).to_contain_text("未导入")


def test_wrong_password_in_browser(page: Page, live_server, personas):
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-phone").fill(personas.users["staff_a"].phone)
    page.get_by_test_id("login-password").fill("wrong-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("手机号或密码错误")
