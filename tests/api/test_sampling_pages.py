"""Staff pages for cycles and draws, the public draw page and the field sheet with QR codes."""
from __future__ import annotations

import re

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import Cycle, Draw, EvaluatorAssignment, Household
from fieldapp.web.sampling import qr_svg

from .sampling_support import SEED, draw_county, entries, replacement_record, sync, village_draw


def _form_token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_field_sheet_lists_sample_and_reserves_with_qr_codes(app, login_as, personas):
    draw_id = draw_county(login_as, personas)
    vd = village_draw(draw_id, personas.villages["a1"].id)
    response = login_as("evaluator_a").get(f"/sampling/sheet/{vd.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = entries(draw_id, personas.villages["a1"].id)
    shown = re.findall(r'data-testid="sheet-row" data-household="([^"]+)"', html)
    assert shown == [e.household_no for e in rows if e.role in ("sample", "reserve")]  # in order
    for e in rows:
        if e.role == "unused":
            assert e.household_no not in html
            continue
        url = f"http://localhost/#/visit/{e.token}"
        assert f'data-qr-url="{url}"' in html
        assert qr_svg(url) in html  # the inline SVG encodes exactly that URL
        assert e.household.head_name in html  # names are fine on the evaluator's sheet
    assert html.count("<svg") == 25
    assert str(vd.id) not in re.findall(r"/#/visit/([^\"]+)", html)
    assert all(not re.search(r"\d{16}", t) for t in re.findall(r"/#/visit/([^\"<]+)", html))
    assert "<script>" not in html  # CSP: scripts only from files


def test_qr_uses_public_base_url(app, login_as, personas):
    draw_id = draw_county(login_as, personas)
    vd = village_draw(draw_id, personas.villages["a1"].id)
    app.config["PUBLIC_BASE_URL"] = "https://pj.example.cn/"
    try:
        html = login_as("staff_a").get(f"/sampling/sheet/{vd.id}").get_data(as_text=True)
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    token = entries(draw_id, personas.villages["a1"].id)[0].token
    assert f'data-qr-url="https://pj.example.cn/#/visit/{token}"' in html


def test_qr_svg_is_a_real_qr_code():
    svg = qr_svg("https://pj.example.cn/#/visit/abc")
    assert svg.startswith("<svg") and "<path" in svg and "<?xml" not in svg


def test_field_sheet_scoping(login_as, personas):
    draw_id = draw_county(login_as, personas)
    a1 = village_draw(draw_id, personas.villages["a1"].id)
    a2 = village_draw(draw_id, personas.villages["a2"].id)
    assert login_as("staff_a").get(f"/sampling/sheet/{a2.id}").status_code == 200
    assert login_as("evaluator_a").get(f"/sampling/sheet/{a2.id}").status_code == 403
    assert login_as("evaluator_b").get(f"/sampling/sheet/{a1.id}").status_code == 403
    assert login_as("staff_b").get(f"/sampling/sheet/{a1.id}").status_code == 403
    assert login_as("secretary_a").get(f"/sampling/sheet/{a1.id}").status_code == 403
    anonymous = personas.anonymous().get(f"/sampling/sheet/{a1.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_public_page_shows_seed_time_ranks_and_no_names(login_as, personas):
    draw_id = draw_county(login_as, personas)
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    sync(login_as("evaluator_a"), replacement_record(sample[0].token, "other",
                                                     reason_text="户主住院，联系人李四"))
    draw = db.session.get(Draw, draw_id)
    response = personas.anonymous().get(f"/draw/{draw.public_token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert SEED in html
    assert draw.seed_recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ") in html
    for village in ("a1", "a2"):
        for e in entries(draw_id, personas.villages[village].id):
            assert e.household_no in html and e.hmac_key in html
    names = db.session.scalars(select(Household.head_name)).all()
    assert not [n for n in names if n in html]
    assert "李四" not in html and "住院" not in html  # free text stays internal
    assert all(e.token not in html for e in sample)  # tokens open visits: never public
    assert "<script>" not in html

    one = personas.anonymous().get(f"/draw/{draw.public_token}?village={personas.villages['a2'].code}")
    assert personas.villages["a1"].code not in one.get_data(as_text=True).split("</h1>", 1)[1]
    assert personas.anonymous().get("/draw/not-a-token").status_code == 404


def test_public_json_record_verifies(login_as, personas):
    from fieldapp.domain.sampling import verify_record

    draw_id = draw_county(login_as, personas)
    draw = db.session.get(Draw, draw_id)
    code = personas.villages["a1"].code
    response = personas.anonymous().get(f"/draw/{draw.public_token}/{code}.json")
    assert response.status_code == 200
    assert verify_record(response.get_json()).ok
    assert personas.anonymous().get(f"/draw/{draw.public_token}/000.json").status_code == 404


def test_voided_draw_stays_public_with_its_reason(login_as, personas):
    draw_id = draw_county(login_as, personas)
    login_as("admin").post(f"/api/draws/{draw_id}/void", json={"reason": "名单未冻结"})
    draw = db.session.get(Draw, draw_id)
    html = personas.anonymous().get(f"/draw/{draw.public_token}").get_data(as_text=True)
    assert 'data-testid="voided"' in html and "名单未冻结" in html


def test_staff_pages_create_draw_assign_and_void(login_as, personas):
    staff = login_as("staff_a").client
    assert staff.get("/staff/sampling").status_code == 200
    token = _form_token(staff, "/staff/sampling")
    created = staff.post("/staff/sampling/cycles", data={
        "csrf_token": token, "year": "2027", "sample_size": "10", "reserve_count": "3"})
    assert created.status_code == 302
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == 2027))
    assert cycle.county_id == personas.counties["a"].id
    assert (cycle.setting("sample_size"), cycle.setting("include_exited")) == (10, False)

    page = f"/staff/sampling/cycles/{cycle.id}"
    html = staff.get(page).get_data(as_text=True)
    assert 'data-testid="draw-form"' in html
    # Without the confirmation nothing is drawn.
    staff.post(f"{page}/draws", data={"csrf_token": token, "seed": "s1",
                                      "county_id": str(personas.counties["a"].id)})
    assert db.session.scalar(select(Draw.id)) is None
    drawn = staff.post(f"{page}/draws", data={"csrf_token": token, "seed": " s1 ", "confirm": "true",
                                              "county_id": str(personas.counties["a"].id)})
    assert drawn.status_code == 302
    draw = db.session.scalar(select(Draw))
    assert draw.seed == " s1 " and draw.sample_size == 10
    detail = staff.get(drawn.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="quality-table"' in detail and "void-form" not in detail

    assigned = staff.post(f"{page}/assignments", data={
        "csrf_token": token, "user_id": str(personas.users["evaluator_a"].id),
        "village_ids": str(personas.villages["a2"].id)})
    assert assigned.status_code == 302
    assert db.session.scalar(select(EvaluatorAssignment).where(
        EvaluatorAssignment.cycle_id == cycle.id)) is not None
    # Staff cannot void; the admin can, with a reason.
    assert staff.post(f"/staff/sampling/draws/{draw.id}/void",
                      data={"csrf_token": token, "reason": "x"}).status_code == 403
    admin = login_as("admin").client
    admin_token = _form_token(admin, "/staff/sampling")
    assert "void-form" in admin.get(f"/staff/sampling/draws/{draw.id}").get_data(as_text=True)
    admin.post(f"/staff/sampling/draws/{draw.id}/void", data={"csrf_token": admin_token, "reason": ""})
    db.session.expire_all()
    assert db.session.get(Draw, draw.id).status == "active"
    # The confirm step: the page names what stops counting; without the tick nothing happens.
    confirm = admin.get(f"/staff/sampling/draws/{draw.id}/void").get_data(as_text=True)
    assert 'data-testid="void-consequences"' in confirm
    admin.post(f"/staff/sampling/draws/{draw.id}/void", data={"csrf_token": admin_token, "reason": "重抽"})
    db.session.expire_all()
    assert db.session.get(Draw, draw.id).status == "active"
    admin.post(f"/staff/sampling/draws/{draw.id}/void", data={
        "csrf_token": admin_token, "reason": "重抽", "confirm": "true"})
    db.session.expire_all()
    assert db.session.get(Draw, draw.id).status == "voided"


def test_draw_page_shows_rate_and_conflicts(login_as, personas):
    draw_id = draw_county(login_as, personas)
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    phone = login_as("evaluator_a")
    sync(phone, replacement_record(sample[0].token))
    sync(phone, replacement_record(sample[0].token, "refused"))
    html = login_as("staff_a").client.get(f"/staff/sampling/draws/{draw_id}").get_data(as_text=True)
    row = re.search(rf'data-village="{personas.villages["a1"].code}">(.*?)</tr>', html, re.S).group(1)
    assert 'data-testid="rate">5%' in row and 'data-testid="conflicts">1' in row
    assert html.count('data-testid="conflict-row"') == 1
    assert login_as("staff_b").client.get(f"/staff/sampling/draws/{draw_id}").status_code == 403


def test_staff_pages_are_for_staff(login_as, personas):
    for who in ("evaluator_a", "secretary_a"):
        assert login_as(who).client.get("/staff/sampling").status_code == 403
    cycle_b = login_as("staff_b")
    assert cycle_b.client.get(f"/staff/sampling/cycles/{personas.cycle.id}").status_code == 200


def test_pages_and_errors_are_in_chinese_by_default(login_as, personas):
    draw_id = draw_county(login_as, personas)
    draw = db.session.get(Draw, draw_id)
    html = personas.anonymous().get(f"/draw/{draw.public_token}").get_data(as_text=True)
    assert "抽样公示" in html and "户编号" in html and "样本户" in html
    again = login_as("staff_a").post(f"/api/cycles/{personas.cycle.id}/draws",
                                     json={"seed": "x", "county_id": personas.counties["a"].id})
    assert "不允许重抽" in again.get_json()["message"]
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    bad = sync(login_as("evaluator_a"), replacement_record(sample[0].token, "not_home", attempts=1))
    assert bad.get_json()["results"][0]["errors"]["attempts"] == ["“无人在家”须至少上门2次。"]


def test_form_errors_name_the_field_in_chinese(login_as, personas):
    staff = login_as("staff_a").client
    token = _form_token(staff, "/staff/sampling")
    staff.post("/staff/sampling/cycles", data={"csrf_token": token, "year": "1999",
                                               "sample_size": "abc"})
    html = staff.get("/staff/sampling").get_data(as_text=True)
    assert "年度: 请输入2000至2100之间的年份。" in html
    assert "每村走访户数: 请输入1至200之间的整数。" in html
    assert "Must be" not in html and "year:" not in html
    assert db.session.scalar(select(Cycle.id).where(Cycle.year == 1999)) is None

    page = f"/staff/sampling/cycles/{personas.cycle.id}"
    staff.post(f"{page}/draws", data={"csrf_token": token, "seed": "   ", "confirm": "true"})
    html = staff.get(page).get_data(as_text=True)
    assert "公开种子: 种子不能为空。" in html and "seed:" not in html
    assert db.session.scalar(select(Draw.id)) is None


class _QueryCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, *args, **kwargs):
        self.n += 1

    def count(self, fn):
        from sqlalchemy import event

        self.n = 0
        event.listen(db.engine, "before_cursor_execute", self)
        try:
            fn()
        finally:
            event.remove(db.engine, "before_cursor_execute", self)
        return self.n


def test_public_page_queries_do_not_grow_with_villages(login_as, personas):
    from tests.personas import make_village

    county = personas.counties["a"]
    town = personas.villages["a1"].town
    for i in range(3, 9):
        make_village(county, town, f"610323100{i:03d}", f"加村{i}", 25, 34.4, 107.6)
    db.session.commit()
    draw_id = draw_county(login_as, personas)
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    sync(login_as("evaluator_a"), replacement_record(sample[0].token))
    token = db.session.get(Draw, draw_id).public_token
    anonymous = personas.anonymous()
    counter = _QueryCounter()
    one = counter.count(lambda: anonymous.get(f"/draw/{token}?village=610323100001"))
    every = counter.count(lambda: anonymous.get(f"/draw/{token}"))
    assert anonymous.get(f"/draw/{token}").get_data(as_text=True).count('data-testid="village-record"') == 8
    assert every == one  # 8 villages cost what 1 costs


def test_replacement_listing_queries_do_not_grow_with_villages(login_as, personas):
    from .sampling_support import assign

    draw_id = draw_county(login_as, personas)
    assign(personas, "evaluator_a", "a2")
    staff = login_as("staff_a")
    counter = _QueryCounter()
    a1 = entries(draw_id, personas.villages["a1"].id, "sample")
    sync(login_as("evaluator_a"), replacement_record(a1[0].token))
    one = counter.count(lambda: staff.get("/api/replacements"))
    a2 = entries(draw_id, personas.villages["a2"].id, "sample")
    sync(login_as("evaluator_a"), replacement_record(a2[0].token))
    two = counter.count(lambda: staff.get("/api/replacements"))
    body = staff.get("/api/replacements").get_json()
    assert {i["village_code"] for i in body["items"]} == {personas.villages["a1"].code,
                                                         personas.villages["a2"].code}
    assert two == one


def test_cycle_page_assigns_ticked_villages_in_one_post(login_as, personas):
    staff = login_as("staff_a").client
    page = f"/staff/sampling/cycles/{personas.cycle.id}"
    html = staff.get(page).get_data(as_text=True)
    # One form, a checkbox per village (associated by the form attribute), the helper in a file.
    assert html.count('data-testid="bulk-assign"') == 1
    assert html.count('form="bulk-assign" name="village_ids"') == 2  # staff A: A's two villages
    assert "data-select-unassigned" in html and re.search(r"/static/sampling\.[0-9a-f]{12}\.js", html)
    assert "<script>" not in html
    assert 'data-unassigned="false"' in html and 'data-unassigned="true"' in html  # a1 / a2
    token = _form_token(staff, page)
    ev, a1, a2 = personas.users["evaluator_a"], personas.villages["a1"], personas.villages["a2"]
    done = staff.post(f"{page}/assignments", data={"csrf_token": token, "user_id": str(ev.id),
                                                   "village_ids": [str(a1.id), str(a2.id)]})
    assert done.status_code == 302
    flashes = staff.get(page).get_data(as_text=True)
    assert "已将 岐山评议员 分配到 1 个村。" in flashes and "1 个村已分配给 岐山评议员，未作改动。" in flashes
    db.session.expire_all()
    assert {a.village_id for a in db.session.scalars(select(EvaluatorAssignment).where(
        EvaluatorAssignment.user_id == ev.id))} == {a1.id, a2.id}
    # Nothing ticked: a field error, in Chinese.
    staff.post(f"{page}/assignments", data={"csrf_token": token, "user_id": str(ev.id)})
    assert "请至少勾选一个村。" in staff.get(page).get_data(as_text=True)


def test_cycle_page_bulk_assignment_is_scoped_and_all_or_nothing(login_as, personas):
    page = f"/staff/sampling/cycles/{personas.cycle.id}"
    users, villages = personas.users, personas.villages
    count = lambda: len(db.session.scalars(select(EvaluatorAssignment)).all())  # noqa: E731
    before = count()
    staff_b = login_as("staff_b").client
    token = _form_token(staff_b, page)
    foreign = staff_b.post(f"{page}/assignments", data={
        "csrf_token": token, "user_id": str(users["evaluator_b"].id),
        "village_ids": [str(villages["b2"].id), str(villages["a2"].id)]})
    assert foreign.status_code == 403
    db.session.expire_all()
    assert count() == before
    admin = login_as("admin").client
    token = _form_token(admin, page)
    admin.post(f"{page}/assignments", data={
        "csrf_token": token, "user_id": str(users["evaluator_a"].id),
        "village_ids": [str(villages["a2"].id), str(villages["b2"].id)]})
    html = admin.get(page).get_data(as_text=True)
    assert "不属于该评议员所在县" in html and villages["b2"].code in html
    db.session.expire_all()
    assert count() == before


def test_evaluator_sees_no_staff_navigation_and_a_link_to_the_app(login_as, personas):
    draw_id = draw_county(login_as, personas)
    vd = village_draw(draw_id, personas.villages["a1"].id)
    evaluator = login_as("evaluator_a")
    html = evaluator.get(f"/sampling/sheet/{vd.id}").get_data(as_text=True)
    header = html[html.index("<header"):html.index("</header>")]
    assert 'data-testid="app-link"' in header and "返回手机端" in header
    links = [h for h in re.findall(r'href="([^"]+)"', header) if not h.startswith("/lang/")]
    assert links
    for href in links:  # the brand and the app link: nothing that answers 403
        response = evaluator.get(href)
        response.close()  # the PWA shell is a file response
        assert response.status_code == 200, href
    assert "/staff/" not in header
    staff_header = login_as("staff_a").get(f"/sampling/sheet/{vd.id}").get_data(as_text=True)
    staff_header = staff_header[staff_header.index("<header"):staff_header.index("</header>")]
    assert "/staff/sampling" in staff_header and 'data-testid="app-link"' not in staff_header


def test_draw_page_pages_replacements_and_gives_the_total(login_as, personas, monkeypatch):
    from fieldapp.web import sampling as web_sampling

    monkeypatch.setattr(web_sampling, "REPLACEMENTS_PER_PAGE", 2)
    draw_id = draw_county(login_as, personas)
    sample = entries(draw_id, personas.villages["a1"].id, "sample")
    phone = login_as("evaluator_a")
    for entry in sample[:3]:
        assert sync(phone, replacement_record(entry.token)).status_code == 200
    staff = login_as("staff_a").client
    first = staff.get(f"/staff/sampling/draws/{draw_id}").get_data(as_text=True)
    assert first.count('data-testid="replacement-row"') == 2
    assert 'data-testid="replacement-total">(3)' in first
    assert "第 1–2 条，共 3 条" in first and "第 1 页，共 2 页" in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = staff.get(older).get_data(as_text=True)
    assert second.count('data-testid="replacement-row"') == 1 and "第 3–3 条，共 3 条" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # Out of range pages show the last page; a short list has no pager.
    assert staff.get(f"/staff/sampling/draws/{draw_id}?page=99").get_data(as_text=True).count(
        'data-testid="replacement-row"') == 1
    monkeypatch.setattr(web_sampling, "REPLACEMENTS_PER_PAGE", 200)
    whole = staff.get(f"/staff/sampling/draws/{draw_id}").get_data(as_text=True)
    assert whole.count('data-testid="replacement-row"') == 3 and "replacement-pager" not in whole
