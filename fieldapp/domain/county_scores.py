"""One county's scores in one cycle, from plain inputs: the reference implementation.

Reading order: the inputs (dataclasses below, loaded from the database by
services/scoring/inputs.py) -> who is assessed -> which visits and meetings count for whom
-> the mass evaluation (domain/scoring.py) -> the scorecard components -> grades, the
spot-check cap and the 20% cap with ties (domain/grading.py). No database, no Flask: a
set-based SQL version must give the same numbers from the same rows.

Input digests (`input_digests`) fingerprint everything a secretary's result depends on,
part by part, so a later recomputation can name what changed ("visits", "meeting", ...).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

from . import N_
from . import grading as dgrade
from .flags import TIME_FLAGS
from .assessment import AssessmentRule, is_assessed, serves_on
from .points import half_up
from .residency import LeavePeriod, SpotCheckFact, spot_check_absences, spot_check_grade_cap
from .scoring import IndexResult, MassEvaluation, ScoringConfig, item_mean, mass_evaluation_score

# Visit flags that HOLD a visit: it counts only once staff approve it (docs: "Honest visit
# times"). Other flags only ask for review.
HOLD_FLAGS = frozenset(TIME_FLAGS)

NO_DRAW = N_("The village has no household draw in this cycle.")
MEETING_NOT_CLOSED = N_("The evaluation meeting is still open.")
NOT_HELD = N_("No evaluation meeting was held.")
MASS_INCOMPLETE = N_("The mass evaluation is incomplete.")
MISSING = {
    "work_performance": N_("Work performance has not been entered."),
    "work_discipline": N_("Work discipline has not been entered or confirmed."),
    "work_evaluation": N_("Work evaluation has not been entered."),
}
TIE_PENDING = N_("Tied for the last Excellent place: staff decide, with a reason.")
PERSON_PENDING = N_("The same person is assessed in two villages: staff choose the record to grade.")
OTHER_RECORD = N_("This person is graded in another village (staff decision).")
NOT_ASSESSED = N_("Not assessed in this cycle: served too short a time (see the cycle's assessment rule).")


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitInput:
    visit_id: int
    entry_id: int  # the household's sample entry
    day: date  # the visit's date in Asia/Shanghai
    answers: Mapping[str, Any]  # item ids prefixed "<instrument>.v<version>."
    review: str = "pending"  # pending | approved | rejected
    flags: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return bool(HOLD_FLAGS.intersection(self.flags))

    @property
    def counts(self) -> bool:
        """Rejected visits never count; held ones only once approved."""
        if self.review == "rejected":
            return False
        return not self.held or self.review == "approved"


@dataclass(frozen=True)
class VillageInput:
    village_id: int
    has_draw: bool = False
    eligible: int = 0
    sample_size: int = 20
    visits: tuple[VisitInput, ...] = ()  # of the active draw's sample and activated reserves


@dataclass(frozen=True)
class MeetingInput:
    meeting_id: int
    status: str  # open | closed
    held_on: date
    ballots: tuple[tuple[str, Mapping[str, Any]], ...] = ()  # (category, prefixed answers)
    paper: tuple[tuple[str, Mapping[str, Any], int], ...] = ()  # (category, answers, count)


@dataclass(frozen=True)
class SecretaryInput:
    secretary_id: int
    person: str  # person_key(phone)
    village_id: int
    term_start: date
    term_end: date | None
    work_performance: Decimal | None = None
    work_discipline_entered: Decimal | None = None
    work_discipline_confirmed: Decimal | None = None  # the residency module's decision
    work_evaluation: Decimal | None = None
    meeting: MeetingInput | None = None
    spot_checks: tuple[SpotCheckFact, ...] = ()
    leaves: tuple[LeavePeriod, ...] = ()  # approved leave


@dataclass(frozen=True)
class GradingSettings:
    thresholds: dgrade.Thresholds = dgrade.DEFAULT_THRESHOLDS
    cap_ratio: Decimal = Decimal("0.2")
    tie_breakers: tuple[str, ...] = dgrade.DEFAULT_TIE_BREAKERS
    cap_no_excellent_at: int = 1  # spot-check absences (residency DisciplineConfig)
    cap_basic_at: int = 2
    cap_incompetent_at: int = 3


@dataclass(frozen=True)
class CountyInput:
    year: int
    county_id: int
    scoring: ScoringConfig
    household_values: Mapping[str, Any]
    household_items: tuple[str, ...]
    meeting_values: Mapping[str, Any]
    meeting_items: tuple[str, ...]
    census_requires_all: bool = True
    census_below: int | None = None  # None: the draw's sample size
    grading: GradingSettings = GradingSettings()
    assessment: AssessmentRule = AssessmentRule()
    villages: Mapping[int, VillageInput] = field(default_factory=dict)
    secretaries: tuple[SecretaryInput, ...] = ()
    person_choices: Mapping[str, int] = field(default_factory=dict)  # person -> secretary id
    tie_decision: dgrade.TieDecision | None = None
    settings_snapshot: Mapping[str, Any] = field(default_factory=dict)


# --- outcome ------------------------------------------------------------------------------


@dataclass
class SecretaryOutcome:
    secretary_id: int
    assessed: bool
    status: str  # graded | incomplete | pending | not_assessed
    reasons: list[str]  # msgids
    mass: MassEvaluation | None
    household: IndexResult | None
    meeting: IndexResult | None
    meeting_status: str | None
    counted_visits: list[VisitInput]
    meeting_answers: list[Mapping[str, Any]]
    meeting_categories: list[str]
    mass_reasons: list[str]
    work_performance: Decimal | None = None
    work_discipline: Decimal | None = None
    work_evaluation: Decimal | None = None
    discipline_source: str | None = None  # entered | confirmed | None
    total: Decimal | None = None
    grade: str | None = None
    grade_before_caps: str | None = None
    capped: bool = False
    residency_cap: str | None = None
    spot_check_absences: int = 0
    pending: str | None = None  # "tie" | "person"
    eligible_households: int | None = None


@dataclass
class CountyOutcome:
    secretaries: list[SecretaryOutcome]  # input order
    base: int  # assessed people (one person in two villages counts once)
    places: int
    tied: frozenset
    places_in_tie: int
    tie_decided: bool
    duplicate_persons: dict[str, list[int]]  # person -> assessed secretary ids (2 or more)


def required_visits(eligible: int, min_visits: int, census_below: int, requires_all: bool) -> int:
    if requires_all and eligible < census_below:
        return eligible
    return min(min_visits, eligible)


def counted_visits(village: VillageInput, s: SecretaryInput) -> list[VisitInput]:
    """One visit per household (the latest that counts) made while `s` served there."""
    latest: dict[int, VisitInput] = {}
    for v in village.visits:
        if not v.counts or not serves_on(s.term_start, s.term_end, v.day):
            continue
        prev = latest.get(v.entry_id)
        if prev is None or prev.visit_id < v.visit_id:
            latest[v.entry_id] = v
    return sorted(latest.values(), key=lambda v: v.visit_id)


def _empty_index() -> IndexResult:
    return IndexResult(index=None, n_respondents=0, n_scored_answers=0, satisfied_share=None,
                       distribution={})


def mass_of(ci: CountyInput, s: SecretaryInput) -> tuple[MassEvaluation, IndexResult, IndexResult,
                                                          list[VisitInput], list, list, list[str], str | None]:
    village = ci.villages.get(s.village_id) or VillageInput(s.village_id)
    visits = counted_visits(village, s)
    answers = [v.answers for v in visits]
    household = (item_mean(answers, ci.household_values, ci.household_items)
                 if answers else _empty_index())
    m = s.meeting
    # A meeting belongs to the secretary serving on its date.
    if m is not None and not serves_on(s.term_start, s.term_end, m.held_on):
        m = None
    held = m is not None and m.status == "closed"
    m_answers: list[Mapping[str, Any]] = []
    m_categories: list[str] = []
    if m is not None:
        for category, a in m.ballots:
            m_answers.append(a)
            m_categories.append(category)
        for category, a, count in m.paper:
            m_answers.extend([a] * count)
            m_categories.extend([category] * count)
    meeting = (item_mean(m_answers, ci.meeting_values, ci.meeting_items)
               if held and m_answers else _empty_index())
    m_status = m.status if m is not None else None
    result, reasons = mass_result(ci, village, household, meeting, m_status)
    return (result, household, meeting, visits, m_answers, m_categories, reasons, m_status)


def mass_result(ci: CountyInput, village: VillageInput, household: IndexResult,
                meeting: IndexResult, meeting_status: str | None) -> tuple[MassEvaluation, list[str]]:
    """The score and its reasons from the two indexes (the counted visits' and, when the
    meeting of the secretary's term is closed, its ballots'): shared by `mass_of` and the
    set-based path (services/scoring/aggregates.py), which computes the indexes in SQL."""
    cfg = ci.scoring
    held = meeting_status == "closed"
    census_below = ci.census_below if ci.census_below is not None else village.sample_size
    eligible = village.eligible if village.has_draw else 0
    required = required_visits(eligible, cfg.min_visits, census_below, ci.census_requires_all)
    result = mass_evaluation_score(
        household, meeting, w_h=cfg.w_h, w_m=cfg.w_m, max_points=cfg.max_points,
        min_visits=required, village_eligible_count=eligible, meeting_held=held)
    reasons = list(result.reasons)
    if not village.has_draw and cfg.w_h > 0:
        reasons.insert(0, NO_DRAW)
    if meeting_status is not None and not held and cfg.w_m > 0:
        reasons = [MEETING_NOT_CLOSED if r == NOT_HELD else r for r in reasons]
    return result, reasons


def _assessed(ci: CountyInput) -> tuple[set[int], dict[str, list[int]]]:
    """The assessed secretaries' ids, and the persons assessed in more than one village."""
    assessed_ids = {s.secretary_id for s in ci.secretaries
                    if is_assessed(s.term_start, s.term_end, ci.year, ci.assessment)}
    persons: dict[str, list[int]] = {}
    for s in ci.secretaries:
        if s.secretary_id in assessed_ids:
            persons.setdefault(s.person, []).append(s.secretary_id)
    return assessed_ids, {p: ids for p, ids in persons.items() if len(ids) > 1}


