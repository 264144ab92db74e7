"""Deterministic benchmark data at three scales, written the fast way.

    python -m bench.generate --scale city --url postgresql+psycopg://postgres@127.0.0.1:5432/fieldapp_bench_city
    python -m bench.generate --scale tiny --url sqlite:////tmp/bench.db

The database is dropped and rebuilt by the Alembic migrations (never create_all), then
filled through COPY (PostgreSQL) or executemany in large chunks (SQLite). Ids are assigned
here, so no row needs a round trip; sequences are moved past them at the end.

Scales (`SCALES`): `city` is Baoji as the article describes it (12 districts and
counties, 800 villages, ~52,700 registered households, 797 first secretaries); `province`
~10k villages; `nation` 200k villages, 4M visits and 60M check-ins, stopped when the time
budget (30 min by default) runs out — the summary says how many rows were written. `tiny`
is the CI smoke size. Every row comes from seeded RNGs: two runs write the same data.

What is written: the geography, households, secretaries and their accounts, county staff,
evaluators with assignments, one city-wide cycle (2026) with an active draw per county
(keys and ranks from the real algorithm), a visit per sampled household with answers, a
year of daily check-ins per secretary, one closed meeting with ballots and a scorecard
entry per secretary, and the sync ledger rows for visits and check-ins. Not written:
ballot tokens, replacements, leave, spot checks (no current figure reads them).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fieldapp.domain import sampling as ds
from fieldapp.domain.idcard import check_char

UTC = timezone.utc
YEAR = 2026
PASSWORD = "bench-pass-1"  # every generated account (the load generator logs in with it)
SEED = 20161
CHUNK = 20_000  # rows per executemany / COPY write


@dataclass(frozen=True)
class Scale:
    name: str
    cities: int
    counties_per_city: int  # ignored for the city scale (Baoji's own 12)
    villages_per_county: int  # ignored for the city scale
    towns_per_county: int
    mean_households: int  # registered households per village (Baoji: ~66)
    secretary_share: float  # villages with a first secretary (Baoji: 797 of 800)
    checkins_per_secretary: int  # daily check-ins in the year so far
    ballots_per_meeting: int
    visits_per_village: int = 20
    sample_size: int = 20
    reserve_count: int = 5


SCALES = {
    "tiny": Scale("tiny", 1, 2, 4, 2, 30, 1.0, 25, 8),
    "city": Scale("city", 1, 12, 0, 8, 64, 797 / 800, 300, 30),
    "province": Scale("province", 10, 12, 84, 8, 66, 1.0, 300, 30),
    "nation": Scale("nation", 250, 8, 100, 8, 66, 1.0, 300, 20),
}


# --- writing --------------------------------------------------------------------------


class Writer:
    """Rows of Python values into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str):
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.counts: dict[str, int] = {}
        if self.dialect == "postgresql":
            import psycopg

            u = make_url(url)
            self.conn = psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432,
                                        user=u.username or "postgres", password=u.password,
                                        dbname=u.database)
        else:
            import sqlite3

            self.conn = sqlite3.connect(make_url(url).database)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")

    def ts(self, value: datetime) -> str:
        """A UTC timestamp as the app stores it (SQLite: naive UTC text)."""
        if self.dialect == "postgresql":
            return value.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              deadline: float | None = None) -> int:
        n = 0
        if self.dialect == "postgresql":
            with self.conn.cursor() as cur, cur.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buf: list[str] = []
                for row in rows:
                    buf.append("\t".join(_pg_text(v) for v in row))
                    n += 1
                    if len(buf) >= CHUNK:
                        copy.write("\n".join(buf) + "\n")
                        buf.clear()
                        if deadline is not None and time.monotonic() > deadline:
                            break
                if buf:
                    copy.write("\n".join(buf) + "\n")
            self.conn.commit()
        else:
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' for _ in columns)})")
            chunk: list[Sequence[Any]] = []
            for row in rows:
                chunk.append(row)
                n += 1
                if len(chunk) >= CHUNK:
                    self.conn.executemany(sql, chunk)
                    chunk.clear()
                    if deadline is not None and time.monotonic() > deadline:
                        break
            if chunk:
                self.conn.executemany(sql, chunk)
            self.conn.commit()
        self.counts[table] = self.counts.get(table, 0) + n
        return n

    def finish(self, tables: Iterable[str]) -> None:
        """Move sequences past the ids written here; refresh the planner's statistics."""
        if self.dialect == "postgresql":
            with self.conn.cursor() as cur:
                for table in tables:
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
                self.conn.commit()
                self.conn.autocommit = True
                cur.execute("VACUUM ANALYZE")
        else:
            self.conn.execute("ANALYZE")
            self.conn.commit()
        self.conn.close()


