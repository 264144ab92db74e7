"""The mass evaluation, set-based: SQL aggregates instead of every visit and ballot.

The reference (domain/county_scores.py) reads every counted visit and ballot into Python.
Here the database does that work, for one county or several at once, in a few statements:

- households: the latest counting visit per (secretary, sample entry) made during the
  secretary's term (GROUP BY secretary, entry); per visit, each scored item's option is
  read once, giving the number of scored answers `n`, the sum of their values, the
  满意/基本满意 answers and the answers whose option has no value; then per
  (secretary, n): visits, value sums, positives (one statement);
- meetings: the same per ballot of the closed meetings, per (meeting, n), and the paper
  tallies summed per (meeting, option) (two statements).

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

from sqlalchemy import (JSON, BigInteger, Date, Text, and_, case, cast, func, literal, not_, or_,
                        select, true)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import column

from ...domain.assessment import serves_on
from ...domain.county_scores import (HOLD_FLAGS, CountyInput, CountyOutcome, MeetingInput,
                                     SecretaryInput, VillageInput, evaluate_county, mass_result)
from ...domain.instruments import overall_item
from ...domain.scoring import SATISFIED_OPTIONS, IndexResult
from ...extensions import db
from ...models import (Ballot, Cycle, Draw, FirstSecretary, Meeting, PaperTally, SampleEntry,
                       Village, VillageDraw, Visit)
from .. import instruments
from .inputs import ENTRY_ROLES, LoadedCounty, answer_values, visit_scope
from .settings import county_settings

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
        exact = None
        if scored:  # sum over n of S_n / n, over one common denominator
            common = math.lcm(*self.by_n)
            exact = Fraction(sum(s * (common // n) for n, (_c, s) in self.by_n.items()),
                             common * scale * scored)
        return IndexResult(index=float(exact) if exact is not None else None,
                           n_respondents=self.respondents, n_scored_answers=answers,
                           satisfied_share=self.positive / answers if answers else None,
                           distribution={}, n_scored_respondents=scored, exact_index=exact,
                           n_positive=self.positive)


# --- SQL pieces that differ between the two databases ---------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _options(source, doc, items: list[str], dialect: str):
    """(source, {item: its option as text, NULL when absent or JSON null}), reading each
    document once: PostgreSQL parses a `json` column again for every ->>, so its items
    come from one json_to_record per row (a document that is not an object reads as {})."""
    if dialect != "postgresql" or not items:
        return source, {item: func.json_extract(doc, _path(item)) for item in items}
    obj = case((func.json_typeof(doc) == "object", doc), else_=cast(literal("{}"), JSON))
    record = (func.json_to_record(obj)
              .table_valued(*[column(item, Text) for item in items])
              .render_derived(name="answer_record", with_types=True))
    return source.outerjoin(record, true()), {item: record.c[item] for item in items}


def _present(doc, item: str, dialect: str):
    """The item is in the answers (maybe as JSON null)."""
    if dialect == "postgresql":
        return doc.op("->")(literal(item)).is_not(None)
    return func.json_type(doc, _path(item)).is_not(None)


NULL_ANSWER = "<null>"  # an item answered with JSON null: no option has a value for it


def _answer(option, doc, item: str, dialect: str):
    """The item's option as text; NULL when absent; NULL_ANSWER when JSON null (the second
    look at the document only happens then)."""
    return func.coalesce(option,
                         case((_present(doc, item, dialect), literal(NULL_ANSWER)), else_=None))


def _path(item: str) -> str:
    return '$."' + item.replace('"', '""') + '"'


def _held(dialect: str):
    """The visit carries a flag that holds it until staff approve it."""
    if dialect == "postgresql":  # most visits have no flag: no jsonb for those
        flags = cast(Visit.flags, JSONB)
        return case((func.coalesce(cast(Visit.flags, Text), "[]").in_(("[]", "null")), False),
                    else_=or_(*[flags.op("@>")(cast(literal(f'[{{"code": "{code}"}}]'), JSONB))
                                for code in sorted(HOLD_FLAGS)]))
    each = func.json_each(Visit.flags).table_valued("value")
    return (select(func.count()).select_from(each)
            .where(func.json_extract(each.c.value, "$.code").in_(sorted(HOLD_FLAGS)))
            .scalar_subquery() > 0)


def _local_day(dialect: str):
    """The Asia/Shanghai day of the visit (UTC+8 without daylight saving since 1991)."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Shanghai", Visit.started_at), Date)
    return func.date(Visit.started_at, "+8 hours")