def _outcome(ci: CountyInput, s, mass_parts, assessed: bool) -> SecretaryOutcome:
    result, household, meeting, visits, m_answers, m_cats, mass_reasons, m_status = mass_parts
    village = ci.villages.get(s.village_id)
    return SecretaryOutcome(
        secretary_id=s.secretary_id, assessed=assessed, status="",
        reasons=[], mass=result, household=household, meeting=meeting,
        meeting_status=m_status, counted_visits=visits, meeting_answers=m_answers,
        meeting_categories=m_cats, mass_reasons=mass_reasons,
        eligible_households=village.eligible if village is not None and village.has_draw else None)


def _not_graded(o: SecretaryOutcome, s, ci: CountyInput,
                duplicates: dict[str, list[int]]) -> bool:
    """Sets the status of one not graded here (not assessed, or one of a person's two
    records not chosen yet or not chosen); True when so."""
    if not o.assessed:
        o.status, o.reasons = "not_assessed", [NOT_ASSESSED]
        return True
    dup = duplicates.get(s.person)
    if dup is None:
        return False
    chosen = ci.person_choices.get(s.person)
    if chosen not in dup:
        o.status, o.pending, o.reasons = "pending", "person", [PERSON_PENDING]
        return True
    if chosen != s.secretary_id:
        o.status, o.assessed, o.reasons = "not_assessed", False, [OTHER_RECORD]
        return True
    return False


