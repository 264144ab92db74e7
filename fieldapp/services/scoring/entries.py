"""The scorecard components staff enter or import: 工作实绩 (0-60, with the 七个一
evidence), 工作纪律 (0-10) and 工作评价 (0-10). The mass evaluation is never entered.

Every entry point (the API, the staff form, the XLSX import) turns numbers into points the
same way: `domain.points.to_points`, half up to 2 decimals (59.995 -> 60.00), then checks
the range. A finalised county refuses every change (409 `county_finalised`) until an admin
reopens it (services/freeze.py).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ...audit import record_audit
from ...domain import N_
from ...domain import grading as dgrade
from ...domain.points import NotPoints, in_range, to_points
from ...domain.residency import shanghai_today
from ...domain.workbook import NOT_XLSX, Limits, WorkbookRejected, open_xlsx
from ...errors import AppError, translate
from ...extensions import db
from ...models import SEVEN_ONES, Cycle, FirstSecretary, ScorecardEntry, User, utcnow
from ..checkins import confirmed_discipline_score, discipline_suggestions
from ..freeze import ensure_not_finalised, is_finalised
from .inputs import check_scope, county_secretaries

MAX_REASON = 2000
# A county's scorecard: a few hundred secretaries at most.
SCORE_WORKBOOK_LIMITS = Limits(max_rows=5_000, max_columns=60, max_cells=300_000)
COMPONENTS = ("work_performance", "work_discipline", "work_evaluation")
SEVEN_ONES_LABELS = {
    "strong_team": N_("Build one strong team"),  # 建强一个班子
    "party_lecture": N_("Give one party lecture"),  # 讲一次党课
    "visit_every_household": N_("Visit every household once"),  # 走访一遍农户
    "diary": N_("Keep one diary of villagers' conditions"),  # 记一本民情日记
    "research_report": N_("Write one research report"),  # 写一篇调研报告
    "livelihood_projects": N_("Deliver a batch of livelihood projects"),  # 办一批民生实事
    "assistance_projects": N_("Coordinate a batch of assistance projects"),  # 协调一批帮扶项目
}


def _entry(cycle: Cycle, secretary: FirstSecretary) -> ScorecardEntry | None:
    return db.session.scalar(select(ScorecardEntry).where(
        ScorecardEntry.cycle_id == cycle.id, ScorecardEntry.secretary_id == secretary.id))


def parse_components(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Numbers (or decimal strings) -> points rounded half up, range-checked after rounding
    (60.004 is 60.00 and allowed; 60.005 is 60.01 and refused). Returns (clean, errors)."""
    clean = dict(data)
    errors: dict[str, list[str]] = {}
    for name in COMPONENTS:
        if name not in data or data[name] is None:
            continue
        top = dgrade.COMPONENT_MAX[name]
        try:
            value = to_points(data[name])
        except NotPoints:
            errors[name] = [_("Must be a number.")]
            continue
        if not in_range(value, top):
            errors[name] = [_("Between 0 and %(max)s.", max=top)]
        clean[name] = value
    for code in data.get("seven_ones") or {}:
        if code not in SEVEN_ONES:
            errors[f"seven_ones.{code}"] = [_("Unknown checklist item.")]
    return clean, errors


