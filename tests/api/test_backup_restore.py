"""`fieldapp backup PATH` while phones are syncing, then `fieldapp restore PATH`: the backup
is one consistent snapshot (a batch is in it whole or not at all), and a restore brings the
database back to exactly that snapshot. PostgreSQL: the CLI points to pg_dump, and a
pg_dump taken during syncs restores (pg_restore) to a consistent database."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fieldapp.extensions import db

from .. import personas as P
from ..live import threaded_server
from .visit_helpers import record, tokens, visit_payload
from .visit_helpers import draw as draw_visits

BATCHES = 10  # two visits each: 20 sampled households in village a1

CONSISTENT = [
    # every stored client record points at its object, and every visit has its record
    "SELECT count(*) FROM client_record c LEFT JOIN visit v ON v.id = c.object_id "
    "WHERE c.type = 'visit' AND v.id IS NULL",
    "SELECT count(*) FROM visit v LEFT JOIN client_record c ON c.uuid = v.client_uuid "
    "WHERE c.uuid IS NULL",
    # both visits of a batch, or neither
    "SELECT count(*) FROM (SELECT received_at FROM client_record GROUP BY received_at "
    "HAVING count(*) <> 2) odd",
]


def _sync_in_background(app, personas):
    """Start a phone syncing BATCHES batches over real HTTP; returns (thread, stored list)."""
    draw_visits(personas, "a")
    village = personas.villages["a1"]
    sample = tokens(village)
    stored: list[int] = []

    def run(base: str) -> None:
        s = requests.Session()
        s.headers["X-CSRFToken"] = s.get(f"{base}/api/auth/csrf").json()["csrf_token"]
        login = s.post(f"{base}/api/auth/login", json={"phone": "13800000003", "password": P.PASSWORD})
        s.headers["X-CSRFToken"] = login.json()["csrf_token"]
        for i in range(BATCHES):
            body = {"records": [record(visit_payload(sample[2 * i], village, n=2 * i), str(uuid.uuid4())),
                                record(visit_payload(sample[2 * i + 1], village, n=2 * i + 1),
                                       str(uuid.uuid4()))]}
            response = s.post(f"{base}/api/sync", json=body, timeout=60)
            assert response.status_code == 200, response.text
            stored.append(i)
    return run, stored


def _wait_for(stored: list, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(stored) < n and time.monotonic() < deadline:
        time.sleep(0.01)


def _tables(conn) -> dict[str, list]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {n: sorted(map(tuple, conn.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names}


def test_sqlite_backup_during_syncs_and_restore(app, runner, personas, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's backup API; PostgreSQL is tested below with pg_dump")
    run, stored = _sync_in_background(app, personas)
    target = tmp_path / "backup.db"
    with threaded_server(app) as base:
        writer = threading.Thread(target=run, args=(base,))
        writer.start()
        _wait_for(stored, 3)
        result = runner.invoke(args=["backup", str(target)])
        writer.join()
    assert result.exit_code == 0, result.output
    assert len(stored) == BATCHES

    snapshot = sqlite3.connect(target)
    for query in CONSISTENT:
        assert snapshot.execute(query).fetchone()[0] == 0, query
    visits = snapshot.execute("SELECT count(*) FROM visit").fetchone()[0]
    assert 6 <= visits < 2 * BATCHES or visits == 2 * BATCHES  # taken mid-way, whole batches
    assert visits % 2 == 0
    expected = _tables(snapshot)
    snapshot.close()

    # Restore: the later batches disappear, everything else is exactly the snapshot.
    assert runner.invoke(args=["restore", str(target)], input="n\n").exit_code != 0  # asks first
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    live = sqlite3.connect(make_url(database_url).database)
    assert _tables(live) == expected
    live.close()
    # The app works on the restored database.
    assert db.session.execute(text("SELECT count(*) FROM visit")).scalar() == visits


def test_backup_refuses_bad_targets_and_sources(runner, personas, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path / "x.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    existing = tmp_path / "exists.db"
    existing.write_text("x")
    assert "exists" in runner.invoke(args=["backup", str(existing)]).output
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "not a SQLite database" in result.output


def _pg_url(database_url: str, name: str | None = None) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    if name:
        url = url.set(database=name)
    return url.render_as_string(hide_password=False)


def test_pg_dump_during_syncs_restores_consistently(app, personas, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: pg_dump / pg_restore")
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is missing (Debian: postgresql-client)")
    run, stored = _sync_in_background(app, personas)
    dump = tmp_path / "fieldapp.dump"
    restored = f"{make_url(database_url).database}_restore"
    with threaded_server(app) as base:
        writer = threading.Thread(target=run, args=(base,))
        writer.start()
        _wait_for(stored, 3)
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), _pg_url(database_url)], check=True)
        writer.join()
    admin = _pg_url(database_url, "postgres")
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{restored}"'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{restored}"'], check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", "-d", _pg_url(database_url, restored), str(dump)],
                       check=True)
        for query in CONSISTENT:
            out = subprocess.run(["psql", _pg_url(database_url, restored), "-tAc", query],
                                 check=True, capture_output=True, text=True).stdout.strip()
            assert out == "0", query
        visits = int(subprocess.run(["psql", _pg_url(database_url, restored), "-tAc",
                                     "SELECT count(*) FROM visit"], check=True,
                                    capture_output=True, text=True).stdout.strip())
        assert visits % 2 == 0 and visits >= 6
    finally:
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{restored}"'], check=True)