def _entered_components(o: SecretaryOutcome, s) -> None:
    """Work performance, discipline (entered, else confirmed) and evaluation onto `o`."""
    if s.work_discipline_entered is not None:
        wd, o.discipline_source = s.work_discipline_entered, "entered"
    elif s.work_discipline_confirmed is not None:
        wd, o.discipline_source = s.work_discipline_confirmed, "confirmed"
    else:
        wd = None
    o.work_performance, o.work_discipline, o.work_evaluation = (
        s.work_performance, wd, s.work_evaluation)


def _graded_entry(o: SecretaryOutcome, s, score, g) -> tuple[dgrade.GradedEntry, list[str]]:
    """The entry before the 20% cap: incomplete with its reasons, or graded and then held
    to the spot-check cap."""
    _entered_components(o, s)
    wp, wd, we = o.work_performance, o.work_discipline, o.work_evaluation
    reasons = [] if score is not None else [MASS_INCOMPLETE]
    for name, value in (("work_performance", wp), ("work_discipline", wd),
                        ("work_evaluation", we)):
        if value is None:
            reasons.append(MISSING[name])
    if reasons:
        entry = dgrade.GradedEntry(s.secretary_id, dgrade.Components(
            wp or Decimal(0), score, wd or Decimal(0), we or Decimal(0)), None, None, "incomplete")
    else:
        entry = dgrade.grade_entry(s.secretary_id, dgrade.Components(wp, score, wd, we),
                                   g.thresholds)
    o.grade_before_caps = entry.grade
    in_term = [c for c in s.spot_checks if serves_on(s.term_start, s.term_end, c.day)]
    o.spot_check_absences = spot_check_absences(in_term, s.leaves)
    cap = spot_check_grade_cap(o.spot_check_absences, no_excellent_at=g.cap_no_excellent_at,
                               basic_at=g.cap_basic_at, incompetent_at=g.cap_incompetent_at)
    if entry.grade is not None and cap is not None and \
            dgrade.GRADE_ORDER.index(entry.grade) > dgrade.GRADE_ORDER.index(cap):
        entry = dgrade.GradedEntry(entry.secretary_id, entry.components, entry.total, cap,
                                   entry.status)
        o.residency_cap = cap
    return entry, reasons


