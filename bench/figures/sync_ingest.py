"""Sync ingest: several evaluators, each with its own session, sending batches of 20 new
visits (fresh UUIDs) to fieldapp under gunicorn, in visits/s; the baseline is the same
rows (each visit with its answers, and its ledger row) inserted with a DB-API
`executemany` per table and batch, one transaction per batch, from as many concurrent
connections. Goal (issue 13): >= 0.5 of the baseline, on SQLite and PostgreSQL.

The generated city has every sampled household visited: for the run, the households the
batches name are set back to `pending`; afterwards the new visits and ledger rows are
deleted and the households marked `visited` again, so the bench data stays as generated.
"""
from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url

from bench.generate import PASSWORD, YEAR
from bench.harness import Context, Measurement, figure, gunicorn
from bench.loadgen import Http, Secretary, login

BATCH = 20
BASELINE_RUNS = 3  # the median is reported
ITEMS = {"visited_home": "satisfied", "assistance_satisfaction": "satisfied",
         "policy_delivered": "basically_satisfied", "income_improved": "unknown",
         "overall_satisfaction": "satisfied", "respondent_family_members": 3}


@dataclass
class Evaluator:
    phone: str
    user_id: int
    # (sample entry id, token, village id, village lat, village lon, cycle id)
    entries: list[tuple] = field(default_factory=list)
    batches: list[list[dict]] = field(default_factory=list)  # sync records


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _visit(entry: tuple, n: int, day: datetime, rng: random.Random) -> dict:
    _eid, token, _vid, lat, lon, _cycle = entry
    started = day + timedelta(minutes=30 * n)
    ended = started + timedelta(minutes=rng.randint(8, 25))
    fix_lat, fix_lon = lat + rng.uniform(-0.003, 0.003), lon + rng.uniform(-0.003, 0.003)
    geo = {"lat": round(fix_lat, 6), "lon": round(fix_lon, 6),
           "accuracy": round(rng.uniform(5, 30), 1)}
    return {"uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)), "type": "visit",
            "payload": {"sample_token": token, "instrument_id": "household_visit",
                        "instrument_version": 1, "answers": dict(ITEMS), "note": "户主在家。",
                        "started_at": _iso(started), "ended_at": _iso(ended),
                        "geo_start": {**geo, "at": _iso(started)},
                        "geo_end": {**geo, "at": _iso(ended)}, "geo_error": None}}


def plan(url: str, clients: int, batches: int, seed: str) -> list[Evaluator]:
    """`clients` evaluators (spread over the counties) with `batches` + 1 batches of 20 of
    their sampled households each (the first batch warms the workers up, not counted)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        people = conn.execute(text(
            "SELECT u.phone, u.id FROM user_account u WHERE u.role = 'evaluator' "
            "AND u.is_active_account ORDER BY u.county_id, u.id")).all()
        step = max(1, len(people) // clients)
        chosen = [Evaluator(phone, uid) for phone, uid in people[::step][:clients]]
        for ev in chosen:
            ev.entries = [tuple(r) for r in conn.execute(text(
                "SELECT e.id, e.token, v.id, v.lat, v.lon, a.cycle_id FROM evaluator_assignment a "
                "JOIN village v ON v.id = a.village_id "
                "JOIN sample_entry e ON e.village_id = v.id AND e.role = 'sample' "
                "JOIN village_draw vd ON vd.id = e.village_draw_id AND vd.status = 'active' "
                "WHERE a.user_id = :u ORDER BY v.id, e.rank"), {"u": ev.user_id})]
    engine.dispose()
    rng = random.Random(f"sync-ingest-{seed}")
    for k, ev in enumerate(chosen):
        need = BATCH * (batches + 1)
        if len(ev.entries) < need:
            raise RuntimeError(f"evaluator {ev.phone}: {len(ev.entries)} households, {need} needed")
        ev.entries = ev.entries[:need]
        for b in range(batches + 1):
            day = datetime(YEAR, 9, 1, 1, 0, tzinfo=timezone.utc) + timedelta(days=b, minutes=k)
            ev.batches.append([_visit(e, n, day, rng)
                               for n, e in enumerate(ev.entries[b * BATCH:(b + 1) * BATCH])])
    return chosen


def _entry_ids(evaluators: list[Evaluator]) -> list[int]:
    return [e[0] for ev in evaluators for e in ev.entries]


def _set_entries(url: str, ids: list[int], status: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sample_entry SET status = :s WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"s": status, "ids": ids})
    engine.dispose()


def _max_visit(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        top = conn.execute(text("SELECT COALESCE(max(id), 0) FROM visit")).scalar_one()
    engine.dispose()
    return top


def _forget(url: str, since_id: int, uuids: list[str]) -> None:
    """Keep the bench database as generated: drop the visits and ledger rows of the run."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for i in range(0, len(uuids), 500):
            conn.execute(text("DELETE FROM client_record WHERE uuid IN :u").bindparams(
                bindparam("u", expanding=True)), {"u": uuids[i:i + 500]})
        conn.execute(text("DELETE FROM visit WHERE id > :i"), {"i": since_id})
    engine.dispose()


