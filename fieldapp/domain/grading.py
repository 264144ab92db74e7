"""Total score, grade and the 20% cap on 优秀 (see docs/algorithms.md).

Points are Decimals. Totals are exact sums rounded half up to 2 decimals and graded on that
rounded value, so the grade always matches the total people see (89.995 shows as 90.00 and
is 优秀). Ties at the 20% line are never broken by id: they are left to people (待定).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, Sequence

from . import N_
from .points import exact

FieldError = tuple[str, str]
Grade = Literal["excellent", "competent", "basically_competent", "incompetent"]

GRADE_LABELS: dict[str, str] = {
    "excellent": N_("Excellent"),  # 优秀
    "competent": N_("Competent"),  # 称职
    "basically_competent": N_("Basically competent"),  # 基本称职
    "incompetent": N_("Incompetent"),  # 不称职
}
COMPONENT_MAX: dict[str, int] = {
    "work_performance": 60,  # 工作实绩
    "mass_evaluation": 20,  # 群众评议
    "work_discipline": 10,  # 工作纪律
    "work_evaluation": 10,  # 工作评价
}
DEFAULT_CAP_RATIO = 0.20
GRADE_ORDER = ("incompetent", "basically_competent", "competent", "excellent")  # worst first


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool) and math.isfinite(x)


def _dec(x: float | int | Decimal) -> Decimal:
    # repr() of a float is its shortest decimal form: 0.1 + 0.2 -> "0.30000000000000004".
    return exact(x)


def round2(x: float | int | Decimal) -> Decimal:
    return _dec(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Thresholds:
    """Lowest total of each grade; below `basically_competent` is 不称职."""

    excellent: float = 90
    competent: float = 70
    basically_competent: float = 60

    def __post_init__(self) -> None:
        vals = (self.excellent, self.competent, self.basically_competent)
        if not all(_is_number(v) for v in vals) or not vals[0] > vals[1] > vals[2] >= 0:
            raise ValueError("thresholds must be numbers with excellent > competent > basically_competent >= 0")


DEFAULT_THRESHOLDS = Thresholds()


def grade_for(total: float | Decimal, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Grade:
    t = round2(total)
    if t >= _dec(thresholds.excellent):
        return "excellent"
    if t >= _dec(thresholds.competent):
        return "competent"
    if t >= _dec(thresholds.basically_competent):
        return "basically_competent"
    return "incompetent"


@dataclass(frozen=True)
class Components:
    work_performance: Decimal  # 0-60
    mass_evaluation: Decimal | None  # 0-20; None while the mass evaluation is incomplete
    work_discipline: Decimal  # 0-10
    work_evaluation: Decimal  # 0-10


def validate_components(c: Components, maxima: dict[str, int] = COMPONENT_MAX) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, top in maxima.items():
        v = getattr(c, name)
        if v is None and name == "mass_evaluation":
            continue
        if not _is_number(v) or not 0 <= v <= top:
            errors.append((name, N_("The score must be between 0 and the component's maximum.")))
    return errors


def total(c: Components) -> Decimal | None:
    """Sum of the components, exact, 2 decimals; None while the mass evaluation is incomplete."""
    if c.mass_evaluation is None:
        return None
    parts = (c.work_performance, c.mass_evaluation, c.work_discipline, c.work_evaluation)
    return round2(sum((_dec(p) for p in parts), Decimal(0)))


@dataclass(frozen=True)
class GradedEntry:
    secretary_id: int | str
    components: Components
    total: Decimal | None
    grade: Grade | None  # None when status is 'incomplete', or while a tie is undecided
    status: Literal["graded", "incomplete"]
    capped: bool = False  # qualified for 优秀 but fell outside the cap: graded 称职
    tie_pending: bool = False  # tied for the last 优秀 place(s): 待定 until staff decide


def grade_entry(
    secretary_id: int | str, components: Components, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> GradedEntry:
    """Grade one secretary before the cap. Raises ValueError on out-of-range components."""
    errors = validate_components(components)
    if errors:
        raise ValueError(f"{errors[0][0]}: {errors[0][1]}")
    t = total(components)
    if t is None:
        return GradedEntry(secretary_id, components, None, None, "incomplete")
    return GradedEntry(secretary_id, components, t, grade_for(t, thresholds), "graded")


def excellent_cap(n_secretaries: int, cap_ratio: float | Decimal = DEFAULT_CAP_RATIO) -> int:
    """floor(cap_ratio x n), computed exactly (0.29 x 100 is 29, not 28.999...)."""
    if not _is_number(cap_ratio) or not 0 <= cap_ratio <= 1:
        raise ValueError("cap_ratio must be between 0 and 1")
    return math.floor(Fraction(str(cap_ratio)) * n_secretaries)


# The published order among secretaries with the same total (configurable per cycle):
# the higher mass evaluation first, then the higher work performance. Secretaries equal on
# all of these are TIED; a tie is never broken by id or by any other arbitrary order.
DEFAULT_TIE_BREAKERS: tuple[str, ...] = ("mass_evaluation", "work_performance")
TIE_BREAKERS = ("mass_evaluation", "work_performance", "work_discipline", "work_evaluation")


def cap_rank_key(e: GradedEntry, tie_breakers: Sequence[str] = DEFAULT_TIE_BREAKERS) -> tuple:
    """Who keeps 优秀 first: total desc, then each tie breaker desc. Equal keys are a tie."""
    assert e.total is not None
    return (-e.total, *(-_dec(getattr(e.components, name)) for name in tie_breakers))


@dataclass(frozen=True)
class TieDecision:
    """Staff's choice (集体研究, with a recorded reason) among secretaries tied for the
    last 优秀 place(s). It applies only while the tie is exactly the same group."""

    tied: frozenset
    chosen: frozenset


@dataclass(frozen=True)
class CapOutcome:
    entries: list[GradedEntry]  # input order
    places: int
    tied: frozenset  # secretary ids tied at the line (empty when there is no tie)
    places_in_tie: int  # how many of them can be 优秀
    decided: bool  # a decision for exactly this tie applies


def apply_excellent_cap_with_ties(
    entries: Sequence[GradedEntry], cap_ratio: float | Decimal = DEFAULT_CAP_RATIO, *,
    base: int | None = None, tie_breakers: Sequence[str] = DEFAULT_TIE_BREAKERS,
    decision: TieDecision | None = None,
) -> CapOutcome:
    """Keep at most floor(cap_ratio x base) 优秀 in one county and cycle.

    `base` is the number of assessed people (default: len(entries)). Qualifiers are ranked
    by `cap_rank_key`; those outside the places become 称职 with capped=True. When several
    are tied across the last place, all of them are 待定 (grade None, tie_pending) unless
    `decision` names exactly this tied group and chooses as many as there are places left:
    then the chosen are 优秀 and the others capped. The cap is never exceeded.
    """
    if len({e.secretary_id for e in entries}) != len(entries):
        raise ValueError("duplicate secretary ids")
    places = excellent_cap(len(entries) if base is None else base, cap_ratio)
    qualified = sorted((e for e in entries if e.grade == "excellent"),
                       key=lambda e: cap_rank_key(e, tie_breakers))
    keep: set = set()
    tied: frozenset = frozenset()
    in_tie = 0
    decided = False
    if len(qualified) <= places:
        keep = {e.secretary_id for e in qualified}
    elif places > 0:
        line = cap_rank_key(qualified[places - 1], tie_breakers)
        above = [e for e in qualified if cap_rank_key(e, tie_breakers) < line]
        at_line = [e for e in qualified if cap_rank_key(e, tie_breakers) == line]
        keep = {e.secretary_id for e in above}
        in_tie = places - len(above)
        if len(above) + len(at_line) <= places:  # cannot happen: qualified[places] exists
            keep |= {e.secretary_id for e in at_line}
        else:
            tied = frozenset(e.secretary_id for e in at_line)
            if (decision is not None and decision.tied == tied and len(decision.chosen) == in_tie
                    and decision.chosen <= tied):
                keep |= set(decision.chosen)
                decided = True
    out = []
    for e in entries:
        if e.grade != "excellent" or e.secretary_id in keep:
            out.append(e)
        elif e.secretary_id in tied and not decided:
            out.append(replace(e, grade=None, tie_pending=True))
        else:
            out.append(replace(e, grade="competent", capped=True))
    return CapOutcome(out, places, tied, in_tie, decided)


def apply_excellent_cap(entries: Sequence[GradedEntry], cap_ratio: float | Decimal = DEFAULT_CAP_RATIO,
                        **kwargs) -> list[GradedEntry]:
    """`apply_excellent_cap_with_ties(...).entries`: entries in the input order."""
    return apply_excellent_cap_with_ties(entries, cap_ratio, **kwargs).entries


def recall_list(entries: Sequence[GradedEntry]) -> list[GradedEntry]:
    """The 不称职 secretaries (candidates for recall), lowest total first, then by name order
    given (the input order): the list is for reading, not a ranking."""
    bad = [(i, e) for i, e in enumerate(entries) if e.grade == "incompetent"]
    return [e for _i, e in sorted(bad, key=lambda p: (p[1].total, p[0]))]
