"""The 100-point scorecard: components, XLSX import, grading with caps, finalise and lock.

Grading a county in a cycle (docs/meetings-and-scores.md):
1. mass evaluation from stored answers (services/scoring.py); work performance (0-60),
   work discipline (0-10) and work evaluation (0-10) from `ScorecardEntry`. Work
   discipline falls back to the score confirmed in the check-in module
   (`checkins.confirmed_discipline_score`); the entry form is pre-filled with it, or with
   the check-in suggestion when none was confirmed (nothing when the secretary has no
   check-in in the cycle year: "no data", entered consciously). A missing component leaves the
   secretary "incomplete" (never a silent zero).
2. total and grade: fieldapp/domain/grading.py (`grade_entry`, thresholds 90/70/60).
3. the residency cap from unannounced checks (暗访, domain/residency.spot_check_grade_cap):
   1 absence -> at most 称职, 2 -> at most 基本称职, 3 or more -> 不称职. Applied BEFORE the
   20% cap, so a secretary who may not be 优秀 never takes one of the places.
4. the 20% cap on 优秀 per county (`apply_excellent_cap`): floor(20% x all the county's
   secretaries in the cycle, incomplete ones included); ranking by total, mass
   evaluation, work performance, then secretary id. Those outside become 称职, `capped`.
5. the recall list: 不称职 after every cap, lowest total first (`recall_list`).

Finalising stores the results (`ScoreResult`) and locks the county (`ScoreLock`). Later
changes need an admin and a reason, and are audited: either an admin unlocks the county,
or an admin changes an entry with a reason (the stored results are recomputed at once).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..audit import record_audit
from ..domain import N_
from ..domain import grading as dgrade
from ..domain.workbook import NOT_XLSX, Limits, WorkbookRejected, open_xlsx
from ..errors import AppError, translate
from ..extensions import db
from ..models import (SEVEN_ONES, County, Cycle, FirstSecretary, ScoreLock, ScorecardEntry,
                      ScoreResult, User, Village, utcnow)
from ..scoping import require_county, require_cycle, require_role
from . import scoring

STAFF_ROLES = ("admin", "county_staff")
GRADE_ORDER = ("incompetent", "basically_competent", "competent", "excellent")  # worst first
MAX_REASON = 2000

MISSING = {
    "work_performance": N_("Work performance has not been entered."),
    "work_discipline": N_("Work discipline has not been entered or confirmed."),
    "work_evaluation": N_("Work evaluation has not been entered."),
}
SEVEN_ONES_LABELS = {
    "strong_team": N_("Build one strong team"),  # 建强一个班子
    "party_lecture": N_("Give one party lecture"),  # 讲一次党课
    "visit_every_household": N_("Visit every household once"),  # 走访一遍农户
    "diary": N_("Keep one diary of villagers' conditions"),  # 记一本民情日记
    "research_report": N_("Write one research report"),  # 写一篇调研报告
    "livelihood_projects": N_("Deliver a batch of livelihood projects"),  # 办一批民生实事
    "assistance_projects": N_("Coordinate a batch of assistance projects"),  # 协调一批帮扶项目
}


# --- locks --------------------------------------------------------------------------------


def lock_of(cycle_id: int, county_id: int) -> ScoreLock | None:
    return db.session.scalar(select(ScoreLock).where(ScoreLock.cycle_id == cycle_id,
                                                     ScoreLock.county_id == county_id))


def is_finalised(cycle: Cycle, county_id: int) -> bool:
    return cycle.status == "finalised" or lock_of(cycle.id, county_id) is not None


def ensure_county_open(actor: User | None, cycle: Cycle, county_id: int, *,
                       reason: str | None = None, admin_may_change: bool = False) -> bool:
    """Refuse writes to a finalised county. With `admin_may_change`, an admin (or the
    command line) giving a reason may still change it: returns True in that case."""
    if not is_finalised(cycle, county_id):
        return False
    if admin_may_change and (actor is None or actor.role == "admin"):
        if not (reason or "").strip():
            raise AppError("validation_failed", _("This county is finalised: give a reason for the change."),
                           errors={"reason": [_("Give a reason for changing finalised scores.")]})
        return True
    raise AppError("locked", _("The scores of this county are finalised. Only an admin can "
                               "change them, with a reason."))


def _authorize(actor: User | None, cycle: Cycle, county_id: int) -> None:
    if actor is None:
        return
    require_role(actor, *STAFF_ROLES)
    require_county(actor, county_id)
    require_cycle(actor, cycle)
    if not cycle.covers_county(county_id):
        raise AppError("not_found")


def county_secretaries(cycle: Cycle, county_id: int) -> list[FirstSecretary]:
    from .checkins import county_secretaries as _cs

    return _cs(county_id, date(cycle.year, 1, 1), date(cycle.year, 12, 31))


def covered_county_ids(cycle: Cycle) -> list[int]:
    if cycle.county_id is not None:
        return [cycle.county_id]
    return list(db.session.scalars(select(County.id).where(
        County.id.in_(select(Village.county_id).distinct())).order_by(County.code)))


# --- entries ------------------------------------------------------------------------------


def _entry(cycle: Cycle, secretary: FirstSecretary) -> ScorecardEntry | None:
    return db.session.scalar(select(ScorecardEntry).where(
        ScorecardEntry.cycle_id == cycle.id, ScorecardEntry.secretary_id == secretary.id))


def _check_components(data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("work_performance", "work_discipline", "work_evaluation"):
        if name in data and data[name] is not None:
            top = dgrade.COMPONENT_MAX[name]
            v = data[name]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= top:
                errors[name] = [_("Between 0 and %(max)s.", max=top)]
    if "seven_ones" in data and data["seven_ones"] is not None:
        for code in data["seven_ones"]:
            if code not in SEVEN_ONES:
                errors[f"seven_ones.{code}"] = [_("Unknown checklist item.")]
    return errors


def _entry_dict(e: ScorecardEntry | None) -> dict[str, Any]:
    if e is None:
        return {"work_performance": None, "work_discipline": None, "work_evaluation": None,
                "seven_ones": {}, "note": None}
    return {"work_performance": e.work_performance, "work_discipline": e.work_discipline,
            "work_evaluation": e.work_evaluation, "seven_ones": dict(e.seven_ones or {}),
            "note": e.note}


def save_entry(actor: User | None, cycle: Cycle, secretary: FirstSecretary, data: dict[str, Any],
               *, reason: str | None = None, commit: bool = True,
               restate: bool = True) -> ScorecardEntry:
    """Create or update one secretary's entry (keys absent from `data` are kept).

    In a finalised county (admins, with a reason) the stored results are recomputed at
    once, unless `restate` is False: a batch (the import) then restates once at the end."""
    county_id = secretary.village.county_id
    _authorize(actor, cycle, county_id)
    admin_change = ensure_county_open(actor, cycle, county_id, reason=reason, admin_may_change=True)
    errors = _check_components(data)
    if errors:
        raise AppError("validation_failed", errors=errors)
    entry = _entry(cycle, secretary) or ScorecardEntry(
        cycle_id=cycle.id, secretary_id=secretary.id, village_id=secretary.village_id, seven_ones={})
    before = _entry_dict(entry if entry.id else None)
    for name in ("work_performance", "work_discipline", "work_evaluation"):
        if name in data:
            setattr(entry, name, None if data[name] is None else round(float(data[name]), 2))
    if "seven_ones" in data and data["seven_ones"] is not None:
        entry.seven_ones = {code: {"done": bool(v.get("done")), "evidence": (v.get("evidence") or "").strip()}
                            for code, v in data["seven_ones"].items()}
    if "note" in data:
        entry.note = (data["note"] or "").strip() or None
    entry.updated_by_id = actor.id if actor else None
    entry.updated_at = utcnow()
    db.session.add(entry)
    db.session.flush()
    record_audit(actor, "scorecard.change_after_final" if admin_change else "scorecard.save", entry,
                 county_id=county_id, cycle_id=cycle.id, secretary_id=secretary.id,
                 before=before, after=_entry_dict(entry), reason=(reason or "").strip() or None)
    if admin_change and restate:
        _store_results(actor, cycle, county_id, action="scores.restate", reason=reason)
    if commit:
        db.session.commit()
    return entry


def discipline_prefill(cycle: Cycle, county_id: int,
                       secretaries: list[FirstSecretary]) -> dict[int, dict[str, Any]]:
    """{secretary_id: {value, source, grade_cap, spot_check_absences}}: the confirmed 工作纪律
    score from the check-in module, else its suggestion (source `suggested`), else nothing
    (value None, source `no_data`: no check-in in the cycle year, staff enter it)."""
    from ..domain.residency import shanghai_today
    from .checkins import confirmed_discipline_score, discipline_suggestions

    # The check-in module's bulk computation: check-ins, leave and spot checks in a few queries.
    suggestions = (discipline_suggestions(secretaries, cycle, county_id, shanghai_today())
                   if secretaries else {})
    out: dict[int, dict[str, Any]] = {}
    for s in secretaries:
        sug, _annual = suggestions[s.id]
        confirmed = confirmed_discipline_score(cycle.id, s.id)
        out[s.id] = {"value": confirmed if confirmed is not None else sug.score,
                     "source": "confirmed" if confirmed is not None else (
                         "no_data" if sug.no_data else "suggested"),
                     "grade_cap": sug.grade_cap, "spot_check_absences": sug.spot_check_absences}
    return out


# --- grading ------------------------------------------------------------------------------


def _thresholds(cycle: Cycle) -> tuple[dgrade.Thresholds, float]:
    raw = (cycle.settings or {}).get("grading") or {}
    try:
        t = dgrade.Thresholds(**{k: raw[k] for k in ("excellent", "competent", "basically_competent")
                                 if k in raw})
        ratio = raw.get("excellent_cap_ratio", dgrade.DEFAULT_CAP_RATIO)
        dgrade.excellent_cap(0, ratio)
    except (TypeError, ValueError) as err:
        raise AppError("validation_failed", errors={"settings.grading": [str(err)]}) from err
    return t, ratio


def grade_county(cycle: Cycle, county_id: int) -> dict[str, Any]:
    """Live results of every secretary of the county in the cycle (no access check)."""
    secretaries = county_secretaries(cycle, county_id)
    masses = scoring.mass_evaluations(cycle, secretaries)
    entries = {e.secretary_id: e for e in db.session.scalars(select(ScorecardEntry).where(
        ScorecardEntry.cycle_id == cycle.id,
        ScorecardEntry.secretary_id.in_([s.id for s in secretaries])))} if secretaries else {}
    prefill = discipline_prefill(cycle, county_id, secretaries)
    thresholds, ratio = _thresholds(cycle)
    graded: list[dgrade.GradedEntry] = []
    rows: dict[int, dict[str, Any]] = {}
    for s in secretaries:
        m = masses[s.id]
        e = entries.get(s.id)
        wp = e.work_performance if e else None
        we = e.work_evaluation if e else None
        wd = e.work_discipline if e and e.work_discipline is not None else (
            prefill[s.id]["value"] if prefill[s.id]["source"] == "confirmed" else None)
        reasons = [] if m.score is not None else [N_("The mass evaluation is incomplete.")]
        for name, value in (("work_performance", wp), ("work_discipline", wd), ("work_evaluation", we)):
            if value is None:
                reasons.append(MISSING[name])
        if reasons:
            g = dgrade.GradedEntry(s.id, dgrade.Components(wp or 0, m.score, wd or 0, we or 0),
                                   None, None, "incomplete")
        else:
            g = dgrade.grade_entry(s.id, dgrade.Components(wp, m.score, wd, we), thresholds)
        before_caps = g.grade
        cap = prefill[s.id]["grade_cap"]
        if g.grade is not None and cap is not None and GRADE_ORDER.index(g.grade) > GRADE_ORDER.index(cap):
            g = replace(g, grade=cap)
        graded.append(g)
        rows[s.id] = {
            "secretary_id": s.id, "secretary_name": s.name, "village_id": s.village_id,
            "village_code": s.village.code, "village_name": s.village.name,
            "town": s.village.town.name, "county_id": county_id,
            **m.as_dict(),
            "work_performance": wp, "work_discipline": wd, "work_evaluation": we,
            "discipline_prefill": prefill[s.id]["value"],
            "discipline_source": "entered" if e and e.work_discipline is not None else prefill[s.id]["source"],
            "seven_ones": dict(e.seven_ones or {}) if e else {},
            "total": g.total, "status": g.status, "reasons": reasons,
            "grade_before_caps": before_caps, "residency_cap": cap if before_caps != g.grade else None,
            "spot_check_absences": prefill[s.id]["spot_check_absences"],
        }
    capped = dgrade.apply_excellent_cap(graded, ratio)
    for g in capped:
        rows[g.secretary_id]["grade"] = g.grade
        rows[g.secretary_id]["capped"] = g.capped
    recall = [rows[g.secretary_id] for g in dgrade.recall_list(capped)]
    places = dgrade.excellent_cap(len(secretaries), ratio)
    qualified = sum(1 for g in graded if g.grade == "excellent")
    return {"cycle_id": cycle.id, "county_id": county_id, "finalised": False,
            "rows": [rows[s.id] for s in secretaries], "recall": recall,
            "cap": {"ratio": ratio, "places": places, "qualified": qualified,
                    "excellent": sum(1 for g in capped if g.grade == "excellent")},
            "config": {**scoring.settings_snapshot(cycle), "thresholds": {
                "excellent": thresholds.excellent, "competent": thresholds.competent,
                "basically_competent": thresholds.basically_competent}, "excellent_cap_ratio": ratio}}


RESULT_FIELDS = ("mass_status", "mass_evaluation", "mass_reasons", "household_index",
                 "meeting_index", "household_satisfied_share", "meeting_satisfied_share",
                 "n_visits", "required_visits", "n_ballots", "work_performance",
                 "work_discipline", "work_evaluation", "total", "status", "reasons", "grade",
                 "grade_before_caps", "capped", "residency_cap", "spot_check_absences")


def _stored_rows(cycle: Cycle, county_id: int) -> dict[str, Any]:
    stored = {r.secretary_id: r for r in db.session.scalars(select(ScoreResult).where(
        ScoreResult.cycle_id == cycle.id, ScoreResult.county_id == county_id))}
    secretaries = {s.id: s for s in db.session.scalars(
        select(FirstSecretary).where(FirstSecretary.id.in_(list(stored))))} if stored else {}
    rows = []
    for sid, r in stored.items():
        s = secretaries[sid]
        rows.append({"secretary_id": sid, "secretary_name": s.name, "village_id": r.village_id,
                     "village_code": s.village.code, "village_name": s.village.name,
                     "town": s.village.town.name, "county_id": county_id,
                     **{f: getattr(r, f) for f in RESULT_FIELDS}})
    order = {s.id: i for i, s in enumerate(county_secretaries(cycle, county_id))}
    rows.sort(key=lambda row: (order.get(row["secretary_id"], len(order)), row["secretary_id"]))
    recall = sorted((r for r in rows if r["grade"] == "incompetent"),
                    key=lambda r: (r["total"], r["secretary_id"]))
    lock = lock_of(cycle.id, county_id)
    config = next(iter(stored.values())).config if stored else {}
    ratio = config.get("excellent_cap_ratio", dgrade.DEFAULT_CAP_RATIO)
    return {"cycle_id": cycle.id, "county_id": county_id, "finalised": True,
            "finalised_at": lock.finalised_at if lock else cycle.finalised_at,
            "rows": rows, "recall": recall,
            "cap": {"ratio": ratio, "places": dgrade.excellent_cap(len(rows), ratio),
                    "qualified": sum(1 for r in rows if r["grade_before_caps"] == "excellent"),
                    "excellent": sum(1 for r in rows if r["grade"] == "excellent")},
            "config": config}


def results(actor: User | None, cycle: Cycle, county_id: int) -> dict[str, Any]:
    """Finalised counties: the stored results. Open ones: computed now (provisional)."""
    _authorize(actor, cycle, county_id)
    if is_finalised(cycle, county_id) and lock_of(cycle.id, county_id) is not None:
        return _stored_rows(cycle, county_id)
    return grade_county(cycle, county_id)


def _store_results(actor: User | None, cycle: Cycle, county_id: int, *, action: str,
                   reason: str | None = None) -> dict[str, Any]:
    live = grade_county(cycle, county_id)
    old = {r.secretary_id: r for r in db.session.scalars(select(ScoreResult).where(
        ScoreResult.cycle_id == cycle.id, ScoreResult.county_id == county_id))}
    before = {str(sid): [r.total, r.grade] for sid, r in old.items()}
    changes = []
    now = utcnow()
    for row in live["rows"]:
        r = old.pop(row["secretary_id"], None)
        if r is None:
            r = ScoreResult(cycle_id=cycle.id, secretary_id=row["secretary_id"],
                            village_id=row["village_id"], county_id=county_id)
            db.session.add(r)
        elif (r.total, r.grade) != (row["total"], row["grade"]):
            changes.append({"secretary_id": r.secretary_id, "before": [r.total, r.grade],
                            "after": [row["total"], row["grade"]]})
        for f in RESULT_FIELDS:
            setattr(r, f, row[f])
        r.config = live["config"]
        r.computed_at = now
    for r in old.values():  # a secretary no longer in the county's list
        db.session.delete(r)
    db.session.flush()
    record_audit(actor, action, cycle, county_id=county_id, cycle_id=cycle.id,
                 reason=(reason or "").strip() or None, changes=changes, before=before,
                 after={str(row["secretary_id"]): [row["total"], row["grade"]] for row in live["rows"]},
                 graded=sum(1 for r in live["rows"] if r["status"] == "graded"),
                 incomplete=sum(1 for r in live["rows"] if r["status"] == "incomplete"))
    return live


def finalise(actor: User | None, cycle: Cycle, county_id: int, *,
             accept_incomplete: bool = False) -> dict[str, Any]:
    """Store the county's results and lock it. With ungraded (incomplete) secretaries,
    `accept_incomplete` must be given: they are published as incomplete."""
    _authorize(actor, cycle, county_id)
    if is_finalised(cycle, county_id):
        raise AppError("locked", _("This county is already finalised in this cycle."))
    live = grade_county(cycle, county_id)
    incomplete = [r for r in live["rows"] if r["status"] == "incomplete"]
    if incomplete and not accept_incomplete:
        raise AppError("validation_failed", _("%(n)d secretaries are not graded yet.", n=len(incomplete)),
                       errors={"accept_incomplete": [
                           _("Confirm to finalise with ungraded secretaries.")]})
    _store_results(actor, cycle, county_id, action="scores.finalise")
    db.session.add(ScoreLock(cycle_id=cycle.id, county_id=county_id,
                             finalised_by_id=actor.id if actor else None))
    db.session.flush()
    covered = covered_county_ids(cycle)
    locked = set(db.session.scalars(select(ScoreLock.county_id).where(ScoreLock.cycle_id == cycle.id)))
    if set(covered) <= locked:
        cycle.status = "finalised"
        cycle.finalised_at = utcnow()
    db.session.commit()
    return _stored_rows(cycle, county_id)


def unlock(actor: User | None, cycle: Cycle, county_id: int, reason: str) -> None:
    """Admins only, with a reason: reopen a finalised county (the stored results stay
    until it is finalised again)."""
    if actor is not None and actor.role != "admin":
        raise AppError("forbidden", _("Only an admin can reopen finalised scores."))
    reason = (reason or "").strip()
    if not reason:
        raise AppError("validation_failed", errors={"reason": [_("Give a reason for reopening.")]})
    if len(reason) > MAX_REASON:
        raise AppError("validation_failed", errors={"reason": [_("At most %(n)d characters.", n=MAX_REASON)]})
    lock = lock_of(cycle.id, county_id)
    if lock is None:
        raise AppError("conflict", _("This county is not finalised."))
    db.session.execute(delete(ScoreLock).where(ScoreLock.id == lock.id))
    cycle.status = "open"
    cycle.finalised_at = None
    record_audit(actor, "scores.unlock", cycle, county_id=county_id, cycle_id=cycle.id,
                 reason=reason, finalised_at=lock.finalised_at.isoformat(),
                 before={"finalised": True}, after={"finalised": False})
    db.session.commit()


# --- the secretary's own view ---------------------------------------------------------------


def my_results(user: User) -> list[dict[str, Any]]:
    """A secretary's own final results, only from finalised counties. Indexes and
    satisfaction shares over fewer than 5 respondents are suppressed; when either part is
    suppressed both are (otherwise the score would give the hidden one away)."""
    if user.role != "secretary" or user.secretary_id is None:
        raise AppError("forbidden")
    stmt = (select(ScoreResult, ScoreLock, Cycle)
            .join(ScoreLock, (ScoreLock.cycle_id == ScoreResult.cycle_id)
                  & (ScoreLock.county_id == ScoreResult.county_id))
            .join(Cycle, Cycle.id == ScoreResult.cycle_id)
            .where(ScoreResult.secretary_id == user.secretary_id)
            .order_by(Cycle.year.desc()))
    out = []
    for r, lock, cycle in db.session.execute(stmt):
        hide = scoring.suppressed(r.n_visits) or scoring.suppressed(r.n_ballots)
        out.append({
            "cycle_id": cycle.id, "year": cycle.year, "finalised_at": lock.finalised_at,
            "mass_status": r.mass_status, "mass_evaluation": r.mass_evaluation,
            "household_index": None if hide else r.household_index,
            "household_satisfied_share": None if hide else r.household_satisfied_share,
            "meeting_index": None if hide else r.meeting_index,
            "meeting_satisfied_share": None if hide else r.meeting_satisfied_share,
            "suppressed": hide,
            "work_performance": r.work_performance, "work_discipline": r.work_discipline,
            "work_evaluation": r.work_evaluation, "total": r.total, "status": r.status,
            "grade": r.grade, "capped": r.capped, "residency_cap": r.residency_cap,
        })
    return out


def reasons_text(msgids: list[str]) -> str:
    return "; ".join(translate(m) for m in msgids or [])


# --- XLSX import ---------------------------------------------------------------------------

# A county's scorecard: a few hundred secretaries at most.
SCORE_WORKBOOK_LIMITS = Limits(max_rows=5_000, max_columns=60, max_cells=300_000)

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


def template_rows(actor: User | None, cycle: Cycle, county_id: int) -> list[list[Any]]:
    """The import template pre-filled with the county's secretaries and current entries."""
    _authorize(actor, cycle, county_id)
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