def evaluate_county(ci: CountyInput, mass=mass_of) -> CountyOutcome:
    """Every secretary of the county whose term touches the cycle year, graded.

    `mass(ci, s)` gives a secretary's mass evaluation as `mass_of` does; the set-based
    path passes one that reads SQL aggregates instead of `ci`'s visits and ballots."""
    g = ci.grading
    assessed_ids, duplicates = _assessed(ci)
    outcomes: list[SecretaryOutcome] = []
    graded: list[dgrade.GradedEntry] = []
    for s in ci.secretaries:
        parts = mass(ci, s)
        o = _outcome(ci, s, parts, s.secretary_id in assessed_ids)
        outcomes.append(o)
        if _not_graded(o, s, ci, duplicates):
            continue
        score = parts[0].score if NO_DRAW not in o.mass_reasons else None
        entry, reasons = _graded_entry(o, s, score, g)
        o.total, o.status, o.reasons = entry.total, entry.status, reasons
        graded.append(entry)
    base = len({s.person for s in ci.secretaries if s.secretary_id in assessed_ids})
    cap = dgrade.apply_excellent_cap_with_ties(graded, g.cap_ratio, base=base,
                                               tie_breakers=g.tie_breakers,
                                               decision=ci.tie_decision)
    by_id = {o.secretary_id: o for o in outcomes}
    for e in cap.entries:
        o = by_id[e.secretary_id]
        o.grade, o.capped = e.grade, e.capped
        if e.tie_pending:
            o.status, o.pending, o.reasons = "pending", "tie", [TIE_PENDING]
    return CountyOutcome(outcomes, base, cap.places, cap.tied, cap.places_in_tie, cap.decided,
                         duplicates)


# --- pooled aggregates (a village, a town, the county) ------------------------------------


