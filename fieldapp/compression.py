"""Compression done by the app itself, so `make run`, gunicorn and any proxy send the same
small bytes.

- Answers: JSON over 1 KB is compressed per request (br, else gzip) by Flask-Compress.
  Static files are not its job: they are pre-compressed once (fieldapp/assets) and arrive
  here with their Content-Encoding already set, which Flask-Compress leaves alone. Staff
  HTML pages stay uncompressed: they carry a CSRF token next to echoed search text, the
  mix that BREACH-style attacks on compressed HTTPS need.
- Request bodies: `GzipRequestBodies` inflates `Content-Encoding: gzip` bodies on the
  paths it is given (POST /api/sync), never beyond `max_bytes` once inflated. It runs
  below Flask, before anything reads the body; what went wrong is left in the WSGI
  environ for `body_error()`, which the API turns into its usual JSON error (413 too
  large, 400 not gzip, 415 another encoding).
"""
from __future__ import annotations

import zlib
from io import BytesIO
from typing import Callable, Iterable

from flask import Flask, request
from flask_compress import Compress

BODY_ERROR_KEY = "fieldapp.body_error"
_READ_CHUNK = 64 * 1024


def init_compression(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", ["application/json"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    Compress(app)
    app.wsgi_app = GzipRequestBodies(app.wsgi_app, paths=("/api/sync",),
                                     max_bytes=app.config["SYNC_MAX_BODY_KB"] * 1024)


class GzipRequestBodies:
    """WSGI middleware: inflate gzip request bodies on some paths, within a bound.

    The bound applies to the body as the app will read it: a gzip body inflated, a plain
    body as sent. Beyond it, or for a body that is not valid gzip, the app sees an empty
    body and `body_error()` says why."""

    def __init__(self, app: Callable, paths: Iterable[str], max_bytes: int):
        self.app = app
        self.paths = frozenset(paths)
        self.max_bytes = max_bytes

    def __call__(self, environ: dict, start_response: Callable):
        if environ.get("PATH_INFO") in self.paths and environ.get("REQUEST_METHOD") == "POST":
            self._prepare(environ)
        return self.app(environ, start_response)

    def _prepare(self, environ: dict) -> None:
        encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        length = _content_length(environ)
        if encoding in ("", "identity"):
            if length is not None and length > self.max_bytes:
                self._refuse(environ, "too_large")
            return
        if encoding != "gzip":
            self._refuse(environ, "unsupported_encoding")
            return
        if length is None and not environ.get("wsgi.input_terminated"):
            length = 0  # no length and no chunked framing: there is no body to read
        try:
            body = self._inflate(environ["wsgi.input"], length)
        except _TooLarge:
            self._refuse(environ, "too_large")
            return
        except (zlib.error, EOFError):
            self._refuse(environ, "not_gzip")
            return
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_CONTENT_ENCODING", None)

    def _inflate(self, stream, length: int | None) -> bytes:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header required
        out = bytearray()
        remaining = length
        while remaining is None or remaining > 0:
            chunk = stream.read(_READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            # Never inflate more than one byte past the bound, whatever the ratio.
            out += inflater.decompress(chunk, self.max_bytes + 1 - len(out))
            if len(out) > self.max_bytes or inflater.unconsumed_tail:
                raise _TooLarge
        if not inflater.eof or inflater.unused_data:
            raise EOFError("truncated gzip body, or bytes after its end")
        return bytes(out)

    @staticmethod
    def _refuse(environ: dict, reason: str) -> None:
        environ[BODY_ERROR_KEY] = reason
        environ["wsgi.input"] = BytesIO(b"")
        environ["CONTENT_LENGTH"] = "0"
        environ.pop("HTTP_CONTENT_ENCODING", None)


class _TooLarge(Exception):
    pass


def _content_length(environ: dict) -> int | None:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or ""))
    except ValueError:
        return None


def body_error() -> str | None:
    """Why the middleware refused this request's body, if it did: 'too_large',
    'not_gzip' or 'unsupported_encoding'."""
    return request.environ.get(BODY_ERROR_KEY)
