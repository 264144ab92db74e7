"""Real-browser fixtures: Debian's chromium driven by Playwright against a real HTTP server.

With CI=true a missing browser is a failure, never a silent skip.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
BAOJI = {"latitude": 34.36, "longitude": 107.24, "accuracy": 15}


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    browser_items = [i for i in items if str(i.fspath).startswith(here)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if browser_items and not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(
                f"CI=true but no chromium at {CHROMIUM}: run `make test` (it installs it)")
        skip = pytest.mark.skip(reason="chromium not installed (apt-get install -y chromium)")
        for item in browser_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args,
            "geolocation": BAOJI, "permissions": ["geolocation"],
            "viewport": {"width": 360, "height": 640}, "locale": "zh-CN",
            "service_workers": "allow"}


@pytest.fixture
def context(db, context):
    """The browser context closes before the database is emptied (fixtures tear down in
    reverse order): a page still syncing must not race the next test's clean slate."""
    yield context


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()
