"""Roster import (households, first secretaries, village centres) and village settings.

An import is all or nothing: any error in any file stores nothing, and every bad row is
listed in one go. A valid import is an idempotent upsert by natural keys (village code;
village + 户编号; secretary phone + village), so re-importing the same file changes
nothing. Rows absent from a file are left alone: removing a household from the registry
is not an import's business (it would silently change past draws).

Places come from the codes (services/roster_places.py): a fresh install needs no set-up.
Every row is checked against the uploader's county, whatever its table. Villages without
a 村 sheet row get a centre estimated from their households (services/centres.py), with
the households far from it listed as warnings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from .. import policy
from ..audit import record_audit
from ..domain import N_
from ..domain.workbook import WorkbookRejected, check_upload_rows
from ..domain import roster_file as rf
from ..errors import AppError
from ..extensions import db
from ..models import FirstSecretary, Household, Town, User, Village
from . import bulk, centres
from . import roster_places as rp
from .freeze import ensure_term_not_finalised

NO_ROWS = N_("The files contain no households, no first secretaries and no villages.")
OUTLIER_WARNING = N_(
    "This household is %(km)s km from the rest of %(village)s: check its coordinates. It is "
    "left out of the village's estimated centre.")
NO_CENTRE_WARNING = N_(
    "%(village)s has no centre: its households have no coordinates and the 村 sheet gives "
    "none. Check-ins there are kept and judged once the county sets the village's location.")
ESTIMATED_NOTE = N_(
    "%(village)s: centre estimated from %(n)s households' coordinates (marked 估计); staff "
    "can move it on the village's map page.")

HOUSEHOLD_FIELDS = ("head_name", "id_number", "family_size", "attribute", "exit_status",
                    "exit_year", "phone", "lat", "lon")
SECRETARY_FIELDS = ("name", "dispatch_level", "dispatch_unit", "term_start", "term_end")
COUNT_KINDS = ("counties", "towns", "villages", "centres", "households", "secretaries")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str, n: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + n)


@dataclass
class ImportReport:
    dry_run: bool
    files: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in COUNT_KINDS})

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "files": self.files, "errors": self.errors,
                "warnings": self.warnings,
                "counts": {k: vars(v) for k, v in self.counts.items()}}


def _message(file: str, sheet: str | None, row: int | None, column: str | None, msgid: str,
             **params: Any) -> dict[str, Any]:
    return {"file": file, "sheet": sheet, "row": row, "column": column,
            "message": gettext(msgid, **params)}


def _row_error(err: rf.RowError) -> dict[str, Any]:
    return {"file": err.file, "sheet": err.sheet, "row": err.row, "column": err.column,
            "message": err.format(gettext)}


def _sort_key(item: dict[str, Any]) -> tuple:
    return (item["file"], item["sheet"] or "", item["row"] or 0, item["column"] or "")


def import_roster(actor: User, files: list[tuple[str, bytes]], *,
                  dry_run: bool = False) -> ImportReport:
    """Validate and upsert. Raises AppError('import_rejected') listing every problem.

    Policy `import_roster`: every row, whatever its table, must name a village in the
    actor's reach (county staff: their county; a row outside it is a row error).
    """
    policy.authorize(actor, "import_roster")
    report = ImportReport(dry_run=dry_run)
    try:  # bounded before any parsing: size, zip bombs, rows/columns/cells (domain/workbook.py)
        check_upload_rows(files)
    except WorkbookRejected as exc:
        message = gettext(exc.msgid, **exc.params)
        report.errors.append({"file": files[0][0] if len(files) == 1 else "", "sheet": None,
                              "row": None, "column": None, "message": message})
        raise AppError("import_rejected", errors={"file": [message]},
                       extra={"rows": report.errors, "report": report.as_dict()}) from exc
    parsed = rf.parse_roster(files)
    report.files = [{"file": t.file, "sheet": t.sheet, "kind": t.kind, "rows": t.rows}
                    for t in parsed.tables_seen]
    report.errors = [_row_error(e) for e in parsed.errors]
    if not parsed.errors and not (parsed.households or parsed.secretaries or parsed.centres):
        report.errors.append(_message(files[0][0] if files else "", None, None, None, NO_ROWS))
    existing = _existing_villages(parsed)
    places = rp.resolve(actor, rp.row_refs(parsed), existing,
                        {code: v.name for code, v in parsed.villages.items()})
    report.errors += [_message(e.ref.file, e.ref.sheet, e.ref.row, e.column, e.msgid, **e.params)
                      for e in places.errors]
    if report.errors:
        report.errors.sort(key=_sort_key)
        raise AppError("import_rejected", errors={"file": [gettext(
            "The file has errors; nothing was imported.")]}, extra={"rows": report.errors,
                                                                   "report": report.as_dict()})
    try:
        _store(actor, files, parsed, places, existing, report)
    except Exception:
        db.session.rollback()
        raise
    return report


def _store(actor: User, files: list[tuple[str, bytes]], parsed: rf.RosterParseResult,
           places: rp.Places, existing: dict[str, Village], report: ImportReport) -> None:
    _cities, counties = rp.create_places(places)
    report.counts["counties"].add("created", counties)
    villages = _upsert_villages(parsed, places, existing, report)
    _upsert_households(parsed, villages, report)
    _upsert_secretaries(parsed, villages, report)
    db.session.flush()
    _centres(actor, parsed, villages, report)
    if report.dry_run:
        db.session.rollback()
        return
    touched = {v.county_id for v in villages.values()}
    record_audit(actor, "roster.import", None,
                 county_id=next(iter(touched)) if len(touched) == 1 else None,
                 files=[name for name, _ in files],
                 counts={k: vars(v) for k, v in report.counts.items()})
    db.session.commit()


def _existing_villages(parsed: rf.RosterParseResult) -> dict[str, Village]:
    codes = (set(parsed.villages) | {s.village_code for s in parsed.secretaries}
             | {c.code for c in parsed.centres})
    if not codes:
        return {}
    return {v.code: v for v in db.session.scalars(select(Village).where(Village.code.in_(codes)))}


def _upsert_villages(parsed: rf.RosterParseResult, places: rp.Places,
                     existing: dict[str, Village], report: ImportReport) -> dict[str, Village]:
    villages = dict(existing)
    towns = dict(places.towns)
    for code, row in parsed.villages.items():
        county = places.counties[code[:6]]
        town = towns.get(code[:9])
        if town is None:
            town = Town(county_id=county.id, name=row.township, code=code[:9])
            db.session.add(town)
            db.session.flush()
            towns[code[:9]] = town
            report.counts["towns"].add("created")
        elif town.code is None:
            town.code = code[:9]  # a town made before codes were read gets its code
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
    new = []
    for row in parsed.households:
        village = villages[row.village_code]
        wanted = {name: getattr(row, name) for name in HOUSEHOLD_FIELDS}
        household = existing.get((village.id, row.household_code))
        if household is None:
            new.append({"village_id": village.id, "household_no": row.household_code, **wanted})
            report.counts["households"].add("created")
        else:
            report.counts["households"].add(_apply(household, wanted))
    # One bulk write for the new ones (COPY on PostgreSQL), no ORM object per household;
    # changed ones were loaded above and are flushed as updates.
    bulk.insert_rows(Household.__table__, new)


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
        wanted = {name: getattr(row, name) for name in SECRETARY_FIELDS}
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


def _centres(actor: User, parsed: rf.RosterParseResult, villages: dict[str, Village],
             report: ImportReport) -> None:
    """The 村 sheet's centres; then an estimate for every village the households touched
    that has no centre from the 村 sheet or staff."""
    given = set()
    for row in parsed.centres:
        village = villages[row.code]
        given.add(row.code)
        change = centres.set_centre(actor, village, lat=row.lat, lon=row.lon,
                                    radius_m=row.radius_m, source="roster", commit=False)
        report.counts["centres"].add("unchanged" if change.before == change.after else
                                     "created" if change.before["lat"] is None else "updated")
    first_rows = {h.village_code: h for h in reversed(parsed.households)}
    by_no = {(h.village_code, h.household_code): h for h in parsed.households}
    for code in sorted(parsed.villages):
        if code in given:
            continue
        village = villages[code]
        before = (village.lat, village.lon)
        estimate = centres.refresh_estimate(actor, village)
        first = first_rows[code]
        if estimate is None and village.lat is None:
            report.warnings.append(_message(first.file, first.sheet, first.row, "村代码",
                                            NO_CENTRE_WARNING, village=village.name))
            continue
        if estimate is None:
            continue
        if (village.lat, village.lon) != before:
            report.counts["centres"].add("created" if before[0] is None else "updated")
            report.warnings.append(_message(first.file, first.sheet, first.row, "村代码",
                                            ESTIMATED_NOTE, village=village.name,
                                            n=estimate.used))
        for outlier in estimate.outliers:
            row = by_no.get((code, outlier.ref))
            where = (row.file, row.sheet, row.row) if row else (first.file, first.sheet, None)
            report.warnings.append(_message(*where, "纬度", OUTLIER_WARNING,
                                            km=f"{outlier.distance_m / 1000:.1f}",
                                            village=village.name))
    report.warnings.sort(key=_sort_key)


def update_village(actor: User, village: Village, data: dict[str, Any]) -> Village:
    """PATCH /api/villages/{id}: flags, and the centre and radius (services/centres.py)."""
    policy.authorize(actor, "manage_villages", village)
    flags = {k: data[k] for k in ("is_poor_village", "is_weak_branch") if k in data}
    if any(k in data for k in ("lat", "lon", "radius_m")):
        centres.set_centre(actor, village, lat=data.get("lat"), lon=data.get("lon"),
                           radius_m=data.get("radius_m"),
                           system=data.get("coordinate_system") or "WGS84", commit=False)
    if flags:
        before = {k: getattr(village, k) for k in flags}
        for key, value in flags.items():
            setattr(village, key, value)
        record_audit(actor, "village.update", village, county_id=village.county_id,
                     before=before, after=flags)
    db.session.commit()
    return village
