"""Total score, grade and the 20% cap on 优秀 (see docs/algorithms.md).

Totals are rounded half up to 2 decimals with Decimal and graded on that rounded value,
so the grade always matches the total people see (89.995 shows as 90.00 and is 优秀).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, Sequence

from . import N_

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


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool) and math.isfinite(x)


def _dec(x: float | int | Decimal) -> Decimal:
    # str() of a float is its shortest decimal form: 0.1 + 0.2 -> "0.30000000000000004".
    return x if isinstance(x, Decimal) else Decimal(str(x))


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
    work_performance: float  # 0-60
    mass_evaluation: float | None  # 0-20; None while the mass evaluation is incomplete
    work_discipline: float  # 0-10
    work_evaluation: float  # 0-10


def validate_components(c: Components, maxima: dict[str, int] = COMPONENT_MAX) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, top in maxima.items():
        v = getattr(c, name)
        if v is None and name == "mass_evaluation":
            continue
        if not _is_number(v) or not 0 <= v <= top:
            errors.append((name, N_("The score must be between 0 and the component's maximum.")))
    return errors


def total(c: Components) -> float | None:
    """Sum of the components, 2 decimals; None while the mass evaluation is incomplete."""
    if c.mass_evaluation is None:
        return None
    parts = (c.work_performance, c.mass_evaluation, c.work_discipline, c.work_evaluation)
    return float(round2(sum((_dec(p) for p in parts), Decimal(0))))


@dataclass(frozen=True)
class GradedEntry:
    secretary_id: int | str
    components: Components
    total: float | None
    grade: Grade | None  # None when status is 'incomplete'
    status: Literal["graded", "incomplete"]
    capped: bool = False  # qualified for 优秀 but fell outside the cap: graded 称职


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


def excellent_cap(n_secretaries: int, cap_ratio: float = DEFAULT_CAP_RATIO) -> int:
    """floor(cap_ratio x n), computed exactly (0.29 x 100 is 29, not 28.999...)."""
    if not _is_number(cap_ratio) or not 0 <= cap_ratio <= 1:
        raise ValueError("cap_ratio must be between 0 and 1")
    return math.floor(Fraction(str(cap_ratio)) * n_secretaries)


def cap_rank_key(e: GradedEntry) -> tuple[float, float, float, int | str]:
    """Who keeps 优秀 first: total desc, mass evaluation desc, work performance desc, then
    secretary id ascending. The last rule is arbitrary but deterministic and published."""
    assert e.total is not None and e.components.mass_evaluation is not None
    return (-e.total, -e.components.mass_evaluation, -e.components.work_performance, e.secretary_id)


def apply_excellent_cap(entries: Sequence[GradedEntry], cap_ratio: float = DEFAULT_CAP_RATIO) -> list[GradedEntry]:
    """Keep at most floor(cap_ratio x len(entries)) 优秀 in one county and cycle.

    `entries` are all the county's secretaries in the cycle (incomplete ones count in the
    base but cannot be 优秀). The rest of the qualifiers become 称职 with capped=True.
    Returns entries in the input order.
    """
    if len({e.secretary_id for e in entries}) != len(entries):
        raise ValueError("duplicate secretary ids")
    cap = excellent_cap(len(entries), cap_ratio)
    qualified = sorted((e for e in entries if e.grade == "excellent"), key=cap_rank_key)
    demoted = {id(e) for e in qualified[cap:]}
    return [replace(e, grade="competent", capped=True) if id(e) in demoted else e for e in entries]


def recall_list(entries: Sequence[GradedEntry]) -> list[GradedEntry]:
    """The 不称职 secretaries (candidates for recall), lowest total first."""
    return sorted((e for e in entries if e.grade == "incompetent"), key=lambda e: (e.total, e.secretary_id))
