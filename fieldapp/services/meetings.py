"""Democratic evaluation meetings (民主测评会): anonymous single-use QR ballots and the
paper fallback.

County staff create a meeting for one secretary in a cycle with the number of participants
per category; the system makes one random slip token per participant. A slip's token is
`base64url(HMAC-SHA256(K, "ballot|<meeting id>|<salt>|<n>"))[:22]` (128 bits), K a key derived
from SECRET_KEY (never a published string, see secret_key.py), never stored: the
server can print the slips again, the database holds only SHA-256 hashes of the tokens.

Voting (no login): the token row is switched from unused to used by one conditional UPDATE
(`... WHERE used = false`), so a token counts once even when two phones race; the ballot
row is inserted in the same transaction and carries no reference to the token, no time and
a random id. Closing the meeting refuses further votes, re-inserts its ballots in a random
order with new random ids and rewrites the token rows (see models/meetings.py for why).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import delete, func, select, update

from .. import policy
from ..audit import record_audit
from ..errors import AppError
from ..extensions import db
from ..domain.instruments import overall_item  # noqa: F401  (the item paper tallies count)
from ..domain.residency import shanghai_today
from ..models import (MEETING_CATEGORIES, Ballot, BallotToken, Cycle, FirstSecretary, Meeting,
                      PaperTally, User, Village, utcnow)
from ..secret_key import derived_key
from . import instruments
from .freeze import ensure_not_finalised, is_finalised

# Ballots, slips and paper tallies are respondent-level: secretaries never see them.
policy.register_household_level(Ballot, BallotToken, PaperTally)

BALLOT_INSTRUMENT = "democratic_ballot"
MAX_PER_CATEGORY = 500
MAX_PLACE = 200

CATEGORY_LABELS = {
    "party_member": _l("Party members"),  # 党员
    "cadre": _l("Village and group cadres"),  # 村组干部
    "villager_rep": _l("Villager representatives"),  # 群众代表
    "poor_household_rep": _l("Poor-household representatives"),  # 贫困户代表
}


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


# --- tokens ----------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def slip_token(meeting: Meeting, n: int) -> str:
    key = derived_key(current_app.config["SECRET_KEY"], "ballot-slips-v1")
    msg = f"ballot|{meeting.id}|{meeting.token_salt}|{n}".encode("utf-8")
    digest = hmac.new(key, msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def _issue_tokens(meeting: Meeting) -> None:
    """(Re)create the meeting's token rows from a fresh salt: older slips stop working."""
    db.session.execute(delete(BallotToken).where(BallotToken.meeting_id == meeting.id))
    meeting.token_salt = secrets.token_hex(16)
    db.session.flush()
    db.session.add_all(BallotToken(meeting_id=meeting.id, token_hash=token_hash(slip_token(meeting, n)),
                                   used=False) for n in range(meeting.participant_total))


def slip_tokens(actor: User, meeting: Meeting) -> list[str]:
    """The tokens to print, one per participant (open meetings only)."""
    policy.authorize(actor, "manage_meetings", meeting)
    if meeting.status != "open":
        raise AppError("locked", _("The meeting is closed: its slips can no longer be used."))
    return [slip_token(meeting, n) for n in range(meeting.participant_total)]


# --- access and locks --------------------------------------------------------------------


def _ensure_writable(actor: User, cycle: Cycle, county_id: int) -> None:
    """Meetings, slips and tallies are inputs of the county's scores: frozen once finalised."""
    ensure_not_finalised(cycle, county_id, what="meeting")


def ballot_instrument():
    versions = instruments.known_versions(BALLOT_INSTRUMENT)
    if not versions:  # a deploy error: the schemas directory lacks the ballot instrument
        raise AppError("internal_error")
    return instruments.get_or_404(BALLOT_INSTRUMENT, versions[-1])




# --- meetings ---------------------------------------------------------------------------


def _check_participants(participants: dict[str, int]) -> dict[str, int]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for code, n in participants.items():
        if code not in MEETING_CATEGORIES:
            errors[f"participants.{code}"] = [_("Unknown participant category.")]
        elif not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_PER_CATEGORY:
            errors[f"participants.{code}"] = [_("Between 0 and %(max)d.", max=MAX_PER_CATEGORY)]
        else:
            clean[code] = n
    if not errors and sum(clean.values()) == 0:
        errors["participants"] = [_("At least one participant is needed.")]
    if errors:
        raise AppError("validation_failed", errors=errors)
    return {code: clean.get(code, 0) for code in MEETING_CATEGORIES}


def _check_place(place: str) -> str:
    place = (place or "").strip()
    if not place:
        raise AppError("validation_failed", errors={"place": [_("Enter where the meeting is held.")]})
    return place


