"""Accounts: authentication with throttling, and user creation within one's scope."""
from __future__ import annotations

import re

from sqlalchemy import select

from .. import security
from ..audit import record_audit
from ..errors import AppError
from ..extensions import db
from ..models import ROLES, County, FirstSecretary, User
from flask_babel import gettext as _

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD = 8


def authenticate(phone: str, password: str, ip: str | None) -> User:
    phone = (phone or "").strip()
    if security.is_throttled(phone, ip):
        raise AppError("too_many_attempts")
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None or not user.is_active or not user.check_password(password or ""):
        security.record_failure(phone, ip)
        raise AppError("invalid_credentials")
    security.record_success(phone)
    return user


def create_user(actor: User | None, *, phone: str, name: str, password: str, role: str,
                county: County | None = None, secretary: FirstSecretary | None = None) -> User:
    """Create an account. `actor` None means the command line (trusted operator).

    County staff may create evaluator accounts for their own county only.
    """
    errors: dict[str, list[str]] = {}
    if not PHONE_RE.match(phone or ""):
        errors["phone"] = [_("Enter an 11-digit mobile number.")]
    if not (name or "").strip():
        errors["name"] = [_("Required.")]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [_("At least %(n)d characters.", n=MIN_PASSWORD)]
    if role not in ROLES:
        errors["role"] = [_("Unknown role.")]
    if role in ("county_staff", "evaluator") and county is None:
        errors["county"] = [_("Required for this role.")]
    if role == "secretary" and secretary is None:
        errors["secretary"] = [_("Required for this role.")]
    if errors:
        raise AppError("validation_failed", errors=errors)
    if actor is not None:
        if actor.role == "county_staff":
            if role != "evaluator" or county is None or county.id != actor.county_id:
                raise AppError("forbidden")
        elif actor.role != "admin":
            raise AppError("forbidden")
    if db.session.scalar(select(User.id).where(User.phone == phone)):
        raise AppError("conflict", errors={"phone": [_("This phone number already has an account.")]})
    if secretary is not None and county is None:
        county = secretary.village.county
    user = User(phone=phone, name=name.strip(), role=role,
                county_id=county.id if county is not None else None,
                secretary_id=secretary.id if secretary is not None else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", user, county_id=user.county_id, role=role, phone=phone)
    db.session.commit()
    return user


def create_secretary_accounts(actor: User | None, county: County) -> list[tuple[User, str]]:
    """Give every active first secretary of `county` without an account one, logging in
    with the mobile number from the roster and a random initial password (shown once).

    Returns [(user, initial_password)]. Secretaries whose phone already has an account
    (e.g. the same person in another role) are skipped.
    """
    import secrets

    from ..models import Village
    from ..scoping import require_county

    if actor is not None:
        require_county(actor, county.id)
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
        user = User(phone=secretary.phone, name=secretary.name, role="secretary",
                    county_id=county.id, secretary_id=secretary.id)
        user.set_password(password)
        db.session.add(user)
        taken.add(secretary.phone)
        created.append((user, password))
    db.session.flush()
    record_audit(actor, "user.create_secretaries", None, county_id=county.id,
                 count=len(created))
    db.session.commit()
    return created
