"""Numbers for the staff home page, scoped to the acting user."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import FirstSecretary, Household, User, Village
from ..scoping import scoped


def county_overview(user: User) -> dict[str, int]:
    def count(model) -> int:
        stmt = scoped(select(func.count()).select_from(model), user, model)
        return db.session.scalar(stmt) or 0

    return {"villages": count(Village), "households": count(Household),
            "secretaries": count(FirstSecretary)}
