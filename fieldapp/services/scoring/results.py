"""Stored results: finalise (with a digest of every input), unlock, restatement, the staff
decisions finalising needs, `scores recompute`, and a secretary's own results.

Finalising a county in a cycle stores one `ScoreResult` per assessed secretary, with the
input digest part by part (domain/county_scores.input_digests), and locks the county
(`ScoreLock`): from then on services/freeze.py refuses every change under its scores. An
admin may reopen it with a reason; finalising again is a restatement: the audit log then
lists every secretary whose total or grade moved, with before and after and the inputs
that changed, under the reason given for reopening.

Finalising needs, first: every tie at the last 优秀 place decided, every person assessed in
two villages decided, every flagged visit reviewed (cycle setting, on by default), and a
confirmation when some secretaries are still ungraded.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from ... import policy
from ...audit import record_audit
from ...domain.county_scores import CountyOutcome, changed_parts, digest_of, input_digests
from ...errors import AppError, translate
from ...extensions import db
from ...models import (AuditLog, Cycle, FirstSecretary, ScoreDecision, ScoreLock, ScoreResult,
                       User, Village, utcnow)
from ..freeze import ensure_not_finalised, is_finalised, lock_of
from .entries import MAX_REASON
from .grades import RESULT_FIELDS, evaluate, grade_county, identity, recall, summary
from .inputs import (LoadedCounty, check_scope, county_secretaries, covered_county_ids,
                     load_county)
from .mass import suppressed

COMPARED = tuple(f for f in RESULT_FIELDS if f not in ("mass_reasons", "reasons"))


def _stored_rows(cycle: Cycle, county_id: int) -> dict[str, Any]:
    stored = {r.secretary_id: r for r in db.session.scalars(select(ScoreResult).where(
        ScoreResult.cycle_id == cycle.id, ScoreResult.county_id == county_id))}
    # Village and town with the secretary: identity() reads both, once per row.
    secretaries = {s.id: s for s in db.session.scalars(
        select(FirstSecretary).where(FirstSecretary.id.in_(list(stored)))
        .options(joinedload(FirstSecretary.village).joinedload(Village.town)))} if stored else {}
    rows = []
    for sid, r in stored.items():
        s = secretaries[sid]
        rows.append({**identity(s), "village_id": r.village_id, "county_id": county_id,
                     "term_start": s.term_start, "term_end": s.term_end, "pending": None,
                     "input_parts": dict(r.input_parts or {}), "input_digest": r.input_digest,
                     **{f: getattr(r, f) for f in RESULT_FIELDS}})
    order = {s.id: i for i, s in enumerate(county_secretaries(cycle, county_id))}
    rows.sort(key=lambda row: (order.get(row["secretary_id"], len(order)), row["secretary_id"]))
    lock = lock_of(cycle.id, county_id)
    config = next(iter(stored.values())).config if stored else {}
    ratio = Decimal(str(config.get("excellent_cap_ratio", "0.2")))
    return {"cycle_id": cycle.id, "county_id": county_id, "finalised": True,
            "finalised_at": lock.finalised_at if lock else cycle.finalised_at,
            "rows": rows, "recall": recall(rows), "not_assessed": [],
            # Stored results hold one row per assessed person: the base is their number.
            "cap": summary(rows, len(rows), ratio), "tie": None, "duplicates": [],
            "config": config}


def results(actor: User, cycle: Cycle, county_id: int, *, answers: bool = False) -> dict[str, Any]:
    """Finalised counties: the stored results. Open ones: computed now (provisional).
    The scores page, the API and every download read this one function.

    `answers`: the caller pools the counted answers (`with_answers`); an open county is
    then computed once by the reference, which keeps them, not set-based and again."""
    check_scope(actor, "read_scores", cycle, county_id)
    if lock_of(cycle.id, county_id) is not None:
        return _stored_rows(cycle, county_id)
    return grade_county(cycle, county_id, load_county(cycle, county_id) if answers else None)


def with_answers(cycle: Cycle, county_id: int,
                 res: dict[str, Any]) -> tuple[LoadedCounty, CountyOutcome]:
    """The loaded county and its outcome behind `res`, for pooling answers by town or
    village (stored results and the set-based path keep neither: loaded here)."""
    loaded = res.get("_loaded") or load_county(cycle, county_id)
    return loaded, res.get("_outcome") or evaluate(loaded)


def unreviewed_flagged(loaded) -> int:
    """Flagged visits of the county's active draws not reviewed yet."""
    return sum(1 for v in loaded.input.villages.values() for visit in v.visits
               if visit.flags and visit.review == "pending")


