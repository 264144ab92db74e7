"""The mass evaluation, set-based: SQL aggregates instead of every visit and ballot.

The reference (domain/county_scores.py) reads every counted visit and ballot into Python.
Here the database does that work, for one county or several at once, in a few statements:

- households: the latest counting visit per (secretary, sample entry) made during the
  secretary's term (GROUP BY secretary, entry), then per visit the number of scored
  answers `n`, the sum of their values, the 满意/基本满意 answers and the answers whose
  option has no value; then per (secretary, n): visits, value sums, positives;
- meetings: the same per ballot of the closed meetings, grouped per (meeting, n), and the
  paper tallies summed per (meeting, option).

An index is the mean over respondents of each respondent's mean value. Grouping the
respondents by their number of scored answers `n` keeps it exact:
    index = (sum over n of (sum of the values of respondents with n answers) / n) / respondents.
Values are scaled to integers in SQL (75 -> 75, 87.5 -> 875 with scale 10) and divided in
Python with Fraction, so the score, rounded half up by the domain, has the reference's
digits. Who counts for whom is the same rule as the reference (mass.py's docstring); the
score and its reasons come from the domain's own `mass_result`.

When a counted answer has an option without a value, the reference raises a 422 naming
the option: `evaluate` then returns None and the caller runs the reference, which does.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Iterable, Mapping

from sqlalchemy import (Date, and_, case, cast, false, func, literal, literal_column, not_,
                        or_, select, true, union_all)
from sqlalchemy.dialects.postgresql import JSONB

from ...domain.assessment import serves_on
from ...domain.county_scores import (HOLD_FLAGS, CountyInput, CountyOutcome, SecretaryInput,
                                     VillageInput, evaluate_county, mass_result)
from ...domain.instruments import overall_item
from ...domain.scoring import SATISFIED_OPTIONS, IndexResult
from ...extensions import db
from ...models import (Ballot, Cycle, Draw, FirstSecretary, Meeting, PaperTally, SampleEntry,
                       Village, VillageDraw, Visit)
from .. import instruments
from .inputs import ENTRY_ROLES, LoadedCounty, load_county

EMPTY = IndexResult(index=None, n_respondents=0, n_scored_answers=0, satisfied_share=None,
                    distribution={})


# --- values as integers -------------------------------------------------------------------


def _exact(x: Any) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(str(x))  # as domain/scoring.py


@dataclass(frozen=True)
class Valuation:
    """One part's answer values and scored items, ready for SQL."""

    values: Mapping[str, Any]  # option -> value (None: not scored)
    items: Mapping[tuple[str, int], tuple[str, ...]]  # (instrument, version) -> item ids

    @property
    def scale(self) -> int:
        dens = [_exact(v).denominator for v in self.values.values() if v is not None]
        return math.lcm(*dens) if dens else 1

    def scaled(self) -> dict[str, int]:
        return {k: int(_exact(v) * self.scale) for k, v in self.values.items() if v is not None}

    def key(self) -> tuple:
        return (tuple(sorted((k, str(v)) for k, v in self.values.items())),
                tuple(sorted((k, tuple(v)) for k, v in self.items.items())))


# --- what a part adds up to, per secretary (households) or per meeting (ballots) -----------


@dataclass
class Part:
    respondents: int = 0  # visits counted / ballots cast (with or without a scored answer)
    by_n: dict[int, list[int]] = field(default_factory=dict)  # n -> [respondents, value sum]
    positive: int = 0
    bad: int = 0  # answers to a scored item whose option has no value

    def add(self, n: int, count: int, total: int, positive: int, bad: int) -> None:
        if n > 0:
            slot = self.by_n.setdefault(n, [0, 0])
            slot[0] += count
            slot[1] += total
        self.positive += positive
        self.bad += bad

    def index(self, scale: int) -> IndexResult:
        """The IndexResult `item_mean` gives for the same respondents (but `distribution`,
        which only pooled groups show: empty here)."""
        if not self.respondents:
            return EMPTY
        scored = sum(c for c, _s in self.by_n.values())
        answers = sum(n * c for n, (c, _s) in self.by_n.items())
        exact = (sum((Fraction(s, n) for n, (_c, s) in self.by_n.items()), Fraction(0))
                 / scale / scored) if scored else None
        return IndexResult(index=float(exact) if exact is not None else None,
                           n_respondents=self.respondents, n_scored_answers=answers,
                           satisfied_share=self.positive / answers if answers else None,
                           distribution={}, n_scored_respondents=scored, exact_index=exact,
                           n_positive=self.positive)


