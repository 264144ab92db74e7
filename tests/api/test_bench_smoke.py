"""The benchmarks must never rot: generate the tiny scale and run every registered figure
on it (seconds, not minutes), on SQLite and, when the suite runs on PostgreSQL, there too.
This checks that they run and count what they should, never how fast."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import generate, run
from bench.harness import load_figures


@pytest.fixture
def bench_dialect(tmp_path, monkeypatch):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield "sqlite"
        return
    u = make_url(url)
    monkeypatch.setenv("BENCH_PG", u.set(database="").render_as_string(hide_password=False).rstrip("/"))
    monkeypatch.setenv("BENCH_DB_PREFIX", f"{u.database}_smoke_")
    yield "postgresql"
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}_smoke_tiny" WITH (FORCE)'))
    admin.dispose()


def test_every_figure_runs_on_tiny_data(tmp_path, bench_dialect, monkeypatch):
    monkeypatch.setattr(run, "PG", os.environ.get("BENCH_PG", run.PG))
    results = run.run_figures("tiny", [bench_dialect], quick=True, data_dir=tmp_path,
                              log=lambda _m: None)
    expected = {k for k, f in load_figures().items() if bench_dialect in f.dialects}
    assert {key for key, *_ in results} == expected
    assert {"checkin_burst_pg" if bench_dialect == "postgresql" else "checkin_burst_sqlite",
            "visits_export", "county_draw"} <= expected
    for key, _title, _dialect, m, err in results:
        assert err is None, f"{key}: {err}"
        assert m.value > 0 and m.baseline > 0, key
    burst = next(m for key, *_r, m, _e in results if key.startswith("checkin_burst"))
    assert burst.details["fieldapp"]["errors"] == 0 and burst.details["baseline"]["errors"] == 0
    export = next(m for key, *_r, m, _e in results if key == "visits_export")
    assert export.details["rows"] > 0
    table = run.table(results)
    assert table.count("\n") == len(results) + 1 and "failed" not in table


def test_the_generator_is_deterministic(tmp_path):
    first = generate.generate(generate.SCALES["tiny"], f"sqlite:///{tmp_path / 'a.db'}",
                              log=lambda _m: None)
    second = generate.generate(generate.SCALES["tiny"], f"sqlite:///{tmp_path / 'b.db'}",
                               log=lambda _m: None)
    assert first["rows"] == second["rows"] and first["rows"]["checkin"] == 8 * 25

    def dump(name: str) -> list:
        engine = create_engine(f"sqlite:///{tmp_path / name}")
        with engine.connect() as conn:
            rows = [conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
                    for t in ("village", "household", "sample_entry", "visit", "checkin")]
        engine.dispose()
        return rows

    assert dump("a.db") == dump("b.db")