def _check_held_on(secretary: FirstSecretary, held_on: date) -> None:
    """A meeting belongs to the secretary serving on its date (docs: who is assessed)."""
    if held_on < secretary.term_start or (secretary.term_end is not None and held_on > secretary.term_end):
        raise AppError("validation_failed", errors={"held_on": [_(
            "The secretary does not serve in the village on this date (term %(start)s to %(end)s).",
            start=secretary.term_start.isoformat(),
            end=secretary.term_end.isoformat() if secretary.term_end else "—")]})


def create_meeting(actor: User, data: dict[str, Any]) -> Meeting:
    """`data`: cycle_id, secretary_id, held_on, place, participants {category: n}."""
    policy.authorize(actor, "manage_meetings")
    cycle = db.session.get(Cycle, data["cycle_id"])
    secretary = db.session.get(FirstSecretary, data["secretary_id"])
    if cycle is None or secretary is None:
        raise AppError("not_found")
    county_id = secretary.village.county_id
    policy.authorize(actor, "manage_meetings", policy.CountyCycle(cycle, county_id))
    if not cycle.covers_county(county_id):
        raise AppError("validation_failed", errors={"cycle_id": [
            _("This cycle does not cover the secretary's county.")]})
    _ensure_writable(actor, cycle, county_id)
    participants = _check_participants(data["participants"])
    place = _check_place(data["place"])
    _check_held_on(secretary, data["held_on"])
    if db.session.scalar(select(Meeting.id).where(Meeting.cycle_id == cycle.id,
                                                  Meeting.secretary_id == secretary.id)):
        raise AppError("conflict", _("This secretary already has a meeting in this cycle."))
    instrument = ballot_instrument()
    meeting = Meeting(cycle_id=cycle.id, secretary_id=secretary.id, village_id=secretary.village_id,
                      held_on=data["held_on"], place=place, participants=participants,
                      instrument_id=instrument.id, instrument_version=instrument.version,
                      status="open", token_salt="", created_by_id=actor.id)
    db.session.add(meeting)
    db.session.flush()
    _issue_tokens(meeting)
    record_audit(actor, "meeting.create", meeting, county_id=county_id, cycle_id=cycle.id,
                 secretary_id=secretary.id, participants=participants)
    db.session.commit()
    return meeting


def update_meeting(actor: User, meeting: Meeting, data: dict[str, Any]) -> Meeting:
    """Date and place while the meeting is open; participant numbers only before any vote
    (new numbers issue new slips: print them again)."""
    policy.authorize(actor, "manage_meetings", meeting)
    _ensure_writable(actor, meeting.cycle, meeting.village.county_id)
    if meeting.status != "open":
        raise AppError("locked", _("The meeting is closed."))
    before = {"held_on": meeting.held_on.isoformat(), "place": meeting.place,
              "participants": dict(meeting.participants)}
    if "held_on" in data:
        _check_held_on(meeting.secretary, data["held_on"])
        meeting.held_on = data["held_on"]
    if "place" in data:
        meeting.place = _check_place(data["place"])
    if "participants" in data:
        participants = _check_participants(data["participants"])
        if participants != meeting.participants:
            if vote_count(meeting) > 0:
                raise AppError("locked", errors={"participants": [
                    _("Votes have been cast: the number of participants can no longer change.")]})
            _check_tally_bounds(participants, _qr_by_category(meeting), tallies_of(meeting))
            meeting.participants = participants
            _issue_tokens(meeting)
    record_audit(actor, "meeting.update", meeting, county_id=meeting.village.county_id,
                 before=before, after={"held_on": meeting.held_on.isoformat(),
                                       "place": meeting.place, "participants": meeting.participants})
    db.session.commit()
    return meeting


def close_meeting(actor: User, meeting: Meeting) -> Meeting:
    policy.authorize(actor, "manage_meetings", meeting)
    _ensure_writable(actor, meeting.cycle, meeting.village.county_id)
    if meeting.status != "open":
        raise AppError("locked", _("The meeting is already closed."))
    meeting.status = "closed"
    meeting.closed_at = utcnow()
    meeting.closed_by_id = actor.id
    _shuffle_ballots(meeting)
    record_audit(actor, "meeting.close", meeting, county_id=meeting.village.county_id,
                 ballots=vote_count(meeting), tokens=meeting.participant_total)
    db.session.commit()
    return meeting


