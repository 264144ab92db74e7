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
