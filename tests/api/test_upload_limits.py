"""Uploads that used to sink a worker are refused with a clear message, before parsing:
the roster import and the scores XLSX import share domain/workbook.py."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from fieldapp.models import Household

from .. import hostile_files as H


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return H.zip_bomb(300)  # 300 MB of sheet in ~0.3 MB


def _roster(client, data: bytes):
    return client.post("/api/roster/import?dry_run=false",
                       data={"files": (io.BytesIO(data), "roster.xlsx")},
                       content_type="multipart/form-data")


def _scores(client, personas, data: bytes):
    return client.post(f"/api/scores/import?cycle_id={personas.cycle.id}",
                       data={"file": (io.BytesIO(data), "scores.xlsx")},
                       content_type="multipart/form-data")


def _messages(body: dict) -> str:
    return " ".join([r.get("message", "") for r in body.get("rows", [])]
                    + [m for ms in body.get("errors", {}).values() for m in ms])


@pytest.mark.parametrize("kind, expected", [
    ("bomb", "压缩炸弹"), ("wide", "压缩炸弹"), ("far", "列"), ("rows", "30000 行")])
def test_roster_import_refuses_hostile_workbooks(db, login_as, personas, bomb, kind, expected):
    before = db.session.scalar(select(func.count()).select_from(Household))
    data = {"bomb": bomb, "wide": H.one_wide_row(), "far": H.far_cell(),
            "rows": H.many_rows(30_021, 2)}[kind]
    response = _roster(login_as("staff_a"), data)
    assert response.status_code == 422, response.get_data()[:300]
    body = response.get_json()
    assert body["code"] == "import_rejected"
    assert expected in _messages(body), body
    assert db.session.scalar(select(func.count()).select_from(Household)) == before


def test_roster_csv_row_limit(login_as, personas):
    text = "户编号,户主姓名\n" + "1,张\n" * 30_021
    response = login_as("staff_a").post(
        "/api/roster/import", data={"files": (io.BytesIO(text.encode()), "roster.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "30000 行" in _messages(response.get_json())


def test_scores_import_refuses_hostile_workbooks(login_as, personas, bomb):
    staff = login_as("staff_a")
    for data, expected in ((bomb, "压缩炸弹"), (H.far_cell(), "列"),
                           (H.many_rows(5_021, 2), "5000 行"), (b"PK\x03\x04junk", "XLSX")):
        response = _scores(staff, personas, data)
        assert response.status_code == 422, response.get_data()[:300]
        assert expected in _messages(response.get_json()), response.get_json()
