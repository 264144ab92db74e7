"""Accounts: authentication with throttling, creation within one's scope, passwords
(change, reset) and deactivation; each of the last three ends the user's sessions."""
from __future__ import annotations

import re
import secrets
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import policy, security
from ..audit import record_audit
from ..errors import AppError
from ..extensions import db
from ..models import COUNTY_ROLES, ROLES, SECRETARY_ROLE, County, FirstSecretary, User, Village
from . import sessions

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD = 8


def authenticate(phone: str, password: str, ip: str | None) -> User:
    phone = (phone or "").strip()[:20]
    security.begin_attempt(phone, ip)
    account = db.session.scalar(select(User).where(User.phone == phone))
    # An unknown phone costs the same hash as a known one: timing tells nothing.
    hashed = account.password_hash if account is not None else _dummy_hash()
    matches = check_password_hash(hashed, password or "")
    if account is None or not account.is_active or not matches:
        raise AppError("invalid_credentials")
    security.record_success(phone, ip)
    return account


@lru_cache(maxsize=4)
def _dummy_hash_for(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _dummy_hash() -> str:
    return _dummy_hash_for(current_app.config["PASSWORD_HASH_METHOD"])


def create_user(actor: User, *, phone: str, name: str, password: str, role: str,
                county: County | None = None, secretary: FirstSecretary | None = None) -> User:
    """Create an account (policy `create_account`: county staff the evaluators and
    secretaries of their own county). A secretary's account belongs to that secretary's
    county, and a secretary has one account."""
    # Out of scope is 403 before any field is judged (another county's secretary too).
    secretary_county = secretary.village.county_id if secretary is not None else None
    policy.authorize(actor, "create_account", policy.AccountDraft(
        role, county.id if county is not None else secretary_county))
    if secretary_county is not None:
        policy.authorize(actor, "create_account", policy.AccountDraft(role, secretary_county))
    errors = _new_account_errors(phone, name, password, role, county, secretary)
    if secretary is not None:
        if county is not None and county.id != secretary_county:
            errors["county"] = [_("The secretary serves in another county.")]
        county = db.session.get(County, secretary_county)
    if errors:
        raise AppError("validation_failed", errors=errors)
    _check_not_taken(phone, secretary)
    user = User(phone=phone, name=name.strip(), role=role,
                county_id=county.id if county is not None else None,
                secretary_id=secretary.id if secretary is not None else None)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same phone or secretary, created at this very moment
        db.session.rollback()
        raise AppError("conflict", errors={"phone": [_("This phone number already has an account.")]})
    record_audit(actor, "user.create", user, county_id=user.county_id, role=role, phone=phone,
                 before=None, after=account_state(user) | {"phone": phone})
    db.session.commit()
    return user


def _new_account_errors(phone: str, name: str, password: str, role: str, county: County | None,
                        secretary: FirstSecretary | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not PHONE_RE.match(phone or ""):
        errors["phone"] = [_("Enter an 11-digit mobile number.")]
    if not (name or "").strip():
        errors["name"] = [_("Required.")]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [_("At least %(n)d characters.", n=MIN_PASSWORD)]
    if role not in ROLES:
        errors["role"] = [_("Unknown role.")]
    if role in COUNTY_ROLES and county is None:
        errors["county"] = [_("Required for this role.")]
    if role == SECRETARY_ROLE and secretary is None:
        errors["secretary"] = [_("Required for this role.")]
    if role != SECRETARY_ROLE and secretary is not None:
        errors["secretary"] = [_("Only a first secretary's account is linked to a secretary.")]
    return errors


def _check_not_taken(phone: str, secretary: FirstSecretary | None) -> None:
    if db.session.scalar(select(User.id).where(User.phone == phone)):
        raise AppError("conflict", errors={"phone": [_("This phone number already has an account.")]})
    if secretary is not None and db.session.scalar(
            select(User.id).where(User.secretary_id == secretary.id)):
        raise AppError("conflict", errors={"secretary": [
            _("This first secretary already has an account.")]})


def create_secretary_accounts(actor: User, county: County) -> list[tuple[User, str]]:
    """Give every active first secretary of `county` without an account one, logging in
    with the mobile number from the roster and a random initial password (shown once).

    Returns [(user, initial_password)]. Secretaries whose phone already has an account
    (e.g. the same person in another role) are skipped.
    """
    policy.authorize(actor, "create_account", policy.AccountDraft(SECRETARY_ROLE, county.id))
    taken = set(db.session.scalars(select(User.phone)))
    linked = set(db.session.scalars(select(User.secretary_id).where(User.secretary_id.isnot(None))))
    secretaries = db.session.scalars(
        select(FirstSecretary).join(Village).where(
            Village.county_id == county.id, FirstSecretary.status.in_(("active", "extended")))
        .order_by(Village.code)).all()
    created: list[tuple[User, str]] = []
    for secretary in secretaries:
        if secretary.id in linked or secretary.phone in taken:
            continue
        password = secrets.token_urlsafe(6)
        user = User(phone=secretary.phone, name=secretary.name, role=SECRETARY_ROLE,
                    county_id=county.id, secretary_id=secretary.id)
        user.set_password(password)
        db.session.add(user)
        taken.add(secretary.phone)
        created.append((user, password))
    db.session.flush()
    record_audit(actor, "user.create_secretaries", None, county_id=county.id,
                 count=len(created), before=None,
                 after={"accounts": [account_state(u) | {"phone": u.phone} for u, _p in created]})
    db.session.commit()
    return created


def _check_new_password(password: str, field: str = "new_password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AppError("validation_failed",
                       errors={field: [_("At least %(n)d characters.", n=MIN_PASSWORD)]})


def change_password(user: User, current_password: str, new_password: str) -> None:
    """The user's own change: this device stays logged in, every other session ends."""
    policy.authorize(user, "change_own_password")
    if not user.check_password(current_password or ""):
        raise AppError("validation_failed",
                       errors={"current_password": [_("The current password is wrong.")]})
    _check_new_password(new_password)
    if current_password == new_password:
        raise AppError("validation_failed", errors={"new_password": [
            _("The new password must differ from the current one.")]})
    user.set_password(new_password)
    ended = sessions.revoke_user_sessions(user, "password", keep_current=True)
    # Never a hash in the log: what changed is the password and the sessions it ended.
    record_audit(user, "user.password_change", user, county_id=user.county_id,
                 sessions_ended=ended, before={"password": "old", "other_sessions": ended},
                 after={"password": "new", "other_sessions": 0})
    db.session.commit()


def reset_password(actor: User, target: User) -> str:
    """A new random password for someone who forgot theirs, shown once to the staff
    member; every session of the target ends."""
    policy.authorize(actor, "manage_account", target)
    password = secrets.token_urlsafe(8)
    target.set_password(password)
    ended = sessions.revoke_user_sessions(target, "reset")
    record_audit(actor, "user.password_reset", target, county_id=target.county_id,
                 sessions_ended=ended, before={"password": "old", "sessions": ended},
                 after={"password": "reset", "sessions": 0})
    db.session.commit()
    return password


def account_state(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "county_id": user.county_id,
            "secretary_id": user.secretary_id, "is_active": user.is_active_account}


def update_user(actor: User, target: User, changes: dict[str, Any]) -> User:
    """Edit an account: name and active state (admins, and county staff for their
    county's field accounts); role and county (admins). Deactivation ends every session."""
    policy.authorize(actor, "manage_account", target)
    if {"role", "county_id"} & set(changes):
        policy.authorize(actor, "change_role", target)
    if changes.get("is_active") is False and target.id == actor.id:
        raise AppError("validation_failed", errors={"is_active": [
            _("You cannot deactivate your own account.")]})
    before = account_state(target)
    if "name" in changes:
        if not (changes["name"] or "").strip():
            raise AppError("validation_failed", errors={"name": [_("Required.")]})
        target.name = changes["name"].strip()
    if "role" in changes or "county_id" in changes:
        _change_role(target, changes.get("role", target.role),
                     changes.get("county_id", target.county_id))
    if "is_active" in changes:
        target.is_active_account = bool(changes["is_active"])
        if not target.is_active_account:
            sessions.revoke_user_sessions(target, "deactivated")
    after = account_state(target)
    if after != before:
        record_audit(actor, "user.update", target, county_id=target.county_id or before["county_id"],
                     before=before, after=after)
    db.session.commit()
    return target


def _change_role(target: User, role: str, county_id: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [_("Unknown role.")]
    elif role == SECRETARY_ROLE and target.secretary_id is None:
        errors["role"] = [_("A first secretary's account is created from the roster.")]
    elif role != SECRETARY_ROLE and target.secretary_id is not None:
        errors["role"] = [_("This account belongs to a first secretary.")]
    if role in COUNTY_ROLES and (
            county_id is None or db.session.get(County, county_id) is None):
        errors["county_id"] = [_("Required for this role.")]
    if errors:
        raise AppError("validation_failed", errors=errors)
    target.role = role
    target.county_id = county_id if role in COUNTY_ROLES or role == SECRETARY_ROLE else None