def _last_unlock_reason(cycle: Cycle, county_id: int) -> str | None:
    entry = db.session.scalar(select(AuditLog).where(
        AuditLog.action == "scores.unlock", AuditLog.county_id == county_id,
        AuditLog.object_type == "Cycle", AuditLog.object_id == str(cycle.id))
        .order_by(AuditLog.id.desc()).limit(1))
    return (entry.detail or {}).get("reason") if entry is not None else None


def _text(value) -> Any:
    return None if value is None else str(value)


def _was_finalised(cycle: Cycle, county_id: int) -> bool:
    return db.session.scalar(select(AuditLog.id).where(
        AuditLog.action == "scores.finalise", AuditLog.county_id == county_id,
        AuditLog.object_type == "Cycle", AuditLog.object_id == str(cycle.id)).limit(1)) is not None


def _store(cycle: Cycle, county_id: int, live: dict[str, Any], restatement: bool) -> list[dict]:
    """Write the results and their input digests; return the restatement's changes."""
    loaded = live["_loaded"]
    inputs = {s.secretary_id: s for s in loaded.input.secretaries}
    old = {r.secretary_id: r for r in db.session.scalars(select(ScoreResult).where(
        ScoreResult.cycle_id == cycle.id, ScoreResult.county_id == county_id))}
    changes = []
    now = utcnow()
    for row in live["rows"]:
        parts = input_digests(loaded.input, inputs[row["secretary_id"]])
        r = old.pop(row["secretary_id"], None)
        if r is None:
            r = ScoreResult(cycle_id=cycle.id, secretary_id=row["secretary_id"],
                            village_id=row["village_id"], county_id=county_id)
            db.session.add(r)
            if restatement:
                changes.append({"secretary_id": row["secretary_id"], "name": row["secretary_name"],
                                "before": None, "after": {"total": _text(row["total"]),
                                                          "grade": row["grade"]},
                                "inputs_changed": changed_parts(None, parts)})
        elif (r.total, r.grade) != (row["total"], row["grade"]):
            changes.append({"secretary_id": r.secretary_id, "name": row["secretary_name"],
                            "before": {"total": _text(r.total), "grade": r.grade},
                            "after": {"total": _text(row["total"]), "grade": row["grade"]},
                            "inputs_changed": changed_parts(r.input_parts, parts)})
        for f in RESULT_FIELDS:
            setattr(r, f, row[f])
        r.village_id = row["village_id"]
        r.config = live["config"]
        r.computed_at = now
        r.input_parts = parts
        r.input_digest = digest_of(parts)
    for r in old.values():  # no longer assessed in the county
        changes.append({"secretary_id": r.secretary_id, "name": r.secretary.name,
                        "before": {"total": _text(r.total), "grade": r.grade}, "after": None,
                        "inputs_changed": ["assessment"]})
        db.session.delete(r)
    db.session.flush()
    return changes


