"""The household-level visits export (CSV) through gunicorn, against the database's own
bulk export of the same rows in the same order: `COPY (SELECT ...) TO STDOUT` on
PostgreSQL, a raw cursor into csv.writer on SQLite. Goal: >= 50% of COPY's rows/s and
<= 150 MB peak RSS of the worker that streams it (national scale: 4M visits)."""
from __future__ import annotations

import csv
import http.client
import io
import json
import time

from sqlalchemy.engine import make_url

from bench.harness import Context, Measurement, figure, gunicorn, rss_mb

ADMIN_PHONE = "13800000000"
SAME_ROWS = (
    "SELECT c.name, t.name, v.code, v.name, h.household_no, h.head_name, h.id_number, se.role, "
    "vi.started_at, vi.instrument_id, vi.instrument_version, vi.answers, vi.flags, vi.note "
    "FROM visit vi JOIN sample_entry se ON vi.sample_entry_id = se.id "
    "JOIN village_draw vd ON se.village_draw_id = vd.id JOIN draw d ON vd.draw_id = d.id "
    "JOIN household h ON se.household_id = h.id JOIN village v ON vi.village_id = v.id "
    "JOIN town t ON v.town_id = t.id JOIN county c ON c.id = v.county_id "
    "WHERE vi.cycle_id = 1 AND d.status = 'active' "
    "ORDER BY v.county_id, v.code, h.household_no, vi.id")


def _login(port: int, phone: str, password: str) -> dict[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/auth/csrf")
    r = conn.getresponse()
    cookie = r.getheader("Set-Cookie").split(";", 1)[0]
    token = json.loads(r.read())["csrf_token"]
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/auth/login", json.dumps({"phone": phone, "password": password}),
                 {"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": cookie})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"admin login: {r.status} {body[:200]!r}")
    cookies = [c.split(";", 1)[0] for c in r.headers.get_all("Set-Cookie")]
    conn.close()
    return {"Cookie": "; ".join(cookies)}


def download(port: int, path: str, headers: dict[str, str]) -> dict[str, float]:
    """Stream a download to nowhere: seconds, first byte, bytes and lines."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"export: {r.status} {r.read()[:300]!r}")
    first = None
    size = lines = 0
    while True:
        chunk = r.read(1 << 18)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
        lines += chunk.count(b"\n")
    conn.close()
    return {"seconds": time.perf_counter() - start, "first_byte_s": first or 0.0,
            "bytes": size, "rows": lines - 1}


def copy_baseline(url: str) -> dict[str, float]:
    """The database's own export of the same rows: COPY ... TO STDOUT (PostgreSQL)."""
    import psycopg

    u = make_url(url)
    start = time.perf_counter()
    size = lines = 0
    with psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432,
                         user=u.username or "postgres", password=u.password,
                         dbname=u.database) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY ({SAME_ROWS}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                size += len(block)
                lines += bytes(block).count(b"\n")
    return {"seconds": time.perf_counter() - start, "bytes": size, "rows": lines - 1}


def cursor_baseline(url: str) -> dict[str, float]:
    """SQLite has no COPY: a raw cursor of the same rows into csv.writer."""
    import sqlite3

    start = time.perf_counter()
    conn = sqlite3.connect(make_url(url).database)
    out = io.StringIO()
    writer = csv.writer(out)
    rows = size = 0
    cur = conn.execute(SAME_ROWS)
    while True:
        batch = cur.fetchmany(5000)
        if not batch:
            break
        writer.writerows(batch)
        rows += len(batch)
        size += len(out.getvalue().encode())
        out.seek(0)
        out.truncate()
    conn.close()
    return {"seconds": time.perf_counter() - start, "bytes": size, "rows": rows}


@figure("visits_export", "visits CSV export (household answers)")
def visits_export(ctx: Context) -> Measurement:
    from bench.generate import PASSWORD

    with gunicorn("fieldapp:create_app()", ctx.url, 1, timeout=3600) as server:
        headers = _login(server.port, ADMIN_PHONE, PASSWORD)
        worker = server.worker_pids()[0]
        before = rss_mb(worker)
        app = download(server.port, "/api/scores/export?cycle_id=1&kind=households&format=csv",
                       headers)
        peak = rss_mb(worker, "VmHWM")
    base = copy_baseline(ctx.url) if ctx.dialect == "postgresql" else cursor_baseline(ctx.url)
    if base["rows"] != app["rows"]:
        raise AssertionError(f"row counts differ: app {app['rows']}, baseline {base['rows']}")
    rate, base_rate = app["rows"] / app["seconds"], base["rows"] / base["seconds"]
    return Measurement(
        value=rate, baseline=base_rate, unit="rows/s", ratio_kind="share",
        goal=">= 0.5 of COPY's rows/s, <= 150 MB peak RSS",
        met=rate >= 0.5 * base_rate and peak <= 150,
        details={"rows": app["rows"], "fieldapp_s": round(app["seconds"], 2),
                 "first_byte_s": round(app["first_byte_s"], 2),
                 "fieldapp_MB_per_s": round(app["bytes"] / app["seconds"] / 1e6, 1),
                 "baseline_s": round(base["seconds"], 2),
                 "worker_rss_before_MB": round(before), "worker_peak_rss_MB": round(peak),
                 "baseline": "COPY TO STDOUT" if ctx.dialect == "postgresql" else "raw cursor + csv"})