def import_xlsx(actor: User | None, cycle: Cycle, county_id: int, content: bytes, *,
                dry_run: bool = False, reason: str | None = None) -> dict[str, Any]:
    """All or nothing: every row error is listed and nothing is stored, or every row is.

    Columns follow the template (the header row is matched by the English or Chinese
    titles). A 七个一 cell holds the evidence text; empty/否 means not done, anything
    else done (是/√ mark done without text).
    """
    _authorize(actor, cycle, county_id)
    admin_change = ensure_county_open(actor, cycle, county_id, reason=reason, admin_may_change=True)
    try:  # the same bounded, streaming open as the roster import (domain/workbook.py)
        wb = open_xlsx(content, SCORE_WORKBOOK_LIMITS)
    except WorkbookRejected as err:
        message = (_("Not an XLSX workbook.") if err.msgid == NOT_XLSX
                   else translate(err.msgid, err.params))
        raise AppError("import_rejected", errors={"file": [message]}) from err
    except Exception as err:  # openpyxl's own errors on a workbook that passed the checks
        raise AppError("import_rejected", errors={"file": [_("Not an XLSX workbook.")]}) from err
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    titles = {}
    for key, msgid in IMPORT_COLUMNS:
        titles[msgid.strip().lower()] = key
        titles[translate(msgid).strip().lower()] = key
        titles[key] = key
    columns = [titles.get(str(h).strip().lower()) if h is not None else None for h in (header or ())]
    errors: list[dict[str, Any]] = []
    if "work_performance" not in columns or not ({"secretary_id", "village_code"} & set(columns)):
        errors.append({"row": 1, "column": None, "message": _(
            "The header row must have the template's columns (secretary ID or village code, "
            "and the scores).")})
        wb.close()
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
        secretary = None
        sid = cells.get("secretary_id")
        if sid not in (None, ""):
            try:
                secretary = by_id.get(int(sid))
            except (TypeError, ValueError):
                secretary = None
            if secretary is None:
                row_errors.append(("secretary_id", _("No such secretary in this county and cycle.")))
        else:
            code = str(cells.get("village_code") or "").strip()
            name = str(cells.get("secretary_name") or "").strip()
            found = [s for s in by_village.get(code, []) if not name or s.name == name]
            if len(found) == 1:
                secretary = found[0]
            else:
                row_errors.append(("village_code", _("No single secretary matches this village code and name.")))
        if secretary is not None:
            if secretary.id in seen:
                row_errors.append(("secretary_id", _("This secretary appears twice in the file.")))
            seen.add(secretary.id)
        data: dict[str, Any] = {}
        for name in ("work_performance", "work_discipline", "work_evaluation"):
            if name not in cells:
                continue
            raw = cells[name]
            if raw is None or str(raw).strip() == "":
                data[name] = None
                continue
            try:
                data[name] = float(str(raw).strip())
            except ValueError:
                row_errors.append((name, _("Must be a number.")))
        seven: dict[str, dict[str, Any]] = {}
        for code in SEVEN_ONES:
            key = f"seven_ones.{code}"
            if key in cells:
                text = "" if cells[key] is None else str(cells[key]).strip()
                done = text.lower() not in NO
                evidence = "" if text.lower() in YES | NO else text
                seven[code] = {"done": done, "evidence": evidence[:2000]}
        if seven:
            data["seven_ones"] = seven
        if "note" in cells:
            data["note"] = None if cells["note"] is None else str(cells["note"])[:2000]
        for field_name, messages in _check_components(data).items():
            row_errors.extend((field_name, m) for m in messages)
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
            save_entry(actor, cycle, secretary, data, reason=reason, commit=False, restate=False)
        record_audit(actor, "scorecard.import", cycle, county_id=county_id, cycle_id=cycle.id,
                     rows=len(parsed))
        if admin_change:  # one restatement for the whole file, not one per row
            _store_results(actor, cycle, county_id, action="scores.restate", reason=reason)
        db.session.commit()
    return {"dry_run": dry_run, "rows": len(parsed), "errors": []}


def _format_row_error(e: dict[str, Any]) -> str:
    titles = dict(IMPORT_COLUMNS)  # the column as the template's header names it
    column = e.get("column")
    col = f" [{translate(titles[column]) if column in titles else column}]" if column else ""
    return _("Row %(row)d%(col)s: %(message)s", row=e["row"], col=col, message=e["message"])


def entry_view(actor: User | None, cycle: Cycle, secretary: FirstSecretary) -> dict[str, Any]:
    """One secretary's entry with the work-discipline prefill (confirmed or suggested)."""
    county_id = secretary.village.county_id
    _authorize(actor, cycle, county_id)
    e = _entry(cycle, secretary)
    prefill = discipline_prefill(cycle, county_id, [secretary])[secretary.id]
    return {"secretary_id": secretary.id, "cycle_id": cycle.id, **_entry_dict(e),
            "discipline_prefill": prefill["value"], "discipline_source": prefill["source"],
            "finalised": is_finalised(cycle, county_id)}
