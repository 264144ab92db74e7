"""Benchmarks reuse the test fixtures (app, migrated database, personas) and the browser
set-up of the browser tests (Debian's chromium)."""
from tests.browser.conftest import browser_context_args, browser_type_launch_args  # noqa: F401
from tests.conftest import *  # noqa: F401,F403

from bench.report import FIGURES, markdown


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures (record them in bench/RESULTS.md)")
        terminalreporter.write_line(markdown())
