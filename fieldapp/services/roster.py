"""Roster import (villages, households, first secretaries) and village settings.

An import is all or nothing: any error in any file stores nothing. A valid import is an
idempotent upsert by natural keys (village code; village + 户编号; secretary phone +
village), so re-importing the same file changes nothing. Rows absent from a file are left
alone: removing a household from the registry is not an import's business (it would
silently change past draws).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import or_, select

from ..audit import record_audit
from ..domain import N_
from ..domain import roster_file as rf
from ..errors import AppError
from ..extensions import db
from ..models import County, FirstSecretary, Household, Town, User, Village
from ..scoping import require_county
from .freeze import ensure_term_not_finalised

UNKNOWN_COUNTY = N_("Unknown county or district: %(name)s")
NOT_YOUR_COUNTY = N_("%(name)s is not your county: you can only import your own county's roster.")
VILLAGE_IN_OTHER_COUNTY = N_(
    "Village code %(code)s already belongs to %(county)s; a village cannot move between counties.")
UNKNOWN_VILLAGE = N_("Village code %(code)s is neither in this import nor in the database.")
NO_ROWS = N_("The files contain no households and no first secretaries.")

HOUSEHOLD_FIELDS = ("head_name", "id_number", "family_size", "attribute", "exit_status",
                    "exit_year", "phone", "lat", "lon")
SECRETARY_FIELDS = ("name", "dispatch_level", "dispatch_unit", "term_start", "term_end")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ImportReport:
    dry_run: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=lambda: {
        "towns": Counts(), "villages": Counts(), "households": Counts(),
        "secretaries": Counts()})

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "files": self.files, "errors": self.errors,
                "counts": {k: vars(v) for k, v in self.counts.items()}}


def _error(file: str, sheet: str | None, row: int | None, column: str | None, msgid: str,
           **params: Any) -> dict[str, Any]:
    return {"file": file, "sheet": sheet, "row": row, "column": column,
            "message": gettext(msgid, **params)}


def _row_error(err: rf.RowError) -> dict[str, Any]:
    return {"file": err.file, "sheet": err.sheet, "row": err.row, "column": err.column,
            "message": err.format(gettext)}


def import_roster(actor: User | None, files: list[tuple[str, bytes]], *,
                  dry_run: bool = False) -> ImportReport:
    """Validate and upsert. Raises AppError('import_rejected') listing every problem.

    `actor` None is the trusted command line; county staff may import only their county.
    """
    if actor is not None and actor.role not in ("admin", "county_staff"):
        raise AppError("forbidden")
    report = ImportReport(dry_run=dry_run)
    parsed = rf.parse_roster(files)
    report.files = [{"file": t.file, "sheet": t.sheet, "kind": t.kind, "rows": t.rows}
                    for t in parsed.tables_seen]
    report.errors = [_row_error(e) for e in parsed.errors]
    if not parsed.errors and not parsed.households and not parsed.secretaries:
        report.errors.append(_error(files[0][0] if files else "", None, None, None, NO_ROWS))
    counties = _resolve_counties(actor, parsed, report)
    existing_villages = _existing_villages(parsed)
    _check_villages(parsed, counties, existing_villages, report)
    if report.errors:
        raise AppError("import_rejected", errors={"file": [gettext(
            "The file has errors; nothing was imported.")]}, extra={"rows": report.errors,
                                                                   "report": report.as_dict()})
    try:
        villages = _upsert_villages(parsed, counties, existing_villages, report)
        _upsert_households(parsed, villages, report)
        _upsert_secretaries(parsed, villages, report)
        if dry_run:
            db.session.rollback()
        else:
            touched = {v.county_id for v in villages.values()}
            record_audit(actor, "roster.import", None,
                         county_id=next(iter(touched)) if len(touched) == 1 else None,
                         files=[name for name, _ in files],
                         counts={k: vars(v) for k, v in report.counts.items()})
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _resolve_counties(actor: User | None, parsed: rf.RosterParseResult,
                      report: ImportReport) -> dict[str, County]:
    names = {v.county for v in parsed.villages.values()}
    found = {}
    if names:
        rows = db.session.scalars(select(County).where(
            or_(County.name.in_(names), County.code.in_(names)))).all()
        found = {c.name: c for c in rows} | {c.code: c for c in rows}
    for village in parsed.villages.values():
        county = found.get(village.county)
        if county is None:
            report.errors.append(_error(village.file, village.sheet, village.row, "县区",
                                        UNKNOWN_COUNTY, name=village.county))
        elif actor is not None:
            try:
                require_county(actor, county.id)
            except AppError:
                report.errors.append(_error(village.file, village.sheet, village.row, "县区",
                                            NOT_YOUR_COUNTY, name=village.county))
    return found


def _existing_villages(parsed: rf.RosterParseResult) -> dict[str, Village]:
    codes = set(parsed.villages) | {s.village_code for s in parsed.secretaries}
    if not codes:
        return {}
    return {v.code: v for v in db.session.scalars(select(Village).where(Village.code.in_(codes)))}


def _check_villages(parsed: rf.RosterParseResult, counties: dict[str, County],
                    existing: dict[str, Village], report: ImportReport) -> None:
    for code, row in parsed.villages.items():
        county = counties.get(row.county)
        village = existing.get(code)
        if county is not None and village is not None and village.county_id != county.id:
            report.errors.append(_error(row.file, row.sheet, row.row, "村代码",
                                        VILLAGE_IN_OTHER_COUNTY, code=code,
                                        county=village.county.name))
    for sec in parsed.secretaries:
        if sec.village_code not in parsed.villages and sec.village_code not in existing:
            report.errors.append(_error(sec.file, sec.sheet, sec.row, "村代码", UNKNOWN_VILLAGE,
                                        code=sec.village_code))


def _upsert_villages(parsed: rf.RosterParseResult, counties: dict[str, County],
                     existing: dict[str, Village], report: ImportReport) -> dict[str, Village]:
    villages = dict(existing)
    towns: dict[tuple[int, str], Town] = {}
    county_ids = {counties[row.county].id for row in parsed.villages.values()}
    if county_ids:
        for town in db.session.scalars(select(Town).where(Town.county_id.in_(county_ids))):
            towns[(town.county_id, town.name)] = town
    for code, row in parsed.villages.items():
        county = counties[row.county]
        town = towns.get((county.id, row.township))
        if town is None:
            town = Town(county_id=county.id, name=row.township)
            db.session.add(town)
            db.session.flush()
            towns[(county.id, row.township)] = town
            report.counts["towns"].add("created")
        wanted = {"name": row.name, "town_id": town.id, "county_id": county.id}
        if row.is_poor_village is not None:
            wanted["is_poor_village"] = row.is_poor_village
        if row.is_weak_village is not None:
            wanted["is_weak_branch"] = row.is_weak_village
        village = villages.get(code)
        if village is None:
            village = Village(code=code, **wanted)
            db.session.add(village)
            villages[code] = village
            report.counts["villages"].add("created")
        else:
            report.counts["villages"].add(_apply(village, wanted))
    db.session.flush()
    return villages


def _apply(obj: Any, wanted: dict[str, Any]) -> str:
    changed = False
    for key, value in wanted.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return "updated" if changed else "unchanged"


def _upsert_households(parsed: rf.RosterParseResult, villages: dict[str, Village],
                       report: ImportReport) -> None:
    village_ids = {villages[h.village_code].id for h in parsed.households}
    existing: dict[tuple[int, str], Household] = {}
    if village_ids:
        for household in db.session.scalars(select(Household).where(
                Household.village_id.in_(village_ids))):
            existing[(household.village_id, household.household_no)] = household
    for row in parsed.households:
        village = villages[row.village_code]
        wanted = {"head_name": row.head_name, "id_number": row.id_number,
                  "family_size": row.family_size, "attribute": row.attribute,
                  "exit_status": row.exit_status, "exit_year": row.exit_year,
                  "phone": row.phone, "lat": row.lat, "lon": row.lon}
        household = existing.get((village.id, row.household_code))
        if household is None:
            db.session.add(Household(village_id=village.id, household_no=row.household_code,
                                     **wanted))
            report.counts["households"].add("created")
        else:
            report.counts["households"].add(_apply(household, wanted))


def _upsert_secretaries(parsed: rf.RosterParseResult, villages: dict[str, Village],
                        report: ImportReport) -> None:
    village_ids = {villages[s.village_code].id for s in parsed.secretaries}
    existing = {}
    if village_ids:
        existing = {(s.phone, s.village_id): s for s in db.session.scalars(
            select(FirstSecretary).where(FirstSecretary.village_id.in_(village_ids)))}
    for row in parsed.secretaries:
        village = villages[row.village_code]
        secretary = existing.get((row.phone, village.id))
        wanted = {"name": row.name, "dispatch_level": row.dispatch_level,
                  "dispatch_unit": row.dispatch_unit, "term_start": row.term_start,
                  "term_end": row.term_end}
        # A term that touches a finalised cycle year changes who is assessed: frozen.
        if secretary is None:
            ensure_term_not_finalised(village.county_id, row.term_start, row.term_end,
                                      what="roster")
            db.session.add(FirstSecretary(phone=row.phone, village_id=village.id,
                                          status="active", **wanted))
            report.counts["secretaries"].add("created")
        else:
            if (secretary.term_start, secretary.term_end) != (row.term_start, row.term_end):
                ensure_term_not_finalised(village.county_id, min(secretary.term_start, row.term_start),
                                          _later(secretary.term_end, row.term_end), what="roster")
            report.counts["secretaries"].add(_apply(secretary, wanted))


def _later(a, b):
    return None if a is None or b is None else max(a, b)


def update_village(actor: User, village: Village, data: dict[str, Any]) -> Village:
    require_county(actor, village.county_id)
    before = {k: getattr(village, k) for k in data}
    for key, value in data.items():
        setattr(village, key, value)
    record_audit(actor, "village.update", village, county_id=village.county_id,
                 before=before, after=data)
    db.session.commit()
    return village
