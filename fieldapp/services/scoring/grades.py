"""Grades of one county in a cycle, as rows for the pages, the API and the downloads.

Grading (domain/county_scores.py, docs/meetings-and-scores.md §3):
1. who is assessed (the cycle's assessment rule; one person in two villages is one person);
2. the mass evaluation from the visits and the meeting of the secretary's own term;
3. the components staff entered (工作纪律 falls back to the residency module's decision);
4. total and grade (90/70/60), then the spot-check cap (暗访), then the 20% cap on 优秀 over
   the assessed people, where a tie at the last place is 待定 until staff decide;
5. the recall list: 不称职 after every cap, lowest total first.

`summary` is the ONE place the counts shown above the table (places, qualified, 优秀,
待定) come from, for the provisional and the stored results alike, on the page and in the
exports.
"""
from __future__ import annotations

from typing import Any, Iterable

from ...domain import grading as dgrade
from ...domain.county_scores import CountyOutcome, evaluate_county
from ...errors import AppError, translate
from ...models import Cycle
from . import aggregates
from .inputs import LoadedCounty, load_county
from .mass import mass_fields

RESULT_FIELDS = ("mass_status", "mass_evaluation", "mass_reasons", "household_index",
                 "meeting_index", "household_satisfied_share", "meeting_satisfied_share",
                 "n_visits", "required_visits", "n_ballots", "work_performance",
                 "work_discipline", "work_evaluation", "total", "status", "reasons", "grade",
                 "grade_before_caps", "capped", "residency_cap", "spot_check_absences")


def evaluate(loaded: LoadedCounty) -> CountyOutcome:
    try:
        return evaluate_county(loaded.input)
    except ValueError as err:  # the instrument and the configured values disagree
        raise AppError("validation_failed", errors={"answer_values": [translate(str(err))]}) from err


def identity(s) -> dict[str, Any]:
    """The columns that say who a row is about (the secretary id is stable: exports
    carry it so counties can match people across files and years)."""
    return {"secretary_id": s.id, "secretary_name": s.name, "village_id": s.village_id,
            "village_code": s.village.code, "village_name": s.village.name,
            "town": s.village.town.name, "county_id": s.village.county_id}


def summary(rows: Iterable[dict[str, Any]], base: int, ratio) -> dict[str, Any]:
    """Counts shown with the table and in the downloads, from the rows themselves:
    - places: floor(ratio x the assessed people);
    - qualified: reached the 优秀 score and not held back by spot checks (达到优秀分数);
    - excellent: graded 优秀 after the cap; pending: 待定 (a tie or a person to decide)."""
    rows = list(rows)
    return {"ratio": float(ratio), "base": base, "places": dgrade.excellent_cap(base, ratio),
            "qualified": sum(1 for r in rows if r["grade_before_caps"] == "excellent"
                             and not r.get("residency_cap")),
            "excellent": sum(1 for r in rows if r["grade"] == "excellent"),
            "pending": sum(1 for r in rows if r["status"] == "pending"),
            "graded": sum(1 for r in rows if r["status"] == "graded"),
            "incomplete": sum(1 for r in rows if r["status"] == "incomplete")}


def recall(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 不称职 rows, lowest total first (then in the table's order)."""
    bad = [(i, r) for i, r in enumerate(rows) if r["grade"] == "incompetent"]
    return [r for _i, r in sorted(bad, key=lambda p: (p[1]["total"], p[0]))]


def _set_based(cycle: Cycle, county_id: int) -> tuple[LoadedCounty, CountyOutcome | None]:
    """The county graded from SQL aggregates (aggregates.py); the outcome is None when the
    reference must decide (an answer whose option has no value: it raises a 422)."""
    light = load_county(cycle, county_id, light=True)
    try:
        return light, aggregates.evaluate(light)
    except ValueError as err:
        raise AppError("validation_failed", errors={"answer_values": [translate(str(err))]}) from err


def grade_county(cycle: Cycle, county_id: int, loaded: LoadedCounty | None = None) -> dict[str, Any]:
    """Live results of the county in the cycle (no access check).

    `rows`: the assessed secretaries (and those 待定 as one person in two villages);
    `not_assessed`: the others whose term touches the year, with the reason.

    Without `loaded`, the mass evaluation comes from SQL aggregates (aggregates.py) and
    `_loaded`/`_outcome` are None (they hold no visits: callers that pool answers load
    the county). With `loaded` (finalising, `scores recompute`), the reference computes
    everything from the loaded rows; both give the same rows."""
    if loaded is None:
        light, outcome = _set_based(cycle, county_id)
        if outcome is not None:
            return _result(cycle, county_id, light, outcome, keep=False)
        loaded = load_county(cycle, county_id)
    return _result(cycle, county_id, loaded, evaluate(loaded), keep=True)


def _result(cycle: Cycle, county_id: int, loaded: LoadedCounty, outcome: CountyOutcome,
            keep: bool) -> dict[str, Any]:
    rows, not_assessed = [], []
    for o in outcome.secretaries:
        s = loaded.secretaries[o.secretary_id]
        row = {**identity(s), "term_start": s.term_start, "term_end": s.term_end,
               **mass_fields(o),
               "work_performance": o.work_performance, "work_discipline": o.work_discipline,
               "work_evaluation": o.work_evaluation, "discipline_source": o.discipline_source,
               "total": o.total, "status": o.status, "reasons": list(o.reasons),
               "grade": o.grade, "grade_before_caps": o.grade_before_caps, "capped": o.capped,
               "residency_cap": o.residency_cap, "spot_check_absences": o.spot_check_absences,
               "pending": o.pending}
        (rows if o.status != "not_assessed" else not_assessed).append(row)
    ratio = loaded.settings.grading.cap_ratio
    tie_rows = [r for r in rows if r["pending"] == "tie"]
    return {"cycle_id": cycle.id, "county_id": county_id, "finalised": False,
            "rows": rows, "recall": recall(rows), "not_assessed": not_assessed,
            "cap": summary(rows, outcome.base, ratio),
            "tie": {"secretary_ids": sorted(outcome.tied), "places": outcome.places_in_tie,
                    "decided": outcome.tie_decided, "rows": tie_rows} if outcome.tied else None,
            "duplicates": [{"person": p, "secretary_ids": ids,
                            "chosen": loaded.input.person_choices.get(p)}
                           for p, ids in sorted(outcome.duplicate_persons.items())],
            "config": loaded.settings.snapshot(), "_outcome": outcome if keep else None,
            "_loaded": loaded if keep else None}