def _shuffle_ballots(meeting: Meeting) -> None:
    """Forget the voting order: re-insert the ballots in random order with new random ids,
    and rewrite every token row in this transaction (PostgreSQL then shows one xmin for all)."""
    rows = db.session.execute(select(Ballot.category, Ballot.answers)
                              .where(Ballot.meeting_id == meeting.id)).all()
    db.session.execute(delete(Ballot).where(Ballot.meeting_id == meeting.id))
    shuffled = list(rows)
    secrets.SystemRandom().shuffle(shuffled)
    db.session.add_all(Ballot(meeting_id=meeting.id, category=c, answers=a) for c, a in shuffled)
    db.session.execute(update(BallotToken).where(BallotToken.meeting_id == meeting.id)
                       .values(used=BallotToken.used, receipt_hash=None))
    db.session.flush()


def vote_count(meeting: Meeting) -> int:
    return db.session.scalar(select(func.count()).select_from(Ballot)
                             .where(Ballot.meeting_id == meeting.id)) or 0


def set_tallies(actor: User, meeting: Meeting, tallies: dict[str, dict[str, int]]) -> Meeting:
    """Replace the paper tallies: {category: {option: count}} for the overall item."""
    policy.authorize(actor, "manage_meetings", meeting)
    _ensure_writable(actor, meeting.cycle, meeting.village.county_id)
    instrument = instruments.get_or_404(meeting.instrument_id, meeting.instrument_version)
    codes = [o.code for o in instrument.options_of(overall_item(instrument))]
    errors: dict[str, list[str]] = {}
    clean: list[tuple[str, str, int]] = []
    for category, counts in tallies.items():
        if category not in MEETING_CATEGORIES:
            errors[f"tallies.{category}"] = [_("Unknown participant category.")]
            continue
        for option, count in counts.items():
            if option not in codes:
                errors[f"tallies.{category}.{option}"] = [_("Unknown answer option.")]
            elif not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10000:
                errors[f"tallies.{category}.{option}"] = [_("Between 0 and %(max)d.", max=10000)]
            elif count:
                clean.append((category, option, count))
    if errors:
        raise AppError("validation_failed", errors=errors)
    wanted: dict[str, dict[str, int]] = {}
    for c, o, n in clean:
        wanted.setdefault(c, {})[o] = n
    _check_tally_bounds(meeting.participants, _qr_by_category(meeting), wanted)
    before = tallies_of(meeting)
    db.session.execute(delete(PaperTally).where(PaperTally.meeting_id == meeting.id))
    db.session.add_all(PaperTally(meeting_id=meeting.id, category=c, option=o, count=n)
                       for c, o, n in clean)
    db.session.flush()
    record_audit(actor, "meeting.tallies", meeting, county_id=meeting.village.county_id,
                 before=before, after=tallies_of(meeting))
    db.session.commit()
    return meeting


def _qr_by_category(meeting: Meeting) -> dict[str, int]:
    return dict(db.session.execute(
        select(Ballot.category, func.count()).where(Ballot.meeting_id == meeting.id)
        .group_by(Ballot.category)).all())


def _check_tally_bounds(participants: dict[str, int], qr: dict[str, int],
                        tallies: dict[str, dict[str, int]]) -> None:
    """Paper ballots of a category may not exceed its participants minus its QR ballots,
    and all paper ballots may not exceed the slips nobody used (a 422 naming the category)."""
    errors: dict[str, list[str]] = {}
    for category in MEETING_CATEGORIES:
        paper = sum((tallies.get(category) or {}).values())
        room = max(participants.get(category, 0) - qr.get(category, 0), 0)
        if paper > room:
            errors[f"tallies.{category}"] = [_(
                "%(category)s: %(paper)d paper ballots, but only %(room)d are possible "
                "(%(participants)d participants, %(qr)d QR ballots).",
                category=category_label(category), paper=paper, room=room,
                participants=participants.get(category, 0), qr=qr.get(category, 0))]
    total_paper = sum(sum(v.values()) for v in tallies.values())
    total_room = max(sum(participants.values()) - sum(qr.values()), 0)
    if not errors and total_paper > total_room:
        errors["tallies"] = [_(
            "%(paper)d paper ballots, but only %(room)d participants did not vote by QR code.",
            paper=total_paper, room=total_room)]
    if errors:
        raise AppError("validation_failed", _("More paper ballots than participants."),
                       errors=errors)


def tallies_of(meeting: Meeting) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for t in db.session.scalars(select(PaperTally).where(PaperTally.meeting_id == meeting.id)
                                .order_by(PaperTally.category, PaperTally.option)):
        out.setdefault(t.category, {})[t.option] = t.count
    return out


