"""Listings issue a fixed number of queries, however many rows they return (no N+1)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from fieldapp.extensions import db


@contextmanager
def count_queries(app):
    counts = {"n": 0}
    with app.app_context():
        engine = db.engine

    def before(*_args, **_kwargs):
        counts["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", before)


def queries_for(app, client, path: str) -> int:
    with count_queries(app) as counts:
        assert client.get(path).status_code == 200
    return counts["n"]


def test_listings_do_not_query_per_row(app, login_as, personas):
    admin = login_as("admin")
    for path in ("/api/villages?per_page=1", "/api/households?per_page=1",
                 "/api/secretaries?per_page=1"):
        one = queries_for(app, admin.client, path)
        many = queries_for(app, admin.client, path.replace("per_page=1", "per_page=100"))
        assert many == one, f"{path}: {one} queries for 1 row, {many} for many"


# --- the check-in request (the daily burst) ---------------------------------------------

CHECKIN_STATEMENTS = 8  # user, ledger, secretary+village, cycle, window, spot, 2 inserts


def _checkin_statements(app, sec, at, lat, lon) -> int:
    from .residency_helpers import checkin_record, sync

    with count_queries(app) as counts:
        response = sync(sec, checkin_record(at.isoformat(), lat, lon, 12.5))
    assert response.status_code == 200, response.get_json()
    return counts["n"]


def test_a_checkin_request_issues_a_fixed_handful_of_statements(app, login_as, personas):
    """However long the secretary's history: no per-row statements, no whole-series reload."""
    from datetime import datetime, timedelta, timezone

    from .residency_helpers import checkin_record, sync

    sec = login_as("secretary_a")
    village = personas.villages["a1"]
    start = datetime.now(timezone.utc) - timedelta(days=200)
    short = _checkin_statements(app, sec, start, village.lat, village.lon)
    history = [checkin_record((start + timedelta(days=d, hours=1)).isoformat(),
                              village.lat + d * 1e-5, village.lon, 10.0 + d % 7)
               for d in range(1, 150)]
    for i in range(0, len(history), 50):
        assert sync(sec, *history[i:i + 50]).status_code == 200
    long = _checkin_statements(app, sec, start + timedelta(days=160), village.lat, village.lon)
    assert long == short, (short, long)
    assert long <= CHECKIN_STATEMENTS