# --- SQL pieces that differ between the two databases ---------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _pairs(column, dialect: str):
    """A JSON object's (key, value-as-text) rows, as a FROM item that may refer to the
    row before it (implicitly lateral on both databases)."""
    if dialect == "postgresql":
        obj = case((func.json_typeof(column) == "object", column),
                   else_=literal_column("'{}'::json"))
        return func.json_each_text(obj).table_valued("key", "value")
    return func.json_each(column).table_valued("key", "value")


def _held(dialect: str):
    """The visit carries a flag that holds it until staff approve it."""
    if dialect == "postgresql":
        flags = cast(Visit.flags, JSONB)
        return or_(*[flags.op("@>")(cast(literal(f'[{{"code": "{code}"}}]'), JSONB))
                     for code in sorted(HOLD_FLAGS)])
    each = func.json_each(Visit.flags).table_valued("value")
    return (select(func.count()).select_from(each)
            .where(func.json_extract(each.c.value, "$.code").in_(sorted(HOLD_FLAGS)))
            .scalar_subquery() > 0)


def _local_day(dialect: str):
    """The Asia/Shanghai day of the visit (UTC+8 without daylight saving since 1991)."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Shanghai", Visit.started_at), Date)
    return func.date(Visit.started_at, "+8 hours")


def _answer_sums(pairs, instrument_id, instrument_version, valuation: Valuation):
    """(is a scored item, n, value sum, positives, bad) over one respondent's answers."""
    scaled = valuation.scaled()
    known = sorted(valuation.values)
    positive = sorted(k for k in scaled if k in SATISFIED_OPTIONS)
    is_item = or_(false(), *[and_(instrument_id == iid, instrument_version == ver,
                                  pairs.c.key.in_(items))
                             for (iid, ver), items in sorted(valuation.items.items()) if items])
    one = literal(1)
    return (is_item,
            func.sum(case((pairs.c.value.in_(sorted(scaled)), one), else_=0)).label("n"),
            func.sum(case(*[(pairs.c.value == k, literal(v)) for k, v in sorted(scaled.items())],
                          else_=0)).label("s"),
            func.sum(case((pairs.c.value.in_(positive), one), else_=0)).label("pos"),
            func.sum(case((pairs.c.value.in_(known), 0), else_=one)).label("bad"))


# --- households ---------------------------------------------------------------------------


def _in_scope(cycle: Cycle, county_ids: Iterable[int]):
    """Secretaries of the counties whose term touches the cycle year (as county_secretaries)."""
    lo, hi = date(cycle.year, 1, 1), date(cycle.year, 12, 31)
    return and_(Village.county_id.in_(list(county_ids)), FirstSecretary.term_start <= hi,
                or_(FirstSecretary.term_end.is_(None), FirstSecretary.term_end >= lo))


def _counted(cycle: Cycle, county_ids: list[int], dialect: str):
    """(secretary, visit): the latest counting visit per household entry in the term."""
    day = _local_day(dialect)
    counts = and_(func.coalesce(Visit.review_status, "pending") != "rejected",
                  or_(Visit.review_status == "approved", not_(_held(dialect))))
    return (select(FirstSecretary.id.label("sid"), func.max(Visit.id).label("vid"))
            .select_from(Visit)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(FirstSecretary, FirstSecretary.village_id == VillageDraw.village_id)
            .join(Village, Village.id == FirstSecretary.village_id)
            .where(Visit.cycle_id == cycle.id, Draw.cycle_id == cycle.id, Draw.status == "active",
                   VillageDraw.status == "active", SampleEntry.role.in_(ENTRY_ROLES),
                   _in_scope(cycle, county_ids), day >= FirstSecretary.term_start,
                   or_(FirstSecretary.term_end.is_(None), day <= FirstSecretary.term_end), counts)
            .group_by(FirstSecretary.id, Visit.sample_entry_id)
            .cte("counted"))


