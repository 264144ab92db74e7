"""Benchmarks reuse the test fixtures (app, migrated database, personas)."""
from tests.conftest import *  # noqa: F401,F403