# Per answer, one integer says what it adds to its respondent: n (a scored answer) in the
# high field, pos (满意/基本满意) in the middle one, bad (no value) in the low one. Summed
# over a respondent's answers, `packed // N` is the respondent's n; summed over a group
# of respondents, `packed % N` still holds the group's positives and bad answers apart
# (fewer than FIELD of each in one group: a secretary's visits or a meeting's ballots).
FIELD = 1 << 20
N = FIELD * FIELD


def _respondents(key, doc, instrument_id, instrument_version, valuation: Valuation,
                 dialect: str, source, name: str):
    """Per respondent (a row of `source`): `s`, the sum of their scaled values, and
    `packed` (above): the number of scored answers, the 满意/基本满意 among them, and the
    answers to a scored item whose option has no value (the reference raises on those).

    Each item's option is extracted once per row, in a materialized CTE (SQLite 3.40
    would otherwise parse the JSON again for every use of it)."""
    scaled = valuation.scaled()
    owners: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for ikey, items in sorted(valuation.items.items()):
        for item in items:
            owners[item].append(ikey)
    every = set(valuation.items)
    items = sorted(owners)
    columns = []
    source, options = _options(source, doc, items, dialect)
    for j, item in enumerate(items):
        option = _answer(options[item], doc, item, dialect)
        if set(owners[item]) != every:  # the item of some instrument versions only
            option = case((or_(*[and_(instrument_id == iid, instrument_version == ver)
                                 for iid, ver in owners[item]]), option), else_=None)
        columns.append(option.label(f"x{j}"))
    rows = source.add_columns(key.label("key"), *columns).cte(name).prefix_with("MATERIALIZED")
    codes = {k: (N + (FIELD if k in SATISFIED_OPTIONS else 0)) if k in scaled else 0
             for k in valuation.values if k != NULL_ANSWER}
    total, packed = [literal(0)], [literal(0)]
    for j in range(len(items)):
        x = rows.c[f"x{j}"]
        total.append(case(scaled, value=x, else_=0))
        packed.append(case(codes, value=x, else_=case((x.is_(None), 0), else_=1)))
    return select(rows.c.key, _plus(total).label("s"), _plus(packed).label("packed")).subquery()