def _pg_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                    .replace("\r", "\\r"))
        return value
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _token(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:22]


# --- the plan: geography and people, small enough to keep in memory ----------------------


@dataclass
class VillagePlan:
    id: int
    county_id: int
    code: str
    lat: float
    lon: float
    first_household_id: int
    n_households: int
    secretary_id: int | None = None
    user_id: int | None = None
    evaluator_id: int | None = None
    sampled: list[int] | None = None  # sample entry ids of the drawn sample, by rank


@dataclass
class Plan:
    counties: list[tuple[int, str, str, float, float]]  # id, code, name, lat, lon
    villages: list[VillagePlan]
    staff: dict[int, int]  # county id -> a county_staff user id
    admin_id: int
    cycle_id: int = 1


def _baoji_counties() -> list[tuple[str, str, float, float, int, list[str]]]:
    from fieldapp.services.demo import COUNTIES

    return [(code, name, lat, lon, n, towns.split()) for code, name, lat, lon, n, towns
            in COUNTIES]


def _county_specs(scale: Scale, rng: random.Random):
    if scale.name == "city":
        return _baoji_counties()
    specs = []
    for c in range(scale.cities):
        lat0, lon0 = rng.uniform(22, 46), rng.uniform(86, 126)
        for k in range(scale.counties_per_city):
            code = f"{(c + 11) % 90 + 10:02d}{c // 90 + 1:02d}{k + 1:02d}"
            specs.append((code, f"基准{c + 1}市{k + 1}县", lat0 + rng.uniform(-0.5, 0.5),
                          lon0 + rng.uniform(-0.5, 0.5), scale.villages_per_county,
                          [f"{t + 1}镇" for t in range(scale.towns_per_county)]))
    return specs


def write_geography(w: Writer, scale: Scale, password_hash: str) -> Plan:
    rng = random.Random(f"{SEED}-geography")
    specs = _county_specs(scale, rng)
    w.write("city", ("id", "code", "name"),
            [(1, "6103", "宝鸡市" if scale.name == "city" else f"基准{scale.name}")])
    counties, towns, villages, plans = [], [], [], []
    town_id = village_id = household_id = 0
    for county_id, (code, name, lat, lon, n_villages, town_names) in enumerate(specs, start=1):
        counties.append((county_id, 1, code, name, lat, lon))
        ids = []
        for t, tname in enumerate(town_names):
            town_id += 1
            ids.append(town_id)
            towns.append((town_id, county_id, tname))
        for v in range(n_villages):
            village_id += 1
            vcode = f"{code}{v % len(ids) + 1:03d}{v + 1:03d}"
            vlat, vlon = lat + rng.uniform(-0.15, 0.15), lon + rng.uniform(-0.15, 0.15)
            villages.append((village_id, ids[v % len(ids)], county_id, vcode, f"{vcode[-4:]}村",
                             True, rng.random() < 0.1, round(vlat, 6), round(vlon, 6), 1000,
                             _token("village", vcode)))
            n = max(10, int(rng.gauss(scale.mean_households, 25)))
            plans.append(VillagePlan(village_id, county_id, vcode, vlat, vlon,
                                     household_id + 1, n))
            household_id += n
    w.write("county", ("id", "city_id", "code", "name", "lat", "lon"), counties)
    w.write("town", ("id", "county_id", "name"), towns)
    w.write("village", ("id", "town_id", "county_id", "code", "name", "is_poor_village",
                        "is_weak_branch", "lat", "lon", "radius_m", "checkin_token"), villages)
    w.write("household", ("id", "village_id", "household_no", "head_name", "id_number",
                          "family_size", "attribute", "exit_status", "exit_year", "phone",
                          "lat", "lon"), (h for v in plans for h in _households(v)))
    plan = Plan([(c[0], c[2], c[3], c[4], c[5]) for c in counties], plans, {}, admin_id=1)
    _write_people(w, scale, plan, password_hash, rng)
    return plan


