"""The world the access matrix runs in (tests/api/test_policy_matrix.py), built once.

Two counties with everything a route can name, on both sides: villages, households with
phone and ID numbers and coordinates, secretaries, a city-wide cycle with a small sample
(5 households, 3 reserves: villages keep households that were not drawn), a county cycle
per county, each county's draw, one replacement (an activated reserve) and one visit per
county, meetings with ballot slips, leave, spot checks, check-ins, scorecard entries.

What each persona may see of it is written down here too: the phone numbers (staff their
county's; an evaluator their own and those of the households they must find; others only
their own) and the words (village codes and names, household numbers and heads, secretary
names) of places outside each persona's reach.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from flask import Flask
from sqlalchemy import select

from fieldapp.domain.idcard import check_char
from fieldapp.extensions import db
from fieldapp.models import (Cycle, Draw, FirstSecretary, Household,
                             SampleEntry, User, Village, VillageDraw, Visit)
from fieldapp.policy import SYSTEM
from fieldapp.services import meetings as meeting_svc
from fieldapp.services.checkins import record_spot_check, request_leave
from fieldapp.services.draws import run_draw
from fieldapp.services.scoring.entries import save_entry

from ..personas import Personas

SEEDED = datetime(2026, 3, 7, 1, 0, tzinfo=timezone.utc)
VISITED = datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)
# The matrix's personas (tests/personas.py names) and how the table writes them.
PERSONAS = ("admin", "staff_a", "staff_b", "evaluator_a", "evaluator_x", "secretary_a",
            "secretary_a2")


@dataclass
class World:
    personas: Personas
    sides: dict[str, dict[str, Any]] = field(default_factory=dict)  # "own"/"foreign" -> ids
    public: dict[str, Any] = field(default_factory=dict)  # values of public URL variables
    phones: dict[str, set[str]] = field(default_factory=dict)  # persona -> may see
    all_phones: set[str] = field(default_factory=set)
    id_numbers: set[str] = field(default_factory=set)
    hidden: dict[str, set[str]] = field(default_factory=dict)  # persona -> must not see


def _households(village: Village, county_digit: int, village_digit: int, region: str) -> None:
    for i, h in enumerate(db.session.scalars(select(Household).where(
            Household.village_id == village.id).order_by(Household.id)), start=1):
        h.head_name = f"{village.name}{i}号户主"
        h.phone = f"15{county_digit}{village_digit}{i:07d}"
        first17 = f"{region}19800101{i:03d}"
        h.id_number = first17 + check_char(first17)
        h.lat, h.lon = village.lat + 0.001 * (i % 7), village.lon + 0.001 * (i % 5)


def _sync(client, *records: dict) -> None:
    response = client.post("/api/sync", json={"records": list(records)})
    assert response.status_code == 200, response.get_json()


def _record(kind: str, payload: dict) -> dict:
    return {"uuid": str(uuid.uuid4()), "type": kind, "payload": payload}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _field_work(p: Personas, key: str, evaluator: str) -> None:
    """A replacement (the first sample household moved away: the first reserve activated)
    and a visit without a position (flagged: reviewed one by one) in village <key>1."""
    village = p.villages[f"{key}1"]
    samples = list(db.session.scalars(select(SampleEntry).where(
        SampleEntry.village_id == village.id, SampleEntry.role == "sample")
        .order_by(SampleEntry.rank)))
    client = p.client_for(evaluator)
    _sync(client, _record("replacement", {
        "sample_token": samples[0].token, "reason": "moved_out", "reason_text": None,
        "attempts": None, "at": _iso(VISITED)}))
    _sync(client, _record("visit", {
        "sample_token": samples[1].token, "instrument_id": "household_visit",
        "instrument_version": 1, "answers": {
            "visited_home": "satisfied", "assistance_satisfaction": "satisfied",
            "policy_delivered": "basically_satisfied", "income_improved": "unknown",
            "overall_satisfaction": "satisfied", "respondent_family_members": 3},
        "note": "户主在家", "started_at": _iso(VISITED), "ended_at": _iso(VISITED + timedelta(minutes=12)),
        "geo_start": None, "geo_end": None, "geo_error": "denied"}))


def _checkin(p: Personas, secretary: str, key: str) -> None:
    village = p.villages[f"{key}1"]
    _sync(p.client_for(secretary), _record("checkin", {
        "at": _iso(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)),
        "geo": {"lat": village.lat, "lon": village.lon, "accuracy": 10,
                "at": _iso(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc))},
        "geo_error": None, "village_token": None}))


def build(app: Flask) -> World:
    p = Personas.build(app)
    p.add_matrix_personas()
    a, b = p.counties["a"], p.counties["b"]
    for county_digit, (key, region) in enumerate((("a", a.code), ("b", b.code)), start=1):
        for village_digit in (1, 2):
            _households(p.villages[f"{key}{village_digit}"], county_digit, village_digit, region)
    p.cycle.settings = {"sample_size": 5, "reserve_count": 3}
    cycle_a = Cycle(year=2025, county_id=a.id, status="open", settings={})
    cycle_b = Cycle(year=2025, county_id=b.id, status="open", settings={})
    db.session.add_all([cycle_a, cycle_b])
    db.session.commit()
    (draw_a,) = run_draw(SYSTEM, p.cycle, a, "矩阵测试 甲县种子", recorded_at=SEEDED)
    (draw_b,) = run_draw(SYSTEM, p.cycle, b, "矩阵测试 乙县种子", recorded_at=SEEDED)
    _field_work(p, "a", "evaluator_a")
    _field_work(p, "b", "evaluator_b")
    _checkin(p, "secretary_a", "a")
    _checkin(p, "secretary_b", "b")
    meetings, leaves = {}, {}
    for key in ("a", "b"):
        secretary = db.session.get(FirstSecretary, p.secretaries[key].id)
        meetings[key] = meeting_svc.create_meeting(SYSTEM, {
            "cycle_id": p.cycle.id, "secretary_id": secretary.id, "held_on": date(2026, 11, 20),
            "place": "村委会会议室", "participants": {"party_member": 3, "cadre": 2,
                                                    "villager_rep": 2, "poor_household_rep": 2}})
        leaves[key] = request_leave(db.session.get(User, p.users[f"secretary_{key}"].id), {
            "start": date(2026, 12, 14), "end": date(2026, 12, 15), "reason": "参加培训"})
        record_spot_check(SYSTEM, {"secretary_id": secretary.id, "day": date(2026, 11, 3),
                                   "present": True, "note": "在村"})
        save_entry(SYSTEM, p.cycle, secretary, {"work_performance": 50})
    ballot_token = meeting_svc.slip_token(meetings["a"], 0)

    world = World(p)
    draws = {"a": draw_a, "b": draw_b}
    for side, key, own_cycle in (("own", "a", cycle_a), ("foreign", "b", cycle_b)):
        village = p.villages[f"{key}1"]
        vd = db.session.scalar(select(VillageDraw).where(VillageDraw.draw_id == draws[key].id,
                                                         VillageDraw.village_id == village.id))
        world.sides[side] = {
            "county": p.counties[key].id, "village": village.id, "village2": p.villages[f"{key}2"].id,
            "cycle": p.cycle.id, "own_cycle": own_cycle.id, "draw": draws[key].id, "vd": vd.id,
            "visit": db.session.scalar(select(Visit.id).where(Visit.village_id == village.id)),
            "leave": leaves[key].id, "meeting": meetings[key].id,
            "secretary": p.secretaries[key].id, "user": p.users[f"target_{key}"].id,
        }
    world.public = {"token": ballot_token, "public_token": draw_a.public_token,
                    "village_code": p.villages["a1"].code, "instrument_id": "household_visit",
                    "version": 1, "folder": "js", "filename": "app.js", "code": "en"}
    _what_each_may_see(world)
    return world


def _what_each_may_see(world: World) -> None:
    p = world.personas
    a, b = p.counties["a"].id, p.counties["b"].id
    villages = {v.id: v for v in db.session.scalars(select(Village))}
    households = list(db.session.scalars(select(Household)))
    secretaries = list(db.session.scalars(select(FirstSecretary)))
    users = list(db.session.scalars(select(User)))
    county_of_village = {v.id: v.county_id for v in villages.values()}

    def phones_of(county_id: int) -> set[str]:
        return ({h.phone for h in households if county_of_village[h.village_id] == county_id}
                | {s.phone for s in secretaries if county_of_village[s.village_id] == county_id}
                | {u.phone for u in users if u.county_id == county_id})

    world.all_phones = ({h.phone for h in households} | {s.phone for s in secretaries}
                        | {u.phone for u in users})
    world.id_numbers = {h.id_number for h in households if h.id_number}
    # The households evaluator_a must find: a1's samples and the activated reserve.
    findable = set(db.session.scalars(
        select(SampleEntry.household_id).join(VillageDraw).join(Draw).where(
            SampleEntry.village_id == p.villages["a1"].id, Draw.status == "active",
            (SampleEntry.role == "sample") | (SampleEntry.status == "reserve_active"))))
    drawn_a1 = set(db.session.scalars(select(SampleEntry.household_id).where(
        SampleEntry.village_id == p.villages["a1"].id, SampleEntry.role.in_(("sample", "reserve")))))
    own = {name: {p.users[name].phone} for name in PERSONAS}
    world.phones = {
        "admin": set(world.all_phones), "staff_a": phones_of(a), "staff_b": phones_of(b),
        "evaluator_a": own["evaluator_a"] | {h.phone for h in households if h.id in findable},
        "evaluator_x": own["evaluator_x"], "secretary_a": own["secretary_a"],
        "secretary_a2": own["secretary_a2"], "anonymous": set()}

    def words(county_id: int) -> set[str]:
        """What names places and people of a county (never public, except on the public
        draw pages: their routes are not scanned for words)."""
        out = set()
        for v in villages.values():
            if v.county_id == county_id:
                out |= {v.code, v.name}
        for h in households:
            if county_of_village[h.village_id] == county_id:
                out |= {h.household_no, h.head_name}
        out |= {s.name for s in secretaries if county_of_village[s.village_id] == county_id}
        return out

    a1, a2 = p.villages["a1"], p.villages["a2"]
    a_households = {h.head_name for h in households if county_of_village[h.village_id] == a}
    world.hidden = {
        "admin": set(), "staff_a": words(b), "staff_b": words(a),
        # An evaluator: a1's drawn households only (their reserves' names come with the
        # tasks: the phone shows which reserve is next), nothing of a2 or county B.
        "evaluator_a": words(b) | {a2.code, a2.name, "第二书记"}
        | {h.head_name for h in households if h.village_id in (a1.id, a2.id)
           and h.id not in drawn_a1},
        "evaluator_x": words(b) | words(a),
        # A secretary: their own village and name, no household at all.
        "secretary_a": words(b) | {a2.code, a2.name, "第二书记"} | a_households,
        "secretary_a2": words(b) | {a1.code, a1.name, "书记A"} | a_households,
        "anonymous": words(a) | words(b),
    }
    db.session.expire_all()
