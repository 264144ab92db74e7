"""The demo's bulk path: one sync batch per phone, each record with its own received time
(the series is re-flagged once). Phones cannot use it: the API refuses those keys."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import CheckIn, ClientRecord
from fieldapp.services.sync import sync_batch

from .residency_helpers import checkin_record, point_at


def test_a_replayed_batch_keeps_each_records_times(personas):
    village = personas.villages["a1"]
    here = point_at((village.lat, village.lon), 100)
    times = [datetime(2026, 3, d, 12, tzinfo=timezone.utc) for d in (10, 11, 20)]
    records = [{**checkin_record(t.replace(hour=1).isoformat(), here[0] + t.day * 1e-4, here[1]),
                "received_at": t,
                "device_sent_at": t} for t in times]
    sync_batch(personas.users["secretary_a"], {"device_sent_at": times[-1], "records": records},
               received_at=times[-1])
    stored = db.session.scalars(select(CheckIn).order_by(CheckIn.at)).all()
    assert [c.received_at for c in stored] == times
    assert [c.device_sent_at for c in stored] == times
    assert sorted(r.received_at for r in db.session.scalars(select(ClientRecord))) == times
    # Each received 11 hours after it was made: nothing looks synced late.
    assert not any(f["code"] == "late_sync" for c in stored for f in c.flags)


def test_phones_cannot_claim_a_received_time(login_as, personas):
    record = {**checkin_record("2026-03-10T01:00:00+00:00", 34.46, 107.63),
              "received_at": "2026-03-10T01:00:00+00:00"}
    response = login_as("secretary_a").post("/api/sync", json={"records": [record]})
    assert response.status_code == 422
    assert db.session.scalar(select(CheckIn.id)) is None
    assert uuid.UUID(record["uuid"])