def _plus(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _grouped(per):
    """(key, n, respondents, value sum, positives and bad packed) per (key, n)."""
    big = literal(N, BigInteger)
    n = (per.c.packed // big).label("n")
    return (select(per.c.key, n, func.count(), func.sum(per.c.s), func.sum(per.c.packed % big))
            .group_by(per.c.key, n))


def _collect(rows) -> dict[int, Part]:
    parts: dict[int, Part] = defaultdict(Part)
    for key, n, count, total, rest in rows:
        part = parts[key]
        part.respondents += int(count)
        pos, bad = divmod(int(rest or 0), FIELD)
        part.add(int(n), int(count), int(total or 0), pos, bad)
    return parts


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
    source = select().select_from(counted).join(Visit, Visit.id == counted.c.vid)
    per = _respondents(counted.c.sid, Visit.answers, Visit.instrument_id,
                       Visit.instrument_version, valuation, dialect, source, "visit_answers")
    return _collect(db.session.execute(_grouped(per)))


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
    source = (select().select_from(Ballot).join(Meeting, Meeting.id == Ballot.meeting_id)
              .where(Ballot.meeting_id.in_(closed)))
    per = _respondents(Ballot.meeting_id, Ballot.answers, Meeting.instrument_id,
                       Meeting.instrument_version, valuation, dialect, source, "ballot_answers")
    parts = _collect(db.session.execute(_grouped(per)))
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


# --- every secretary of several counties at once (the city, the province) --------------------


@dataclass
class _MassInput:
    input: CountyInput
    household: Valuation
    meeting: Valuation


def _keys_by_county(stmt) -> dict[int, list[tuple[str, int]]]:
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for cid, iid, ver, _first in db.session.execute(stmt):
        out[cid].append((iid, ver))
    return out


def _household_keys(cycle: Cycle, county_ids: list[int], served) -> Mapping[int, list]:
    """county id -> the instrument versions its counted-or-not visits use, in the order
    the full load meets them. When the whole cycle uses one version (the usual case), a
    scan of the cycle's visits says so: every county gets it (a county without visits has
    no answer to value, so its values change nothing)."""
    keys = db.session.execute(select(Visit.instrument_id, Visit.instrument_version)
                              .where(Visit.cycle_id == cycle.id).distinct().limit(2)).all()
    if len(keys) < 2:
        return defaultdict(lambda: [tuple(k) for k in keys])
    first = func.min(Visit.id)
    return _keys_by_county(
        visit_scope(cycle).add_columns(Village.county_id, Visit.instrument_id,
                                       Visit.instrument_version, first)
        .join(Village, Village.id == VillageDraw.village_id)
        .where(VillageDraw.village_id.in_(served))
        .group_by(Village.county_id, Visit.instrument_id, Visit.instrument_version)
        .order_by(first))


def _mass_inputs(cycle: Cycle, county_ids: list[int]) -> list[_MassInput]:
    """What the mass evaluation needs besides the aggregates, for every county at once:
    the secretaries, the villages' draws, the meetings (no ballots) and the answer values
    each county's instrument versions give (a fixed number of statements)."""
    scope = _in_scope(cycle, county_ids)
    secretaries = db.session.execute(
        select(FirstSecretary.id, FirstSecretary.village_id, Village.county_id,
               FirstSecretary.term_start, FirstSecretary.term_end)
        .join(Village, Village.id == FirstSecretary.village_id).where(scope)
        .order_by(FirstSecretary.id)).all()
    served = select(FirstSecretary.village_id).join(
        Village, Village.id == FirstSecretary.village_id).where(scope)
    draws = {vid: (eligible, size) for vid, eligible, size in db.session.execute(
        select(VillageDraw.village_id, VillageDraw.eligible_count, Draw.sample_size)
        .join(Draw, VillageDraw.draw_id == Draw.id)
        .where(Draw.cycle_id == cycle.id, Draw.status == "active",
               VillageDraw.status == "active", VillageDraw.village_id.in_(served)))}
    meetings = {sid: (MeetingInput(mid, status, held), (iid, ver))
                for mid, sid, status, held, iid, ver in db.session.execute(
                    select(Meeting.id, Meeting.secretary_id, Meeting.status, Meeting.held_on,
                           Meeting.instrument_id, Meeting.instrument_version)
                    .join(FirstSecretary, FirstSecretary.id == Meeting.secretary_id)
                    .join(Village, Village.id == FirstSecretary.village_id)
                    .where(Meeting.cycle_id == cycle.id, scope).order_by(Meeting.id))}
    h_keys = _household_keys(cycle, county_ids, served)
    by_county: dict[int, list] = defaultdict(list)
    for row in secretaries:
        by_county[row.county_id].append(row)
    out = []
    for cid in county_ids:
        settings = county_settings(cycle, cid)
        rows = by_county.get(cid, [])
        m_keys = [meetings[r.id][1] for r in rows if r.id in meetings]
        h_values, h_items = answer_values(cycle, settings.explicit_household_values, h_keys[cid])
        m_values, m_items = answer_values(cycle, settings.explicit_meeting_values, m_keys)
        villages = {r.village_id: VillageInput(
            r.village_id, has_draw=r.village_id in draws,
            eligible=draws.get(r.village_id, (0, 20))[0],
            sample_size=draws.get(r.village_id, (0, 20))[1]) for r in rows}
        ci = CountyInput(
            year=cycle.year, county_id=cid, scoring=settings.scoring,
            household_values=h_values, household_items=(), meeting_values=m_values,
            meeting_items=(), census_requires_all=settings.census_requires_all,
            census_below=settings.census_below, villages=villages,
            secretaries=tuple(SecretaryInput(
                secretary_id=r.id, person="", village_id=r.village_id, term_start=r.term_start,
                term_end=r.term_end, meeting=meetings[r.id][0] if r.id in meetings else None)
                for r in rows))
        out.append(_MassInput(ci, Valuation(h_values, {k: tuple(v) for k, v in h_items.items()}),
                              Valuation(m_values, {k: tuple(v) for k, v in m_items.items()})))
    return out


def cycle_mass(cycle: Cycle, county_ids: list[int]) -> dict[int, tuple[Any, list[str]]]:
    """secretary id -> (MassEvaluation, reasons) for every secretary of the counties, with
    one set of aggregate statements per distinct answer valuation (usually one for the
    whole cycle); the score shown is `result.score` when there are no reasons (as on the
    scores page). Raises LookupError when a counted answer has no value (the county's
    scores page says which, with a 422)."""
    groups: dict[tuple, list[_MassInput]] = defaultdict(list)
    for m in _mass_inputs(cycle, county_ids):
        groups[(m.household.key(), m.meeting.key())].append(m)
    out: dict[int, tuple[Any, list[str]]] = {}
    for group in groups.values():
        agg = Aggregates.load(cycle, [m.input.county_id for m in group], group[0].household,
                              group[0].meeting)
        for m in group:
            if agg.bad(m.input):
                raise LookupError(m.input.county_id)
            for s in m.input.secretaries:
                result, _h, _m, _v, _a, _c, reasons, _st = agg.mass(m.input, s)
                out[s.secretary_id] = (result, reasons)
    return out
