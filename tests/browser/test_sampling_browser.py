"""The household draw in a real browser (issue 3).

1. County staff record a seed, draw and assign an evaluator on the staff pages; a blank seed
   gets a Chinese, field-level error and no draw.
2. The field sheet prints (print media, PDF) and the QR's URL opens that household's visit
   screen in the PWA of the assigned evaluator, online and offline.
3. Two phones mark the same household 无法访问 offline: one reserve is used, the later one
   is a conflict, and county staff see the conflict and the replacement rate.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import Draw, EvaluatorAssignment, Replacement, SampleEntry, VillageDraw
from fieldapp.web.sampling import qr_svg

from ..personas import PASSWORD, make_user

TIMEOUT = 20_000
SEED = "2026-03-01 双色球 2026023期 03 09 14 21 27 31 + 08"


def staff_login(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}/staff/", timeout=TIMEOUT)


def pwa_login_and_download(page: Page, base: str, phone: str, villages: int = 1) -> None:
    page.goto(f"{base}/")
    page.get_by_test_id("login-phone").fill(phone)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("download-tasks").click()
    expect(page.get_by_test_id("village-row")).to_have_count(villages, timeout=TIMEOUT)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                           timeout=TIMEOUT)


@pytest.fixture
def small_draw(personas):
    """County A drawn with 3 households to visit and 2 reserves per village."""
    from fieldapp.services.draws import run_draw

    personas.cycle.settings = {"sample_size": 3, "reserve_count": 2}
    db.session.commit()
    (draw,) = run_draw(SYSTEM, personas.cycle, personas.counties["a"], SEED)
    return draw.id


def village_entries(draw_id: int, village_id: int) -> list[SampleEntry]:
    db.session.expire_all()
    vd = db.session.scalar(select(VillageDraw).where(VillageDraw.draw_id == draw_id,
                                                     VillageDraw.village_id == village_id))
    return list(db.session.scalars(select(SampleEntry).where(SampleEntry.village_draw_id == vd.id)
                                   .order_by(SampleEntry.rank)))


def test_staff_record_seed_draw_and_assign(page: Page, live_server, personas):
    base = live_server.url
    cycle = personas.cycle
    staff_login(page, base, personas.users["staff_a"].phone)
    page.goto(f"{base}/staff/sampling")
    page.locator("[data-testid=cycle-row] a").first.click()
    expect(page).to_have_url(f"{base}/staff/sampling/cycles/{cycle.id}")

    # A blank seed: a field-level error in Chinese, and no draw.
    form = page.get_by_test_id("draw-form")
    form.locator("textarea[name=seed]").fill("   ")
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    flashes = page.get_by_test_id("flashes")
    expect(flashes).to_contain_text("公开种子: 种子不能为空。")
    assert db.session.scalar(select(func.count()).select_from(Draw)) == 0

    form = page.get_by_test_id("draw-form")
    form.locator("select[name=county_id]").select_option(label="岐山县")
    form.locator("textarea[name=seed]").fill(SEED)
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/sampling/draws/\d+$"))
    expect(page.get_by_test_id("seed")).to_have_text(SEED)
    expect(page.get_by_test_id("quality-row")).to_have_count(2)
    expect(page.locator('[data-testid=quality-row][data-village="610323100002"]')).to_contain_text("全部入样")
    db.session.expire_all()
    draw = db.session.scalar(select(Draw))
    assert (draw.seed, draw.county_id, draw.status) == (SEED, personas.counties["a"].id, "active")

    # Locked: the form offers no second draw of the county.
    page.goto(f"{base}/staff/sampling/cycles/{cycle.id}")
    expect(page.get_by_test_id("draw-row")).to_have_count(1)
    expect(page.get_by_test_id("draw-form")).to_have_count(0)

    # Assign the county's evaluator to every village without one (the second) in one post.
    form = page.get_by_test_id("bulk-assign")
    form.locator("select[name=user_id]").select_option(str(personas.users["evaluator_a"].id))
    form.get_by_role("button", name="全选未分配的村").click()
    boxes = page.locator("input[name=village_ids]")
    expect(page.locator('[data-village="610323100001"] input[name=village_ids]')).not_to_be_checked()
    expect(page.locator('[data-village="610323100002"] input[name=village_ids]')).to_be_checked()
    expect(form.locator("[data-selected-count]")).to_have_text("1")
    form.get_by_role("button", name="清除勾选").click()
    expect(form.locator("[data-selected-count]")).to_have_text("0")
    assert all(not boxes.nth(i).is_checked() for i in range(boxes.count()))
    form.get_by_role("button", name="全选未分配的村").click()
    form.get_by_role("button", name="分配到勾选的村").click()
    expect(page.get_by_test_id("flashes")).to_contain_text("已将 岐山评议员 分配到 1 个村。")
    expect(page.get_by_test_id("assignment-row").filter(has_text="610323100002")).to_contain_text("岐山评议员")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(EvaluatorAssignment).where(
        EvaluatorAssignment.user_id == personas.users["evaluator_a"].id,
        EvaluatorAssignment.village_id == personas.villages["a2"].id)) == 1


def test_field_sheet_prints_and_its_qr_opens_the_visit(page: Page, context, live_server, personas,
                                                       small_draw):
    base = live_server.url
    village = personas.villages["a1"]
    rows = [e for e in village_entries(small_draw, village.id) if e.role != "unused"]
    pwa_login_and_download(page, base, personas.users["evaluator_a"].phone)

    vd_id = rows[0].village_draw_id
    page.goto(f"{base}/sampling/sheet/{vd_id}")
    sheet_rows = page.get_by_test_id("sheet-row")
    expect(sheet_rows).to_have_count(5)
    assert [sheet_rows.nth(i).get_attribute("data-household") for i in range(5)] == \
        [e.household_no for e in rows]
    expect(page.locator("td.qr svg")).to_have_count(5)
    urls = [q.get_attribute("data-qr-url") for q in page.locator("td.qr").all()]
    for entry, url in zip(rows, urls):
        assert url == f"{base}/#/visit/{entry.token}"
        assert entry.household_no not in url  # an unguessable token, never the 户编号
        # The drawn QR is the qrcode package's SVG of exactly this URL.
        drawn = page.locator(f'td.qr[data-qr-url="{url}"] svg path').get_attribute("d")
        assert drawn == re.search(r' d="([^"]+)"', qr_svg(url)).group(1)

    # Print: the QR codes stay, the print button goes; Chromium renders a PDF.
    page.emulate_media(media="print")
    expect(page.locator("[data-print]")).to_be_hidden()
    box = page.locator("td.qr svg").first.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    page.emulate_media(media="screen")

    # Scanning the first QR opens that household's visit in the evaluator's PWA.
    page.goto(urls[0])
    card = page.get_by_test_id("household-card")
    expect(card).to_contain_text(rows[0].household.head_name, timeout=TIMEOUT)
    expect(card).to_contain_text(rows[0].household_no)
    expect(page.get_by_test_id("visit-form")).to_be_visible()

    # In the village, offline: the second QR still opens its household from the download.
    context.set_offline(True)
    page.goto(urls[1])
    card = page.get_by_test_id("household-card")
    expect(card).to_contain_text(rows[1].household.head_name, timeout=TIMEOUT)
    expect(card).to_contain_text(rows[1].household_no)
    context.set_offline(False)


def replace_offline(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/#/visit/{token}")
    page.get_by_test_id("visit-unreachable").click()
    page.get_by_test_id("reason-migrant_work").check()
    page.get_by_test_id("replace-confirm").click()
    expect(page.get_by_test_id("sample-list")).to_be_visible(timeout=TIMEOUT)


def test_two_phones_replace_offline_one_reserve_conflict_shown(browser: Browser, page: Page,
                                                                live_server, personas, small_draw):
    base = live_server.url
    village = personas.villages["a1"]
    second = make_user("13800000009", "evaluator", "岐山第二评议员", personas.counties["a"])
    db.session.flush()
    db.session.add(EvaluatorAssignment(cycle_id=personas.cycle.id, user_id=second.id,
                                       village_id=village.id))
    db.session.commit()
    entries = village_entries(small_draw, village.id)
    target = entries[0]
    reserves = [e for e in entries if e.role == "reserve"]

    phones = []
    for user in (personas.users["evaluator_a"], second):
        ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN",
                                  service_workers="allow")
        phone = ctx.new_page()
        pwa_login_and_download(phone, base, user.phone)
        phones.append((ctx, phone))

    for ctx, phone in phones:
        ctx.set_offline(True)
        replace_offline(phone, base, target.token)
        # Offline, each phone activates the first reserve from its download.
        first_reserve = phone.locator(f'[data-testid=household-row][data-token="{reserves[0].token}"]')
        expect(first_reserve).to_have_attribute("data-status", "reserve_active", timeout=TIMEOUT)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Replacement)) == 0

    for ctx, phone in phones:  # one after the other: the first to arrive wins
        ctx.set_offline(False)  # the `online` event syncs by itself
        expect(phone.get_by_test_id("pending-count")).to_have_text("0", timeout=TIMEOUT)

    db.session.expire_all()
    reps = db.session.scalars(select(Replacement).order_by(Replacement.id)).all()
    assert [(r.is_conflict, r.reserve_entry_id) for r in reps] == [(False, reserves[0].id), (True, None)]
    assert reps[0].actor_id == personas.users["evaluator_a"].id and reps[1].actor_id == second.id
    statuses = {e.token: e.status for e in village_entries(small_draw, village.id)}
    assert statuses[target.token] == "unreachable"
    assert [statuses[r.token] for r in reserves] == ["reserve_active", "reserve_unused"]
    for ctx, _phone in phones:
        ctx.close()

    # County staff see the conflict and the replacement rate (1 of 3 sampled households).
    staff_login(page, base, personas.users["staff_a"].phone)
    page.goto(f"{base}/staff/sampling/draws/{small_draw}")
    row = page.locator(f'[data-testid=quality-row][data-village="{village.code}"]')
    expect(row.get_by_test_id("rate")).to_have_text("33%")
    expect(row.get_by_test_id("conflicts")).to_have_text("1")
    conflict = page.get_by_test_id("conflict-row")
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text(target.household_no)
    expect(conflict).to_contain_text("岐山第二评议员")
    expect(conflict).to_contain_text(reserves[0].household_no)  # the reserve the server chose
