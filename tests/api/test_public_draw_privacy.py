"""The anonymous public draw page and its JSON record show that households were replaced,
in order, as 无法访问 (unreachable) — never why (死亡, 拒访, 迁出 ...). Staff keep the reasons."""
from __future__ import annotations

from fieldapp.domain.sampling import verify_record
from fieldapp.extensions import db
from fieldapp.models import Draw

from .sampling_support import draw_county, entries, replacement_record, sync

REASONS = [("deceased", "死亡", None), ("refused", "拒访", None), ("moved_out", "迁出", None),
           ("not_home", "无人在家", 2)]


def test_public_page_and_record_name_no_reason(login_as, personas):
    draw_id = draw_county(login_as, personas)
    village = personas.villages["a1"]
    sample = entries(draw_id, village.id, "sample")
    reserves = entries(draw_id, village.id, "reserve")
    phone = login_as("evaluator_a")
    for entry, (code, _label, attempts) in zip(sample, REASONS):
        assert sync(phone, replacement_record(entry.token, code, attempts=attempts)).status_code == 200
    token = db.session.get(Draw, draw_id).public_token
    anonymous = personas.anonymous()

    html = anonymous.get(f"/draw/{token}").get_data(as_text=True)
    for _code, label, _attempts in REASONS:
        assert label not in html
    assert html.count("无法访问") == len(REASONS)
    # The order of replacements stays public: each took the next reserve.
    positions = [html.index(f"<td>{r.household_no}</td>", html.index("替换")) for r in reserves[:4]]
    assert positions == sorted(positions)

    record = anonymous.get(f"/draw/{token}/{village.code}.json").get_json()
    assert [r["reason"] for r in record["replacements"]] == ["unreachable"] * len(REASONS)
    assert all("attempts" not in r for r in record["replacements"])
    assert [r["reserve_household_no"] for r in record["replacements"]] == [
        r.household_no for r in reserves[:4]]
    assert verify_record(record).ok, verify_record(record).problems

    # Staff still see why.
    staff_html = login_as("staff_a").get(f"/staff/sampling/draws/{draw_id}").get_data(as_text=True)
    for _code, label, _attempts in REASONS:
        assert label in staff_html
