"""Answers for static bodies: the best encoding the browser accepts, and cache headers.

- A hashed URL never changes content: `public, max-age=31536000, immutable`, no validator.
- Anything else (the page, sw.js, the manifest, a file asked for by its plain name):
  `no-cache` with a strong ETag per encoding, answered 304 when unchanged.
"""
from __future__ import annotations

from werkzeug.wrappers import Request, Response

from .store import Encoder, digest_of

IMMUTABLE = "public, max-age=31536000, immutable"
POLICY = ("default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
          "script-src {scripts}; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'")
REVALIDATE = "no-cache"
TEXT_TYPES = ("text/", "application/javascript", "application/json",
              "application/manifest+json", "image/svg+xml")


def chosen_encoding(request: Request, available: dict[str, bytes]) -> str | None:
    """br before gzip at equal preference; identity when neither is accepted."""
    accepted = request.accept_encodings
    best, best_q = None, 0.0
    for encoding in ("br", "gzip"):
        q = accepted[encoding]
        if encoding in available and q > best_q:
            best, best_q = encoding, q
    return best


def body_response(request: Request, encoder: Encoder, data: bytes, mimetype: str, *,
                  immutable: bool, digest: str | None = None, compress: bool = True,
                  headers: dict[str, str] | None = None) -> Response:
    digest = digest or digest_of(data)
    variants = encoder.variants(data, digest) if compress else {}
    encoding = chosen_encoding(request, variants)
    body = variants[encoding] if encoding else data
    if mimetype.startswith(TEXT_TYPES) and "charset" not in mimetype:
        mimetype = f"{mimetype}; charset=utf-8"
    response = Response(body, content_type=mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if variants:
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.update(headers or {})
    if immutable:
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    response.headers["Cache-Control"] = REVALIDATE
    # One strong validator per representation: the br and the gzip bodies differ.
    response.set_etag(f"{digest[:32]}-{encoding}" if encoding else digest[:32])
    return response.make_conditional(request)


def security_headers(script_hashes: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """The headers of every document the app serves (Flask's pages and the phone app's
    page); a page may allow its own inline scripts by hash (the import map)."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": POLICY.format(scripts=" ".join(["'self'", *script_hashes])),
    }


def is_immutable_asset(response: Response) -> bool:
    """A hashed static file: a subresource, so document-only headers are wasted bytes."""
    return response.headers.get("Cache-Control") == IMMUTABLE