def household_parts(cycle: Cycle, county_ids: list[int], valuation: Valuation) -> dict[int, Part]:
    """secretary id -> the counted visits' Part (one statement)."""
    dialect = _dialect()
    counted = _counted(cycle, county_ids, dialect)
    pairs = _pairs(Visit.answers, dialect)
    is_item, *sums = _answer_sums(pairs, Visit.instrument_id, Visit.instrument_version, valuation)
    per_visit = (select(counted.c.sid, *sums).select_from(counted)
                 .join(Visit, Visit.id == counted.c.vid).join(pairs, true())
                 .where(is_item).group_by(counted.c.sid, counted.c.vid).subquery())
    stmt = union_all(
        select(per_visit.c.sid, per_visit.c.n, func.count(), func.sum(per_visit.c.s),
               func.sum(per_visit.c.pos), func.sum(per_visit.c.bad))
        .group_by(per_visit.c.sid, per_visit.c.n),
        select(counted.c.sid, literal(-1), func.count(), literal(0), literal(0), literal(0))
        .group_by(counted.c.sid))
    parts: dict[int, Part] = defaultdict(Part)
    for sid, n, count, total, pos, bad in db.session.execute(stmt):
        if n == -1:
            parts[sid].respondents = int(count)
        else:
            parts[sid].add(int(n), int(count), int(total or 0), int(pos or 0), int(bad or 0))
    return parts


# --- meetings -----------------------------------------------------------------------------


def _closed_meetings(cycle: Cycle, county_ids: list[int]):
    return (select(Meeting.id).join(FirstSecretary, FirstSecretary.id == Meeting.secretary_id)
            .join(Village, Village.id == FirstSecretary.village_id)
            .where(Meeting.cycle_id == cycle.id, Meeting.status == "closed",
                   _in_scope(cycle, county_ids)))


def meeting_parts(cycle: Cycle, county_ids: list[int], valuation: Valuation) -> dict[int, Part]:
    """meeting id -> its ballots' and paper tallies' Part, for the closed meetings of the
    counties' secretaries (two statements)."""
    dialect = _dialect()
    closed = _closed_meetings(cycle, county_ids)
    pairs = _pairs(Ballot.answers, dialect)
    is_item, *sums = _answer_sums(pairs, Meeting.instrument_id, Meeting.instrument_version,
                                  valuation)
    per_ballot = (select(Ballot.meeting_id, *sums).select_from(Ballot)
                  .join(Meeting, Meeting.id == Ballot.meeting_id).join(pairs, true())
                  .where(Ballot.meeting_id.in_(closed), is_item)
                  .group_by(Ballot.meeting_id, Ballot.id).subquery())
    stmt = union_all(
        select(per_ballot.c.meeting_id, per_ballot.c.n, func.count(), func.sum(per_ballot.c.s),
               func.sum(per_ballot.c.pos), func.sum(per_ballot.c.bad))
        .group_by(per_ballot.c.meeting_id, per_ballot.c.n),
        select(Ballot.meeting_id, literal(-1), func.count(), literal(0), literal(0), literal(0))
        .where(Ballot.meeting_id.in_(closed)).group_by(Ballot.meeting_id))
    parts: dict[int, Part] = defaultdict(Part)
    for mid, n, count, total, pos, bad in db.session.execute(stmt):
        if n == -1:
            parts[mid].respondents += int(count)
        else:
            parts[mid].add(int(n), int(count), int(total or 0), int(pos or 0), int(bad or 0))
    tallies = db.session.execute(
        select(PaperTally.meeting_id, Meeting.instrument_id, Meeting.instrument_version,
               PaperTally.option, func.sum(PaperTally.count))
        .join(Meeting, Meeting.id == PaperTally.meeting_id)
        .where(PaperTally.meeting_id.in_(closed))
        .group_by(PaperTally.meeting_id, Meeting.instrument_id, Meeting.instrument_version,
                  PaperTally.option))
    scaled = valuation.scaled()
    for mid, iid, ver, option, count in tallies:
        _add_paper(parts[mid], valuation, scaled, (iid, ver), option, int(count or 0))
    return parts


