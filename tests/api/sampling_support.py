"""Helpers shared by the sampling tests (draws, replacements, tasks, pages, CLI)."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import Draw, EvaluatorAssignment, SampleEntry, VillageDraw

SEED = "岐山县2026年度第一书记评议 2026-11-20 福彩3D 第2026301期 开奖号 739"


def independent_draw(seed: str, village_code: str, eligible: list[str], n: int = 20, r: int = 5):
    """Written from docs/algorithms.md; imports nothing from fieldapp."""
    def key(no: str) -> str:
        return hmac.new(seed.encode("utf-8"), f"{village_code}|{no}".encode("utf-8"),
                        hashlib.sha256).hexdigest()
    order = [no for _k, no in sorted((key(no), no) for no in eligible)]
    return order[:n], order[n:n + r], {no: key(no) for no in eligible}


def run_draw(client, cycle_id: int, county_id: int | None, seed: str = SEED):
    return client.post(f"/api/cycles/{cycle_id}/draws", json={"seed": seed, "county_id": county_id})


def draw_county(login_as, personas, key: str = "a", seed: str = SEED) -> int:
    response = run_draw(login_as(f"staff_{key}"), personas.cycle.id, personas.counties[key].id, seed)
    assert response.status_code == 201, response.get_json()
    return response.get_json()[0]["id"]


def village_draw(draw_id: int, village_id: int) -> VillageDraw:
    db.session.expire_all()
    return db.session.scalar(select(VillageDraw).where(VillageDraw.draw_id == draw_id,
                                                       VillageDraw.village_id == village_id))


def entries(draw_id: int, village_id: int, role: str | None = None) -> list[SampleEntry]:
    vd = village_draw(draw_id, village_id)
    stmt = select(SampleEntry).where(SampleEntry.village_draw_id == vd.id).order_by(SampleEntry.rank)
    if role:
        stmt = stmt.where(SampleEntry.role == role)
    return list(db.session.scalars(stmt))


def assign(personas, user_key: str, village_key: str) -> None:
    db.session.add(EvaluatorAssignment(cycle_id=personas.cycle.id,
                                       user_id=personas.users[user_key].id,
                                       village_id=personas.villages[village_key].id))
    db.session.commit()


def replacement_record(token: str, reason: str = "moved_out", *, uid: str | None = None,
                       attempts: int | None = None, reason_text: str | None = None) -> dict:
    return {"uuid": uid or str(uuid.uuid4()), "type": "replacement", "payload": {
        "sample_token": token, "reason": reason, "reason_text": reason_text,
        "attempts": attempts, "at": datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc).isoformat()}}


def sync(client, *records: dict):
    return client.post("/api/sync", json={"records": list(records)})


def active_draw(cycle_id: int, county_id: int) -> Draw | None:
    db.session.expire_all()
    return db.session.scalar(select(Draw).where(Draw.cycle_id == cycle_id, Draw.county_id == county_id,
                                                Draw.status == "active"))
