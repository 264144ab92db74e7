"""The mass-evaluation score (群众评议, 0-20) from stored raw answers.

The formula is fieldapp/domain/scoring.py (docs/algorithms.md §2); this module only loads
the answers and the cycle's settings and calls it. Nothing here is cached: every score is
recomputed from the stored visits, ballots and paper tallies (`fieldapp scores recompute`).

What counts (docs/meetings-and-scores.md):
- household answers: one visit per sample entry (the latest) of a `sample` or activated
  `reserve` entry of the village's ACTIVE draw in the cycle;
- meeting answers: the ballots of the secretary's meeting in the cycle plus its paper
  tallies (one respondent per paper ballot, answering the overall item), only once the
  meeting is closed ("held");
- answer values: the instrument's option values after the cycle's `answer_values`
  overrides, unless `settings.scoring.household_values` / `meeting_values` are given;
- required visits: `min_visits` (15) when the village has at least `census_below`
  (default: the draw's sample size, 20) eligible households, else ALL of them
  (`census_requires_all`, default true). A village of 19 needs 19 visits, one of 20 needs
  15: that discontinuity is the rule as written. With `census_requires_all` false it is
  min(min_visits, eligible).

Cycle settings (all optional): `scoring` = ScoringConfig fields (w_h, w_m, max_points,
min_visits, household_values, meeting_values), `census_requires_all` (bool),
`census_below` (int).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select

from ..domain import N_
from ..domain.scoring import (IndexResult, MassEvaluation, ScoringConfig, ScoringConfigError,
                              item_mean, mass_evaluation_score)
from ..errors import AppError, translate
from ..extensions import db
from ..models import (Ballot, Cycle, Draw, FirstSecretary, Meeting, PaperTally, SampleEntry,
                      VillageDraw, Visit)
from . import instruments

NO_DRAW = N_("The village has no household draw in this cycle.")
MEETING_NOT_CLOSED = N_("The evaluation meeting is still open.")
SUPPRESS_BELOW = 5  # aggregates over fewer respondents are hidden from secretaries


# --- settings ----------------------------------------------------------------------------


def scoring_config(cycle: Cycle) -> ScoringConfig:
    raw = (cycle.settings or {}).get("scoring") or {}
    try:
        return ScoringConfig.from_dict(raw)
    except (ScoringConfigError, TypeError) as err:
        errors = getattr(err, "errors", [("scoring", str(err))])
        raise AppError("validation_failed", errors={
            f"settings.scoring.{f}": [translate(m)] for f, m in errors}) from err


def census_requires_all(cycle: Cycle) -> bool:
    return bool((cycle.settings or {}).get("census_requires_all", True))


def required_visits(eligible: int, min_visits: int, census_below: int, requires_all: bool) -> int:
    """15 for a village of at least `census_below` (20) households, else all of them."""
    if requires_all and eligible < census_below:
        return eligible
    return min(min_visits, eligible)


def settings_snapshot(cycle: Cycle) -> dict[str, Any]:
    cfg = scoring_config(cycle)
    return {**cfg.to_dict(), "census_requires_all": census_requires_all(cycle),
            "census_below": (cycle.settings or {}).get("census_below"),
            "answer_values": (cycle.settings or {}).get("answer_values")}


# --- values -----------------------------------------------------------------------------


def _prefix(instrument_id: str, version: int) -> str:
    return f"{instrument_id}.v{version}."


@dataclass
class _Valuation:
    values: dict[str, float | None] = field(default_factory=dict)
    scored_items: list[str] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)

    def add(self, cycle: Cycle, key: tuple[str, int], explicit: dict | None) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        instrument = instruments.find(*key)
        if instrument is None:
            raise AppError("validation_failed", errors={"instrument": [
                translate(N_("Unknown instrument %(id)s version %(version)s."),
                          {"id": key[0], "version": key[1]})]})
        per_item = instruments.values_for_cycle(instrument, cycle.settings)
        pre = _prefix(*key)
        for item in instrument.items:
            if not (item.type == "choice" and item.scored):
                continue
            self.scored_items.append(pre + item.id)
            if explicit is not None:
                continue
            for code, value in per_item[item.id].items():
                if code in self.values and self.values[code] != value:
                    raise AppError("validation_failed", errors={"answer_values": [translate(
                        N_("Answer option %(code)s has different values in different "
                           "questions: set the values explicitly in the scoring settings."),
                        {"code": code})]})
                self.values[code] = value
        if explicit is not None:
            self.values = dict(explicit)

    def index(self, answers: list[dict[str, Any]]) -> IndexResult:
        try:
            return item_mean(answers, self.values or {"satisfied": 100}, self.scored_items)
        except ValueError as err:
            raise AppError("validation_failed", errors={"answer_values": [str(err)]}) from err


def _prefixed(key: tuple[str, int], answers: dict[str, Any]) -> dict[str, Any]:
    pre = _prefix(*key)
    return {pre + k: v for k, v in (answers or {}).items()}


# --- loading raw answers ----------------------------------------------------------------


@dataclass
class VillageData:
    village_id: int
    has_draw: bool = False
    eligible: int = 0
    sample_size: int = 20
    answers: list[dict[str, Any]] = field(default_factory=list)  # one per completed visit


@dataclass
class MeetingData:
    meeting: Meeting | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)  # one per respondent
    categories: list[str] = field(default_factory=list)  # parallel to answers
    paper: int = 0


def load_villages(cycle: Cycle, village_ids: Iterable[int], valuation: _Valuation,
                  explicit: dict | None) -> dict[int, VillageData]:
    ids = sorted(set(village_ids))
    out = {vid: VillageData(vid) for vid in ids}
    if not ids:
        return out
    for vd, sample_size in db.session.execute(
            select(VillageDraw, Draw.sample_size).join(Draw, VillageDraw.draw_id == Draw.id)
            .where(Draw.cycle_id == cycle.id, Draw.status == "active",
                   VillageDraw.status == "active", VillageDraw.village_id.in_(ids))):
        data = out[vd.village_id]
        data.has_draw, data.eligible, data.sample_size = True, vd.eligible_count, sample_size
    latest: dict[int, tuple[int, int, tuple[str, int], dict]] = {}
    stmt = (select(Visit.id, Visit.sample_entry_id, VillageDraw.village_id, Visit.instrument_id,
                   Visit.instrument_version, Visit.answers)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .where(Visit.cycle_id == cycle.id, Draw.cycle_id == cycle.id, Draw.status == "active",
                   VillageDraw.status == "active", SampleEntry.role.in_(("sample", "reserve")),
                   VillageDraw.village_id.in_(ids))
            .execution_options(yield_per=2000))
    for vid_, entry_id, village_id, iid, ver, answers in db.session.execute(stmt):
        prev = latest.get(entry_id)
        if prev is None or prev[0] < vid_:
            latest[entry_id] = (vid_, village_id, (iid, ver), answers)
    for _vid, village_id, key, answers in sorted(latest.values(), key=lambda r: r[0]):
        valuation.add(cycle, key, explicit)
        out[village_id].answers.append(_prefixed(key, answers))
    return out


def load_meetings(cycle: Cycle, secretary_ids: Iterable[int], valuation: _Valuation,
                  explicit: dict | None) -> dict[int, MeetingData]:
    ids = sorted(set(secretary_ids))
    out = {sid: MeetingData() for sid in ids}
    if not ids:
        return out
    meetings = {m.id: m for m in db.session.scalars(select(Meeting).where(
        Meeting.cycle_id == cycle.id, Meeting.secretary_id.in_(ids)))}
    for m in meetings.values():
        out[m.secretary_id].meeting = m
        valuation.add(cycle, (m.instrument_id, m.instrument_version), explicit)
    if not meetings:
        return out
    # Ballots in id order: ids are random, so this order says nothing about voting order.
    for meeting_id, category, answers in db.session.execute(
            select(Ballot.meeting_id, Ballot.category, Ballot.answers)
            .where(Ballot.meeting_id.in_(list(meetings))).order_by(Ballot.id)):
        m = meetings[meeting_id]
        data = out[m.secretary_id]
        data.answers.append(_prefixed((m.instrument_id, m.instrument_version), answers))
        data.categories.append(category)
    from .meetings import overall_item

    for t in db.session.scalars(select(PaperTally).where(PaperTally.meeting_id.in_(list(meetings)))
                                .order_by(PaperTally.id)):
        m = meetings[t.meeting_id]
        instrument = instruments.find(m.instrument_id, m.instrument_version)
        item = overall_item(instrument)
        data = out[m.secretary_id]
        one = {_prefix(m.instrument_id, m.instrument_version) + item.id: t.option}
        data.answers.extend(dict(one) for _ in range(t.count))
        data.categories.extend([t.category] * t.count)
        data.paper += t.count
    return out


# --- the score --------------------------------------------------------------------------


@dataclass
class SecretaryMass:
    secretary: FirstSecretary
    result: MassEvaluation
    household: IndexResult
    meeting: IndexResult
    meeting_by_category: dict[str, IndexResult]
    meeting_status: str | None  # None (no meeting), open, closed
    village: VillageData
    meeting_data: MeetingData
    reasons: list[str]  # msgids

    @property
    def score(self) -> float | None:
        return self.result.score if not self.extra_incomplete else None

    @property
    def extra_incomplete(self) -> bool:
        return NO_DRAW in self.reasons

    @property
    def status(self) -> str:
        return "complete" if self.score is not None else "incomplete"

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "secretary_id": self.secretary.id, "village_id": self.secretary.village_id,
            "mass_status": self.status, "mass_evaluation": self.score,
            "mass_reasons": list(self.reasons),
            "household_index": _r(r.household_index), "meeting_index": _r(r.meeting_index),
            "household_satisfied_share": _r(r.household_satisfied_share, 4),
            "meeting_satisfied_share": _r(r.meeting_satisfied_share, 4),
            "n_visits": r.n_visits, "required_visits": r.required_visits,
            "n_ballots": r.n_ballots, "meeting_status": self.meeting_status,
            "eligible_households": self.village.eligible if self.village.has_draw else None,
        }


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def _empty_index() -> IndexResult:
    return IndexResult(index=None, n_respondents=0, n_scored_answers=0, satisfied_share=None,
                       distribution={})


def mass_evaluations(cycle: Cycle, secretaries: list[FirstSecretary]) -> dict[int, SecretaryMass]:
    """The mass evaluation of every secretary given, from the stored raw answers."""
    cfg = scoring_config(cycle)
    raw = (cycle.settings or {}).get("scoring") or {}
    h_val, m_val = _Valuation(), _Valuation()
    h_explicit = cfg.household_values if "household_values" in raw else None
    m_explicit = cfg.meeting_values if "meeting_values" in raw else None
    villages = load_villages(cycle, (s.village_id for s in secretaries), h_val, h_explicit)
    meetings = load_meetings(cycle, (s.id for s in secretaries), m_val, m_explicit)
    if h_explicit is not None:
        h_val.values = dict(h_explicit)
    if m_explicit is not None:
        m_val.values = dict(m_explicit)
    requires_all = census_requires_all(cycle)
    out: dict[int, SecretaryMass] = {}
    for s in secretaries:
        v = villages[s.village_id]
        md = meetings[s.id]
        household = h_val.index(v.answers) if v.answers else _empty_index()
        held = md.meeting is not None and md.meeting.status == "closed"
        meeting = m_val.index(md.answers) if (held and md.answers) else _empty_index()
        by_cat: dict[str, list[dict]] = defaultdict(list)
        for cat, ans in zip(md.categories, md.answers):
            by_cat[cat].append(ans)
        meeting_by_category = {c: m_val.index(a) for c, a in by_cat.items()} if held else {}
        census_below = int((cycle.settings or {}).get("census_below") or v.sample_size)
        eligible = v.eligible if v.has_draw else 0
        required = required_visits(eligible, cfg.min_visits, census_below, requires_all)
        result = mass_evaluation_score(
            household, meeting, w_h=cfg.w_h, w_m=cfg.w_m, max_points=cfg.max_points,
            # The domain takes min(min_visits, eligible); passing the required number makes
            # it apply this service's rule (which is never above `eligible`).
            min_visits=required, village_eligible_count=eligible, meeting_held=held)
        reasons = list(result.reasons)
        if not v.has_draw and cfg.w_h > 0:
            reasons.insert(0, NO_DRAW)
        if md.meeting is not None and not held and cfg.w_m > 0:
            reasons = [MEETING_NOT_CLOSED if r == N_("No evaluation meeting was held.") else r
                       for r in reasons]
        out[s.id] = SecretaryMass(
            secretary=s, result=result, household=household, meeting=meeting,
            meeting_by_category=meeting_by_category,
            meeting_status=md.meeting.status if md.meeting else None, village=v,
            meeting_data=md, reasons=reasons)
    return out


def pooled(cycle: Cycle, masses: Iterable[SecretaryMass]) -> dict[str, Any]:
    """Aggregate over several secretaries (a village, a town, the county): respondent-level
    indexes over all their households and ballots, and the mean of complete scores."""
    masses = list(masses)
    cfg = scoring_config(cycle)
    raw = (cycle.settings or {}).get("scoring") or {}
    h_val, m_val = _Valuation(), _Valuation()
    h_answers: list[dict] = []
    m_answers: list[dict] = []
    seen_villages: set[int] = set()
    for m in masses:
        if m.village.village_id not in seen_villages:  # two secretaries of one village
            seen_villages.add(m.village.village_id)
            h_answers.extend(m.village.answers)
        if m.meeting_status == "closed":
            m_answers.extend(m.meeting_data.answers)
    # Rebuild the valuation from the prefixed item ids already in the answers.
    _valuation_from_answers(cycle, h_val, h_answers,
                            cfg.household_values if "household_values" in raw else None)
    _valuation_from_answers(cycle, m_val, m_answers,
                            cfg.meeting_values if "meeting_values" in raw else None)
    household = h_val.index(h_answers) if h_answers else _empty_index()
    meeting = m_val.index(m_answers) if m_answers else _empty_index()
    complete = [m.score for m in masses if m.score is not None]
    distribution: dict[str, int] = dict(household.distribution)
    return {
        "n_secretaries": len(masses), "n_complete": len(complete),
        "mean_mass_evaluation": round(sum(complete) / len(complete), 2) if complete else None,
        "household_index": _r(household.index), "household_satisfied_share": _r(household.satisfied_share, 4),
        "meeting_index": _r(meeting.index), "meeting_satisfied_share": _r(meeting.satisfied_share, 4),
        "n_visits": household.n_respondents, "n_ballots": meeting.n_respondents,
        "distribution": distribution,
    }


def _valuation_from_answers(cycle: Cycle, val: _Valuation, answers: list[dict],
                            explicit: dict | None) -> None:
    keys: set[tuple[str, int]] = set()
    for a in answers:
        for k in a:
            iid, ver, _item = k.split(".", 2)
            keys.add((iid, int(ver[1:])))
    for key in sorted(keys):
        val.add(cycle, key, explicit)
    if explicit is not None:
        val.values = dict(explicit)


def suppressed(n: int) -> bool:
    return n < SUPPRESS_BELOW
