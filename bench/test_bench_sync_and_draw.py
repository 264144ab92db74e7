"""Sync and draw throughput, each as a ratio against a baseline measured in the same run.

- sync: a batch of 20 new visits through POST /api/sync (validation against the instrument,
  storage, flags against a window of neighbours) against the fixed cost of one
  authenticated request (GET /api/me) on the same client; and a replay of the same batch
  (all `duplicate`). The concurrent figure under gunicorn is bench/figures/sync_ingest.py.
- draw: a county draw (80 villages x 60 households, stored with keys and ranks) against
  computing the same HMAC ranking in memory with the pure domain function.
Run: make bench
"""
from __future__ import annotations

from sqlalchemy import delete, insert, update

from bench.timing import best_of
from fieldapp.policy import SYSTEM
from fieldapp.domain.sampling import draw_village
from fieldapp.extensions import db
from fieldapp.models import (ClientRecord, County, Draw, Household, SampleEntry, Town, Village,
                             VillageDraw, Visit)
from fieldapp.services.draws import run_draw
from tests.api.visit_helpers import a1, draw, record, sync, tokens, visit_payload


def test_sync_batch_ratio(db, personas, login_as, benchmark):
    draw(personas, "a")
    client = login_as("evaluator_a")
    village = a1(personas)
    batch = [record(visit_payload(t, village, n)) for n, t in enumerate(tokens(village))]

    def reset():
        db.session.execute(delete(Visit))
        db.session.execute(delete(ClientRecord))
        db.session.execute(update(SampleEntry).where(SampleEntry.status == "visited")
                           .values(status="pending"))
        db.session.commit()

    def store():
        response = sync(client, *batch)
        assert response.status_code == 200, response.get_json()

    baseline = best_of(lambda: client.get("/api/me"))
    benchmark.pedantic(store, setup=reset, rounds=5, iterations=1)
    stored = benchmark.stats.stats.min
    replay = best_of(store)  # the last round left the batch stored: now all duplicates
    print(f"\nsync of {len(batch)} visits: x{stored / baseline:.1f} of one authenticated "
          f"request ({baseline * 1e3:.1f} ms); replay as duplicates x{replay / baseline:.1f}; "
          f"{len(batch) / stored:,.0f} visits/s")


def test_draw_ratio(db, personas, benchmark):
    county = db.session.get(County, personas.counties["a"].id)
    town = Town(county_id=county.id, name="基准镇")
    db.session.add(town)
    db.session.flush()
    eligible: dict[str, list[str]] = {}
    for v in range(80):
        village = Village(town_id=town.id, county_id=county.id, code=f"610323900{v:03d}",
                          name=f"基准{v}村", lat=34.4, lon=107.6)
        db.session.add(village)
        db.session.flush()
        numbers = [f"{village.code}{h:04d}" for h in range(60)]
        eligible[village.code] = numbers
        db.session.execute(insert(Household), [
            {"village_id": village.id, "household_no": no, "head_name": "户主", "family_size": 3,
             "attribute": "general", "exit_status": "not_exited"} for no in numbers])
    db.session.commit()

    def in_memory():
        for code, numbers in eligible.items():
            draw_village("基准种子", code, numbers)

    seeds = iter(f"基准种子 {i}" for i in range(100))

    def void_previous():
        # As an admin's void does: the draw and its villages' draws (services/draws.py).
        for existing in db.session.scalars(db.select(Draw).where(Draw.status == "active")):
            existing.status = "voided"
        for existing in db.session.scalars(db.select(VillageDraw).where(VillageDraw.status == "active")):
            existing.status = "voided"
        db.session.commit()

    def stored_draw():
        run_draw(SYSTEM, personas.cycle, county, next(seeds))

    baseline = best_of(in_memory, repeat=3)
    benchmark.pedantic(stored_draw, setup=void_previous, rounds=3, iterations=1)
    stored = benchmark.stats.stats.min
    print(f"\ncounty draw, 82 villages: x{stored / baseline:.1f} of the in-memory ranking "
          f"({baseline * 1e3:.0f} ms); {stored * 1e3:.0f} ms with storage")
