"""A sync batch flags only its new visits against a bounded window of neighbours
(services/visit_flags.py). The stored flags must be exactly what flagging every series
again gives (`visits.refresh_flags`, the reference), after every batch, whatever the
order the visits arrive in: checked here on generated batches."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import EvaluatorAssignment, Visit
from fieldapp.services.visits import refresh_flags

from ..personas import make_user
from .test_sync_visits import _client_for
from .visit_helpers import BASE, drawn, ev, record, sync, tokens, visit_payload  # noqa: F401 (fixtures)

# A few shared spots (repeated positions across households and evaluators), points a
# few km to tens of km apart (speed flags at 30-minute spacing), and no position at all.
SPOTS = [(34.4601, 107.6301), (34.4655, 107.6377), (34.4602, 107.6302)]


def _position(rng: random.Random, village) -> dict:
    kind = rng.random()
    if kind < 0.35:
        lat, lon = rng.choice(SPOTS)
        return {"lat": lat, "lon": lon}
    if kind < 0.45:
        return {"lat": None, "geo_error": rng.choice(["denied", "timeout"])}
    if kind < 0.6:
        return {"lat": village.lat + rng.uniform(0.2, 0.5), "lon": village.lon}
    return {"lat": village.lat + rng.uniform(-0.002, 0.002),
            "lon": village.lon + rng.uniform(-0.002, 0.002)}


def _visits(rng: random.Random, village, n_tokens: list[str]) -> list[dict]:
    out = []
    for token in n_tokens:
        start = BASE + timedelta(hours=rng.choice([0, 0, 1, 5, 30, 200]),
                                 minutes=rng.randrange(0, 240, 15))
        out.append(record(visit_payload(token, village, start=start,
                                        minutes=rng.choice([1, 10, 25]),
                                        accuracy=rng.choice([0.0, 12.0, 150.0]),
                                        **_position(rng, village))))
    return out


def _stored_flags() -> dict[int, list]:
    db.session.rollback()
    return {v.id: list(v.flags) for v in db.session.scalars(select(Visit).order_by(Visit.id))}


def _reference(cycle_id: int, evaluator_ids: list[int]) -> dict[int, list]:
    refresh_flags(cycle_id, evaluator_ids)
    flags = {v.id: list(v.flags) for v in db.session.scalars(select(Visit).order_by(Visit.id))}
    db.session.rollback()
    return flags


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_window_flags_equal_the_whole_series_reference(ev, drawn, seed):
    rng = random.Random(seed)
    a1, a2 = drawn.villages["a1"], drawn.villages["a2"]
    other = make_user("13800000019", "evaluator", "岐山评议员二", drawn.counties["a"])
    db.session.flush()
    db.session.add(EvaluatorAssignment(cycle_id=drawn.cycle.id, user_id=other.id,
                                       village_id=a2.id))
    db.session.commit()
    other_id, ev_id = other.id, drawn.users["evaluator_a"].id
    other_client = _client_for(drawn, other)
    queues = [(ev, _visits(rng, a1, tokens(a1))), (other_client, _visits(rng, a2, tokens(a2)))]
    for _client, records in queues:
        rng.shuffle(records)
    batches = 0
    while any(records for _c, records in queues):
        client, records = rng.choice([q for q in queues if q[1]])
        size = rng.choice([1, 1, 2, 3, 5, 8])
        batch, records[:] = records[:size], records[size:]
        response = sync(client, *batch)
        assert response.status_code == 200, response.get_json()
        batches += 1
        stored = _stored_flags()
        assert stored == _reference(drawn.cycle.id, [ev_id, other_id]), f"after batch {batches}"
    codes = {f["code"] for flags in _stored_flags().values() for f in flags}
    # The generated data exercises the relational flags the window must get right.
    assert {"impossible_speed", "repeated_coordinates", "no_location"} <= codes
