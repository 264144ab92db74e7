"""Fixtures: one app and one migrated database per session, emptied after every test.

The database is SQLite (a temp file, WAL) by default, or PostgreSQL when
TEST_DATABASE_URL is set. The schema is built by the Alembic migrations, never create_all.
"""
from __future__ import annotations

import os

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import text

from fieldapp import MIGRATIONS_DIR, create_app
from fieldapp.config import TestConfig
from fieldapp.extensions import db as _db
from fieldapp.i18n import compile_catalogues

from .personas import Personas


class IsolatedClient(FlaskClient):
    """Every request gets its own app context, as in production.

    The `db` fixture keeps an app context pushed for the test body; Flask would otherwise
    reuse it for requests, sharing `g` and the SQLAlchemy session between the test and the
    request and hiding real bugs (stale objects, uncommitted writes, cached CSRF tokens).
    """

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    compile_catalogues()
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": database_url})
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        _drop_everything()
        upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _drop_everything() -> None:
    """Start from an empty database (a reused PostgreSQL test database included)."""
    engine = _db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all()
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for (name,) in rows:
                if not name.startswith("sqlite_"):
                    conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    # The connection goes back to the pool: never leave foreign keys off for the tests.
    engine.dispose()


def _empty_tables() -> None:
    _db.session.remove()
    tables = [t for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
            if conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def db(app):
    """An app context with an empty database; emptied again after the test."""
    with app.app_context():
        yield _db
        _empty_tables()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def personas(app, db) -> Personas:
    """Two counties with villages, households, secretaries and one account per role."""
    return Personas.build(app)


@pytest.fixture
def login_as(app, personas):
    """`login_as('staff_a')` -> a test client logged in as that persona, CSRF handled."""
    def _login(name: str):
        return personas.client_for(name)
    return _login
