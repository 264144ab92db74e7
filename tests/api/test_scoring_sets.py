"""The set-based mass evaluation (services/scoring/aggregates.py) against the reference
(domain/county_scores.py over every loaded visit and ballot), on seeded generated data at
several sizes, on whichever database the suite runs on (SQLite and PostgreSQL).

The generated counties hold the edge cases of what counts: rejected visits, held visits
pending and approved, visits outside the term (and on either side of midnight in
Shanghai at a term boundary), several visits of one household (the latest counts),
reserve and unused entries, visits with every answer 不了解 or without a scored item,
meetings open and closed, held inside and outside the term, ballots and paper tallies,
two secretaries in one village in turn, one person in two villages, vacant villages and
villages without a draw.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from fieldapp.extensions import db
from fieldapp.models import (Ballot, Cycle, FirstSecretary, Meeting, PaperTally, ScorecardEntry,
                             Town, Visit)
from fieldapp.errors import AppError
from fieldapp.services.scoring import aggregates
from fieldapp.services.scoring.grades import grade_county
from fieldapp.services.scoring.inputs import covered_county_ids, load_county
from tests.personas import make_village

from .scores_helpers import BALLOT_ITEMS, HOUSEHOLD_ITEMS, run_draw, sample_entries

UTC = timezone.utc
OPTIONS = ("satisfied", "satisfied", "basically_satisfied", "dissatisfied", "unknown")
BALLOT_OPTIONS = OPTIONS[:4]  # a ballot has no 不了解
CATEGORIES = ("party_member", "cadre", "villager_rep", "poor_household_rep")
SWITCH = date(2026, 6, 30)  # the first of two secretaries in a village serves until then
COMPARED = ("rows", "not_assessed", "recall", "cap", "tie", "duplicates", "config")


def _answers(rng: random.Random, items, options=OPTIONS) -> dict:
    kind = rng.random()
    if kind < 0.05 and "unknown" in options:
        return {i: "unknown" for i in items}  # completed, but says nothing: not counted
    if kind < 0.07:
        return {"suggestions": "多开展技能培训"}  # no scored item at all
    out = {i: rng.choice(options) for i in items if rng.random() < 0.9}
    if rng.random() < 0.2:
        out["suggestions"] = "修路"
    return out


def _started(rng: random.Random) -> datetime:
    """A visit time in 2026, often near the term switch and near midnight in Shanghai."""
    if rng.random() < 0.15:
        day = SWITCH + timedelta(days=rng.choice((-1, 0, 1)))
        return datetime(day.year, day.month, day.day, rng.choice((15, 16)), 30, tzinfo=UTC)
    if rng.random() < 0.05:
        return datetime(2025, 12, 31, 17, 0, tzinfo=UTC)  # 2026-01-01 in Shanghai
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))


def _visit(personas, rng, entry) -> Visit:
    started = _started(rng)
    review = rng.choice(("pending", "pending", "pending", "approved", "approved", "approved",
                         "rejected"))
    flags = []
    if rng.random() < 0.1:
        flags.append({"code": rng.choice(("before_seed", "future_time", "outside_cycle_year")),
                      "params": {}})
    if rng.random() < 0.1:
        flags.append({"code": "too_fast", "params": {"minutes": 3}})  # asks review, holds nothing
    return Visit(client_uuid=str(uuid.uuid4()), sample_entry_id=entry.id,
                 village_id=entry.village_id, cycle_id=personas.cycle.id,
                 evaluator_id=personas.users["evaluator_a"].id, instrument_id="household_visit",
                 instrument_version=1, answers=_answers(rng, HOUSEHOLD_ITEMS), note=None,
                 started_at=started, ended_at=started + timedelta(minutes=12), lat=34.46,
                 lon=107.63, accuracy_m=10.0, flags=flags, review_status=review)


def _secretaries(rng: random.Random, villages, serial: list[int]) -> list[FirstSecretary]:
    out = []

    def add(village, start, end, phone=None):
        serial[0] += 1
        s = FirstSecretary(name=f"书记{serial[0]}", phone=phone or f"186{serial[0]:08d}",
                           dispatch_level="county", dispatch_unit="县财政局",
                           village_id=village.id, term_start=start, term_end=end)
        out.append(s)
        return s

    for v in villages:
        kind = rng.random()
        if kind < 0.1:
            continue  # vacant
        if kind < 0.3:  # one after the other
            add(v, date(2025, 3, 1), SWITCH)
            add(v, SWITCH + timedelta(days=1), None)
        elif kind < 0.35:
            add(v, date(2026, 10, 1), None)  # too short a time to be assessed
        else:
            add(v, date(2025, 1, 1), rng.choice((None, None, date(2026, 12, 31))))
    if len(villages) >= 2:  # one person in two villages
        phone = f"187{serial[0]:08d}"
        add(villages[0], date(2025, 1, 1), None, phone)
        add(villages[1], date(2025, 1, 1), None, phone)
    db.session.add_all(out)
    db.session.flush()
    return out


def _meeting(personas, rng, s: FirstSecretary) -> None:
    if rng.random() < 0.15:
        return
    in_term = s.term_start + timedelta(days=rng.randrange(20, 120))
    held = rng.choice((in_term, in_term, in_term, s.term_start - timedelta(days=1)))
    if held.year != 2026:
        held = date(2026, 11, 20)
    m = Meeting(cycle_id=personas.cycle.id, secretary_id=s.id, village_id=s.village_id,
                held_on=held, place="村委会会议室", participants={"party_member": 20},
                instrument_id="democratic_ballot", instrument_version=1,
                status="closed" if rng.random() < 0.8 else "open", token_salt=uuid.uuid4().hex)
    db.session.add(m)
    db.session.flush()
    for _ in range(rng.randrange(0, 14)):
        db.session.add(Ballot(meeting_id=m.id, category=rng.choice(CATEGORIES),
                              answers=_answers(rng, BALLOT_ITEMS, BALLOT_OPTIONS)))
    if rng.random() < 0.3:
        for option in rng.sample(BALLOT_OPTIONS[1:], 2):
            db.session.add(PaperTally(meeting_id=m.id, category=rng.choice(CATEGORIES),
                                      option=option, count=rng.randrange(0, 6)))


def _entry(personas, rng, s: FirstSecretary) -> None:
    if rng.random() < 0.1:
        return
    db.session.add(ScorecardEntry(
        cycle_id=personas.cycle.id, secretary_id=s.id, village_id=s.village_id,
        work_performance=Decimal(rng.choice(("60.00", "58.50", "55.00", "40.00"))),
        work_discipline=Decimal(rng.choice(("10.00", "9.00", "6.00"))) if rng.random() < 0.9 else None,
        work_evaluation=Decimal(rng.choice(("10.00", "9.50", "7.00"))), seven_ones={}))


def generate(personas, seed: int, n_villages: int, county: str = "a") -> int:
    """A county with `n_villages` more villages, a draw, secretaries, visits, meetings and
    entries, from a seeded RNG; returns the county id."""
    rng = random.Random(seed)
    c = personas.counties[county]
    town = db.session.scalar(select(Town).where(Town.county_id == c.id))
    villages = [make_village(c, town, f"{c.code}9{seed % 10}{k:04d}", f"生成{k}村",
                             rng.randrange(4, 30), 34.4, 107.6) for k in range(n_villages)]
    db.session.commit()
    undrawn = make_village(c, town, f"{c.code}8{seed % 10}0000", "未抽样村", 0, 34.4, 107.6)
    run_draw(personas, county)
    serial = [seed * 1000]
    secretaries = _secretaries(rng, villages + [undrawn], serial)
    for v in villages:
        for e in sample_entries(v, roles=("sample", "reserve", "unused")):
            repeat = (1, 2, 2, 3) if e.role == "sample" else (0, 0, 1)
            for _ in range(rng.choice(repeat)):
                db.session.add(_visit(personas, rng, e))
    for s in secretaries:
        _meeting(personas, rng, s)
        _entry(personas, rng, s)
    db.session.flush()
    # JSON null flags and answers (the reference reads them as none).
    ids = [v for v in db.session.scalars(select(Visit.id).order_by(Visit.id))]
    db.session.execute(update(Visit).where(Visit.id.in_(ids[3::11])).values(flags=None))
    db.session.execute(update(Visit).where(Visit.id.in_(ids[5::29])).values(answers=None))
    db.session.commit()
    return c.id


def assert_same(cycle: Cycle, county_id: int) -> dict:
    """The set-based grading (no `loaded`) equals the reference (with `loaded`)."""
    reference = grade_county(cycle, county_id, load_county(cycle, county_id))
    sets = grade_county(cycle, county_id)
    assert sets["_outcome"] is None, "the set-based path ran"
    for key in COMPARED:
        assert sets[key] == reference[key], key
    return reference


@pytest.mark.parametrize("seed,n_villages", [(1, 3), (2, 12), (3, 40)])
def test_set_based_grading_equals_the_reference(personas, seed, n_villages):
    county_id = generate(personas, seed, n_villages)
    ref = assert_same(personas.cycle, county_id)
    rows = ref["rows"] + ref["not_assessed"]
    # The data did exercise what it should (else the comparison proves little).
    assert any(r["mass_evaluation"] is not None for r in rows) or n_villages < 10
    assert any(r["n_visits_unscored"] for r in rows) or n_villages < 10
    assert any(r["meeting_status"] == "open" for r in rows) or n_villages < 10


@pytest.mark.parametrize("two_instruments", [False, True], ids=["one", "two_instruments"])
def test_whole_cycle_equals_each_county_reference(personas, two_instruments):
    generate(personas, 4, 10, "a")
    generate(personas, 5, 8, "b")
    cycle = personas.cycle
    if two_instruments:  # household visits answering another instrument's items too
        rng = random.Random(45)
        for entry in sample_entries(personas.villages["b1"])[:12]:
            v = _visit(personas, rng, entry)
            v.instrument_id, v.review_status, v.flags = "democratic_ballot", "approved", []
            v.started_at = datetime(2026, 8, 1, 3, 0, tzinfo=UTC)
            v.answers = _answers(rng, BALLOT_ITEMS, BALLOT_OPTIONS)
            db.session.add(v)
        db.session.commit()
    ids = covered_county_ids(cycle)
    got = aggregates.cycle_mass(cycle, ids)
    want = {}
    for cid in ids:
        ref = assert_same(cycle, cid)
        for r in ref["rows"] + ref["not_assessed"]:
            want[r["secretary_id"]] = (r["mass_evaluation"], r["mass_reasons"])
    assert {sid: (r.score if not reasons else None, reasons)
            for sid, (r, reasons) in got.items()} == want


def test_explicit_decimal_values_and_weights(personas):
    """Values with decimals (scaled to integers in SQL) and another weighting."""
    personas.cycle.settings = {"scoring": {
        "w_h": 0.7, "w_m": 0.3, "min_visits": 3,
        "household_values": {"satisfied": 100, "basically_satisfied": 87.5,
                             "dissatisfied": 33.3, "unknown": None},
        "meeting_values": {"satisfied": 99.99, "basically_satisfied": 75, "dissatisfied": 0.01,
                           "unknown": None}}}
    db.session.commit()
    county_id = generate(personas, 6, 12)
    ref = assert_same(personas.cycle, county_id)
    assert any(r["mass_evaluation"] is not None for r in ref["rows"])


@pytest.mark.parametrize("option", ["so_so", None, 3])
def test_an_answer_without_a_value_is_the_same_422(personas, option):
    """The reference refuses an option the values do not know (422 naming it); the
    set-based path hands such a county to the reference, so the answer is the same."""
    county_id = generate(personas, 7, 4)
    entry = sample_entries(personas.villages["a1"])[0]
    bad = _visit(personas, random.Random(7), entry)
    bad.started_at = datetime(2026, 5, 5, 2, 0, tzinfo=UTC)
    bad.review_status, bad.flags = "approved", []
    bad.answers = {"overall_satisfaction": option}
    db.session.add(bad)
    db.session.commit()
    raised = []
    for loaded in (None, load_county(personas.cycle, county_id)):
        with pytest.raises(AppError) as err:
            grade_county(personas.cycle, county_id, loaded)
        raised.append((err.value.code, err.value.errors))
    assert raised[0] == raised[1] and raised[0][0] == "validation_failed"


def test_an_answer_without_a_value_in_a_rejected_visit_changes_nothing(personas):
    county_id = generate(personas, 8, 4)
    entry = sample_entries(personas.villages["a1"])[0]
    bad = _visit(personas, random.Random(8), entry)
    bad.started_at = datetime(2026, 5, 5, 2, 0, tzinfo=UTC)
    bad.review_status, bad.flags = "rejected", []
    bad.answers = {"overall_satisfaction": None, "visited_home": "so_so"}
    db.session.add(bad)
    db.session.commit()
    assert_same(personas.cycle, county_id)