def household_nos(v: VillagePlan) -> list[str]:
    return [f"{v.code}{k:04d}" for k in range(1, v.n_households + 1)]


def _households(v: VillagePlan) -> Iterator[tuple]:
    rng = random.Random(f"{SEED}-households-{v.id}")
    region = v.code[:6]
    for k, no in enumerate(household_nos(v)):
        exited = rng.random() < 0.85
        first17 = f"{region}19{rng.randint(40, 99)}0{rng.randint(1, 9)}{rng.randint(10, 28)}{k % 1000:03d}"
        yield (v.first_household_id + k, v.id, no, f"户主{k + 1}", first17 + check_char(first17),
               rng.randint(1, 7), rng.choice(("general", "general", "low_income", "extreme_poor")),
               "exited" if exited else "not_exited", rng.randint(2016, 2020) if exited else None,
               None, round(v.lat + rng.uniform(-0.006, 0.006), 6),
               round(v.lon + rng.uniform(-0.006, 0.006), 6))


def _write_people(w: Writer, scale: Scale, plan: Plan, password_hash: str,
                  rng: random.Random) -> None:
    created = w.ts(datetime(YEAR, 1, 5, tzinfo=UTC))
    users = [(1, "13800000000", "基准管理员", password_hash, "admin", None, None, True, created)]
    secretaries = []
    user_id = 1
    for county_id, *_rest in plan.counties:
        user_id += 1
        plan.staff[county_id] = user_id
        users.append((user_id, f"138{user_id:08d}", f"县干部{county_id}", password_hash,
                      "county_staff", county_id, None, True, created))
    vacant = round(len(plan.villages) * (1 - scale.secretary_share))  # Baoji: 3 of 800
    skipped = {int((i + 0.5) * len(plan.villages) / vacant) for i in range(vacant)}
    by_county: dict[int, list[VillagePlan]] = {}
    for v in plan.villages:
        by_county.setdefault(v.county_id, []).append(v)
    for county_id, villages in by_county.items():
        evaluators = []
        for _ in range(max(1, len(villages) // 8)):
            user_id += 1
            evaluators.append(user_id)
            users.append((user_id, f"137{user_id:08d}", f"评议员{user_id}", password_hash,
                          "evaluator", county_id, None, True, created))
        for i, v in enumerate(villages):
            v.evaluator_id = evaluators[i % len(evaluators)]
    secretary_id = 0
    for n, v in enumerate(plan.villages):
        if n in skipped:
            continue
        secretary_id += 1
        user_id += 1
        v.secretary_id, v.user_id = secretary_id, user_id
        phone = f"17{secretary_id:09d}"
        secretaries.append((secretary_id, f"书记{secretary_id}", phone,
                            rng.choice(("county", "county", "city", "provincial")), "基准派出单位",
                            v.id, "2025-01-01", None, "active"))
        users.append((user_id, phone, f"书记{secretary_id}", password_hash, "secretary",
                      v.county_id, secretary_id, True, created))
    w.write("first_secretary", ("id", "name", "phone", "dispatch_level", "dispatch_unit",
                                "village_id", "term_start", "term_end", "status"), secretaries)
    w.write("user_account", ("id", "phone", "name", "password_hash", "role", "county_id",
                             "secretary_id", "is_active_account",
                             "created_at"), users)


# --- the cycle: draws, visits, meetings, scorecards ----------------------------------------


def write_cycle(w: Writer, scale: Scale, plan: Plan) -> None:
    opened = datetime(YEAR, 2, 20, tzinfo=UTC)
    w.write("cycle", ("id", "year", "county_id", "status", "settings", "created_at"),
            [(plan.cycle_id, YEAR, None, "open", "{}", w.ts(opened))])
    w.write("evaluator_assignment", ("id", "cycle_id", "user_id", "village_id", "created_at"),
            ((v.id, plan.cycle_id, v.evaluator_id, v.id, w.ts(opened)) for v in plan.villages))
    recorded = datetime(YEAR, 3, 1, 2, 0, tzinfo=UTC)
    w.write("draw", ("id", "cycle_id", "county_id", "algorithm", "seed", "seed_recorded_at",
                     "sample_size", "reserve_count", "include_exited", "status",
                     "created_by_id", "created_at", "public_token"),
            [(cid, plan.cycle_id, cid, ds.ALGORITHM, f"基准种子 {code}", w.ts(recorded),
              scale.sample_size, scale.reserve_count, True, "active", plan.staff[cid],
              w.ts(recorded), _token("draw", code)) for cid, code, *_r in plan.counties])
    w.write("village_draw", ("id", "draw_id", "cycle_id", "village_id", "village_code",
                             "eligible_count", "complete_census", "status"),
            ((v.id, v.county_id, plan.cycle_id, v.id, v.code, v.n_households,
              v.n_households <= scale.sample_size, "active") for v in plan.villages))
    w.write("sample_entry", ("id", "village_draw_id", "village_id", "household_id",
                             "household_no", "hmac_key", "rank", "role", "status", "token"),
            _sample_entries(scale, plan))
    _write_visits(w, scale, plan)
    _write_meetings(w, scale, plan)


def _sample_entries(scale: Scale, plan: Plan) -> Iterator[tuple]:
    """The real draw (keys and ranks) for every village; the sample is marked visited."""
    entry_id = 0
    seeds = {cid: f"基准种子 {code}" for cid, code, *_r in plan.counties}
    for v in plan.villages:
        ids = {no: v.first_household_id + k for k, no in enumerate(household_nos(v))}
        result = ds.draw_village(seeds[v.county_id], v.code, list(ids), scale.sample_size,
                                 scale.reserve_count)
        v.sampled = []
        for r in result.ranked:
            entry_id += 1
            if r.role == "sample":
                v.sampled.append(entry_id)
            status = {"sample": "visited", "reserve": "reserve_unused"}.get(r.role, "unused")
            yield (entry_id, v.id, v.id, ids[r.household_no], r.household_no, r.key, r.rank,
                   r.role, status, _token("entry", entry_id) if r.role != "unused" else None)


VISIT_ITEMS = ("visited_home", "assistance_satisfaction", "policy_delivered",
               "income_improved", "overall_satisfaction")
ANSWERS = ("satisfied", "satisfied", "satisfied", "basically_satisfied", "dissatisfied",
           "unknown")
BALLOT_ITEMS = ("overall", "stays_in_village", "branch_building", "poverty_relief",
                "serving_villagers")
CATEGORIES = ("party_member", "cadre", "villager_rep", "poor_household_rep")


def _write_visits(w: Writer, scale: Scale, plan: Plan) -> None:
    """One visit per sampled household (the entries marked visited) and its ledger row."""
    rng = random.Random(f"{SEED}-visits")
    visits: list[tuple] = []
    ledger: list[tuple] = []
    visit_id = 0
    columns = ("id", "client_uuid", "sample_entry_id", "village_id", "cycle_id", "evaluator_id",
               "instrument_id", "instrument_version", "answers", "note", "started_at",
               "ended_at", "lat", "lon", "accuracy_m", "geo_at", "geo_error",
               "device_sent_at", "received_at", "flags", "review_status")
    for v in plan.villages:
        day = date(YEAR, 4, 1) + timedelta(days=rng.randrange(90))
        for entry_id in (v.sampled or [])[:scale.visits_per_village]:
            visit_id += 1
            started = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC) + timedelta(
                minutes=visit_id % 20 * 25 + rng.randrange(10))
            ended = started + timedelta(minutes=rng.randint(8, 30))
            received = ended + timedelta(hours=rng.randint(1, 10))
            answers = {item: rng.choice(ANSWERS) for item in VISIT_ITEMS}
            if rng.random() < 0.2:
                answers["suggestions"] = "希望多开展技能培训"
            uuid = _uuid(rng)
            visits.append((visit_id, uuid, entry_id, v.id, plan.cycle_id, v.evaluator_id,
                           "household_visit", 1, _json(answers), None, w.ts(started),
                           w.ts(ended), round(v.lat + rng.uniform(-0.005, 0.005), 6),
                           round(v.lon + rng.uniform(-0.005, 0.005), 6),
                           round(rng.uniform(5, 40), 1), w.ts(ended), None, w.ts(received),
                           w.ts(received), "[]", "pending"))
            ledger.append((uuid, "visit", v.evaluator_id, "0" * 64, visit_id, w.ts(received)))
        if len(visits) >= CHUNK:
            w.write("visit", columns, visits)
            _write_ledger(w, ledger)
            visits.clear()
    w.write("visit", columns, visits)
    _write_ledger(w, ledger)


def _write_ledger(w: Writer, rows: list[tuple]) -> None:
    w.write("client_record", ("uuid", "type", "user_id", "content_hash", "object_id",
                              "received_at"), rows)
    rows.clear()


def _write_meetings(w: Writer, scale: Scale, plan: Plan) -> None:
    rng = random.Random(f"{SEED}-meetings")
    meetings, cards = [], []
    serving = [v for v in plan.villages if v.secretary_id is not None]
    for v in serving:
        held = date(YEAR, 6, 1) + timedelta(days=rng.randrange(60))
        closed = w.ts(datetime(held.year, held.month, held.day, 9, tzinfo=UTC))
        per = {c: scale.ballots_per_meeting // 4 + 1 for c in CATEGORIES}
        meetings.append((v.secretary_id, plan.cycle_id, v.secretary_id, v.id, held.isoformat(),
                         "村委会会议室", _json(per), "democratic_ballot", 1, "closed",
                         _token("salt", v.id), plan.staff[v.county_id], closed, closed,
                         plan.staff[v.county_id]))
        cards.append((v.secretary_id, plan.cycle_id, v.secretary_id, v.id,
                      round(rng.uniform(40, 60), 2), "{}", round(rng.uniform(6, 10), 2),
                      round(rng.uniform(6, 10), 2), None, plan.staff[v.county_id], closed))
    w.write("meeting", ("id", "cycle_id", "secretary_id", "village_id", "held_on", "place",
                        "participants", "instrument_id", "instrument_version", "status",
                        "token_salt", "created_by_id", "created_at", "closed_at",
                        "closed_by_id"), meetings)
    w.write("scorecard_entry", ("id", "cycle_id", "secretary_id", "village_id",
                                "work_performance", "seven_ones", "work_discipline",
                                "work_evaluation", "note", "updated_by_id", "updated_at"), cards)
    ballot_rng = random.Random(f"{SEED}-ballots")
    w.write("ballot", ("id", "meeting_id", "category", "answers"),
            ((f"{ballot_rng.getrandbits(128):032x}", v.secretary_id, CATEGORIES[n % 4],
              _json({i: ballot_rng.choice(ANSWERS[:5]) for i in BALLOT_ITEMS}))
             for v in serving for n in range(scale.ballots_per_meeting)))


# --- check-ins: the big table, last, within the time budget -------------------------------


CHECKIN_COLUMNS = ("id", "client_uuid", "secretary_id", "village_id", "user_id", "at", "day",
                   "lat", "lon", "accuracy_m", "geo_at", "geo_error", "via_qr", "token_valid",
                   "token_status", "inside_fence", "distance_m", "device_sent_at",
                   "received_at", "flags")


def write_checkins(w: Writer, scale: Scale, plan: Plan, deadline: float) -> int:
    """A year of daily check-ins per secretary (08:00-10:00 local), secretary by secretary
    in rounds of a month, so that a cut by the deadline leaves every secretary the same
    history length; the ledger row of each is written too."""
    rng = random.Random(f"{SEED}-checkins")
    serving = [v for v in plan.villages if v.secretary_id is not None]
    first = date(YEAR, 1, 1)
    per_round = 30 if len(plan.villages) < 50_000 else 10
    checkin_id = 0
    done = 0
    while done < scale.checkins_per_secretary and time.monotonic() < deadline:
        days = min(per_round, scale.checkins_per_secretary - done)
        ledger: list[tuple] = []

        def rows() -> Iterator[tuple]:
            nonlocal checkin_id
            for v in serving:
                for d in range(done, done + days):
                    checkin_id += 1
                    day = first + timedelta(days=d)
                    # 08:00-10:00 in Shanghai is 00:00-02:00 UTC, the same day
                    at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                        minutes=rng.randrange(120))
                    received = at + timedelta(seconds=rng.randrange(5, 600))
                    uuid = _uuid(rng)
                    ledger.append((uuid, "checkin", v.user_id, "0" * 64, checkin_id,
                                   w.ts(received)))
                    yield (checkin_id, uuid, v.secretary_id, v.id, v.user_id, w.ts(at),
                           day.isoformat(),
                           round(v.lat + rng.uniform(-0.002, 0.002), 6),
                           round(v.lon + rng.uniform(-0.002, 0.002), 6),
                           round(rng.uniform(5, 30), 1), w.ts(at), None, d % 5 == 0, True,
                           "valid" if d % 5 == 0 else None, True, round(rng.uniform(0, 300), 1),
                           w.ts(received), w.ts(received), "[]")
        w.write("checkin", CHECKIN_COLUMNS, rows())
        _write_ledger(w, ledger)  # one round: at most 2M small tuples (nation: 10 days)
        done += days
    return done


# --- the command ---------------------------------------------------------------------


def recreate_database(url: str) -> None:
    """Drop and create the database (PostgreSQL) or the file (SQLite), then migrate."""
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
        admin.dispose()
    else:
        path = Path(u.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    migrate(url)


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from fieldapp import MIGRATIONS_DIR, create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
        from fieldapp.extensions import db
        db.engine.dispose()


def generate(scale: Scale, url: str, budget_s: float = 1800.0,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the database for `scale` at `url`; returns a summary (also saved beside it
    by the bench runner): row counts, seconds, and whether the budget cut check-ins."""
    from werkzeug.security import generate_password_hash

    started = time.monotonic()
    deadline = started + budget_s
    recreate_database(url)
    w = Writer(url)
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    log(f"[{scale.name}] geography and people")
    plan = write_geography(w, scale, password_hash)
    log(f"[{scale.name}] cycle, draws, visits, meetings ({time.monotonic() - started:.0f} s)")
    write_cycle(w, scale, plan)
    log(f"[{scale.name}] check-ins ({time.monotonic() - started:.0f} s)")
    per_secretary = write_checkins(w, scale, plan, deadline)
    w.finish(("city", "county", "town", "village", "household", "first_secretary",
              "user_account", "cycle", "evaluator_assignment", "draw", "village_draw",
              "sample_entry", "visit", "meeting", "scorecard_entry", "checkin"))
    summary = {"scale": asdict(scale), "url": make_url(url).render_as_string(hide_password=True),
               "seconds": round(time.monotonic() - started, 1), "rows": w.counts,
               "checkins_per_secretary": per_secretary,
               "checkins_cut_by_budget": per_secretary < scale.checkins_per_secretary,
               "budget_seconds": budget_s, "generated_at": datetime.now(UTC).isoformat()}
    log(f"[{scale.name}] done in {summary['seconds']} s: " +
        ", ".join(f"{k} {v:,}" for k, v in w.counts.items()))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database to (re)build")
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    parser.add_argument("--checkins-per-secretary", type=int, default=None)
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    if args.checkins_per_secretary is not None:
        scale = replace(scale, checkins_per_secretary=args.checkins_per_secretary)
    summary = generate(scale, args.url, args.budget_minutes * 60)
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