# --- fieldapp: batches through POST /api/sync ---------------------------------------------


async def _send(http: Http, headers: dict[str, str], records: list[dict]) -> bool:
    body = {"device_sent_at": datetime.now(timezone.utc).isoformat(), "records": records}
    status, _h, payload = await http.request("POST", "/api/sync", body, headers)
    if status != 200:
        return False
    results = json.loads(payload)["results"]
    return len(results) == len(records) and all(r["status"] == "stored" for r in results)


async def _clients(port: int, evaluators: list[Evaluator]) -> tuple[float, int, int]:
    sessions = []
    for ev in evaluators:
        http = Http("127.0.0.1", port, 120.0)
        token = await login(http, Secretary(ev.phone, 0.0, 0.0), PASSWORD)
        sessions.append((http, {"X-CSRFToken": token}))
    warm = await asyncio.gather(*(_send(h, hd, ev.batches[0])
                                  for ev, (h, hd) in zip(evaluators, sessions)))
    counts = {"ok": 0, "failed": len(warm) - sum(warm)}

    async def run(ev: Evaluator, http: Http, headers: dict[str, str]) -> None:
        for records in ev.batches[1:]:
            ok = await _send(http, headers, records)
            counts["ok" if ok else "failed"] += 1

    started = time.monotonic()
    await asyncio.gather(*(run(ev, h, hd) for ev, (h, hd) in zip(evaluators, sessions)))
    elapsed = time.monotonic() - started
    for http, _hd in sessions:
        await http.close()
    return elapsed, counts["ok"], counts["failed"]


# --- the baseline: the same rows, DB-API executemany ---------------------------------------

VISIT_COLUMNS = ("id", "client_uuid", "sample_entry_id", "village_id", "cycle_id",
                 "evaluator_id", "instrument_id", "instrument_version", "answers", "note",
                 "started_at", "ended_at", "lat", "lon", "accuracy_m", "geo_at", "geo_start",
                 "geo_end", "geo_error", "device_sent_at", "received_at", "flags",
                 "review_status")
LEDGER_COLUMNS = ("uuid", "type", "user_id", "content_hash", "object_id", "received_at")


