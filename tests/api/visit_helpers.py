"""Helpers for the visit tests: a draw for a county, and visit records as a phone sends them."""
from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from fieldapp.policy import SYSTEM
from fieldapp.extensions import db
from fieldapp.models import SampleEntry, Village

BASE = datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def draw(personas, county: str = "a", seed: str = "2026 宝鸡 公开种子") -> None:
    """Run the county's draw with the sampling service (as staff would)."""
    from fieldapp.services.draws import run_draw

    # The seed is recorded before the visits (BASE): honest visit times.
    run_draw(SYSTEM, personas.cycle, personas.counties[county], seed, recorded_at=BASE - timedelta(days=3))


def entries(village: Village, role: str = "sample") -> list[SampleEntry]:
    return list(db.session.scalars(select(SampleEntry).where(
        SampleEntry.village_id == village.id, SampleEntry.role == role).order_by(SampleEntry.rank)))


def tokens(village: Village, role: str = "sample") -> list[str]:
    return [e.token for e in entries(village, role)]


def geo(lat: float, lon: float, accuracy: float | None = 12.0, at: datetime = BASE) -> dict:
    return {"lat": lat, "lon": lon, "accuracy": accuracy, "at": iso(at)}


def answers(**overrides: Any) -> dict[str, Any]:
    base = {"visited_home": "satisfied", "assistance_satisfaction": "satisfied",
            "policy_delivered": "basically_satisfied", "income_improved": "unknown",
            "overall_satisfaction": "satisfied", "respondent_family_members": 3}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def visit_payload(token: str, village: Village, n: int = 0, *, minutes: float = 10,
                  start: datetime | None = None, lat: float | None = None,
                  lon: float | None = None, accuracy: float | None = 12.0,
                  geo_error: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid visit: the n-th of the day (30 min apart), about 30 m apart from each other."""
    started = start or BASE + timedelta(minutes=30 * n)
    ended = started + timedelta(minutes=minutes)
    if lat is None and geo_error is None:
        lat, lon = village.lat + 0.0003 * n, village.lon
    fix_start = geo(lat, lon, accuracy, started) if lat is not None else None
    fix_end = geo(lat, lon, accuracy, ended) if lat is not None else None
    payload = {"sample_token": token, "instrument_id": "household_visit", "instrument_version": 1,
               "answers": answers(), "note": "户主在家，反映第一书记常来。",
               "started_at": iso(started), "ended_at": iso(ended),
               "geo_start": fix_start, "geo_end": fix_end, "geo_error": geo_error}
    payload.update(overrides)
    return payload


def record(payload: dict, uuid: str | None = None, type: str = "visit") -> dict[str, Any]:
    return {"uuid": uuid or str(uuidlib.uuid4()), "type": type, "payload": payload}


def sync(client, *records: dict, device_sent_at: str | None = None):
    body: dict[str, Any] = {"records": list(records)}
    if device_sent_at is not None:
        body["device_sent_at"] = device_sent_at
    return client.post("/api/sync", json=body)


@pytest.fixture
def drawn(personas):
    """The personas with both counties drawn (20 sampled + 5 reserves in each 30-household village)."""
    draw(personas, "a")
    draw(personas, "b", seed="眉县 2026 种子")
    return personas


@pytest.fixture
def ev(login_as, drawn):
    return login_as("evaluator_a")


def a1(personas) -> Village:
    return personas.villages["a1"]