def _json(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _entry_dict(e: ScorecardEntry | None) -> dict[str, Any]:
    """For the audit log: points as decimal strings."""
    if e is None:
        return {"work_performance": None, "work_discipline": None, "work_evaluation": None,
                "seven_ones": {}, "note": None}
    return {"work_performance": _json(e.work_performance), "work_discipline": _json(e.work_discipline),
            "work_evaluation": _json(e.work_evaluation), "seven_ones": dict(e.seven_ones or {}),
            "note": e.note}


def save_entry(actor: User, cycle: Cycle, secretary: FirstSecretary, data: dict[str, Any],
               *, commit: bool = True) -> ScorecardEntry:
    """Create or update one secretary's entry (keys absent from `data` are kept)."""
    county_id = secretary.village.county_id
    check_scope(actor, "enter_scores", cycle, county_id)
    ensure_not_finalised(cycle, county_id, what="scorecard")
    clean, errors = parse_components(data)
    if errors:
        raise AppError("validation_failed", errors=errors)
    entry = _entry(cycle, secretary) or ScorecardEntry(
        cycle_id=cycle.id, secretary_id=secretary.id, village_id=secretary.village_id, seven_ones={})
    before = _entry_dict(entry if entry.id else None)
    for name in COMPONENTS:
        if name in clean:
            setattr(entry, name, clean[name])
    if clean.get("seven_ones") is not None:
        entry.seven_ones = {code: {"done": bool(v.get("done")), "evidence": (v.get("evidence") or "").strip()}
                            for code, v in clean["seven_ones"].items()}
    if "note" in clean:
        entry.note = (clean["note"] or "").strip() or None
    entry.updated_by_id = actor.id
    entry.updated_at = utcnow()
    db.session.add(entry)
    db.session.flush()
    record_audit(actor, "scorecard.save", entry, county_id=county_id, cycle_id=cycle.id,
                 secretary_id=secretary.id, before=before, after=_entry_dict(entry))
    if commit:
        db.session.commit()
    return entry


def discipline_prefill(cycle: Cycle, county_id: int,
                       secretaries: list[FirstSecretary]) -> dict[int, dict[str, Any]]:
    """{secretary_id: {value, source, grade_cap, spot_check_absences}}: the confirmed 工作纪律
    score from the check-in module, else its suggestion (source `suggested`), else nothing
    (value None, source `no_data`: no check-in in the cycle year, staff enter it)."""
    suggestions = (discipline_suggestions(secretaries, cycle, county_id, shanghai_today())
                   if secretaries else {})
    out: dict[int, dict[str, Any]] = {}
    for s in secretaries:
        sug, _annual = suggestions[s.id]
        confirmed = confirmed_discipline_score(cycle.id, s.id)
        suggested = None if sug.score is None else to_points(sug.score)
        out[s.id] = {"value": confirmed if confirmed is not None else suggested,
                     "source": "confirmed" if confirmed is not None else (
                         "no_data" if sug.no_data else "suggested"),
                     "grade_cap": sug.grade_cap, "spot_check_absences": sug.spot_check_absences}
    return out


def entry_view(actor: User, cycle: Cycle, secretary: FirstSecretary) -> dict[str, Any]:
    """One secretary's entry with the work-discipline prefill (confirmed or suggested)."""
    county_id = secretary.village.county_id
    check_scope(actor, "read_scores", cycle, county_id)
    e = _entry(cycle, secretary)
    prefill = discipline_prefill(cycle, county_id, [secretary])[secretary.id]
    return {"secretary_id": secretary.id, "cycle_id": cycle.id,
            "work_performance": e.work_performance if e else None,
            "work_discipline": e.work_discipline if e else None,
            "work_evaluation": e.work_evaluation if e else None,
            "seven_ones": dict(e.seven_ones or {}) if e else {}, "note": e.note if e else None,
            "discipline_prefill": prefill["value"], "discipline_source": prefill["source"],
            "finalised": is_finalised(cycle, county_id)}


# --- XLSX import ---------------------------------------------------------------------------

IMPORT_COLUMNS = [
    ("secretary_id", N_("Secretary ID")),
    ("village_code", N_("Village code")),
    ("secretary_name", N_("First secretary")),
    ("work_performance", N_("Work performance (0-60)")),
    ("work_discipline", N_("Work discipline (0-10)")),
    ("work_evaluation", N_("Work evaluation (0-10)")),
    *[(f"seven_ones.{code}", label) for code, label in SEVEN_ONES_LABELS.items()],
    ("note", N_("Note")),
]
YES = {"1", "y", "yes", "true", "是", "有", "√", "✓", "x", "完成", "已完成"}
NO = {"", "0", "n", "no", "false", "否", "无", "未完成"}


def template_rows(actor: User, cycle: Cycle, county_id: int) -> list[list[Any]]:
    """The import template pre-filled with the county's secretaries and current entries."""
    check_scope(actor, "enter_scores", cycle, county_id)
    secretaries = county_secretaries(cycle, county_id)
    entries = {e.secretary_id: e for e in db.session.scalars(select(ScorecardEntry).where(
        ScorecardEntry.cycle_id == cycle.id))}
    prefill = discipline_prefill(cycle, county_id, secretaries)
    out = []
    for s in secretaries:
        e = entries.get(s.id)
        wd = e.work_discipline if e and e.work_discipline is not None else prefill[s.id]["value"]
        seven = (e.seven_ones if e else {}) or {}
        out.append([s.id, s.village.code, s.name, e.work_performance if e else None, wd,
                    e.work_evaluation if e else None,
                    *[(seven.get(code) or {}).get("evidence") or ("是" if (seven.get(code) or {}).get("done") else "")
                      for code in SEVEN_ONES],
                    e.note if e else None])
    return out


def _header(ws) -> tuple[list[str | None], Any]:
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    titles = {}
    for key, msgid in IMPORT_COLUMNS:
        titles[msgid.strip().lower()] = key
        titles[translate(msgid).strip().lower()] = key
        titles[key] = key
    return [titles.get(str(h).strip().lower()) if h is not None else None for h in (header or ())], rows


def _row_secretary(cells: dict[str, Any], by_id: dict, by_village: dict,
                   row_errors: list) -> FirstSecretary | None:
    sid = cells.get("secretary_id")
    if sid not in (None, ""):
        try:
            secretary = by_id.get(int(sid))
        except (TypeError, ValueError):
            secretary = None
        if secretary is None:
            row_errors.append(("secretary_id", _("No such secretary in this county and cycle.")))
        return secretary
    code = str(cells.get("village_code") or "").strip()
    name = str(cells.get("secretary_name") or "").strip()
    found = [s for s in by_village.get(code, []) if not name or s.name == name]
    if len(found) == 1:
        return found[0]
    row_errors.append(("village_code", _("No single secretary matches this village code and name.")))
    return None


def _row_data(cells: dict[str, Any], row_errors: list) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in COMPONENTS:
        if name in cells:
            raw = cells[name]
            data[name] = None if raw is None or str(raw).strip() == "" else raw
    seven: dict[str, dict[str, Any]] = {}
    for code in SEVEN_ONES:
        key = f"seven_ones.{code}"
        if key in cells:
            text = "" if cells[key] is None else str(cells[key]).strip()
            evidence = "" if text.lower() in YES | NO else text
            seven[code] = {"done": text.lower() not in NO, "evidence": evidence[:2000]}
    if seven:
        data["seven_ones"] = seven
    if "note" in cells:
        data["note"] = None if cells["note"] is None else str(cells["note"])[:2000]
    clean, errors = parse_components(data)
    for field_name, messages in errors.items():
        row_errors.extend((field_name, m) for m in messages)
    return clean


def import_xlsx(actor: User, cycle: Cycle, county_id: int, content: bytes, *,
                dry_run: bool = False) -> dict[str, Any]:
    """All or nothing: every row error is listed and nothing is stored, or every row is.

    Columns follow the template (the header row is matched by the English or Chinese
    titles). Numbers are read as typed (a numeric cell 59.995 is 60.00 after rounding half
    up, like the form and the API). A 七个一 cell holds the evidence text; empty/否 means not
    done, anything else done (是/√ mark done without text).
    """
    check_scope(actor, "enter_scores", cycle, county_id)
    ensure_not_finalised(cycle, county_id, what="scorecard")
    try:  # the same bounded, streaming open as the roster import (domain/workbook.py)
        wb = open_xlsx(content, SCORE_WORKBOOK_LIMITS)
    except WorkbookRejected as err:
        message = (_("Not an XLSX workbook.") if err.msgid == NOT_XLSX
                   else translate(err.msgid, err.params))
        raise AppError("import_rejected", errors={"file": [message]}) from err
    except Exception as err:  # openpyxl's own errors on a workbook that passed the checks
        raise AppError("import_rejected", errors={"file": [_("Not an XLSX workbook.")]}) from err
    columns, rows = _header(wb.worksheets[0])
    errors: list[dict[str, Any]] = []
    if "work_performance" not in columns or not ({"secretary_id", "village_code"} & set(columns)):
        wb.close()
        errors.append({"row": 1, "column": None, "message": _(
            "The header row must have the template's columns (secretary ID or village code, "
            "and the scores).")})
        raise AppError("import_rejected", errors={"rows": [_format_row_error(e) for e in errors]},
                       extra={"row_errors": errors})
    secretaries = county_secretaries(cycle, county_id)
    by_id = {s.id: s for s in secretaries}
    by_village: dict[str, list[FirstSecretary]] = {}
    for s in secretaries:
        by_village.setdefault(s.village.code, []).append(s)
    parsed: list[tuple[FirstSecretary, dict[str, Any]]] = []
    seen: set[int] = set()
    for n, values in enumerate(rows, start=2):
        cells = {c: v for c, v in zip(columns, values) if c is not None}
        if all(v is None or str(v).strip() == "" for v in cells.values()):
            continue
        row_errors: list[tuple[str | None, str]] = []
        secretary = _row_secretary(cells, by_id, by_village, row_errors)
        if secretary is not None:
            if secretary.id in seen:
                row_errors.append(("secretary_id", _("This secretary appears twice in the file.")))
            seen.add(secretary.id)
        data = _row_data(cells, row_errors)
        if row_errors:
            errors.extend({"row": n, "column": c, "message": m} for c, m in row_errors)
        else:
            parsed.append((secretary, data))
    wb.close()
    if errors:
        raise AppError("import_rejected", errors={"rows": [_format_row_error(e) for e in errors]},
                       extra={"row_errors": errors})
    if not dry_run:
        for secretary, data in parsed:
            save_entry(actor, cycle, secretary, data, commit=False)
        record_audit(actor, "scorecard.import", cycle, county_id=county_id, cycle_id=cycle.id,
                     rows=len(parsed))
        db.session.commit()
    return {"dry_run": dry_run, "rows": len(parsed), "errors": []}


def _format_row_error(e: dict[str, Any]) -> str:
    titles = dict(IMPORT_COLUMNS)  # the column as the template's header names it
    column = e.get("column")
    col = f" [{translate(titles[column]) if column in titles else column}]" if column else ""
    return _("Row %(row)d%(col)s: %(message)s", row=e["row"], col=col, message=e["message"])