def _connect(url: str):
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        import psycopg

        return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432,
                               user=u.username or "postgres", password=u.password,
                               dbname=u.database), "%s"
    import sqlite3

    # BEGIN IMMEDIATE (below): a writer waits for the lock in the busy handler instead of
    # failing on a stale read snapshot.
    conn = sqlite3.connect(u.database, timeout=30, check_same_thread=False, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    return conn, "?"


def _stamp(value: str, dialect: str) -> str:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    fmt = "%Y-%m-%d %H:%M:%S.%f+00" if dialect == "postgresql" else "%Y-%m-%d %H:%M:%S.%f"
    return at.astimezone(timezone.utc).strftime(fmt)


def _rows(ev: Evaluator, records: list[dict], first_id: int, dialect: str
          ) -> tuple[list[tuple], list[tuple]]:
    now = _stamp(datetime.now(timezone.utc).isoformat(), dialect)
    visits, ledger = [], []
    by_token = {e[1]: e for e in ev.entries}
    for n, rec in enumerate(records):
        p = rec["payload"]
        eid, _t, vid, _la, _lo, cycle = by_token[p["sample_token"]]
        g = p["geo_end"]
        visit_id = first_id + n
        visits.append((visit_id, rec["uuid"], eid, vid, cycle, ev.user_id, p["instrument_id"],
                       p["instrument_version"], json.dumps(p["answers"], ensure_ascii=False),
                       p["note"], _stamp(p["started_at"], dialect), _stamp(p["ended_at"], dialect),
                       g["lat"], g["lon"], g["accuracy"], _stamp(g["at"], dialect),
                       json.dumps(p["geo_start"]), json.dumps(g), None, now, now, "[]",
                       "pending"))
        ledger.append((rec["uuid"], "visit", ev.user_id, "0" * 64, visit_id, now))
    return visits, ledger


def _baseline(url: str, dialect: str, evaluators: list[Evaluator], first_id: int
              ) -> tuple[float, list[str]]:
    """Every evaluator's measured batches, one connection (thread) per evaluator."""
    conns = [_connect(url) for _ in evaluators]
    work = []
    uuids: list[str] = []
    for k, ev in enumerate(evaluators):
        batches = []
        for b, records in enumerate(ev.batches[1:]):
            batches.append(_rows(ev, records, first_id + (k * 1000 + b) * BATCH, dialect))
            uuids += [r["uuid"] for r in records]
        work.append(batches)
    mark = conns[0][1]
    visit_sql = (f"INSERT INTO visit ({', '.join(VISIT_COLUMNS)}) "
                 f"VALUES ({', '.join(mark for _ in VISIT_COLUMNS)})")
    ledger_sql = (f"INSERT INTO client_record ({', '.join(LEDGER_COLUMNS)}) "
                  f"VALUES ({', '.join(mark for _ in LEDGER_COLUMNS)})")
    start = threading.Barrier(len(evaluators) + 1)
    errors: list[BaseException] = []

    def one(conn, batches) -> None:
        start.wait()
        try:
            for visits, ledger in batches:
                cur = conn.cursor()
                if dialect == "sqlite":
                    cur.execute("BEGIN IMMEDIATE")
                cur.executemany(visit_sql, visits)
                cur.executemany(ledger_sql, ledger)
                conn.commit()
        except BaseException as exc:  # noqa: BLE001  (re-raised below, in the caller)
            conn.rollback()
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(c, b)) for (c, _m), b in zip(conns, work)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    for conn, _m in conns:
        conn.close()
    if errors:
        raise RuntimeError(f"baseline: {errors[0]!r}") from errors[0]
    return elapsed, uuids


def ingest(ctx: Context, workers: int, clients: int, batches: int) -> Measurement:
    evaluators = plan(ctx.url, clients, batches, str(time.time_ns()))
    ids = _entry_ids(evaluators)
    uuids = [r["uuid"] for ev in evaluators for b in ev.batches for r in b]
    top = _max_visit(ctx.url)
    _set_entries(ctx.url, ids, "pending")
    try:
        with gunicorn("fieldapp:create_app()", ctx.url, workers) as server:
            app_s, ok, failed = asyncio.run(_clients(server.port, evaluators))
        runs = []
        for _ in range(1 if ctx.quick else BASELINE_RUNS):  # it lasts a fraction of a second
            _forget(ctx.url, top, uuids)  # the baseline stores the very same rows again
            runs.append(_baseline(ctx.url, ctx.dialect, evaluators, top + 10_000_000)[0])
        base_s = sorted(runs)[len(runs) // 2]
    finally:
        _forget(ctx.url, top, uuids)
        _set_entries(ctx.url, ids, "visited")
    visits = clients * batches * BATCH
    app_rate = ok * BATCH / app_s
    base_rate = visits / base_s
    return Measurement(
        value=app_rate, baseline=base_rate, unit="visits/s", ratio_kind="share",
        goal=">= 0.5 of raw executemany", met=failed == 0 and app_rate >= 0.5 * base_rate,
        details={"workers": workers, "clients": clients, "batches_per_client": batches,
                 "batch": BATCH, "app_s": round(app_s, 2), "baseline_s": round(base_s, 3),
                 "baseline_runs_s": [round(r, 3) for r in runs],
                 "failed_batches": failed,
                 "app_ms_per_batch": round(app_s / max(1, ok) * clients * 1e3, 1)})


@figure("sync_ingest", "sync ingest, batches of 20 visits, several clients, gunicorn 2 workers")
def sync_ingest(ctx: Context) -> Measurement:
    if ctx.quick:
        return ingest(ctx, workers=2, clients=2, batches=1)
    return ingest(ctx, workers=2, clients=8, batches=5)
