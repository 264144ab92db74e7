"""The printed ballot slips: exactly 8 per A4 page (the PDF chromium prints)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from ..api.scores_helpers import make_meeting
from .test_staff_browser import login


def _pdf_pages(pdf: bytes) -> int:
    """Page objects in chromium's PDF (Skia writes them uncompressed), each one A4
    (210 x 297 mm = 595 x 842 pt)."""
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    for box in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf):
        assert abs(float(box[0]) - 595.3) < 2 and abs(float(box[1]) - 841.9) < 2, box
    return len(pages)


@pytest.mark.parametrize(("secretary", "participants", "pages"),
                         [("a", {"cadre": 10}, 2), ("a", {"cadre": 9, "party_member": 8}, 3),
                          ("a", {"cadre": 8}, 1)])
def test_slips_print_eight_per_a4_page(page: Page, live_server, personas, secretary, participants, pages):
    meeting = make_meeting(personas, secretary, participants)
    login(page, live_server.url, personas.users["staff_a"].phone)
    page.wait_for_url(f"{live_server.url}/staff/")
    page.goto(f"{live_server.url}/staff/meetings/{meeting.id}/slips")
    assert page.get_by_test_id("slip").count() == sum(participants.values())
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert _pdf_pages(pdf) == pages