def finalise(actor: User, cycle: Cycle, county_id: int, *,
             accept_incomplete: bool = False) -> dict[str, Any]:
    """Store the county's results and lock it (see the module docstring for what it needs)."""
    check_scope(actor, "finalise_scores", cycle, county_id)
    ensure_not_finalised(cycle, county_id, what="finalise")
    loaded = load_county(cycle, county_id)
    live = grade_county(cycle, county_id, loaded)
    if live["tie"] is not None and not live["tie"]["decided"]:
        raise AppError("decision_required", _(
            "%(n)d secretaries are tied for the last %(places)d Excellent place(s): decide "
            "who takes them, with a reason, before finalising.",
            n=len(live["tie"]["secretary_ids"]), places=live["tie"]["places"]),
            extra={"decision": "tie", "secretary_ids": live["tie"]["secretary_ids"]})
    undecided = [d for d in live["duplicates"] if d["chosen"] not in d["secretary_ids"]]
    if undecided:
        raise AppError("decision_required", _(
            "%(n)d people are assessed in two villages: choose the record to grade before "
            "finalising.", n=len(undecided)),
            extra={"decision": "person", "persons": [d["secretary_ids"] for d in undecided]})
    if loaded.settings.require_flagged_reviewed:
        n = unreviewed_flagged(loaded)
        if n:
            raise AppError("decision_required", _(
                "%(n)d flagged visits have not been reviewed: approve or reject them before "
                "finalising.", n=n), extra={"decision": "review", "visits": n})
    incomplete = [r for r in live["rows"] if r["status"] == "incomplete"]
    if incomplete and not accept_incomplete:
        raise AppError("validation_failed", _("%(n)d secretaries are not graded yet.", n=len(incomplete)),
                       errors={"accept_incomplete": [
                           _("Confirm to finalise with ungraded secretaries.")]})
    restatement = _was_finalised(cycle, county_id)
    changes = _store(cycle, county_id, live, restatement)
    record_audit(actor, "scores.finalise", cycle, county_id=county_id, cycle_id=cycle.id,
                 graded=live["cap"]["graded"], incomplete=live["cap"]["incomplete"],
                 restatement=restatement, before={"finalised": False},
                 after={"finalised": True, "graded": live["cap"]["graded"],
                        "incomplete": live["cap"]["incomplete"]})
    if restatement:
        # Every secretary whose total or grade moved, not only the one the reopening was for.
        record_audit(actor, "scores.restate", cycle, county_id=county_id, cycle_id=cycle.id,
                     reason=_last_unlock_reason(cycle, county_id), changes=changes)
    db.session.add(ScoreLock(cycle_id=cycle.id, county_id=county_id,
                             finalised_by_id=actor.id))
    db.session.flush()
    locked = set(db.session.scalars(select(ScoreLock.county_id).where(ScoreLock.cycle_id == cycle.id)))
    if set(covered_county_ids(cycle)) <= locked:
        cycle.status = "finalised"
        cycle.finalised_at = utcnow()
    db.session.commit()
    return _stored_rows(cycle, county_id)


def _reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AppError("validation_failed", errors={"reason": [message]})
    if len(reason) > MAX_REASON:
        raise AppError("validation_failed", errors={"reason": [_("At most %(n)d characters.", n=MAX_REASON)]})
    return reason


def unlock(actor: User, cycle: Cycle, county_id: int, reason: str) -> None:
    """Admins only, with a reason: reopen a finalised county. The stored results stay
    until it is finalised again (that is the restatement)."""
    if not policy.can(actor, "unlock_scores", policy.CountyCycle(cycle, county_id)):
        raise AppError("forbidden", _("Only an admin can reopen finalised scores."))
    reason = _reason(reason, _("Give a reason for reopening."))
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


# --- staff decisions before finalising ------------------------------------------------------


def _upsert_decision(actor, cycle: Cycle, county_id: int, kind: str, key: str,
                     subject: list[int], chosen: list[int], reason: str) -> ScoreDecision:
    d = db.session.scalar(select(ScoreDecision).where(
        ScoreDecision.cycle_id == cycle.id, ScoreDecision.county_id == county_id,
        ScoreDecision.kind == kind, ScoreDecision.key == key))
    before = None if d is None else {"subject": d.subject, "chosen": d.chosen, "reason": d.reason}
    if d is None:
        d = ScoreDecision(cycle_id=cycle.id, county_id=county_id, kind=kind, key=key)
        db.session.add(d)
    d.subject, d.chosen, d.reason = sorted(subject), sorted(chosen), reason
    d.decided_by_id = actor.id
    d.decided_at = utcnow()
    db.session.flush()
    record_audit(actor, f"scores.decide_{kind}", d, county_id=county_id, cycle_id=cycle.id,
                 subject=d.subject, chosen=d.chosen, reason=reason, before=before)
    db.session.commit()
    return d


