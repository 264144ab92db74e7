"""A county draw's entries, stored in bulk (COPY on PostgreSQL, one executemany on
SQLite), are exactly the domain's ranking of every village's eligible households."""
from __future__ import annotations

from sqlalchemy import select

from fieldapp.domain import sampling as ds
from fieldapp.extensions import db
from fieldapp.models import Household, SampleEntry, VillageDraw

from .scores_helpers import run_draw


def test_stored_entries_are_the_domain_ranking(personas):
    for i in range(40):  # a village with more households than sample + reserves
        db.session.add(Household(village_id=personas.villages["a2"].id, household_no=f"9{i:03d}",
                                 head_name=f"户主{i}", family_size=2, attribute="general",
                                 exit_status="not_exited"))
    db.session.commit()
    run_draw(personas, "a")
    vds = db.session.scalars(select(VillageDraw).order_by(VillageDraw.village_code)).all()
    assert len(vds) == 2
    for vd in vds:
        draw = vd.draw
        households = [h for h in db.session.scalars(select(Household).where(
            Household.village_id == vd.village_id))
            if draw.include_exited or h.exit_status != "exited"]
        expected = ds.draw_village(draw.seed, vd.village_code, [h.household_no for h in households],
                                   draw.sample_size, draw.reserve_count)
        stored = db.session.scalars(select(SampleEntry).where(
            SampleEntry.village_draw_id == vd.id).order_by(SampleEntry.rank)).all()
        ids = {h.household_no: h.id for h in households}
        assert [(e.household_no, e.hmac_key, e.rank, e.role, e.household_id, e.village_id)
                for e in stored] == [(r.household_no, r.key, r.rank, r.role, ids[r.household_no],
                                      vd.village_id) for r in expected.ranked]
        status = {"sample": "pending", "reserve": "reserve_unused", "unused": "unused"}
        assert all(e.status == status[e.role] for e in stored)
        assert all((e.token is None) == (e.role == "unused") for e in stored)
    assert any(e.role == "unused" for e in db.session.scalars(select(SampleEntry)))
