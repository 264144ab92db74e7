"""A real HTTP server for the app that records what it was asked and what it sent (used by
tests/browser/test_fast_shell_browser.py and bench/test_bench_network.py)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from io import BytesIO

from werkzeug.serving import make_server


@dataclass
class Hit:
    path: str
    status: int
    bytes: int                 # response body as sent (compressed when it was)
    request_bytes: int = 0     # request body as sent
    request_encoding: str = ""  # its Content-Encoding
    request_body: bytes = b""  # kept for the paths in Meter.capture
    response_body: bytes = b""
    response_headers: dict = field(default_factory=dict)


@dataclass
class Meter:
    """WSGI wrapper: what the server was asked and sent, and optional per-path delays."""
    app: object
    hits: list[Hit] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    delay: dict[str, float] = field(default_factory=dict)
    capture: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        with self.lock:
            self.started.append(path)
        if path in self.delay:
            time.sleep(self.delay[path])
        request_bytes = int(environ.get("CONTENT_LENGTH") or 0)
        encoding = environ.get("HTTP_CONTENT_ENCODING", "")
        request_body = b""
        if path in self.capture and request_bytes:
            request_body = environ["wsgi.input"].read(request_bytes)
            environ["wsgi.input"] = BytesIO(request_body)
        seen = {}

        def catch(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(headers)
            return start_response(status, headers, exc_info)

        body = self.app(environ, catch)
        chunks = []
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                if path in self.capture:
                    chunks.append(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                self.hits.append(Hit(path, seen.get("status", 0), size, request_bytes,
                                     encoding, request_body,
                                     b"".join(chunks), seen.get("headers", {})))

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.started.clear()
        self.delay.clear()

    def paths(self, status: int | None = None) -> list[str]:
        with self.lock:
            return [h.path for h in self.hits if status is None or h.status == status]


class MeteredServer:
    """The app behind a Meter on a free port, in a daemon thread."""

    def __init__(self, app):
        self.meter = Meter(app)
        self.server = make_server("127.0.0.1", 0, self.meter, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