def _add_paper(part: Part, valuation: Valuation, scaled: dict[str, int],
               key: tuple[str, int], option: str, count: int) -> None:
    """`count` paper ballots answering only the instrument's overall item with `option`."""
    if count <= 0:
        return
    part.respondents += count
    item = overall_item(instruments.get_or_404(*key))
    if item.id not in valuation.items.get(key, ()):
        return
    if option not in valuation.values:
        part.bad += count
    elif option in scaled:
        part.add(1, count, scaled[option] * count,
                 count if option in SATISFIED_OPTIONS else 0, 0)


# --- one county, graded from the aggregates -------------------------------------------------


def valuations(loaded: LoadedCounty) -> tuple[Valuation, Valuation]:
    ci = loaded.input
    items = loaded.scored_items
    return (Valuation(dict(ci.household_values),
                      {k: tuple(v) for k, v in items.get("household", {}).items()}),
            Valuation(dict(ci.meeting_values),
                      {k: tuple(v) for k, v in items.get("meeting", {}).items()}))


@dataclass
class Aggregates:
    households: dict[int, Part]  # secretary id ->
    meetings: dict[int, Part]  # meeting id ->
    household_scale: int
    meeting_scale: int

    @classmethod
    def load(cls, cycle: Cycle, county_ids: list[int], household: Valuation,
             meeting: Valuation) -> Aggregates:
        return cls(household_parts(cycle, county_ids, household),
                   meeting_parts(cycle, county_ids, meeting), household.scale, meeting.scale)

    def parts(self, s: SecretaryInput) -> tuple[Part | None, Part | None, str | None]:
        """The secretary's household Part, the Part of the meeting of their term (when
        closed) and that meeting's status."""
        m = s.meeting
        if m is not None and not serves_on(s.term_start, s.term_end, m.held_on):
            m = None
        status = m.status if m is not None else None
        meeting = self.meetings.get(m.meeting_id) if status == "closed" else None
        return self.households.get(s.secretary_id), meeting, status

    def bad(self, ci: CountyInput) -> bool:
        """A counted answer without a value: the reference must decide (it raises)."""
        return any((h is not None and h.bad) or (m is not None and m.bad)
                   for h, m, _status in map(self.parts, ci.secretaries))

    def mass(self, ci: CountyInput, s: SecretaryInput):
        """`domain.county_scores.mass_of`'s answer, from the aggregates."""
        village = ci.villages.get(s.village_id) or VillageInput(s.village_id)
        h, m, status = self.parts(s)
        household = h.index(self.household_scale) if h is not None else EMPTY
        meeting = m.index(self.meeting_scale) if m is not None else EMPTY
        result, reasons = mass_result(ci, village, household, meeting, status)
        return (result, household, meeting, [], [], [], reasons, status)


def evaluate(loaded: LoadedCounty) -> CountyOutcome | None:
    """The county graded as `evaluate_county` grades it, from a light load (inputs.py
    `load_county(..., light=True)`); None when the reference must decide (see above)."""
    household, meeting = valuations(loaded)
    agg = Aggregates.load(loaded.cycle, [loaded.county_id], household, meeting)
    if agg.bad(loaded.input):
        return None
    return evaluate_county(loaded.input, mass=agg.mass)


def cycle_mass(cycle: Cycle, county_ids: list[int]) -> dict[int, tuple[Any, list[str]]]:
    """secretary id -> (MassEvaluation, reasons) for every secretary of the counties, with
    one set of aggregate statements per distinct answer valuation (usually one for the
    whole cycle); the score shown is `result.score` when there are no reasons. Raises
    LookupError when an answer has no value (the per-county reference raises the 422)."""
    loads = [load_county(cycle, cid, light=True) for cid in county_ids]
    groups: dict[tuple, list[LoadedCounty]] = defaultdict(list)
    for loaded in loads:
        household, meeting = valuations(loaded)
        groups[(household.key(), meeting.key())].append(loaded)
    out: dict[int, tuple[Any, list[str]]] = {}
    for group in groups.values():
        household, meeting = valuations(group[0])
        agg = Aggregates.load(cycle, [g.county_id for g in group], household, meeting)
        for loaded in group:
            if agg.bad(loaded.input):
                raise LookupError(loaded.county_id)
            for s in loaded.input.secretaries:
                result, _h, _m, _v, _a, _c, reasons, _st = agg.mass(loaded.input, s)
                out[s.secretary_id] = (result, reasons)
    return out
