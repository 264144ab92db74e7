"""Load every input of one county's scores into domain/county_scores.py's dataclasses.

Nothing is computed here: this module only reads rows (a fixed number of queries per
county) and resolves answer values from the instruments and the cycle's settings. What
counts, for whom, and how much is decided in the domain, so a set-based SQL version can
be tested against the same reference.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from ... import policy
from ...domain import N_
from ...domain.assessment import person_key
from ...domain.county_scores import (CountyInput, MeetingInput, SecretaryInput, VillageInput,
                                     VisitInput)
from ...domain.grading import TieDecision
from ...domain.instruments import overall_item
from ...domain.residency import LeavePeriod, SpotCheckFact, local_day
from ...errors import AppError, translate
from ...extensions import db
from ...models import (Ballot, County, Cycle, DisciplineDecision, Draw, FirstSecretary, LeaveRequest,
                       Meeting, PaperTally, SampleEntry, ScoreDecision, ScorecardEntry,
                       SpotCheck, Town, Village, VillageDraw, Visit)
from .. import instruments
from .settings import CountySettings, county_settings

ENTRY_ROLES = ("sample", "reserve")


def county_secretaries(cycle: Cycle, county_id: int) -> list[FirstSecretary]:
    """The county's first secretaries whose term touches the cycle year (assessed or not),
    with village and town loaded, in a stable reading order (town, village code, name)."""
    lo, hi = date(cycle.year, 1, 1), date(cycle.year, 12, 31)
    return list(db.session.scalars(
        select(FirstSecretary).join(Village, FirstSecretary.village_id == Village.id)
        .join(Town, Village.town_id == Town.id)
        .options(contains_eager(FirstSecretary.village).contains_eager(Village.town))
        .where(Village.county_id == county_id, FirstSecretary.term_start <= hi,
               or_(FirstSecretary.term_end.is_(None), FirstSecretary.term_end >= lo))
        .order_by(Town.name, Village.code, FirstSecretary.name, FirstSecretary.phone)))


def _prefix(instrument_id: str, version: int) -> str:
    return f"{instrument_id}.v{version}."


def _prefixed(key: tuple[str, int], answers: dict[str, Any] | None) -> dict[str, Any]:
    pre = _prefix(*key)
    return {pre + k: v for k, v in (answers or {}).items()}


@dataclass
class _Valuation:
    """Option values and scored item ids over every instrument version the answers use."""

    cycle_settings: dict
    explicit: dict | None
    values: dict[str, Any] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)

    def add(self, key: tuple[str, int]) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        instrument = instruments.find(*key)
        if instrument is None:
            raise AppError("validation_failed", errors={"instrument": [
                translate(N_("Unknown instrument %(id)s version %(version)s."),
                          {"id": key[0], "version": key[1]})]})
        per_item = instruments.values_for_cycle(instrument, self.cycle_settings)
        pre = _prefix(*key)
        for item in instrument.items:
            if not (item.type == "choice" and item.scored):
                continue
            self.items.append(pre + item.id)
            if self.explicit is not None:
                continue
            for code, value in per_item[item.id].items():
                if code in self.values and self.values[code] != value:
                    raise AppError("validation_failed", errors={"answer_values": [_(
                        "Answer option %(code)s has different values in different "
                        "questions: set the values explicitly in the scoring settings.",
                        code=code)]})
                self.values[code] = value

    def by_instrument(self) -> dict[tuple[str, int], list[str]]:
        """(instrument id, version) -> its scored item ids (without the prefix)."""
        out: dict[tuple[str, int], list[str]] = {}
        for key in self.seen:
            pre = _prefix(*key)
            out[key] = [item[len(pre):] for item in self.items if item.startswith(pre)]
        return out

    def final(self) -> dict[str, Any]:
        if self.explicit is not None:
            return dict(self.explicit)
        return self.values or {"satisfied": 100}


def answer_values(cycle: Cycle, explicit: dict | None, keys: list[tuple[str, int]]
                  ) -> tuple[dict[str, Any], dict[tuple[str, int], list[str]]]:
    """The option values and the scored items per instrument version, over `keys` in the
    order the answers meet them (as `load_county` resolves them)."""
    valuation = _Valuation(cycle.settings or {}, explicit)
    for key in keys:
        valuation.add(key)
    return valuation.final(), valuation.by_instrument()


@dataclass
class LoadedCounty:
    """The domain input plus what the pages show beside it (names, codes, towns)."""

    cycle: Cycle
    county_id: int
    settings: CountySettings
    input: CountyInput
    secretaries: dict[int, FirstSecretary]
    decisions: dict[tuple[str, str], ScoreDecision]
    # "household" | "meeting" -> (instrument id, version) -> scored item ids
    scored_items: dict[str, dict[tuple[str, int], list[str]]] = field(default_factory=dict)


def _draws(cycle: Cycle, village_ids: list[int]) -> dict[int, tuple[int, int]]:
    """village id -> (eligible households, sample size) of its active draw in the cycle."""
    return {village_id: (eligible, sample_size) for village_id, eligible, sample_size in
            db.session.execute(
                select(VillageDraw.village_id, VillageDraw.eligible_count, Draw.sample_size)
                .join(Draw, VillageDraw.draw_id == Draw.id)
                .where(Draw.cycle_id == cycle.id, Draw.status == "active",
                       VillageDraw.status == "active", VillageDraw.village_id.in_(village_ids)))}


def visit_scope(cycle: Cycle):
    """Visits of the cycle to a sample or reserve entry of an active draw of the cycle."""
    return (select().select_from(Visit)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .where(Visit.cycle_id == cycle.id, Draw.cycle_id == cycle.id, Draw.status == "active",
                   VillageDraw.status == "active", SampleEntry.role.in_(ENTRY_ROLES)))


def _village_inputs(village_ids: list[int], draws: dict[int, tuple[int, int]],
                    visits: dict[int, list[VisitInput]]) -> dict[int, VillageInput]:
    return {vid: VillageInput(vid, has_draw=vid in draws, eligible=draws.get(vid, (0, 20))[0],
                              sample_size=draws.get(vid, (0, 20))[1], visits=tuple(visits[vid]))
            for vid in village_ids}


def _villages(cycle: Cycle, village_ids: list[int], valuation: _Valuation) -> dict[int, VillageInput]:
    draws = _draws(cycle, village_ids)
    visits: dict[int, list[VisitInput]] = defaultdict(list)
    stmt = (visit_scope(cycle)
            .add_columns(Visit.id, Visit.sample_entry_id, VillageDraw.village_id, Visit.started_at,
                         Visit.instrument_id, Visit.instrument_version, Visit.answers,
                         Visit.review_status, Visit.flags)
            .where(VillageDraw.village_id.in_(village_ids))
            .order_by(Visit.id)
            .execution_options(yield_per=2000))
    for vid, entry_id, village_id, started, iid, ver, answers, review, flags in db.session.execute(stmt):
        valuation.add((iid, ver))
        visits[village_id].append(VisitInput(
            visit_id=vid, entry_id=entry_id, day=local_day(started),
            answers=_prefixed((iid, ver), answers), review=review or "pending",
            flags=tuple(sorted({f.get("code") for f in flags or [] if f.get("code")}))))
    return _village_inputs(village_ids, draws, visits)


def _villages_light(cycle: Cycle, village_ids: list[int],
                    valuation: _Valuation) -> dict[int, VillageInput]:
    """The villages' draws without their visits (the set-based path aggregates those in
    SQL): the answer values come from the instrument versions the visits use, in the
    order the full load meets them (first visit id)."""
    first = func.min(Visit.id)
    for iid, ver, _first in db.session.execute(
            visit_scope(cycle).add_columns(Visit.instrument_id, Visit.instrument_version, first)
            .where(VillageDraw.village_id.in_(village_ids))
            .group_by(Visit.instrument_id, Visit.instrument_version).order_by(first)):
        valuation.add((iid, ver))
    return _village_inputs(village_ids, _draws(cycle, village_ids), defaultdict(list))


def _meetings(cycle: Cycle, secretary_ids: list[int], valuation: _Valuation,
              light: bool = False) -> dict[int, MeetingInput]:
    meetings = {m.id: m for m in db.session.scalars(select(Meeting).where(
        Meeting.cycle_id == cycle.id, Meeting.secretary_id.in_(secretary_ids)))}
    if not meetings or light:  # light: ballots and tallies are aggregated in SQL
        for m in meetings.values():
            valuation.add((m.instrument_id, m.instrument_version))
        return {m.secretary_id: MeetingInput(m.id, m.status, m.held_on)
                for m in meetings.values()}
    ballots: dict[int, list] = defaultdict(list)
    # Ballots in id order: ids are random, so this order says nothing about voting order.
    for meeting_id, category, answers in db.session.execute(
            select(Ballot.meeting_id, Ballot.category, Ballot.answers)
            .where(Ballot.meeting_id.in_(list(meetings))).order_by(Ballot.id)):
        m = meetings[meeting_id]
        ballots[meeting_id].append((category, _prefixed((m.instrument_id, m.instrument_version),
                                                        answers)))
    paper: dict[int, list] = defaultdict(list)
    for t in db.session.scalars(select(PaperTally).where(PaperTally.meeting_id.in_(list(meetings)))
                                .order_by(PaperTally.category, PaperTally.option)):
        m = meetings[t.meeting_id]
        instrument = instruments.get_or_404(m.instrument_id, m.instrument_version)
        item = overall_item(instrument)
        one = {_prefix(m.instrument_id, m.instrument_version) + item.id: t.option}
        paper[t.meeting_id].append((t.category, one, t.count))
    out = {}
    for m in meetings.values():
        valuation.add((m.instrument_id, m.instrument_version))
        out[m.secretary_id] = MeetingInput(m.id, m.status, m.held_on, tuple(ballots[m.id]),
                                           tuple(paper[m.id]))
    return out


def _residency(cycle: Cycle, ids: list[int]) -> tuple[dict[int, list[SpotCheckFact]],
                                                        dict[int, list[LeavePeriod]]]:
    """Spot checks and approved leave of the secretaries in the cycle year."""
    lo, hi = date(cycle.year, 1, 1), date(cycle.year, 12, 31)
    spots: dict[int, list[SpotCheckFact]] = defaultdict(list)
    leaves: dict[int, list[LeavePeriod]] = defaultdict(list)
    if not ids:
        return spots, leaves
    for sid, day, present in db.session.execute(
            select(SpotCheck.secretary_id, SpotCheck.day, SpotCheck.present)
            .where(SpotCheck.secretary_id.in_(ids), SpotCheck.day.between(lo, hi))
            .order_by(SpotCheck.day, SpotCheck.id)):
        spots[sid].append(SpotCheckFact(day, present))
    for sid, start, end in db.session.execute(
            select(LeaveRequest.secretary_id, LeaveRequest.start, LeaveRequest.end)
            .where(LeaveRequest.secretary_id.in_(ids), LeaveRequest.status == "approved",
                   LeaveRequest.start <= hi, LeaveRequest.end >= lo)
            .order_by(LeaveRequest.start, LeaveRequest.id)):
        leaves[sid].append(LeavePeriod(start, end, "approved"))
    return spots, leaves


def _secretary_inputs(cycle: Cycle, secretaries: list[FirstSecretary],
                      meetings: dict[int, MeetingInput]) -> list[SecretaryInput]:
    """Each secretary with the components entered, the confirmed discipline, the meeting,
    spot checks and approved leave."""
    ids = [s.id for s in secretaries]
    entries = {e.secretary_id: e for e in db.session.scalars(select(ScorecardEntry).where(
        ScorecardEntry.cycle_id == cycle.id, ScorecardEntry.secretary_id.in_(ids)))} if ids else {}
    confirmed = dict(db.session.execute(select(DisciplineDecision.secretary_id, DisciplineDecision.score)
                                        .where(DisciplineDecision.cycle_id == cycle.id,
                                               DisciplineDecision.secretary_id.in_(ids))).all()) if ids else {}
    spots, leaves = _residency(cycle, ids)
    inputs = []
    for s in secretaries:
        e = entries.get(s.id)
        inputs.append(SecretaryInput(
            secretary_id=s.id, person=person_key(s.phone), village_id=s.village_id,
            term_start=s.term_start, term_end=s.term_end,
            work_performance=e.work_performance if e else None,
            work_discipline_entered=e.work_discipline if e else None,
            work_discipline_confirmed=confirmed.get(s.id),
            work_evaluation=e.work_evaluation if e else None,
            meeting=meetings.get(s.id), spot_checks=tuple(spots[s.id]),
            leaves=tuple(leaves[s.id])))
    return inputs


def load_county(cycle: Cycle, county_id: int, *, light: bool = False) -> LoadedCounty:
    """Every input of one county's scores in `cycle` (no access check: callers check).

    `light`: without the visits, ballots and paper tallies (villages keep their draw,
    meetings their status and date) for the set-based mass evaluation (aggregates.py)."""
    settings = county_settings(cycle, county_id)
    secretaries = county_secretaries(cycle, county_id)
    ids = [s.id for s in secretaries]
    village_ids = sorted({s.village_id for s in secretaries})
    h_val = _Valuation(cycle.settings or {}, settings.explicit_household_values)
    m_val = _Valuation(cycle.settings or {}, settings.explicit_meeting_values)
    load_villages = _villages_light if light else _villages
    villages = load_villages(cycle, village_ids, h_val) if village_ids else {}
    meetings = _meetings(cycle, ids, m_val, light) if ids else {}
    decisions = {(d.kind, d.key): d for d in db.session.scalars(select(ScoreDecision).where(
        ScoreDecision.cycle_id == cycle.id, ScoreDecision.county_id == county_id))}
    tie = decisions.get(("tie", "tie"))
    inputs = _secretary_inputs(cycle, secretaries, meetings)
    ci = CountyInput(
        year=cycle.year, county_id=county_id, scoring=settings.scoring,
        household_values=h_val.final(), household_items=tuple(h_val.items),
        meeting_values=m_val.final(), meeting_items=tuple(m_val.items),
        census_requires_all=settings.census_requires_all, census_below=settings.census_below,
        grading=settings.grading, assessment=settings.assessment, villages=villages,
        secretaries=tuple(inputs),
        person_choices={key: d.chosen[0] for (kind, key), d in decisions.items()
                        if kind == "person" and d.chosen},
        tie_decision=TieDecision(frozenset(tie.subject), frozenset(tie.chosen)) if tie else None,
        settings_snapshot=settings.snapshot())
    return LoadedCounty(cycle, county_id, settings, ci, {s.id: s for s in secretaries}, decisions,
                        {"household": h_val.by_instrument(), "meeting": m_val.by_instrument()})


# --- scope and access -------------------------------------------------------------------


def check_scope(actor, verb: str, cycle: Cycle, county_id: int) -> None:
    """Policy `verb` on one county's scores in the cycle (county staff: their county, in a
    cycle they read); a county the cycle does not cover has no scores (404)."""
    policy.authorize(actor, verb, policy.CountyCycle(cycle, county_id))
    if not cycle.covers_county(county_id):
        raise AppError("not_found")


def covered_county_ids(cycle: Cycle) -> list[int]:
    if cycle.county_id is not None:
        return [cycle.county_id]
    return list(db.session.scalars(select(County.id).where(
        County.id.in_(select(Village.county_id).distinct())).order_by(County.code)))
