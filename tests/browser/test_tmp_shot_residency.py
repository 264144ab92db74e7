from playwright.sync_api import Page
from ..personas import PASSWORD

def test_shots(page: Page, live_server, personas):
    page.set_viewport_size({"width": 1100, "height": 1300})
    page.goto(f"{live_server.url}/login")
    page.get_by_test_id("login-phone").fill(personas.users["staff_a"].phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.goto(f"{live_server.url}/staff/residency/villages/{personas.villages['a1'].id}/poster")
    page.screenshot(path="/tmp/poster.png")
    page.goto(f"{live_server.url}/staff/residency/secretaries/{personas.secretaries['a'].id}?year=2026&month=3")
    page.screenshot(path="/tmp/calendar.png")