def pooled(ci: CountyInput, outcomes: Sequence[SecretaryOutcome]) -> dict[str, Any]:
    """Respondent-level indexes over every counted household and ballot of `outcomes`
    (each visit once, even when two secretaries' terms overlap), and the complete scores."""
    seen: set[int] = set()
    h_answers: list[Mapping[str, Any]] = []
    m_answers: list[Mapping[str, Any]] = []
    for o in outcomes:
        for v in o.counted_visits:
            if v.visit_id not in seen:
                seen.add(v.visit_id)
                h_answers.append(v.answers)
        if o.meeting_status == "closed":
            m_answers.extend(o.meeting_answers)
    household = item_mean(h_answers, ci.household_values, ci.household_items) if h_answers \
        else _empty_index()
    meeting = item_mean(m_answers, ci.meeting_values, ci.meeting_items) if m_answers \
        else _empty_index()
    return {"household": household, "meeting": meeting}


# --- input digests ------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(half_up(value, 2))
    if isinstance(value, (date,)):
        return value.isoformat()
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, Mapping):
        return {str(k): _canon(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_canon(v) for v in value]
        if isinstance(value, (set, frozenset)):
            items.sort(key=lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False))
        return items
    return value


def _sha(value: Any) -> str:
    text = json.dumps(_canon(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


DIGEST_PARTS = ("assessment", "draw", "visits", "meeting", "entry", "discipline",
                "spot_checks", "decisions", "settings")


def input_digests(ci: CountyInput, s: SecretaryInput) -> dict[str, str]:
    """Part name -> SHA-256 of the canonical JSON of everything that part feeds."""
    village = ci.villages.get(s.village_id) or VillageInput(s.village_id)
    visits = [(v.visit_id, v.entry_id, v.day, v.answers, v.review, sorted(v.flags))
              for v in village.visits if serves_on(s.term_start, s.term_end, v.day)]
    m = s.meeting
    meeting = None if m is None else {
        "id": m.meeting_id, "status": m.status, "held_on": m.held_on,
        "ballots": sorted((json.dumps(_canon([c, a]), sort_keys=True, ensure_ascii=False)
                           for c, a in m.ballots)),
        "paper": sorted((json.dumps(_canon([c, a, n]), sort_keys=True, ensure_ascii=False)
                         for c, a, n in m.paper))}
    tie = ci.tie_decision
    parts = {
        "assessment": {"term": [s.term_start, s.term_end], "village": s.village_id,
                       "person": s.person, "year": ci.year},
        "draw": {"has_draw": village.has_draw, "eligible": village.eligible,
                 "sample_size": village.sample_size},
        "visits": sorted(visits, key=lambda v: v[0]),
        "meeting": meeting,
        "entry": {"work_performance": s.work_performance, "work_evaluation": s.work_evaluation,
                  "work_discipline": s.work_discipline_entered},
        "discipline": {"confirmed": s.work_discipline_confirmed},
        "spot_checks": {"checks": sorted((c.day, c.present) for c in s.spot_checks),
                        "leave": sorted((lv.start, lv.end) for lv in s.leaves)},
        "decisions": {"person": ci.person_choices.get(s.person),
                      "tie": None if tie is None else {"tied": tie.tied, "chosen": tie.chosen}},
        "settings": ci.settings_snapshot,
    }
    return {name: _sha(parts[name]) for name in DIGEST_PARTS}


def digest_of(parts: Mapping[str, str]) -> str:
    return _sha(dict(parts))


def changed_parts(before: Mapping[str, str] | None, after: Mapping[str, str]) -> list[str]:
    if not before:
        return list(DIGEST_PARTS)
    return [p for p in DIGEST_PARTS if before.get(p) != after.get(p)]


PART_LABELS = {
    "assessment": N_("term, village or identity"),
    "draw": N_("household draw"),
    "visits": N_("household visits or their review"),
    "meeting": N_("evaluation meeting, ballots or paper tallies"),
    "entry": N_("entered components"),
    "discipline": N_("confirmed work discipline"),
    "spot_checks": N_("spot checks or approved leave"),
    "decisions": N_("staff decisions (ties, one person in two villages)"),
    "settings": N_("cycle settings"),
}
