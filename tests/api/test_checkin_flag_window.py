"""Check-ins synced one by one (or a few per batch, in any order) are flagged against a
bounded window of neighbours; the stored flags must equal a full recomputation."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import CheckIn, FirstSecretary
from fieldapp.services.checkins import recompute_flags, settings_for
from tests.unit.test_checkin_window import generated_series

from .residency_helpers import checkin_record, sync


def stored_flags() -> dict[str, list]:
    db.session.expire_all()
    return {c.client_uuid: c.flags for c in db.session.scalars(select(CheckIn))}


@pytest.mark.parametrize(("seed", "per_batch"), [(1, 1), (2, 1), (3, 4)])
def test_synced_flags_equal_the_full_recomputation(login_as, personas, seed, per_batch):
    rnd = random.Random(seed)
    sec = login_as("secretary_a")
    village = personas.villages["a1"]
    now = datetime.now(timezone.utc)
    series = generated_series(rnd, 45)
    shift = (now - timedelta(days=2)) - max(c.at for c in series)  # all in the past
    records = []
    for n, c in enumerate(series):
        # Around the village's own centre, so that some are inside the fence.
        lat = None if c.lat is None else village.lat + (c.lat - 34.45)
        lon = None if c.lon is None else village.lon + (c.lon - 107.62)
        records.append(checkin_record((c.at + shift).isoformat(), lat, lon, c.accuracy_m,
                                      geo_error=c.geo_error, uuid=f"00000000-0000-4000-8000-{n:012d}"))
    rnd.shuffle(records)
    for i in range(0, len(records), per_batch):
        skewed = rnd.random() < 0.1
        sent = (now + timedelta(hours=30 if skewed else 0)).isoformat()
        response = sync(sec, *records[i:i + per_batch], device_sent_at=sent)
        assert response.status_code == 200, response.get_json()

    synced = stored_flags()
    assert len(synced) == len(series)
    codes = {f["code"] for flags in synced.values() for f in flags}
    assert codes >= {"impossible_speed", "constant_accuracy", "repeated_coordinates",
                     "no_location", "outside_fence"}, codes
    secretary = db.session.get(FirstSecretary, personas.secretaries["a"].id)
    recompute_flags(secretary, settings_for(secretary.village.county_id, now.year).thresholds)
    db.session.flush()
    assert stored_flags() == synced