def decide_tie(actor: User, cycle: Cycle, county_id: int, chosen: list[int],
               reason: str) -> ScoreDecision:
    """Staff choose who of the secretaries tied at the 20% line take the remaining places."""
    check_scope(actor, "enter_scores", cycle, county_id)
    ensure_not_finalised(cycle, county_id, what="tie")
    reason = _reason(reason, _("Give the reason (e.g. the collective decision, 集体研究)."))
    live = grade_county(cycle, county_id)
    tie = live["tie"]
    if tie is None:
        raise AppError("conflict", _("There is no tie at the Excellent line to decide."))
    chosen_set = set(chosen)
    if not chosen_set <= set(tie["secretary_ids"]) or len(chosen_set) != tie["places"]:
        raise AppError("validation_failed", errors={"chosen": [_(
            "Choose exactly %(n)d of the tied secretaries.", n=tie["places"])]})
    return _upsert_decision(actor, cycle, county_id, "tie", "tie", tie["secretary_ids"],
                            sorted(chosen_set), reason)


def decide_person(actor: User, cycle: Cycle, county_id: int, secretary_id: int,
                  reason: str) -> ScoreDecision:
    """One person assessed in two villages: staff choose the record that is graded."""
    check_scope(actor, "enter_scores", cycle, county_id)
    ensure_not_finalised(cycle, county_id, what="person")
    reason = _reason(reason, _("Give the reason for the choice."))
    live = grade_county(cycle, county_id)
    group = next((d for d in live["duplicates"] if secretary_id in d["secretary_ids"]), None)
    if group is None:
        raise AppError("validation_failed", errors={"secretary_id": [_(
            "This secretary is not one person assessed in two villages.")]})
    return _upsert_decision(actor, cycle, county_id, "person", group["person"],
                            group["secretary_ids"], [secretary_id], reason)


# --- recompute ------------------------------------------------------------------------------


def _same(a, b) -> bool:
    return a == b


def compare(cycle: Cycle, county_id: int) -> dict[str, Any]:
    """Recompute a county from the stored raw inputs and compare with what was stored at
    finalising: result fields and input digests, per secretary. Writes nothing."""
    loaded = load_county(cycle, county_id)
    live = grade_county(cycle, county_id, loaded)
    stored = _stored_rows(cycle, county_id) if lock_of(cycle.id, county_id) else None
    inputs = {s.secretary_id: s for s in loaded.input.secretaries}
    differences: list[dict[str, Any]] = []
    if stored is not None:
        by_id = {r["secretary_id"]: r for r in stored["rows"]}
        for row in live["rows"]:
            old = by_id.pop(row["secretary_id"], None)
            if old is None:
                differences.append({"secretary_id": row["secretary_id"], "kind": "added"})
                continue
            fields = [f for f in COMPARED if not _same(old[f], row[f])]
            parts = changed_parts(old["input_parts"], input_digests(loaded.input,
                                                                  inputs[row["secretary_id"]]))
            if fields or parts:
                differences.append({"secretary_id": row["secretary_id"], "kind": "changed",
                                    "fields": {f: (old[f], row[f]) for f in fields},
                                    "inputs": parts})
        for sid in by_id:
            differences.append({"secretary_id": sid, "kind": "removed"})
    return {"live": live, "stored": stored, "differences": differences}


# --- the secretary's own view ---------------------------------------------------------------


def my_results(user: User) -> list[dict[str, Any]]:
    """A secretary's own final results, only from finalised counties. Indexes and
    satisfaction shares over fewer than 5 respondents are suppressed; when either part is
    suppressed both are (otherwise the score would give the hidden one away)."""
    policy.authorize(user, "read_own_scores")
    if user.secretary_id is None:
        raise AppError("forbidden")
    stmt = (select(ScoreResult, ScoreLock, Cycle)
            .join(ScoreLock, (ScoreLock.cycle_id == ScoreResult.cycle_id)
                  & (ScoreLock.county_id == ScoreResult.county_id))
            .join(Cycle, Cycle.id == ScoreResult.cycle_id)
            .where(ScoreResult.secretary_id == user.secretary_id)
            .order_by(Cycle.year.desc()))
    out = []
    for r, lock, cycle in db.session.execute(stmt):
        hide = suppressed(r.n_visits) or suppressed(r.n_ballots)
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


def finalised(cycle: Cycle, county_id: int) -> bool:
    return is_finalised(cycle, county_id)
