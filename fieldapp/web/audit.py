"""Staff page: the audit log, filtered by who, what, county and date."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request

from ..api.common import paginate
from .. import policy
from ..auth import actor, requires
from ..services import audit_log

bp = Blueprint("audit_web", __name__)
PER_PAGE = 100


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/staff/audit")
@requires("read_audit")
def audit_page():
    me = actor()
    filters = {"actor_id": request.args.get("actor_id", type=int),
               "action": request.args.get("action") or None,
               "county_id": (request.args.get("county_id", type=int)
                             if policy.can(me, "read_audit", policy.CITY) else None),
               "since": _day("since"), "until": _day("until")}
    page = max(request.args.get("page", 1, type=int), 1)
    items, total = paginate(audit_log.audit_query(me, **filters), {"page": page, "per_page": PER_PAGE})
    return render_template(
        "staff/audit.html", entries=audit_log.entry_views(list(items)), total=total,
        filters=filters, page=page, pages=(total + PER_PAGE - 1) // PER_PAGE,
        actors=audit_log.actor_choices(me), counties=audit_log.county_choices(me),
        families=audit_log.FAMILY_LABELS,
        query={k: v for k, v in request.args.items() if k != "page"})
