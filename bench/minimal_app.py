"""The baseline of the check-in burst: the least a WSGI app can do to store the same
check-in — parse the JSON, insert the check-in row and its sync-ledger row in one
transaction, answer JSON. No framework, no session, no validation, no flags.

The load generator names the secretary in `X-Bench-Secretary: secretary:village:user`.
Serve it exactly like the app:  gunicorn -w 2 bench.minimal_app:app  (DATABASE_URL set).
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import make_url

_conn = None
SQL = ("INSERT INTO checkin (client_uuid, secretary_id, village_id, user_id, at, day, lat, lon, "
       "accuracy_m, geo_at, via_qr, token_valid, device_sent_at, received_at, flags) "
       "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {f}, {t}, {p}, {p}, '[]')")
LEDGER = ("INSERT INTO client_record (uuid, type, user_id, content_hash, object_id, received_at) "
          "VALUES ({p}, 'checkin', {p}, {p}, {p}, {p})")


def _connect():
    url = make_url(os.environ["DATABASE_URL"])
    if url.get_backend_name() == "postgresql":
        import psycopg

        conn = psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                               user=url.username or "postgres", password=url.password,
                               dbname=url.database)
        return conn, "%s", "false", "true", " RETURNING id"
    import sqlite3

    conn = sqlite3.connect(url.database, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn, "?", "0", "1", ""


def app(environ, start_response):
    global _conn
    if _conn is None:
        _conn = _connect()
    conn, p, false, true, returning = _conn
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size))
    secretary, village, user = (int(x) for x in environ["HTTP_X_BENCH_SECRETARY"].split(":"))
    now = datetime.now(timezone.utc)
    try:
        results = _store(conn, p, false, true, returning, body, secretary, village, user, now)
    except Exception:
        conn.rollback()
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]
    out = json.dumps({"results": results, "server_time": now.isoformat()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(out)))])
    return [out]


def _store(conn, p, false, true, returning, body, secretary, village, user, now):
    sqlite = p == "?"
    results = []
    for record in body["records"]:
        payload = record["payload"]
        at = datetime.fromisoformat(payload["at"])
        geo = payload["geo"]
        day = (at + timedelta(hours=8)).date().isoformat()
        stamp = (lambda d: d.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ")) \
            if sqlite else (lambda d: d)
        cur = conn.execute(SQL.format(p=p, f=false, t=true) + returning, (
            record["uuid"], secretary, village, user, stamp(at), day, geo["lat"], geo["lon"],
            geo["accuracy"], stamp(at), stamp(now), stamp(now)))
        row_id = cur.lastrowid if sqlite else cur.fetchone()[0]
        conn.execute(LEDGER.format(p=p), (record["uuid"], user, "0" * 64, row_id, stamp(now)))
        results.append({"uuid": record["uuid"], "status": "stored", "id": row_id})
    conn.commit()
    return results
