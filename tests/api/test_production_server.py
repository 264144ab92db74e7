"""The documented production command (gunicorn with deploy/gunicorn.conf.py) keeps connections
alive; gunicorn's default sync workers closed every one after a single answer."""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    if not GUNICORN.exists():
        pytest.fail("gunicorn is missing: `make install-test` installs the prod extra")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "ASSET_CACHE_DIR": str(tmp_path / "asset-cache")}
    proc = subprocess.Popen([str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "-w", "1",
                             "-b", f"127.0.0.1:{port}", "fieldapp:create_app()"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode()[-2000:])
                time.sleep(0.05)
        yield port, tmp_path / "asset-cache"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()


def test_one_connection_serves_the_whole_app(production_server):
    port, _cache = production_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    for path in ("/", "/sw.js", "/manifest.webmanifest", "/favicon.ico"):
        conn.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
        answer = conn.getresponse()
        answer.read()
        answers.append(answer)
        assert answer.status == 200, path
        assert not answer.will_close, f"{path}: Connection: {answer.getheader('Connection')}"
    first_socket = conn.sock
    conn.request("GET", "/")
    conn.getresponse().read()
    assert conn.sock is first_socket
    # Compressed by the app itself, whatever sits in front of it.
    assert answers[0].getheader("Content-Encoding") == "br"
    conn.close()


def test_static_files_are_compressed_before_the_first_visit(production_server):
    """deploy/gunicorn.conf.py compresses in the master before the workers start: no visitor
    waits for brotli."""
    _port, cache = production_server
    made = {p.name for p in cache.iterdir()}
    for source in (ROOT / "pwa/js/app.js", ROOT / "pwa/css/app.css", ROOT / "fieldapp/static/staff.css"):
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        assert {f"{digest}.br", f"{digest}.gzip"} <= made, source
