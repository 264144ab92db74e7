"""Assessment cycles: create one for a county or the whole city, and change its settings.

Policy `manage_cycles`: admins (and the command line, policy.SYSTEM) anywhere, county staff
only their own county's cycle; a city-wide cycle belongs to the admins.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..domain.instruments import check_answer_values
from ..errors import AppError, translate
from ..extensions import db
from ..models import DEFAULT_CYCLE_SETTINGS, County, Cycle, Draw, ScoreLock, User
from ..services.instruments import registry
from .freeze import ensure_not_finalised
from .scoring.inputs import covered_county_ids
from .scoring.settings import county_settings

# Settings that shape a draw: frozen once the cycle has an active draw (each draw also
# stores the values it used, so the published record never depends on them).
DRAW_SETTINGS = ("sample_size", "reserve_count", "include_exited")


def _check_settings(settings: dict[str, Any]) -> None:
    if "answer_values" in settings:

        errors = check_answer_values(settings["answer_values"], registry())
        if errors:
            raise AppError("validation_failed", errors={
                f"settings.{k}": [translate(m) for m in v] for k, v in errors.items()})


def create_cycle(actor: User, *, year: int, county: County | None,
                 settings: dict[str, Any] | None = None) -> Cycle:
    """A cycle for `county`, or for the whole city when `county` is None (admins only)."""
    policy.authorize(actor, "manage_cycles", county or policy.CITY)
    settings = dict(settings or {})
    _check_settings(settings)
    # One cycle per year and scope; a county cycle and a city cycle of the same year would
    # both cover the county, and its evaluators would not know which sample counts.
    clash = select(Cycle.id).where(Cycle.year == year)
    if county is not None:
        clash = clash.where((Cycle.county_id == county.id) | Cycle.county_id.is_(None))
    if db.session.scalar(clash.limit(1)) is not None:
        raise AppError("conflict", errors={"year": [
            _("A cycle for this year already covers this county or the city.")]})
    cycle = Cycle(year=year, county_id=county.id if county is not None else None,
                  status="open", settings=settings)
    db.session.add(cycle)
    db.session.flush()
    record_audit(actor, "cycle.create", cycle, county_id=cycle.county_id, year=year,
                 settings=settings)
    db.session.commit()
    return cycle


def update_settings(actor: User, cycle: Cycle, changes: dict[str, Any]) -> Cycle:
    policy.authorize(actor, "manage_cycles", cycle)
    if cycle.status != "open":
        raise AppError("locked", _("This cycle is finalised."))
    _check_settings(changes)
    frozen = [k for k in DRAW_SETTINGS if k in changes and changes[k] != cycle.setting(k)]
    if frozen and db.session.scalar(select(Draw.id).where(
            Draw.cycle_id == cycle.id, Draw.status == "active").limit(1)) is not None:
        raise AppError("locked", _("This cycle already has a draw: its sampling settings are locked."),
                       errors={k: [_("Locked by the draw.")] for k in frozen})
    before = dict(cycle.settings or {})
    _ensure_finalised_counties_unchanged(cycle, before, {**before, **changes})
    cycle.settings = {**before, **changes}  # a new dict: JSON columns track assignment only
    for county_id in covered_county_ids(cycle):  # a broken scoring setting: 422 naming it
        county_settings(cycle, county_id)
    record_audit(actor, "cycle.settings", cycle, county_id=cycle.county_id, before=before,
                 after=cycle.settings)
    db.session.commit()
    return cycle


# Settings the scores are computed with (docs/meetings-and-scores.md); `counties` holds
# per-county overrides keyed by county code.
SCORING_SETTINGS = ("scoring", "grading", "assessment", "review", "census_requires_all",
                    "census_below", "answer_values", "discipline")


def _scoring_view(settings: dict[str, Any], county_code: str) -> dict[str, Any]:
    return {"base": {k: settings.get(k) for k in SCORING_SETTINGS},
            "county": (settings.get("counties") or {}).get(county_code)}


def _ensure_finalised_counties_unchanged(cycle: Cycle, before: dict, after: dict) -> None:
    """A finalised county's scores must not move under it: refuse (409) a change of the
    settings they are computed with; other counties' overrides may still change."""
    for county in db.session.scalars(select(County).join(ScoreLock, ScoreLock.county_id == County.id)
                                     .where(ScoreLock.cycle_id == cycle.id)):
        if _scoring_view(before, county.code) != _scoring_view(after, county.code):
            ensure_not_finalised(cycle, county.id, what="settings")


def effective_settings(cycle: Cycle) -> dict[str, Any]:
    return {**DEFAULT_CYCLE_SETTINGS, **(cycle.settings or {})}