def meeting_summary(meeting: Meeting) -> dict[str, Any]:
    """Counts for staff: tokens used, ballots per category, paper ballots."""
    used = db.session.scalar(select(func.count()).select_from(BallotToken).where(
        BallotToken.meeting_id == meeting.id, BallotToken.used.is_(True))) or 0
    per_category = dict(db.session.execute(
        select(Ballot.category, func.count()).where(Ballot.meeting_id == meeting.id)
        .group_by(Ballot.category)).all())
    tallies = tallies_of(meeting)
    paper = {c: sum(v.values()) for c, v in tallies.items()}
    return {"tokens": meeting.participant_total, "tokens_used": used,
            "ballots": sum(per_category.values()), "paper_ballots": sum(paper.values()),
            "by_category": {c: {"participants": meeting.participants.get(c, 0),
                                "ballots": per_category.get(c, 0), "paper": paper.get(c, 0)}
                            for c in MEETING_CATEGORIES},
            "tallies": tallies}


# --- the public ballot -----------------------------------------------------------------


def _token_row(token: str) -> BallotToken:
    if not isinstance(token, str) or not 10 <= len(token) <= 64:
        raise AppError("not_found", _("This ballot slip is not valid."))
    row = db.session.scalar(select(BallotToken).where(BallotToken.token_hash == token_hash(token)))
    if row is None:
        raise AppError("not_found", _("This ballot slip is not valid."))
    return row


def ballot_state(token: str) -> tuple[Meeting, str]:
    """(meeting, state) with state `valid`, `used` or `closed`; unknown tokens are 404."""
    row = _token_row(token)
    meeting = db.session.get(Meeting, row.meeting_id)
    if not _accepts_votes(meeting):
        return meeting, "closed"
    return meeting, "used" if row.used else "valid"


def _accepts_votes(meeting: Meeting) -> bool:
    """Open, and its county not finalised: a vote must never change the raw answers under
    finalised (stored) scores, even when staff finalised with the meeting left open."""
    return meeting.status == "open" and not is_finalised(meeting.cycle, meeting.village.county_id)


def _refuse(state: str) -> AppError:
    if state == "closed":
        return AppError("locked", _("The meeting has ended. No more votes are accepted."),
                        extra={"state": "closed"})
    return AppError("conflict", _("This ballot slip has already been used."),
                    extra={"state": "used"})


def cast_vote(token: str, category: str, answers: dict[str, Any], receipt: str, *,
              commit: bool = True) -> str:
    """Store one anonymous vote; returns "stored", or "already_stored" for a retry with
    the same receipt after a lost response. Used tokens and closed meetings are refused.
    `commit=False`: the caller commits (a tool entering many slips at once)."""
    row = _token_row(token)
    meeting = db.session.get(Meeting, row.meeting_id)
    receipt_digest = token_hash(receipt)
    if not _accepts_votes(meeting):
        raise _refuse("closed")
    if row.used:
        if row.receipt_hash is not None and hmac.compare_digest(row.receipt_hash, receipt_digest):
            return "already_stored"
        raise _refuse("used")
    errors: dict[str, list[str]] = {}
    if category not in MEETING_CATEGORIES:
        errors["category"] = [_("Choose your category.")]
    instrument = instruments.get_or_404(meeting.instrument_id, meeting.instrument_version)
    try:
        clean = instruments.answers_schema_for(instrument)().load(answers)
    except ValidationError as err:
        for field, messages in err.normalized_messages().items():
            errors[f"answers.{field}"] = messages if isinstance(messages, list) else [str(messages)]
    if errors:
        raise AppError("validation_failed", errors=errors)
    # The conditional UPDATE is the single-use guarantee: of two racing requests, one
    # changes the row and the other changes nothing.
    result = db.session.execute(
        update(BallotToken)
        .where(BallotToken.id == row.id, BallotToken.used.is_(False))
        .values(used=True, receipt_hash=receipt_digest)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise _refuse("used")
    db.session.add(Ballot(meeting_id=meeting.id, category=category, answers=clean))
    if commit:
        db.session.commit()
    return "stored"


def public_meeting_info(meeting: Meeting) -> dict[str, Any]:
    """What the ballot page shows: no names of voters, just whom the ballot is about."""
    return {"held_on": meeting.held_on, "village_name": meeting.village.name,
            "town": meeting.village.town.name, "secretary_name": meeting.secretary.name,
            "year": meeting.cycle.year}


def meetings_for(actor: User, cycle: Cycle, county_id: int) -> list[Meeting]:
    policy.authorize(actor, "read_meetings", policy.CountyCycle(cycle, county_id))
    return list(db.session.scalars(
        select(Meeting).join(Village, Meeting.village_id == Village.id)
        .where(Meeting.cycle_id == cycle.id, Village.county_id == county_id)
        .order_by(Meeting.held_on, Meeting.id)))


def today_default() -> date:
    return shanghai_today()
