"""The daily check-in burst: N secretaries, each with its own session, posting check-ins
to gunicorn for 30 s; the baseline is bench/minimal_app.py storing the same check-in
under the same gunicorn. PostgreSQL at 2 workers (goal: >= 1,000/s, p99 < 200 ms, 0
errors); SQLite, the embedded default, at 4 workers (goal: 0 errors, no "database is
locked")."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from bench.generate import PASSWORD
from bench.harness import Context, Measurement, figure, gunicorn
from bench.loadgen import Secretary, run_burst


def secretaries(url: str, n: int) -> list[Secretary]:
    """N serving secretaries spread over the counties, with their village centres."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.phone, v.lat, v.lon, s.id, v.id, u.id FROM user_account u "
            "JOIN first_secretary s ON s.id = u.secretary_id JOIN village v ON v.id = s.village_id "
            "WHERE u.role = 'secretary' ORDER BY (s.id * 7919) % 1000003, s.id LIMIT :n"),
            {"n": n}).all()
    engine.dispose()
    return [Secretary(phone, lat, lon, f"{sid}:{vid}:{uid}") for phone, lat, lon, sid, vid, uid in rows]


def _forget_burst(url: str, since_id: int) -> None:
    """Keep the bench database as generated: drop the check-ins the burst added."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM client_record WHERE type = 'checkin' AND object_id > :i"),
                     {"i": since_id})
        conn.execute(text("DELETE FROM checkin WHERE id > :i"), {"i": since_id})
    engine.dispose()


def _max_checkin(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        top = conn.execute(text("SELECT COALESCE(max(id), 0) FROM checkin")).scalar_one()
    engine.dispose()
    return top


def burst(ctx: Context, workers: int, clients: int) -> Measurement:
    people = secretaries(ctx.url, clients)
    seconds = ctx.seconds(30.0, quick=1.0)
    warmup = 0.0 if ctx.quick else 3.0  # quick (CI smoke): every request counts, however slow the machine
    top = _max_checkin(ctx.url)
    try:
        with gunicorn("fieldapp:create_app()", ctx.url, workers) as server:
            app = run_burst(server.port, people, seconds, password=PASSWORD, warmup=warmup)
        with gunicorn("bench.minimal_app:app", ctx.url, workers) as server:
            base = run_burst(server.port, people, seconds, password=None, warmup=warmup)
    finally:
        _forget_burst(ctx.url, top)
    a, b = app.summary(), base.summary()
    if ctx.dialect == "postgresql":
        goal = ">= 1,000/s on 2 cores, p99 < 200 ms, 0 errors"
        met = a["per_second"] >= 1000 and a["p99_ms"] < 200 and a["errors"] == 0
    else:
        goal = "0 errors (no 'database is locked')"
        met = a["errors"] == 0
    return Measurement(
        value=a["per_second"], baseline=b["per_second"], unit="check-ins/s", ratio_kind="share",
        goal=goal, met=met,
        details={"workers": workers, "clients": clients, "seconds": seconds,
                 "fieldapp": a, "baseline": b})


@figure("checkin_burst_pg", "check-in burst, gunicorn 2 workers, PostgreSQL",
        dialects=("postgresql",))
def checkin_burst_pg(ctx: Context) -> Measurement:
    return burst(ctx, workers=2, clients=4 if ctx.quick else 64)


@figure("checkin_burst_sqlite", "check-in burst, gunicorn 4 workers, SQLite",
        dialects=("sqlite",))
def checkin_burst_sqlite(ctx: Context) -> Measurement:
    return burst(ctx, workers=4, clients=4 if ctx.quick else 64)
