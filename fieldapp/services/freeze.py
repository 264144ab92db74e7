"""Finalised means frozen: the one check every change under a county's scores goes through.

Once a county is finalised in a cycle (a `ScoreLock`), nothing its scores are computed
from may change until an admin reopens it with a reason (`scoring.results.unlock`):
draw voids (county and village), replacements and visits, visit reviews, spot checks,
leave decisions, discipline decisions, meetings, ballots and paper tallies, scorecard
entries, staff decisions on ties and persons, cycle settings, and roster changes to the
county's secretaries' terms or villages. Every such write calls `ensure_not_finalised`
(or one of the helpers below, which call it) before it changes anything, and is refused
with 409 `county_finalised`, through the API, the staff pages and the command line alike.

This module depends on the models only, so every service can import it without cycles.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..errors import AppError
from ..extensions import db
from ..models import County, Cycle, ScoreLock


def lock_of(cycle_id: int, county_id: int) -> ScoreLock | None:
    return db.session.scalar(select(ScoreLock).where(ScoreLock.cycle_id == cycle_id,
                                                     ScoreLock.county_id == county_id))


def is_finalised(cycle: Cycle, county_id: int) -> bool:
    return cycle.status == "finalised" or lock_of(cycle.id, county_id) is not None


def cycles_for(county_id: int, years: Iterable[int]) -> list[Cycle]:
    """The cycles that govern a county in these years: its own, or the city-wide ones."""
    years = sorted(set(years))
    if not years:
        return []
    return list(db.session.scalars(select(Cycle).where(
        Cycle.year.in_(years), or_(Cycle.county_id == county_id, Cycle.county_id.is_(None)))))


def ensure_not_finalised(cycle: Cycle | None, county_id: int, *, what: str | None = None) -> None:
    """THE check: refuse (409 `county_finalised`) when `county_id` is finalised in `cycle`."""
    if cycle is None or not is_finalised(cycle, county_id):
        return
    county = db.session.get(County, county_id)
    name = county.name if county is not None else str(county_id)
    message = _("The scores of %(county)s are finalised for %(year)s: nothing under them can "
                "change until an admin reopens the county, with a reason.",
                county=name, year=cycle.year)
    raise AppError("county_finalised", message,
                   extra={"county_id": county_id, "cycle_id": cycle.id,
                          **({"what": what} if what else {})})


def ensure_days_not_finalised(county_id: int, days: Iterable[date], *, what: str | None = None) -> None:
    """Dated facts (a spot check, a leave period, a term): the cycles of their years."""
    for cycle in cycles_for(county_id, {d.year for d in days if d is not None}):
        ensure_not_finalised(cycle, county_id, what=what)


def ensure_term_not_finalised(county_id: int, start: date | None, end: date | None,
                              *, what: str | None = None) -> None:
    """A term (or a change of it) from `start` to `end` (None: open-ended): every cycle
    year it touches must be open in the county."""
    if start is None:
        return
    last = end.year if end is not None else max(
        [start.year, *db.session.scalars(select(Cycle.year).where(Cycle.year >= start.year))])
    ensure_days_not_finalised(county_id, [date(y, 1, 1) for y in range(start.year, last + 1)],
                              what=what)
